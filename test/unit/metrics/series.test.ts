import { afterEach, describe, expect, it } from 'vitest';
import { MetricsStore } from '../../../src/main/metrics/metricsStore';
import { SeriesBuilder, bucketLayout } from '../../../src/main/metrics/series';
import type { Endpoint } from '../../../src/shared/endpoints';
import { tempDir } from '../../fixtures/tempDir';

const NOW = 1_800_000_000; // a whole minute: 30_000_000 * 60
let dir: ReturnType<typeof tempDir> | undefined;
let store: MetricsStore | undefined;

function open(clock: { now: number }): MetricsStore {
  dir = tempDir();
  store = MetricsStore.open({ path: dir.file('m.db'), clock: () => clock.now });
  return store;
}

function record(s: MetricsStore, at: number, options: { endpoint?: Endpoint; duration?: number; error?: 'timeout' | 'network'; tokens?: number } = {}): void {
  s.record({
    endpoint: options.endpoint ?? 'generate',
    modelId: 'm',
    userId: 'u',
    startedAt: at,
    duration: options.duration ?? 1,
    requestId: `r${at}`,
    status: options.error ? 504 : 200,
    ...(options.error ? { errorType: options.error } : { reportedTokenCount: options.tokens ?? 10 }),
    params: {},
    timeToFirstStep: 0.1,
  });
}

afterEach(() => {
  store?.close();
  dir?.cleanup();
  store = undefined;
  dir = undefined;
});

describe('bucketLayout', () => {
  const nowMinute = NOW / 60;
  it('covers the fixed windows with minute or quarter-hour buckets ending at the current one', () => {
    expect(bucketLayout('15m', nowMinute, null)).toEqual({ from: nowMinute - 14, width: 1, count: 15 });
    expect(bucketLayout('1h', nowMinute, null)).toEqual({ from: nowMinute - 59, width: 1, count: 60 });
    const day = bucketLayout('24h', nowMinute, null);
    expect(day.width).toBe(15);
    expect(day.count).toBe(96);
    expect(day.from + (day.count - 1) * day.width).toBeLessThanOrEqual(nowMinute);
  });

  it('sizes "all" to at most 120 buckets, in whole hours or more past the memory horizon', () => {
    expect(bucketLayout('all', nowMinute, null).count).toBeLessThanOrEqual(120);
    const week = bucketLayout('all', nowMinute, nowMinute - 7 * 1440);
    expect(week.width).toBeGreaterThanOrEqual(60);
    expect(week.count).toBeLessThanOrEqual(120);
    const year = bucketLayout('all', nowMinute, nowMinute - 365 * 1440);
    expect(year.count).toBeLessThanOrEqual(120);
  });
});

describe('SeriesBuilder', () => {
  it('buckets requests, errors, tokens and percentiles per minute, zero-filled', () => {
    const clock = { now: NOW + 30 };
    const s = open(clock);
    record(s, NOW - 120 + 5, { duration: 1 });
    record(s, NOW - 120 + 10, { duration: 3 });
    record(s, NOW - 120 + 20, { error: 'timeout', duration: 5 });
    record(s, NOW + 1, { endpoint: 'infill/stream', duration: 2, tokens: 40 });
    s.flush();
    const series = new SeriesBuilder(s).build('15m');
    expect(series.bucketSeconds).toBe(60);
    expect(series.t).toHaveLength(15);
    expect(series.t.at(-1)).toBe(NOW);
    const twoMinutesAgo = series.t.indexOf(NOW - 120);
    expect(series.requests[twoMinutesAgo]).toBe(3);
    expect(series.errors[twoMinutesAgo]).toBe(1);
    expect(series.tokens[twoMinutesAgo]).toBe(20);
    expect(series.tokensPerSecond[twoMinutesAgo]).toBeCloseTo(20 / 4, 5);
    // Percentiles of the two that succeeded (1 s, 3 s): the 5 s timeout is not among them.
    expect(series.latency.p50[twoMinutesAgo]).toBeCloseTo(1, 1);
    expect(series.latency.p99[twoMinutesAgo]).toBeLessThan(3.1);
    expect(series.requests[twoMinutesAgo + 1]).toBe(0);
    expect(series.latency.p50[twoMinutesAgo + 1]).toBeNull();
    expect(series.requestsByEndpoint).toEqual({
      generate: series.t.map((t) => (t === NOW - 120 ? 3 : 0)),
      'infill/stream': series.t.map((t) => (t === NOW ? 1 : 0)),
    });
    expect(series.errorsByType.timeout?.[twoMinutesAgo]).toBe(1);
    expect(series.requests.reduce((a, b) => a + b, 0)).toBe(4);
  });

  it('reads history beyond the in-memory day from the database, and agrees with the summary', () => {
    const clock = { now: NOW - 10 * 86400 };
    const s = open(clock);
    for (let day = 10; day >= 1; day -= 1) {
      clock.now = NOW - day * 86400 + 60;
      record(s, NOW - day * 86400, { duration: day });
      s.flush();
    }
    clock.now = NOW;
    record(s, NOW - 30);
    s.flush();
    const builder = new SeriesBuilder(s);
    const all = builder.build('all');
    expect(all.requests.reduce((a, b) => a + b, 0)).toBe(11);
    expect(s.summary().overall.total_requests).toBe(11);
    expect(all.bucketSeconds).toBeGreaterThanOrEqual(3600);
    // The second time the closed buckets come from the cache, with the same numbers.
    expect(builder.build('all')).toEqual(all);
  });

  it('recomputes a cached bucket when an event lands in it, late ones included', () => {
    const clock = { now: NOW + 30 };
    const s = open(clock);
    record(s, NOW - 300);
    s.flush();
    const builder = new SeriesBuilder(s);
    const first = builder.build('15m');
    expect(first.requests.reduce((a, b) => a + b, 0)).toBe(1);
    // A long stream ends now but is recorded at its start, five minutes ago.
    record(s, NOW - 290, { duration: 300 });
    s.flush();
    const second = builder.build('15m');
    expect(second.requests[second.t.indexOf(NOW - 300)]).toBe(2);
    builder.close();
  });

  it('costs the same however many events a minute holds (the renderer gets buckets, not events)', () => {
    const clock = { now: NOW };
    const s = open(clock);
    for (let i = 0; i < 5000; i += 1) record(s, NOW - 600 + (i % 600), { duration: 0.1 + (i % 10) / 10 });
    s.flush();
    const series = new SeriesBuilder(s).build('1h');
    expect(series.requests.reduce((a, b) => a + b, 0)).toBe(5000);
    expect(JSON.stringify(series).length).toBeLessThan(20_000);
  });
});

describe('percentiles in the chart and on the cards', () => {
  it('agree: both clamp the sketch into the observed range', () => {
    const s = open({ now: NOW });
    for (let i = 0; i < 10; i += 1) record(s, NOW - 30 + i, { duration: 2 });
    const summary = s.summary({ windowSeconds: 3600 });
    const series = new SeriesBuilder(s).build('1h');
    const last = series.requests.findIndex((n) => n > 0);
    expect(series.requests[last]).toBe(10);
    expect(summary.overall.latency.p50).toBe(2);
    expect(series.latency.p50[last]).toBe(summary.overall.latency.p50);
    expect(series.latency.p99[last]).toBe(summary.overall.latency.p99);
  });
});
