import { describe, expect, it } from 'vitest';
import { sampleFromRow } from '../../../src/main/metrics/eventSample';
import { MetricsAggregates } from '../../../src/main/metrics/metricsAggregates';
import { RollupCell, SKETCH_ACCURACY } from '../../../src/main/metrics/rollupCell';
import { buildSummary } from '../../../src/main/metrics/summary';
import { successRate } from '../../../src/shared/summary';
import { seedExampleRows } from '../../fixtures/seedDatabase';

function summaryOf(rows = seedExampleRows()) {
  const aggregates = new MetricsAggregates();
  for (const row of rows) aggregates.add(sampleFromRow({ ...row, metadata: JSON.stringify(row.metadata) }), row.timestamp);
  return buildSummary({ cells: aggregates.allTimeCells(), recentEvents: [], windowSeconds: null, now: 1_700_000_100 });
}

/** Nearest-rank percentile of a sorted array: the definition the sketch approximates. */
function exactQuantile(sorted: number[], q: number): number {
  const rank = Math.max(0, Math.ceil(q * sorted.length) - 1);
  return sorted[rank] as number;
}

describe('success rate (the seed formula)', () => {
  it('10 requests with 2 errors → 80', () => expect(successRate(10, 2)).toBe(80));
  it('5 requests with 1 error → 80', () => expect(successRate(5, 1)).toBe(80));
  it('no requests → 0, not NaN', () => expect(successRate(0, 0)).toBe(0));
});

describe('buildSummary on the seed example', () => {
  const summary = summaryOf();

  it('has the per-endpoint counts and success rates', () => {
    expect(summary.endpoints.generate).toEqual({ requests: 10, errors: 2, success_rate: 80 });
    expect(summary.endpoints.infill).toEqual({ requests: 5, errors: 1, success_rate: 80 });
    expect(summary.endpoints['generate/stream']).toEqual({ requests: 0, errors: 0, success_rate: 0 });
  });

  it('has average latency and tokens by event type', () => {
    expect(summary.average_latency_by_event_type).toEqual({ diffusion_generate: 1.5, diffusion_infill: 2 });
    expect(summary.tokens_by_event_type).toEqual({ diffusion_generate: 25, diffusion_infill: 30 });
  });

  it('has overall totals, error types and per-model usage', () => {
    expect(summary.overall).toMatchObject({ total_requests: 15, total_errors: 3, success_rate: 80, total_tokens: 55 });
    expect(summary.overall.average_latency).toBeCloseTo((10 * 1.5 + 5 * 2) / 15, 10);
    expect(summary.errors_by_type).toEqual({ timeout: 2, network: 1 });
    expect(summary.models['dream-v0-instruct-7b']).toMatchObject({ requests: 10, errors: 2, tokens: 25, average_latency: 1.5 });
    expect(summary.models['dreamon-v0-7b']).toMatchObject({ requests: 5, errors: 1, tokens: 30, average_latency: 2 });
  });

  it('computes tokens per second over successful requests', () => {
    // generate: 25 tokens over 8 × 1.5 s; infill: 30 tokens over 4 × 2 s.
    expect(summary.event_types.diffusion_generate?.tokens_per_second).toBeCloseTo(25 / 12, 10);
    expect(summary.overall.tokens_per_second).toBeCloseTo(55 / 20, 10);
  });
});

describe('latency of requests that ran', () => {
  it('leaves failures out of the percentiles but keeps them in the seed average', () => {
    const at = 1_700_000_000;
    const row = (duration: number, success: boolean) => ({
      model_id: 'm',
      user_id: 'u',
      event_type: 'diffusion_generate',
      duration,
      timestamp: at,
      metadata: { token_count: 1, success, error_type: success ? null : 'validation', status: success ? 200 : 400 },
    });
    const summary = summaryOf([row(0.000018, false), row(0.000018, false), row(0.000018, false), row(1, true)]);
    const generate = summary.event_types.diffusion_generate;
    expect(generate?.latency).toMatchObject({ count: 1, average: 1 });
    expect(generate?.latency.p50).toBeCloseTo(1, 1);
    expect(summary.overall.latency.p50).toBeCloseTo(1, 1);
    // The seed's gauge and overall average: every request.
    expect(summary.average_latency_by_event_type.diffusion_generate).toBeCloseTo((3 * 0.000018 + 1) / 4, 10);
    expect(summary.overall.average_latency).toBeCloseTo((3 * 0.000018 + 1) / 4, 10);
  });
});

describe('percentiles', () => {
  it('are within the sketch accuracy of the exact nearest-rank values', () => {
    // A deterministic heavy-tailed latency distribution.
    let seed = 42;
    const random = (): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const durations = Array.from({ length: 5000 }, () => 0.05 + -Math.log(1 - random()) * 0.8);
    const cell = new RollupCell();
    for (const duration of durations) {
      cell.add({
        eventType: 'diffusion_generate',
        modelId: 'm',
        duration,
        timestamp: 0,
        success: true,
        errorType: null,
        tokens: 1,
        generationTime: null,
        steps: null,
        timeToFirstStep: null,
      });
    }
    const sorted = [...durations].sort((a, b) => a - b);
    const summary = buildSummary({ cells: [{ eventType: 'diffusion_generate', modelId: 'm', cell }], recentEvents: [], windowSeconds: null, now: 0 });
    const latency = summary.event_types.diffusion_generate?.latency;
    for (const [q, key] of [
      [0.5, 'p50'],
      [0.95, 'p95'],
      [0.99, 'p99'],
    ] as const) {
      const exact = exactQuantile(sorted, q);
      expect(Math.abs((latency?.[key] ?? 0) - exact) / exact).toBeLessThanOrEqual(SKETCH_ACCURACY + 1e-9);
    }
  });

  it('survive serialisation into the rollup table and merging', () => {
    const a = new RollupCell();
    const b = new RollupCell();
    for (let i = 1; i <= 100; i += 1) {
      const sample = {
        eventType: 'e',
        modelId: 'm',
        duration: i / 100,
        timestamp: 0,
        success: true,
        errorType: null,
        tokens: 0,
        generationTime: null,
        steps: null,
        timeToFirstStep: i / 1000,
      };
      (i % 2 === 0 ? a : b).add(sample);
    }
    const merged = RollupCell.fromRow(a.toRow());
    merged.merge(RollupCell.fromRow(b.toRow()));
    expect(merged.counters.requests).toBe(100);
    expect(merged.counters.ttfsCount).toBe(100);
    expect(Math.abs(merged.latency.getValueAtQuantile(0.5) - 0.5) / 0.5).toBeLessThanOrEqual(SKETCH_ACCURACY + 1e-9);
    expect(merged.counters.latencyBuckets.reduce((x, y) => x + y, 0)).toBe(100);
  });
});
