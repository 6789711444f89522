import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** `npm run serve` as a child process, with its resident memory sampled from /proc. */
export interface ServerProcess {
  child: ChildProcess;
  url: string;
  /** Current resident set in MB (Linux; 0 elsewhere). */
  rssMb(): number;
  /** Highest resident set seen by the sampler since `resetPeak()`. */
  peakMb(): number;
  resetPeak(): void;
  /** True once the process exited on its own (a crash: we never stop it but with `stop()`). */
  exited(): { code: number | null; signal: NodeJS.Signals | null } | null;
  stop(): Promise<void>;
}

function rssOf(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

/** Starts `src/main/serve.ts` with `args` on a free loopback port and waits for its address. */
export async function startServerProcess(args: string[], options: { stderr?: (line: string) => void } = {}): Promise<ServerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main/serve.ts', '--host', '127.0.0.1', '--port', '0', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  let stopping = false;
  child.stderr?.on('data', (chunk: Buffer) => options.stderr?.(chunk.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(out);
      if (match?.[1]) resolve(match[1]);
    });
    child.once('exit', (code) => reject(new Error(`the server exited with ${code} before listening`)));
  });
  child.once('exit', (code, signal) => {
    if (!stopping) exit = { code, signal };
  });
  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, rssOf(child.pid))), 50);
  sampler.unref();
  return {
    child,
    url,
    rssMb: () => rssOf(child.pid),
    peakMb: () => Math.max(peak, rssOf(child.pid)),
    resetPeak: () => (peak = rssOf(child.pid)),
    exited: () => exit,
    stop: async () => {
      stopping = true;
      clearInterval(sampler);
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
