import { describe, expect, it } from 'vitest';
import type { EventSample } from '../../../src/main/metrics/eventSample';
import { MetricsAggregates, mergeByLabels, type LabelledCell } from '../../../src/main/metrics/metricsAggregates';

const NOW = 1_700_006_400; // a minute boundary, 40 minutes into an hour
const NOW_MINUTE = Math.floor(NOW / 60);

function sample(i: number, timestamp: number): EventSample {
  return {
    eventType: i % 2 === 0 ? 'diffusion_generate' : 'diffusion_infill',
    modelId: i % 3 === 0 ? 'dream' : 'llada',
    duration: 0.1 + (i % 17) / 10,
    timestamp,
    success: i % 11 !== 0,
    errorType: i % 11 === 0 ? 'timeout' : null,
    tokens: i % 40,
    generationTime: 0.2,
    steps: 64,
    timeToFirstStep: i % 2 === 0 ? 0.05 : null,
  };
}

/** Sums differ in the last bits when added in another order. */
function rounded(value: unknown): unknown {
  if (typeof value === 'number') return Number(value.toPrecision(12));
  if (Array.isArray(value)) return value.map(rounded);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, rounded(v)]));
  return value;
}

/** Comparable view of merged cells: counters and latency percentiles per label pair. */
function view(cells: LabelledCell[]): Record<string, unknown> {
  return Object.fromEntries(
    mergeByLabels(cells)
      .map(
        ({ eventType, modelId, cell }) =>
          [
            `${eventType}/${modelId}`,
            rounded({ ...cell.counters, p50: cell.latency.getValueAtQuantile(0.5), p99: cell.latency.getValueAtQuantile(0.99) }),
          ] as const,
      )
      .sort(([a], [b]) => a.localeCompare(b)),
  );
}

function filled(): MetricsAggregates {
  const aggregates = new MetricsAggregates();
  for (let i = 0; i < 3000; i += 1) aggregates.add(sample(i, NOW - 24 * 3600 + (i * 24 * 3600) / 3000), NOW);
  return aggregates;
}

describe('MetricsAggregates.cellsSince', () => {
  it('merges to the same cells as the minutes it covers, for windows with and without whole hours', () => {
    const aggregates = filled();
    for (const back of [5, 59, 60, 61, 90, 600, 24 * 60]) {
      const from = NOW_MINUTE - back;
      expect(view(aggregates.cellsSince(from, NOW_MINUTE)), `${back} minutes`).toEqual(view(aggregates.minuteCells(from)));
    }
  });

  it('returns fewer cells than minutes once whole hours are cached', () => {
    const aggregates = filled();
    const from = NOW_MINUTE - 24 * 60;
    expect(aggregates.cellsSince(from, NOW_MINUTE).length).toBeLessThan(aggregates.minuteCells(from).length / 10);
  });

  it('counts an event that lands in an hour already cached', () => {
    const aggregates = filled();
    const from = NOW_MINUTE - 24 * 60;
    const before = view(aggregates.cellsSince(from, NOW_MINUTE));
    aggregates.add(sample(1, NOW - 5 * 3600), NOW);
    const after = view(aggregates.cellsSince(from, NOW_MINUTE));
    expect(after).not.toEqual(before);
    expect(after).toEqual(view(aggregates.minuteCells(from)));
  });
});
