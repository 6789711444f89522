import { DDSketch } from '@datadog/sketches-js';
import { LATENCY_BUCKETS, TTFS_BUCKETS, bucketIndex } from './buckets';
import type { EventSample } from './eventSample';

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
  /** Non-cumulative counts per bucket of LATENCY_BUCKETS, the last entry for +Inf. */
  latencyBuckets: number[];
  ttfsBuckets: number[];
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
    latencyBuckets: new Array<number>(LATENCY_BUCKETS.length + 1).fill(0),
    ttfsBuckets: new Array<number>(TTFS_BUCKETS.length + 1).fill(0),
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
 */
export class RollupCell {
  readonly counters: CellCounters;
  readonly latency: DDSketch;
  readonly ttfs: DDSketch;

  constructor(counters: CellCounters = emptyCounters(), latency?: DDSketch, ttfs?: DDSketch) {
    this.counters = counters;
    this.latency = latency ?? new DDSketch({ relativeAccuracy: SKETCH_ACCURACY });
    this.ttfs = ttfs ?? new DDSketch({ relativeAccuracy: SKETCH_ACCURACY });
  }

  add(sample: EventSample): void {
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
    if (sample.generationTime !== null) c.generationTimeSum += sample.generationTime;
    if (sample.steps !== null) {
      c.stepsSum += sample.steps;
      c.stepsCount += 1;
    }
    const latencySlot = bucketIndex(LATENCY_BUCKETS, sample.duration);
    c.latencyBuckets[latencySlot] = (c.latencyBuckets[latencySlot] ?? 0) + 1;
    this.latency.accept(sample.duration);
    if (sample.timeToFirstStep !== null && sample.timeToFirstStep >= 0) {
      c.ttfsCount += 1;
      c.ttfsSum += sample.timeToFirstStep;
      c.ttfsMin = lower(c.ttfsMin, sample.timeToFirstStep);
      c.ttfsMax = upper(c.ttfsMax, sample.timeToFirstStep);
      const ttfsSlot = bucketIndex(TTFS_BUCKETS, sample.timeToFirstStep);
      c.ttfsBuckets[ttfsSlot] = (c.ttfsBuckets[ttfsSlot] ?? 0) + 1;
      this.ttfs.accept(sample.timeToFirstStep);
    }
  }

  merge(other: RollupCell): void {
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
    addArrays(c.latencyBuckets, o.latencyBuckets);
    addArrays(c.ttfsBuckets, o.ttfsBuckets);
    if (o.requests > 0) this.latency.merge(other.latency);
    if (o.ttfsCount > 0) this.ttfs.merge(other.ttfs);
  }

  toRow(): { data: string; latency_sketch: Buffer; ttfs_sketch: Buffer } {
    return {
      data: JSON.stringify(this.counters),
      latency_sketch: Buffer.from(this.latency.toProto()),
      ttfs_sketch: Buffer.from(this.ttfs.toProto()),
    };
  }

  static fromRow(row: { data: string; latency_sketch: Uint8Array; ttfs_sketch: Uint8Array }): RollupCell {
    const counters = { ...emptyCounters(), ...(JSON.parse(row.data) as Partial<CellCounters>) };
    return new RollupCell(counters, DDSketch.fromProto(row.latency_sketch), DDSketch.fromProto(row.ttfs_sketch));
  }
}
