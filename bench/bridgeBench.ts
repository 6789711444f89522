import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';

export interface BridgeBenchRow {
  mode: 'non-stream' | 'stream';
  /** Offered load in requests/s for each side, or 0 for closed-loop "as fast as possible". */
  rate: number;
  direct: LoadResult;
  bridge: LoadResult;
}

export interface LoadResult {
  requests: number;
  errors: number;
  p50Ms: number;
  p99Ms: number;
  rps: number;
  /** Our own time per request as the server reports it (`Server-Timing: bridge`), when present. */
  selfP50Ms: number | null;
  selfP99Ms: number | null;
}

/** Starts a program that prints its URL on stdout, and waits for that line. */
async function startProcess(args: string[], pattern: RegExp): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = pattern.exec(out);
      if (match?.[1]) resolve(match[1]);
    });
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}`)));
  });
  return { child, url };
}

function percentile(sorted: number[], q: number): number {
  return sorted.length === 0 ? 0 : (sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] as number);
}

/**
 * `connections` concurrent request loops for `seconds`, each request timed with the
 * high-resolution clock from sending to the last byte of the body. With `rate`, each loop is
 * paced so the whole offers `rate` requests/s (open-loop-ish: latency is not hidden by pacing).
 */
async function load(url: string, body: string, connections: number, seconds: number, rate: number): Promise<LoadResult> {
  const target = new URL(url);
  const pool = new Pool(target.origin, { connections, pipelining: 1 });
  const latencies: number[] = [];
  const selfTimes: number[] = [];
  let errors = 0;
  const end = performance.now() + seconds * 1000;
  const interval = rate > 0 ? (connections / rate) * 1000 : 0;
  const loop = async (index: number): Promise<void> => {
    let next = performance.now() + (interval * index) / connections;
    while (performance.now() < end) {
      if (interval > 0) {
        const wait = next - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        next += interval;
      }
      const started = performance.now();
      try {
        const response = await pool.request({ path: target.pathname, method: 'POST', headers: { 'content-type': 'application/json' }, body });
        await response.body.text();
        if (response.statusCode !== 200) errors += 1;
        else latencies.push(performance.now() - started);
        const timing = /bridge;dur=([\d.]+)/.exec(String(response.headers['server-timing'] ?? ''));
        if (timing) selfTimes.push(Number(timing[1]));
      } catch {
        errors += 1;
      }
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: connections }, (_, i) => loop(i)));
  const elapsed = (performance.now() - started) / 1000;
  await pool.close();
  latencies.sort((a, b) => a - b);
  selfTimes.sort((a, b) => a - b);
  return {
    requests: latencies.length,
    errors,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
    rps: latencies.length / elapsed,
    selfP50Ms: selfTimes.length > 0 ? percentile(selfTimes, 0.5) : null,
    selfP99Ms: selfTimes.length > 0 ? percentile(selfTimes, 0.99) : null,
  };
}

/**
 * Bridge overhead: the same load (64 concurrent connections) sent straight to a fast fake dllm
 * backend and through our server to it, in alternating rounds so both see the same machine noise.
 * The fake backend and our server each run in their own process, as in real use; the load
 * generator is this process. Both sides hit the same upstream route (our dllm client always
 * streams from the backend), so the difference is what the bridge adds, recording included.
 */
export async function runBridgeBench(
  log: (line: string) => void,
  options: { connections?: number; seconds?: number; rounds?: number; rates?: number[] } = {},
): Promise<BridgeBenchRow[]> {
  const connections = options.connections ?? 64;
  const seconds = options.seconds ?? 4;
  const rounds = options.rounds ?? 3;
  const rates = options.rates ?? [200, 0];
  const dir = mkdtempSync(join(tmpdir(), 'dm-bridge-'));
  const fake = await startProcess(['test/fixtures/fakeDllmServer.ts', '--port', '0', '--steps', '1', '--step-ms', '0'], /listening on (http:\/\/\S+)/);
  const server = await startProcess(['src/main/serve.ts', '--port', '0', '--db', join(dir, 'm.db'), '--backend', fake.url], /listening on (http:\/\/\S+)/);
  const rows: BridgeBenchRow[] = [];
  try {
    const body = JSON.stringify({ prompt: 'Write one sentence about diffusion models.', steps: 1 });
    const directUrl = `${fake.url}/api/diffusion/generate/stream`;
    for (const rate of rates) {
      for (const mode of ['non-stream', 'stream'] as const) {
        const bridgeUrl = `${server.url}/api/diffusion/generate${mode === 'stream' ? '/stream' : ''}`;
        await load(directUrl, body, connections, 1, rate); // warm-up both processes
        await load(bridgeUrl, body, connections, 1, rate);
        const direct: LoadResult[] = [];
        const bridge: LoadResult[] = [];
        for (let round = 0; round < rounds; round += 1) {
          direct.push(await load(directUrl, body, connections, seconds, rate));
          bridge.push(await load(bridgeUrl, body, connections, seconds, rate));
        }
        const mean = (results: LoadResult[], pick: (r: LoadResult) => number): number => results.reduce((a, r) => a + pick(r), 0) / results.length;
        const summarise = (results: LoadResult[]): LoadResult => ({
          requests: results.reduce((a, r) => a + r.requests, 0),
          errors: results.reduce((a, r) => a + r.errors, 0),
          p50Ms: mean(results, (r) => r.p50Ms),
          p99Ms: mean(results, (r) => r.p99Ms),
          rps: mean(results, (r) => r.rps),
          selfP50Ms: results.every((r) => r.selfP50Ms !== null) ? mean(results, (r) => r.selfP50Ms ?? 0) : null,
          selfP99Ms: results.every((r) => r.selfP99Ms !== null) ? mean(results, (r) => r.selfP99Ms ?? 0) : null,
        });
        const row: BridgeBenchRow = { mode, rate, direct: summarise(direct), bridge: summarise(bridge) };
        rows.push(row);
        log(
          `bridge: ${mode} at ${rate || 'max'} req/s: direct p50 ${row.direct.p50Ms.toFixed(3)} ms p99 ${row.direct.p99Ms.toFixed(3)} ms (${Math.round(row.direct.rps)} req/s, ${row.direct.errors} errors); ` +
            `through us p50 ${row.bridge.p50Ms.toFixed(3)} ms p99 ${row.bridge.p99Ms.toFixed(3)} ms (${Math.round(row.bridge.rps)} req/s, ${row.bridge.errors} errors)`,
        );
      }
    }
  } finally {
    server.child.kill('SIGTERM');
    fake.child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}
