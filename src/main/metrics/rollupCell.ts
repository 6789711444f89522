import { DDSketch } from '@datadog/sketches-js';
import { DEFAULT_API } from '../../shared/apis';
import { LATENCY_BUCKETS, STEPS_BUCKETS, TTFS_BUCKETS, bucketIndex } from './buckets';
import type { EventSample } from './eventSample';
import { decodeSketch, encodeSketch, mergeEncodedSketch, type EncodedSketch } from './sketchCodec';

/** Relative accuracy of every percentile we report. */
export const SKETCH_ACCURACY = 0.01;

/** The scalar part of a cell, stored as JSON in `metric_rollups.data`. */
export interface CellCounters {
  requests: number;
  errors: number;
  durationSum: number;
  tokens: number;
  /** Tokens and wall time of successful requests only: the basis of tokens per second. */
  okTokens: number;
  okDuration: number;
  generationTimeSum: number;
  stepsSum: number;
  stepsCount: number;
  ttfsCount: number;
  ttfsSum: number;
  /** Extremes, to clamp sketch quantiles into the observed range (null while empty). */
  durationMin: number | null;
  durationMax: number | null;
  ttfsMin: number | null;
  ttfsMax: number | null;
  errorsByType: Record<string, number>;
  /**
   * Requests, errors and tokens per door (`metadata.api`), as `[requests, errors, tokens]`.
   * Cells stored before the front door existed have none: read them with `apiCounts`.
   */
  byApi: Record<string, [number, number, number]>;
  /** Non-cumulative counts per bucket of LATENCY_BUCKETS, the last entry for +Inf. */
  latencyBuckets: number[];
  ttfsBuckets: number[];
  /** Per bucket of STEPS_BUCKETS; cells stored before it existed read as all zeros. */
  stepsBuckets: number[];
}

function emptyCounters(): CellCounters {
  return {
    requests: 0,
    errors: 0,
    durationSum: 0,
    tokens: 0,
    okTokens: 0,
    okDuration: 0,
    generationTimeSum: 0,
    stepsSum: 0,
    stepsCount: 0,
    ttfsCount: 0,
    ttfsSum: 0,
    durationMin: null,
    durationMax: null,
    ttfsMin: null,
    ttfsMax: null,
    errorsByType: {},
    byApi: {},
    latencyBuckets: new Array<number>(LATENCY_BUCKETS.length + 1).fill(0),
    ttfsBuckets: new Array<number>(TTFS_BUCKETS.length + 1).fill(0),
    stepsBuckets: new Array<number>(STEPS_BUCKETS.length + 1).fill(0),
  };
}

const lower = (a: number | null, b: number | null): number | null => (a === null ? b : b === null ? a : Math.min(a, b));
const upper = (a: number | null, b: number | null): number | null => (a === null ? b : b === null ? a : Math.max(a, b));

function addArrays(into: number[], from: readonly number[]): void {
  for (let i = 0; i < into.length; i += 1) into[i] = (into[i] ?? 0) + (from[i] ?? 0);
}

/**
 * Aggregates of a set of events (one minute of one event type and model, or all time):
 * counters, fixed Prometheus buckets and mergeable quantile sketches.
 *
 * A cell that will rarely change again (a written minute) can be frozen: its sketches are then
 * held in their compact encoding — a few dozen numbers instead of the library's object graph —
 * and thawed on the next `add` or `merge` into it. A day of minute cells is most of the
 * store's memory, so this keeps the main process small; merging a frozen cell into another
 * reads the encoding directly.
 */
export class RollupCell {
  readonly counters: CellCounters;
  /** Durations of successful requests only (see `add`). */
  private latencyLive: DDSketch | null = null;
  private ttfsLive: DDSketch | null = null;
  private latencyCode: EncodedSketch | null = null;
  private ttfsCode: EncodedSketch | null = null;

  /** An empty cell, or with `frozen` a cell read back from its stored sketches (see `fromRow`). */
  constructor(counters: CellCounters = emptyCounters(), frozen?: { latency: EncodedSketch | null; ttfs: EncodedSketch | null }) {
    this.counters = counters;
    if (frozen) {
      this.latencyCode = frozen.latency;
      this.ttfsCode = frozen.ttfs;
    } else {
      this.latencyLive = new DDSketch({ relativeAccuracy: SKETCH_ACCURACY });
      this.ttfsLive = new DDSketch({ relativeAccuracy: SKETCH_ACCURACY });
    }
  }

  /** The latency sketch, to read. A frozen cell answers with a decoded copy. */
  get latency(): DDSketch {
    return this.latencyLive ?? decodeSketch(this.latencyCode ?? undefined, SKETCH_ACCURACY);
  }

  /** The time-to-first-step sketch, to read. A frozen cell answers with a decoded copy. */
  get ttfs(): DDSketch {
    return this.ttfsLive ?? decodeSketch(this.ttfsCode ?? undefined, SKETCH_ACCURACY);
  }

  get frozen(): boolean {
    return this.latencyLive === null;
  }

  /** Keeps the sketches in their compact encoding until the cell changes again. */
  freeze(): void {
    if (this.latencyLive === null || this.ttfsLive === null) return;
    this.latencyCode = encodeSketch(this.latencyLive);
    this.ttfsCode = this.counters.ttfsCount > 0 ? encodeSketch(this.ttfsLive) : null;
    this.latencyLive = null;
    this.ttfsLive = null;
  }

  private live(): { latency: DDSketch; ttfs: DDSketch } {
    if (this.latencyLive === null || this.ttfsLive === null) {
      this.latencyLive = decodeSketch(this.latencyCode ?? undefined, SKETCH_ACCURACY);
      this.ttfsLive = decodeSketch(this.ttfsCode ?? undefined, SKETCH_ACCURACY);
      this.latencyCode = null;
      this.ttfsCode = null;
    }
    return { latency: this.latencyLive, ttfs: this.ttfsLive };
  }

  add(sample: EventSample): void {
    const sketches = this.live();
    const c = this.counters;
    c.requests += 1;
    c.durationSum += sample.duration;
    c.durationMin = lower(c.durationMin, sample.duration);
    c.durationMax = upper(c.durationMax, sample.duration);
    c.tokens += sample.tokens;
    if (sample.success) {
      c.okTokens += sample.tokens;
      c.okDuration += sample.duration;
    } else {
      c.errors += 1;
      const type = sample.errorType ?? 'unknown';
      c.errorsByType[type] = (c.errorsByType[type] ?? 0) + 1;
    }
    const api = sample.api ?? DEFAULT_API;
    const perApi = (c.byApi[api] ??= [0, 0, 0]);
    perApi[0] += 1;
    if (!sample.success) perApi[1] += 1;
    perApi[2] += sample.tokens;
    if (sample.generationTime !== null) c.generationTimeSum += sample.generationTime;
    if (sample.steps !== null) {
      c.stepsSum += sample.steps;
      c.stepsCount += 1;
      const stepsSlot = bucketIndex(STEPS_BUCKETS, sample.steps);
      c.stepsBuckets[stepsSlot] = (c.stepsBuckets[stepsSlot] ?? 0) + 1;
    }
    const latencySlot = bucketIndex(LATENCY_BUCKETS, sample.duration);
    c.latencyBuckets[latencySlot] = (c.latencyBuckets[latencySlot] ?? 0) + 1;
    // Latency percentiles describe requests that ran: an 18 µs validation failure or an instant
    // `model_unavailable` would drag them far below what a working request takes. Failures keep
    // their counts, the average (the seed's gauge) and the Prometheus histogram.
    if (sample.success) sketches.latency.accept(sample.duration);
    if (sample.timeToFirstStep !== null && sample.timeToFirstStep >= 0) {
      c.ttfsCount += 1;
      c.ttfsSum += sample.timeToFirstStep;
      c.ttfsMin = lower(c.ttfsMin, sample.timeToFirstStep);
      c.ttfsMax = upper(c.ttfsMax, sample.timeToFirstStep);
      const ttfsSlot = bucketIndex(TTFS_BUCKETS, sample.timeToFirstStep);
      c.ttfsBuckets[ttfsSlot] = (c.ttfsBuckets[ttfsSlot] ?? 0) + 1;
      sketches.ttfs.accept(sample.timeToFirstStep);
    }
  }

  merge(other: RollupCell): void {
    const sketches = this.live();
    const c = this.counters;
    const o = other.counters;
    c.requests += o.requests;
    c.errors += o.errors;
    c.durationSum += o.durationSum;
    c.tokens += o.tokens;
    c.okTokens += o.okTokens;
    c.okDuration += o.okDuration;
    c.generationTimeSum += o.generationTimeSum;
    c.stepsSum += o.stepsSum;
    c.stepsCount += o.stepsCount;
    c.ttfsCount += o.ttfsCount;
    c.ttfsSum += o.ttfsSum;
    c.durationMin = lower(c.durationMin, o.durationMin);
    c.durationMax = upper(c.durationMax, o.durationMax);
    c.ttfsMin = lower(c.ttfsMin, o.ttfsMin);
    c.ttfsMax = upper(c.ttfsMax, o.ttfsMax);
    for (const [type, count] of Object.entries(o.errorsByType)) {
      c.errorsByType[type] = (c.errorsByType[type] ?? 0) + count;
    }
    for (const [api, counts] of Object.entries(o.byApi)) addArrays((c.byApi[api] ??= [0, 0, 0]), counts);
    addArrays(c.latencyBuckets, o.latencyBuckets);
    addArrays(c.ttfsBuckets, o.ttfsBuckets);
    addArrays(c.stepsBuckets, o.stepsBuckets);
    if (o.requests > 0) {
      if (other.latencyLive) sketches.latency.merge(other.latencyLive);
      else if (other.latencyCode) mergeEncodedSketch(sketches.latency, other.latencyCode);
    }
    if (o.ttfsCount > 0) {
      if (other.ttfsLive) sketches.ttfs.merge(other.ttfsLive);
      else if (other.ttfsCode) mergeEncodedSketch(sketches.ttfs, other.ttfsCode);
    }
  }

  /** Serialises the cell as compact JSON: default-valued counters are left out, buckets are sparse. */
  toRow(): { data: string } {
    const c = this.counters;
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(c)) {
      if (key === 'latencyBuckets' || key === 'ttfsBuckets' || key === 'errorsByType' || key === 'byApi') continue;
      if (value !== 0 && value !== null) out[key] = value;
    }
    if (Object.keys(c.errorsByType).length > 0) out.errorsByType = c.errorsByType;
    if (Object.keys(c.byApi).length > 0) out.byApi = c.byApi;
    out.lb = sparse(c.latencyBuckets);
    if (c.ttfsCount > 0) out.tb = sparse(c.ttfsBuckets);
    out.ls = this.latencyLive ? encodeSketch(this.latencyLive) : (this.latencyCode ?? [0]);
    if (c.ttfsCount > 0) out.ts = this.ttfsLive ? encodeSketch(this.ttfsLive) : (this.ttfsCode ?? [0]);
    return { data: JSON.stringify(out) };
  }

  /** Reads a stored row into a frozen cell: its sketches are decoded only if the cell changes. */
  static fromRow(row: { data: string }): RollupCell {
    const stored = JSON.parse(row.data) as Partial<CellCounters> & {
      lb?: Record<string, number>;
      tb?: Record<string, number>;
      ls?: EncodedSketch;
      ts?: EncodedSketch;
    };
    const { lb, tb, ls, ts, ...counters } = stored;
    const cell = new RollupCell(
      { ...emptyCounters(), ...counters, errorsByType: { ...(counters.errorsByType ?? {}) }, byApi: validByApi(counters.byApi) },
      { latency: validEncoding(ls), ttfs: validEncoding(ts) },
    );
    dense(lb, cell.counters.latencyBuckets);
    dense(tb, cell.counters.ttfsBuckets);
    return cell;
  }
}

/** Per-door counts read back from a stored cell; malformed entries are dropped. */
function validByApi(value: unknown): CellCounters['byApi'] {
  const out: CellCounters['byApi'] = {};
  if (!value || typeof value !== 'object') return out;
  for (const [api, counts] of Object.entries(value as Record<string, unknown>)) {
    if (Array.isArray(counts) && counts.length === 3 && counts.every((n) => typeof n === 'number' && Number.isFinite(n))) {
      out[api] = [counts[0] as number, counts[1] as number, counts[2] as number];
    }
  }
  return out;
}

/** Requests, errors and tokens per door of a cell; what no door claims (cells older than the front door) is `diffusion`'s. */
export function apiCounts(c: CellCounters): Map<string, { requests: number; errors: number; tokens: number }> {
  const out = new Map<string, { requests: number; errors: number; tokens: number }>();
  let requests = 0;
  let errors = 0;
  let tokens = 0;
  for (const [api, [r, e, t]] of Object.entries(c.byApi)) {
    out.set(api, { requests: r, errors: e, tokens: t });
    requests += r;
    errors += e;
    tokens += t;
  }
  if (c.requests > requests) {
    const own = out.get(DEFAULT_API) ?? { requests: 0, errors: 0, tokens: 0 };
    out.set(DEFAULT_API, {
      requests: own.requests + c.requests - requests,
      errors: own.errors + Math.max(0, c.errors - errors),
      tokens: own.tokens + Math.max(0, c.tokens - tokens),
    });
  }
  return out;
}

/** A stored encoding is used only when it is an array of finite numbers (rows are ours, but files can be edited). */
function validEncoding(value: unknown): EncodedSketch | null {
  return Array.isArray(value) && value.every((n) => typeof n === 'number' && Number.isFinite(n)) ? (value as EncodedSketch) : null;
}

function sparse(values: readonly number[]): Record<string, number> {
  const out: Record<string, number> = {};
  values.forEach((v, i) => {
    if (v !== 0) out[i] = v;
  });
  return out;
}

function dense(from: Record<string, number> | undefined, into: number[]): void {
  for (const [i, v] of Object.entries(from ?? {})) {
    const index = Number(i);
    if (index >= 0 && index < into.length) into[index] = v;
  }
}
