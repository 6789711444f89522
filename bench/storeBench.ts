import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { MetricsStore } from '../src/main/metrics/metricsStore';
import type { RequestOutcome } from '../src/main/metrics/requestEvent';
import { ENDPOINTS } from '../src/shared/endpoints';

export interface StoreBenchRow {
  events: number;
  insertPerSecond: number;
  startupMs: number;
  serverStartupMs: number;
  summaryMs: number;
  prometheusMs: number;
  rssMb: number;
  /** RSS of the probe process before it opens the store: Node, tsx and our modules. */
  baselineRssMb: number;
  dbMb: number;
}

const MODELS = ['dream-v0-instruct-7b', 'diffucoder-7b', 'llada-8b-instruct'];
const ERROR_TYPES = ['timeout', 'network', 'backend'] as const;

/**
 * Fills a fresh database with `count` events through the real recorder (batched writer, rollups),
 * spread in time order over the 30 days before now, the way live traffic arrives.
 */
function fill(path: string, count: number): number {
  const now = Date.now() / 1000;
  const span = 30 * 86400;
  const store = MetricsStore.open({ path, flushIntervalMs: 50, maxBatch: 5000 });
  let x = 7;
  const random = (): number => {
    x = (x * 1_103_515_245 + 12_345) % 2 ** 31;
    return x / 2 ** 31;
  };
  const started = performance.now();
  for (let i = 0; i < count; i += 1) {
    const failed = random() < 0.05;
    const outcome: RequestOutcome = {
      endpoint: ENDPOINTS[i % 4] as RequestOutcome['endpoint'],
      modelId: MODELS[i % 3] as string,
      userId: 'bench',
      startedAt: now - span + (span * i) / count,
      duration: 0.05 + -Math.log(1 - random()) * 0.6,
      requestId: `bench-${i}`,
      status: failed ? 504 : 200,
      ...(failed ? { errorType: ERROR_TYPES[i % 3] } : {}),
      params: { max_new_tokens: 64, temperature: 0.2, top_p: 0.9, alg: 'entropy' },
      reportedTokenCount: failed ? 0 : 20 + (i % 40),
      generationTime: 0.2,
      steps: 64,
      timeToFirstStep: i % 2 === 0 ? 0.02 + random() * 0.1 : null,
    };
    store.record(outcome);
    // The writer flushes on its own timer; in this tight loop we yield to it per full batch.
    if (store.pendingCount >= 5000) store.flush();
  }
  store.close();
  return count / ((performance.now() - started) / 1000);
}

/** Opens the filled database in a fresh process and measures start-up, summary, export and RSS there. */
function probe(path: string): Omit<StoreBenchRow, 'events' | 'insertPerSecond' | 'dbMb'> {
  const result = spawnSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'startupProbe.ts'), path], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`startup probe failed: ${result.stderr}`);
  return JSON.parse(result.stdout.trim().split('\n').pop() as string) as Omit<StoreBenchRow, 'events' | 'insertPerSecond' | 'dbMb'>;
}

export function runStoreBench(sizes: readonly number[], log: (line: string) => void): StoreBenchRow[] {
  const rows: StoreBenchRow[] = [];
  for (const events of sizes) {
    const dir = mkdtempSync(join(tmpdir(), 'dm-bench-'));
    const path = join(dir, 'metrics.db');
    try {
      log(`store: filling ${events.toLocaleString('en')} events…`);
      const insertPerSecond = fill(path, events);
      const measured = probe(path);
      const dbMb = (statSync(path).size + (statSync(`${path}-wal`, { throwIfNoEntry: false })?.size ?? 0)) / 2 ** 20;
      rows.push({ events, insertPerSecond, dbMb, ...measured });
      log(
        `store: ${events}: ${Math.round(insertPerSecond)} inserts/s, start-up ${measured.startupMs.toFixed(1)} ms, summary ${measured.summaryMs.toFixed(2)} ms, prometheus ${measured.prometheusMs.toFixed(2)} ms, RSS ${measured.rssMb.toFixed(0)} MB`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return rows;
}
