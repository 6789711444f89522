import { USAGE } from '../config';

/** Our own flags, as `--help` lists them. */
const KNOWN_FLAGS = new Set([...USAGE.matchAll(/--([a-z][a-z-]*)/g)].map((match) => match[1] as string));

/**
 * Our flags out of Electron's command line, which also carries Chromium's switches
 * (`--no-sandbox`, `--enable-logging`, ...) that the configuration parser would reject.
 */
export function ownArguments(argv: readonly string[]): string[] {
  const kept: string[] = [];
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i] as string;
    const match = /^--([a-z][a-z-]*)(=.*)?$/.exec(arg);
    if (!match || !KNOWN_FLAGS.has(match[1] as string)) continue;
    kept.push(arg);
    const next = argv[i + 1];
    if (match[2] === undefined && next !== undefined && !next.startsWith('--')) {
      kept.push(next);
      i += 1;
    }
  }
  return kept;
}
