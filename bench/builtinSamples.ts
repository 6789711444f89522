import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readModelFiles } from '../src/main/backend/builtin/modelManifest';
import { resolveConfig, CHECKOUT_MODEL_DIR } from '../src/main/config';
import { startCore } from '../src/main/core';
import { silentLogger } from '../src/shared/logger';

/**
 * `npm run model:samples [-- --seeds N]` — the model card's sample prompts (read from model.json)
 * sent through the app's own routes, as a user's request would be: the built-in model behind
 * `npm run serve`, the TypeScript sampler, the default request parameters, seeds 0..N-1. Prints,
 * per prompt, how many answers meet the quality bar's sample rule (the same rule as
 * training/evaluate.py: at least 40 % non-whitespace and a word of three or more identifier
 * characters with a letter) and the answers themselves. The training's numbers come from its own
 * (Python) sampler with torch's random numbers; this says what the app answers.
 */
interface Sample {
  kind: 'generate' | 'infill';
  prompt: string;
  suffix?: string;
}

const args = process.argv.slice(2);
const seeds = Number(args.includes('--seeds') ? args[args.indexOf('--seeds') + 1] : 10);
const IDENT = /[A-Za-z_][A-Za-z0-9_]{2,}/g;

function meetsSampleRule(text: string): { nonWhitespace: number; identifiers: string[]; ok: boolean } {
  const nonWhitespace = text.length === 0 ? 0 : [...text].filter((c) => !/\s/.test(c)).length / text.length;
  const identifiers = [...new Set(text.match(IDENT) ?? [])].filter((w) => /[A-Za-z]/.test(w)).sort();
  return { nonWhitespace, identifiers, ok: nonWhitespace >= 0.4 && identifiers.length > 0 };
}

// The manifest as the app reads it (hash checked); its schema keeps the keys it does not name.
const { manifest } = readModelFiles(CHECKOUT_MODEL_DIR);
const samples = (manifest.samples ?? []) as Sample[];
const dir = mkdtempSync(join(tmpdir(), 'dm-samples-'));
const core = await startCore(resolveConfig({ argv: ['--port', '0', '--db', join(dir, 'metrics.db')], env: {}, cwd: process.cwd() }), {
  log: silentLogger,
});
try {
  process.stdout.write(`${manifest.name}: ${seeds} seeded runs per prompt through ${core.server.url}, default parameters\n\n`);
  let passed = 0;
  for (const sample of samples) {
    const route = sample.kind === 'infill' ? 'infill' : 'generate';
    const answers: string[] = [];
    let ok = 0;
    for (let seed = 0; seed < seeds; seed += 1) {
      const body = sample.kind === 'infill' ? { prefix: sample.prompt, suffix: sample.suffix ?? '', seed } : { prompt: sample.prompt, seed };
      const response = await fetch(`${core.server.url}/api/diffusion/${route}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      const json = (await response.json()) as { text?: string; error?: unknown };
      if (!response.ok || typeof json.text !== 'string') throw new Error(`${route} answered ${response.status}: ${JSON.stringify(json)}`);
      answers.push(json.text);
      if (meetsSampleRule(json.text).ok) ok += 1;
    }
    passed += ok;
    process.stdout.write(`${sample.kind} ${JSON.stringify(sample.prompt)}: ${ok}/${seeds} meet the rule\n`);
    for (const [seed, text] of answers.entries()) process.stdout.write(`  seed ${seed}: ${JSON.stringify(text)}\n`);
  }
  process.stdout.write(`\n${passed}/${seeds * samples.length} answers meet the rule\n`);
} finally {
  await core.stop();
  rmSync(dir, { recursive: true, force: true });
}
