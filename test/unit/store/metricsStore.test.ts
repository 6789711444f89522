import { spawn } from 'node:child_process';
import { once } from 'node:events';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { MetricsStore } from '../../../src/main/metrics/metricsStore';
import type { RequestOutcome } from '../../../src/main/metrics/requestEvent';
import { tempDir } from '../../fixtures/tempDir';

const dirs: Array<ReturnType<typeof tempDir>> = [];
const freshPath = (): string => {
  const dir = tempDir();
  dirs.push(dir);
  return dir.file('metrics.db');
};
afterEach(() => dirs.splice(0).forEach((d) => d.cleanup()));

const outcome = (overrides: Partial<RequestOutcome> = {}): RequestOutcome => ({
  endpoint: 'generate',
  modelId: 'dream',
  userId: 'u',
  startedAt: Date.now() / 1000,
  duration: 0.5,
  requestId: `r-${Math.random()}`,
  status: 200,
  params: { max_new_tokens: 64, temperature: 0.2, top_p: 0.9, alg: 'entropy' },
  outputText: 'x'.repeat(40),
  ...overrides,
});

const countRows = (path: string): number => {
  const db = new Database(path, { readonly: true });
  const n = db.prepare('SELECT count(*) FROM performance_events').pluck().get() as number;
  db.close();
  return n;
};

describe('MetricsStore', () => {
  it('counts an event at once but writes it in a batch, within the flush interval', async () => {
    const path = freshPath();
    const store = MetricsStore.open({ path, flushIntervalMs: 50 });
    store.record(outcome());
    store.record(outcome({ errorType: 'backend', status: 502, outputText: undefined }));
    expect(store.pendingCount).toBe(2);
    expect(countRows(path)).toBe(0);
    await new Promise((r) => setTimeout(r, 120));
    expect(store.pendingCount).toBe(0);
    expect(countRows(path)).toBe(2);
    store.close();
  });

  it('writes a full batch without waiting for the interval', async () => {
    const path = freshPath();
    const store = MetricsStore.open({ path, flushIntervalMs: 10_000, maxBatch: 100 });
    for (let i = 0; i < 100; i += 1) store.record(outcome());
    await new Promise((r) => setImmediate(r));
    expect(countRows(path)).toBe(100);
    store.close();
  });

  it('flushes every pending event on close and keeps the numbers across a restart', () => {
    const path = freshPath();
    const store = MetricsStore.open({ path, flushIntervalMs: 10_000 });
    for (let i = 0; i < 7; i += 1) store.record(outcome({ duration: 1 }));
    store.record(outcome({ endpoint: 'infill', errorType: 'timeout', status: 504, outputText: undefined }));
    store.close();
    expect(countRows(path)).toBe(8);

    const reopened = MetricsStore.open({ path });
    const summary = reopened.summary();
    expect(summary.endpoints.generate).toEqual({ requests: 7, errors: 0, success_rate: 100 });
    expect(summary.endpoints.infill).toEqual({ requests: 1, errors: 1, success_rate: 0 });
    expect(summary.errors_by_type).toEqual({ timeout: 1 });
    expect(summary.overall.total_tokens).toBe(70);
    expect(summary.recent_events).toHaveLength(8);
    expect(summary.recent_events[0]?.event_type).toBe('diffusion_infill');
    reopened.close();
  });

  it('answers windowed summaries from per-minute aggregates', () => {
    const path = freshPath();
    let now = 1_800_000_000;
    const store = MetricsStore.open({ path, clock: () => now });
    store.record(outcome({ startedAt: now - 3 * 3600 }));
    store.record(outcome({ startedAt: now - 30 * 60 }));
    store.record(outcome({ startedAt: now - 5 * 60 }));
    expect(store.summary({ windowSeconds: 15 * 60 }).overall.total_requests).toBe(1);
    expect(store.summary({ windowSeconds: 3600 }).overall.total_requests).toBe(2);
    expect(store.summary({ windowSeconds: 24 * 3600 }).overall.total_requests).toBe(3);
    expect(store.summary().overall.total_requests).toBe(3);
    // Beyond the in-memory retention the minute rollups are read from the database.
    now += 3 * 86400;
    expect(store.summary({ windowSeconds: 4 * 86400 }).overall.total_requests).toBe(3);
    expect(store.summary({ windowSeconds: 3600 }).overall.total_requests).toBe(0);
    store.close();
  });

  it('compacts minute rollups older than a day into hours without losing counts', () => {
    const path = freshPath();
    const now = 1_800_000_000;
    const store = MetricsStore.open({ path, clock: () => now });
    for (let i = 0; i < 30; i += 1) store.record(outcome({ startedAt: now - 3 * 86400 + i * 60 }));
    store.record(outcome({ startedAt: now - 60 }));
    store.close();
    const reopened = MetricsStore.open({ path, clock: () => now });
    const db = new Database(path, { readonly: true });
    // 30 old minutes became one or two hour rows; only the recent minute stays a minute row.
    expect(db.prepare('SELECT count(*) FROM metric_rollups WHERE bucket >= 0').pluck().get()).toBe(1);
    expect(db.prepare('SELECT count(*) FROM metric_rollups_hourly').pluck().get()).toBeLessThanOrEqual(2);
    expect(reopened.summary({ windowSeconds: 4 * 86400 }).overall.total_requests).toBe(31);
    expect(reopened.summary({ windowSeconds: 3600 }).overall.total_requests).toBe(1);
    expect(reopened.summary().overall.total_requests).toBe(31);
    db.close();
    reopened.close();
  });

  it('tells subscribers about written events with their ids', async () => {
    const store = MetricsStore.open({ path: freshPath(), flushIntervalMs: 20 });
    const seen: number[] = [];
    store.subscribe((batch) => seen.push(...batch.events().map((e) => e.id)));
    store.record(outcome());
    store.record(outcome());
    await new Promise((r) => setTimeout(r, 80));
    expect(seen).toEqual([1, 2]);
    store.close();
  });

  it('decodes only the newest events a subscriber asks for, with their ids', () => {
    const store = MetricsStore.open({ path: freshPath(), flushIntervalMs: 1000 });
    const newest: number[][] = [];
    const counts: number[] = [];
    store.subscribe((batch) => {
      counts.push(batch.timestamps.length);
      newest.push(batch.events(2).map((e) => e.id));
    });
    for (let i = 0; i < 5; i += 1) store.record(outcome());
    store.flush();
    expect(counts).toEqual([5]);
    expect(newest).toEqual([[4, 5]]);
    store.close();
  });

  it('filters and pages events newest first', () => {
    const store = MetricsStore.open({ path: freshPath() });
    for (let i = 0; i < 5; i += 1) store.record(outcome({ modelId: i % 2 === 0 ? 'a' : 'b' }));
    store.record(outcome({ endpoint: 'infill', errorType: 'network', status: 502, outputText: undefined }));
    expect(store.events({ limit: 2 }).map((e) => e.id)).toEqual([6, 5]);
    expect(store.events({ limit: 10, beforeId: 5 }).map((e) => e.id)).toEqual([4, 3, 2, 1]);
    expect(store.events({ limit: 10, modelId: 'b' }).map((e) => e.id)).toEqual([4, 2]);
    expect(store.events({ limit: 10, outcome: 'error' }).map((e) => e.id)).toEqual([6]);
    expect(store.events({ limit: 10, outcome: 'success' })).toHaveLength(5);
    expect(store.events({ limit: 10, eventType: 'diffusion_infill' })[0]?.metadata.error_type).toBe('network');
    store.close();
  });

  it('a killed process loses at most the last flush window and leaves a sound database', async () => {
    const path = freshPath();
    const script = `
      import { MetricsStore } from './src/main/metrics/metricsStore.ts';
      const store = MetricsStore.open({ path: ${JSON.stringify(path)}, flushIntervalMs: 20 });
      let n = 0;
      setInterval(() => {
        for (let i = 0; i < 50; i += 1) store.record({ endpoint: 'generate', modelId: 'm', userId: 'u', startedAt: Date.now() / 1000, duration: 0.1, requestId: 'r' + n++, status: 200, params: {}, outputText: 'abcd' });
        process.stdout.write(n + '\\n');
      }, 5);
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: process.cwd(),
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let recorded = 0;
    // Kill once the child has recorded enough to prove a point (event order, not a fixed delay, so
    // a loaded machine only makes the test slower, never wrong).
    const enough = new Promise<void>((resolve) => {
      child.stdout.on('data', (chunk: Buffer) => {
        const last = chunk.toString().trim().split('\n').pop();
        if (last) recorded = Number(last);
        if (recorded > 600) resolve();
      });
    });
    await enough;
    child.kill('SIGKILL');
    await once(child, 'exit');
    expect(recorded).toBeGreaterThan(500);
    const db = new Database(path);
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    const rows = db.prepare('SELECT count(*) FROM performance_events').pluck().get() as number;
    db.close();
    // Events recorded in the last ~20 ms flush window (plus the stdout lag) may be lost; no more.
    expect(rows).toBeGreaterThan(0);
    expect(recorded - rows).toBeLessThanOrEqual(50 * 20);
    // The rollups agree with the rows that made it.
    const store = MetricsStore.open({ path });
    expect(store.summary().overall.total_requests).toBe(rows);
    store.close();
  }, 20_000);
});

describe('store health', () => {
  it('reports failing writes while they are retried, and recovers once they succeed', () => {
    const path = freshPath();
    const store = MetricsStore.open({ path, flushIntervalMs: 60_000 });
    expect(store.health()).toEqual({ path, ok: true, pending_events: 0, consecutive_failures: 0, last_error: null });
    // Another connection makes every insert fail, as a full disk or a broken file would.
    const other = new Database(path);
    other.exec("CREATE TRIGGER refuse BEFORE INSERT ON performance_events BEGIN SELECT RAISE(ABORT, 'disk is full'); END");
    store.record(outcome());
    store.flush();
    expect(store.health()).toMatchObject({ ok: false, pending_events: 1, consecutive_failures: 1, last_error: expect.stringContaining('disk is full') });
    other.exec('DROP TRIGGER refuse');
    other.close();
    store.flush();
    expect(store.health()).toEqual({ path, ok: true, pending_events: 0, consecutive_failures: 0, last_error: null });
    expect(store.storedEventCount()).toBe(1);
    store.close();
  });
});
