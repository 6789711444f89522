import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { MetricsStore } from '../src/main/metrics/metricsStore';
import type { RequestOutcome } from '../src/main/metrics/requestEvent';
import { SeriesBuilder } from '../src/main/metrics/series';
import { ENDPOINTS } from '../src/shared/endpoints';
import { TIME_WINDOW_SECONDS, type TimeWindowKey } from '../src/shared/series';

export interface DashboardBenchRow {
  window: TimeWindowKey;
  eventsInWindow: number;
  summaryMs: number;
  seriesColdMs: number;
  seriesWarmMs: number;
  /** A new event lands, then the series is rebuilt: the cost of one live refresh. */
  seriesAfterEventMs: number;
}

export interface DashboardBench {
  events: number;
  eventsPageMs: number;
  filteredPageMs: number;
  rows: DashboardBenchRow[];
}

const WINDOWS: TimeWindowKey[] = ['15m', '1h', '24h', 'all'];
const MODELS = ['dream-v0-instruct-7b', 'diffucoder-7b', 'llada-8b-instruct'];

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

function timed(fn: () => unknown): number {
  const t = performance.now();
  fn();
  return performance.now() - t;
}

function outcome(i: number, startedAt: number, failed: boolean): RequestOutcome {
  return {
    endpoint: ENDPOINTS[i % 4] as RequestOutcome['endpoint'],
    modelId: MODELS[i % 3] as string,
    userId: 'bench',
    startedAt,
    duration: 0.05 + ((i * 7919) % 1000) / 400,
    requestId: `bench-${i}`,
    status: failed ? 504 : 200,
    ...(failed ? { errorType: 'timeout' as const } : {}),
    params: { max_new_tokens: 64, temperature: 0.2, top_p: 0.9, alg: 'entropy' },
    reportedTokenCount: failed ? 0 : 20 + (i % 40),
    generationTime: 0.2,
    steps: 64,
    timeToFirstStep: i % 2 === 0 ? 0.02 + (i % 100) / 1000 : null,
  };
}

/**
 * What the dashboard asks for, with `count` events all inside the last 24 hours (the issue's
 * "10^5 events in the window"): the windowed summary, the bucketed series for every window
 * (first build, cached rebuild, rebuild after one new event), and an events page.
 */
export function runDashboardBench(count: number, log: (line: string) => void): DashboardBench {
  const dir = mkdtempSync(join(tmpdir(), 'dm-dash-bench-'));
  const path = join(dir, 'metrics.db');
  try {
    log(`dashboard: filling ${count.toLocaleString('en')} events over the last 24 h…`);
    const now = Date.now() / 1000;
    const span = 24 * 3600 - 60;
    const writer = MetricsStore.open({ path, flushIntervalMs: 50, maxBatch: 5000 });
    for (let i = 0; i < count; i += 1) {
      writer.record(outcome(i, now - span + (span * i) / count, i % 20 === 0));
      if (writer.pendingCount >= 5000) writer.flush();
    }
    writer.close();

    const store = MetricsStore.open({ path });
    const series = new SeriesBuilder(store);
    const rows: DashboardBenchRow[] = [];
    let next = count;
    for (const window of WINDOWS) {
      const windowSeconds = TIME_WINDOW_SECONDS[window] ?? undefined;
      const eventsInWindow = store.summary(windowSeconds === undefined ? {} : { windowSeconds }).overall.total_requests;
      const summaryMs = median(
        Array.from({ length: 20 }, () => timed(() => store.summary(windowSeconds === undefined ? { recentLimit: 20 } : { windowSeconds, recentLimit: 20 }))),
      );
      const seriesColdMs = timed(() => series.build(window));
      const seriesWarmMs = median(Array.from({ length: 20 }, () => timed(() => series.build(window))));
      const afterEvent: number[] = [];
      for (let i = 0; i < 20; i += 1) {
        store.record(outcome(next, Date.now() / 1000 - 0.5, false));
        next += 1;
        store.flush();
        afterEvent.push(timed(() => series.build(window)));
      }
      rows.push({ window, eventsInWindow, summaryMs, seriesColdMs, seriesWarmMs, seriesAfterEventMs: median(afterEvent) });
      log(
        `dashboard: ${window}: ${eventsInWindow} events, summary ${summaryMs.toFixed(2)} ms, series ${seriesColdMs.toFixed(2)} / ${seriesWarmMs.toFixed(2)} / ${median(afterEvent).toFixed(2)} ms`,
      );
    }
    const eventsPageMs = median(Array.from({ length: 20 }, () => timed(() => store.events({ limit: 50 }))));
    const filteredPageMs = median(
      Array.from({ length: 20 }, () => timed(() => store.events({ limit: 50, eventType: 'diffusion_infill', modelId: MODELS[2] as string, outcome: 'error' }))),
    );
    series.close();
    store.close();
    return { events: count, eventsPageMs, filteredPageMs, rows };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
