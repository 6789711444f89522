import { describe, expect, it } from 'vitest';
import { legendText, pointRadii } from '../../../src/renderer/src/components/charts/chartData';
import { formatMilliseconds, modelLabel } from '../../../src/renderer/src/format';
import { NO_FILTERS, eventDetails, matchingTotal } from '../../../src/renderer/src/views/events/eventsData';
import { requestRate } from '../../../src/renderer/src/views/dashboard/requestRate';
import type { PerformanceEvent } from '../../../src/shared/events';
import type { MetricsSeries } from '../../../src/shared/series';
import type { MetricsSummary } from '../../../src/shared/summary';

function series(requests: number[], bucketSeconds = 60): MetricsSeries {
  const from = 1_700_000_000;
  return {
    window: { key: '15m', seconds: requests.length * bucketSeconds, from, to: from + requests.length * bucketSeconds },
    bucketSeconds,
    t: requests.map((_, i) => from + i * bucketSeconds),
    requests,
    errors: requests.map(() => 0),
    tokens: requests.map(() => 0),
    tokensPerSecond: requests.map(() => null),
    latency: { p50: [], p95: [], p99: [] },
    timeToFirstStep: { p50: [], p95: [], p99: [] },
    requestsByEndpoint: {},
    errorsByType: {},
  };
}

describe('requests per minute', () => {
  it('counts only the minutes that had traffic', () => {
    // 23 requests in one minute of fifteen: 23 / min while it ran, not 1.5 / min.
    expect(requestRate(series([0, 0, 23, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]))).toBe('23 / min over 1 active min');
    expect(requestRate(series([2, 0, 4]))).toBe('3 / min over 2 active min');
  });
  it('labels a coarser bucket as a window average, and says when there is none', () => {
    expect(requestRate(series([60, 0, 0, 0], 900))).toBe('1 / min, window average');
    expect(requestRate(series([0, 0]))).toBe('no traffic in this window');
  });
});

describe('charts for sparse data', () => {
  it('marks every point of a short series and lonely points of a long one', () => {
    expect(pointRadii([null, 0.2, null, 0.3])).toEqual([0, 3, 0, 3]);
    const long: Array<number | null> = [...Array.from({ length: 20 }, (_, i) => i), null, 5, null];
    const radii = pointRadii(long);
    expect(radii.slice(0, 20).every((r) => r === 0)).toBe(true);
    expect(radii.slice(20)).toEqual([0, 3, 0]);
  });
  it('gives the doughnut legend counts and shares', () => {
    expect(legendText('timeout', 12, 30, String)).toBe('timeout · 12 (40%)');
    expect(legendText('network', 0, 0, String)).toBe('network · 0 (0%)');
  });
});

describe('events explained', () => {
  const failed: PerformanceEvent = {
    id: 7,
    model_id: 'default',
    user_id: 'u',
    event_type: 'diffusion_generate',
    duration: 0.1557854490000027,
    timestamp: 1_700_000_000,
    metadata: {
      success: false,
      error_type: 'backend',
      status: 502,
      upstream_status: 500,
      error_message: 'backend at x answered HTTP 500: boom',
      request_id: 'r-1',
    },
  };

  it('lists the error message, the upstream status and durations in ms', () => {
    const details = eventDetails(failed);
    expect(details[0]).toMatchObject({ label: 'Error', value: 'backend at x answered HTTP 500: boom' });
    expect(details.find((d) => d.label === 'Upstream status')?.value).toBe('HTTP 500');
    expect(details.find((d) => d.label === 'Duration')?.value).toBe('155.8 ms');
    expect(formatMilliseconds(0.00001234)).toBe('0.01 ms');
  });

  it('never calls a model "default" when none was reached', () => {
    expect(modelLabel('default', 'validation')).toBe('no model reached');
    expect(modelLabel('default', 'backend')).toBe('unknown (failed)');
    expect(modelLabel('dream-7b', 'backend')).toBe('dream-7b');
  });

  it('counts matching events from the aggregates, or says it cannot', () => {
    const summary = {
      overall: { total_requests: 10, total_errors: 3 },
      event_types: { diffusion_generate: { requests: 6, errors: 1 } },
      models: { m: { requests: 4, errors: 2 } },
    } as unknown as MetricsSummary;
    expect(matchingTotal(summary, { ...NO_FILTERS, type: '', model: '', outcome: '' })).toBe(10);
    expect(matchingTotal(summary, { ...NO_FILTERS, type: '', model: '', outcome: 'success' })).toBe(7);
    expect(matchingTotal(summary, { ...NO_FILTERS, type: 'diffusion_generate', model: '', outcome: 'error' })).toBe(1);
    expect(matchingTotal(summary, { ...NO_FILTERS, type: '', model: 'm', outcome: '' })).toBe(4);
    expect(matchingTotal(summary, { ...NO_FILTERS, type: 'diffusion_generate', model: 'm', outcome: '' })).toBeNull();
    expect(matchingTotal(summary, { ...NO_FILTERS, requestId: 'r-1' })).toBeNull();
  });
});
