import type { DDSketch } from '@datadog/sketches-js';
import { endpointOf } from '../../shared/endpoints';
import { TIME_WINDOW_SECONDS, type MetricsSeries, type PercentileSeries, type TimeWindowKey } from '../../shared/series';
import { minuteOf, type LabelledCell } from './metricsAggregates';
import type { MetricsStore } from './metricsStore';
import { clampedQuantile } from './quantile';
import { RollupCell } from './rollupCell';

/** Bucket widths, in minutes, that "all" may use; the first one that gives at most MAX_BUCKETS wins. */
const ALL_TIME_WIDTHS = [1, 5, 15, 30, 60, 180, 360, 720, 1440, 10080, 43200] as const;
const MAX_BUCKETS = 120;
/** Bucket widths of the fixed windows, in minutes. */
const FIXED_WIDTHS: Record<Exclude<TimeWindowKey, 'all'>, number> = { '15m': 1, '1h': 1, '24h': 15 };
/** Minutes the store is sure to hold in memory (it keeps 25 h); older minutes are read from the database. */
const MEMORY_HORIZON_MINUTES = 24 * 60;
const CACHE_LIMIT = 20_000;

/** The numbers of one bucket: what a chart needs, nothing more. */
interface BucketPoint {
  requests: number;
  errors: number;
  tokens: number;
  tokensPerSecond: number | null;
  latency: [number | null, number | null, number | null];
  ttfs: [number | null, number | null, number | null];
  byEndpoint: Record<string, number>;
  errorsByType: Record<string, number>;
}

function quantiles(sketch: DDSketch, min: number | null, max: number | null): [number | null, number | null, number | null] {
  return [clampedQuantile(sketch, 0.5, min, max), clampedQuantile(sketch, 0.95, min, max), clampedQuantile(sketch, 0.99, min, max)];
}

function pointOf(cells: readonly LabelledCell[]): BucketPoint {
  const merged = new RollupCell();
  const byEndpoint: Record<string, number> = {};
  for (const { eventType, cell } of cells) {
    merged.merge(cell);
    const endpoint = endpointOf(eventType) ?? eventType;
    byEndpoint[endpoint] = (byEndpoint[endpoint] ?? 0) + cell.counters.requests;
  }
  const c = merged.counters;
  return {
    requests: c.requests,
    errors: c.errors,
    tokens: c.tokens,
    tokensPerSecond: c.okDuration > 0 ? c.okTokens / c.okDuration : null,
    latency: quantiles(merged.latency, c.durationMin, c.durationMax),
    ttfs: quantiles(merged.ttfs, c.ttfsMin, c.ttfsMax),
    byEndpoint,
    errorsByType: { ...c.errorsByType },
  };
}

const EMPTY_POINT: BucketPoint = pointOf([]);

/** Chooses the bucket layout of a window: its first minute, width and count. */
export function bucketLayout(window: TimeWindowKey, nowMinute: number, firstDataMinute: number | null): { from: number; width: number; count: number } {
  if (window !== 'all') {
    const width = FIXED_WIDTHS[window];
    const count = Math.ceil((TIME_WINDOW_SECONDS[window] as number) / 60 / width);
    const lastStart = Math.floor(nowMinute / width) * width;
    return { from: lastStart - (count - 1) * width, width, count };
  }
  const first = Math.min(firstDataMinute ?? nowMinute - 59, nowMinute);
  const span = nowMinute - first + 1;
  // Past the memory horizon the store keeps whole hours only, so buckets there are hours or more.
  const minWidth = first < nowMinute - MEMORY_HORIZON_MINUTES ? 60 : 1;
  const width = ALL_TIME_WIDTHS.find((w) => w >= minWidth && Math.ceil(span / w) + 1 <= MAX_BUCKETS) ?? (ALL_TIME_WIDTHS.at(-1) as number);
  const from = Math.floor(first / width) * width;
  const lastStart = Math.floor(nowMinute / width) * width;
  return { from, width, count: (lastStart - from) / width + 1 };
}

/**
 * Builds the dashboard's time series from the store's per-minute aggregates. Cost grows with the
 * number of buckets and (event type, model) pairs, never with the number of events. Each bucket's
 * numbers are cached until an event lands in it (the store tells us of every written batch), so a
 * refresh recomputes only the buckets that changed — usually just the current one.
 */
export class SeriesBuilder {
  private readonly cache = new Map<string, BucketPoint>();
  private readonly widths = new Set<number>();
  private readonly unsubscribe: () => void;

  constructor(private readonly store: MetricsStore) {
    this.unsubscribe = store.subscribe((batch) => {
      for (const minute of new Set(batch.timestamps.map(minuteOf))) {
        for (const width of this.widths) this.cache.delete(`${width}:${Math.floor(minute / width) * width}`);
      }
    });
  }

  /** Stops listening to the store. */
  close(): void {
    this.unsubscribe();
  }

  build(window: TimeWindowKey): MetricsSeries {
    const now = this.store.now();
    const nowMinute = minuteOf(now);
    const layout = bucketLayout(window, nowMinute, window === 'all' ? this.firstDataMinute() : null);
    const horizon = nowMinute - MEMORY_HORIZON_MINUTES;
    const toMinute = layout.from + layout.count * layout.width - 1;
    this.widths.add(layout.width);

    const points = new Array<BucketPoint | undefined>(layout.count);
    let firstMissing: number | null = null;
    for (let i = 0; i < layout.count; i += 1) {
      points[i] = this.cache.get(`${layout.width}:${layout.from + i * layout.width}`);
      if (points[i] === undefined) firstMissing ??= layout.from + i * layout.width;
    }
    if (firstMissing !== null) {
      const grouped = new Map<number, LabelledCell[]>();
      const collect = (minute: number, cell: LabelledCell): void => {
        if (minute < firstMissing || minute > toMinute) return;
        const index = Math.floor((minute - layout.from) / layout.width);
        if (points[index] !== undefined) return;
        let list = grouped.get(index);
        if (!list) grouped.set(index, (list = []));
        list.push(cell);
      };
      // Minutes past the memory horizon come from the database (whole hours once compacted).
      if (firstMissing < horizon) for (const cell of this.store.storedMinuteCells(firstMissing, horizon - 1)) collect(cell.minute, cell);
      for (const cell of this.store.minuteCells(Math.max(firstMissing, horizon))) collect(cell.minute, cell);
      for (let i = 0; i < layout.count; i += 1) {
        if (points[i] !== undefined) continue;
        const cells = grouped.get(i);
        const point = cells ? pointOf(cells) : EMPTY_POINT;
        points[i] = point;
        this.remember(`${layout.width}:${layout.from + i * layout.width}`, point);
      }
    }
    return toSeries(window, layout, points as BucketPoint[], now);
  }

  private remember(key: string, point: BucketPoint): void {
    if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
    this.cache.set(key, point);
  }

  /** The minute of the oldest stored event. */
  private firstDataMinute(): number | null {
    const first = this.store.firstEventTimestamp();
    return first === null ? null : minuteOf(first);
  }
}

function toSeries(window: TimeWindowKey, layout: { from: number; width: number; count: number }, points: BucketPoint[], now: number): MetricsSeries {
  const percentiles = (pick: (p: BucketPoint) => [number | null, number | null, number | null]): PercentileSeries => ({
    p50: points.map((p) => pick(p)[0]),
    p95: points.map((p) => pick(p)[1]),
    p99: points.map((p) => pick(p)[2]),
  });
  const keyed = (pick: (p: BucketPoint) => Record<string, number>): Record<string, number[]> => {
    const keys = new Set<string>();
    for (const p of points) for (const key of Object.keys(pick(p))) keys.add(key);
    const out: Record<string, number[]> = {};
    for (const key of [...keys].sort()) out[key] = points.map((p) => pick(p)[key] ?? 0);
    return out;
  };
  const from = layout.from * 60;
  return {
    window: { key: window, seconds: TIME_WINDOW_SECONDS[window], from, to: now },
    bucketSeconds: layout.width * 60,
    t: points.map((_, i) => from + i * layout.width * 60),
    requests: points.map((p) => p.requests),
    errors: points.map((p) => p.errors),
    tokens: points.map((p) => p.tokens),
    tokensPerSecond: points.map((p) => p.tokensPerSecond),
    latency: percentiles((p) => p.latency),
    timeToFirstStep: percentiles((p) => p.ttfs),
    requestsByEndpoint: keyed((p) => p.byEndpoint),
    errorsByType: keyed((p) => p.errorsByType),
  };
}
