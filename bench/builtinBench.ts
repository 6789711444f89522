import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { readModelFiles } from '../src/main/backend/builtin/modelManifest';
import { seededRandom } from '../src/main/backend/builtin/random';
import { denoise } from '../src/main/backend/builtin/sampler';
import { CHECKOUT_MODEL_DIR } from '../src/main/config';
import { DEFAULTS } from '../src/shared/requests';

export interface BuiltinBench {
  model: string;
  parameters: number | null;
  context: number;
  /** Percentiles, and the fastest: what a step costs when nothing else wants the core. */
  forward: { p50Ms: number; p99Ms: number; minMs: number };
  step: { p50Ms: number; p99Ms: number; minMs: number };
  /** Event-loop delay of the process running the steps above on its main thread, for comparison. */
  mainThreadLagP99Ms: number;
  /** The machine's 1-minute load average at the start and the end of the section. */
  loadAverage: [number, number];
  clients: Array<{
    clients: number;
    generations: number;
    seconds: number;
    perSecond: number;
    latencyP50Ms: number;
    lagP50Ms: number;
    lagP99Ms: number;
    lagMaxMs: number;
  }>;
  /** Event-loop delay of the idle server (no request), measured as long as each client round. */
  idleLag: { p50Ms: number; p99Ms: number; maxMs: number };
  rssIdleMb: number;
  rssLoadedMb: number;
}

function percentile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? 0 : (sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] as number);
}

/**
 * One thread, the shipped context: forward passes alone, and whole denoising steps (forward plus
 * the sampler), on a canvas as long as the model's context, 64 of it masked.
 */
async function measureSteps(
  log: (line: string) => void,
): Promise<Pick<BuiltinBench, 'model' | 'parameters' | 'context' | 'forward' | 'step' | 'mainThreadLagP99Ms'>> {
  const { manifest, onnxPath } = readModelFiles(CHECKOUT_MODEL_DIR);
  const session = await InferenceSession.create(onnxPath, {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  const context = manifest.context_length;
  const forwardMs: number[] = [];
  const forward = async (tokens: Int32Array): Promise<Float32Array> => {
    const ids = BigInt64Array.from(tokens, (t) => BigInt(t));
    const started = performance.now();
    const out = await session.run({ tokens: new Tensor('int64', ids, [1, tokens.length]) });
    forwardMs.push(performance.now() - started);
    return (out.logits as Tensor).data as Float32Array;
  };
  const stepMs: number[] = [];
  const masked = Math.min(DEFAULTS.max_new_tokens, context - 1);
  const lag = monitorEventLoopDelay({ resolution: 1 });
  for (let round = 0; round < 6; round += 1) {
    if (round === 1) lag.enable();
    const canvas = new Int32Array(context).fill(2);
    canvas.fill(manifest.mask_id, context - masked);
    let last = performance.now();
    await denoise(
      { canvas, maskId: manifest.mask_id, vocabSize: manifest.vocab.length },
      { steps: masked, temperature: DEFAULTS.temperature, topP: DEFAULTS.top_p, topK: null, alg: DEFAULTS.alg, algTemp: null },
      forward,
      seededRandom(round),
      () => {
        const now = performance.now();
        // The first round warms the JIT and onnxruntime's allocator up; it is not counted.
        if (round > 0) stepMs.push(now - last);
        last = now;
      },
    );
  }
  lag.disable();
  forwardMs.splice(0, masked);
  await session.release();
  log(`built-in model: ${stepMs.length} steps measured at context ${context}`);
  return {
    model: manifest.name,
    parameters: manifest.parameters ?? null,
    context,
    forward: { p50Ms: percentile(forwardMs, 0.5), p99Ms: percentile(forwardMs, 0.99), minMs: Math.min(...forwardMs) },
    step: { p50Ms: percentile(stepMs, 0.5), p99Ms: percentile(stepMs, 0.99), minMs: Math.min(...stepMs) },
    mainThreadLagP99Ms: lag.percentile(99) / 1e6,
  };
}

/** `clients` loops of default generate requests against the probe's server for `seconds`. */
async function load(url: string, clients: number, seconds: number): Promise<{ generations: number; seconds: number; latencies: number[] }> {
  const latencies: number[] = [];
  const end = performance.now() + seconds * 1000;
  const started = performance.now();
  const prompts = ['import os\n', 'def main():\n', 'class Config:\n', 'for line in lines:\n'];
  await Promise.all(
    Array.from({ length: clients }, async (_, index) => {
      let i = index;
      while (performance.now() < end) {
        const sent = performance.now();
        const response = await fetch(`${url}/api/diffusion/generate`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ prompt: prompts[i++ % prompts.length] }),
        });
        await response.text();
        if (response.status !== 200) throw new Error(`generate answered ${response.status}`);
        latencies.push(performance.now() - sent);
      }
    }),
  );
  return { generations: latencies.length, seconds: (performance.now() - started) / 1000, latencies };
}

export async function runBuiltinBench(log: (line: string) => void, seconds = 8): Promise<BuiltinBench> {
  const loadAtStart = loadavg()[0] as number;
  const steps = await measureSteps(log);
  const dir = mkdtempSync(join(tmpdir(), 'dm-bench-builtin-'));
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'builtinProbe.ts'), join(dir, 'm.db')], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async (): Promise<Record<string, number | string>> => {
    const line = await lines.next();
    if (line.done) throw new Error('the bench server exited');
    return JSON.parse(line.value) as Record<string, number | string>;
  };
  const send = (command: string): void => void child.stdin.write(`${command}\n`);
  try {
    const ready = await next();
    const url = ready.url as string;
    const rssIdleMb = ready.rssMb as number;
    // The same server doing nothing, for how much of the delay below the machine's load explains.
    send('start');
    await next();
    await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
    send('stop');
    const idle = await next();
    const idleLag = { p50Ms: idle.lagP50Ms as number, p99Ms: idle.lagP99Ms as number, maxMs: idle.lagMaxMs as number };
    // Loads the model (worker thread, onnxruntime session) and warms it up.
    await load(url, 1, 1);
    const clients: BuiltinBench['clients'] = [];
    let rssLoadedMb = 0;
    for (const count of [1, 4]) {
      send('start');
      await next();
      const result = await load(url, count, seconds);
      send('stop');
      const stats = await next();
      rssLoadedMb = Math.max(rssLoadedMb, stats.rssMb as number);
      clients.push({
        clients: count,
        generations: result.generations,
        seconds: result.seconds,
        perSecond: result.generations / result.seconds,
        latencyP50Ms: percentile(result.latencies, 0.5),
        lagP50Ms: stats.lagP50Ms as number,
        lagP99Ms: stats.lagP99Ms as number,
        lagMaxMs: stats.lagMaxMs as number,
      });
      log(`built-in model: ${count} client(s): ${result.generations} generations in ${result.seconds.toFixed(1)} s`);
    }
    send('exit');
    return { ...steps, clients, idleLag, rssIdleMb, rssLoadedMb, loadAverage: [loadAtStart, loadavg()[0] as number] };
  } finally {
    child.kill();
    rmSync(dir, { recursive: true, force: true });
  }
}
