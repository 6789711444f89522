import { API_NAMES } from '../../shared/apis';
import { ENDPOINTS, eventTypeOf } from '../../shared/endpoints';
import type { PerformanceEvent } from '../../shared/events';
import { successRate, type Distribution, type EventTypeStats, type MetricsSummary } from '../../shared/summary';
import type { LabelledCell } from './metricsAggregates';
import { RollupCell, apiCounts } from './rollupCell';
import type { DDSketch } from '@datadog/sketches-js';
import { clampedQuantile } from './quantile';

const quantile = (sketch: DDSketch, q: number, min: number | null, max: number | null): number => clampedQuantile(sketch, q, min, max) ?? 0;

function distribution(count: number, sum: number, sketch: DDSketch, min: number | null, max: number | null): Distribution {
  return {
    count,
    average: count === 0 ? 0 : sum / count,
    p50: quantile(sketch, 0.5, min, max),
    p95: quantile(sketch, 0.95, min, max),
    p99: quantile(sketch, 0.99, min, max),
  };
}

function eventTypeStats(cell: RollupCell): EventTypeStats {
  const c = cell.counters;
  return {
    requests: c.requests,
    errors: c.errors,
    success_rate: successRate(c.requests, c.errors),
    tokens: c.tokens,
    latency: distribution(c.requests - c.errors, c.okDuration, cell.latency, c.durationMin, c.durationMax),
    time_to_first_step: distribution(c.ttfsCount, c.ttfsSum, cell.ttfs, c.ttfsMin, c.ttfsMax),
    tokens_per_second: c.okDuration > 0 ? c.okTokens / c.okDuration : 0,
  };
}

function mergeInto(map: Map<string, RollupCell>, key: string, cell: RollupCell): void {
  let into = map.get(key);
  if (!into) {
    into = new RollupCell();
    map.set(key, into);
  }
  into.merge(cell);
}

export interface SummaryInput {
  /** One cell per (event type, model) covering the window. */
  cells: readonly LabelledCell[];
  recentEvents: PerformanceEvent[];
  windowSeconds: number | null;
  now: number;
}

/**
 * Builds the summary from aggregate cells. Its cost depends on the number of (event type, model)
 * pairs, never on the number of stored events.
 */
export function buildSummary(input: SummaryInput): MetricsSummary {
  const byEventType = new Map<string, RollupCell>();
  const byModel = new Map<string, RollupCell>();
  const overall = new RollupCell();
  for (const { eventType, modelId, cell } of input.cells) {
    mergeInto(byEventType, eventType, cell);
    mergeInto(byModel, modelId, cell);
    overall.merge(cell);
  }

  const endpoints: MetricsSummary['endpoints'] = {};
  for (const endpoint of ENDPOINTS) {
    const c = byEventType.get(eventTypeOf(endpoint))?.counters;
    endpoints[endpoint] = { requests: c?.requests ?? 0, errors: c?.errors ?? 0, success_rate: successRate(c?.requests ?? 0, c?.errors ?? 0) };
  }

  const eventTypes: MetricsSummary['event_types'] = {};
  const averageLatency: Record<string, number> = {};
  const tokens: Record<string, number> = {};
  for (const [eventType, cell] of [...byEventType].sort(([a], [b]) => a.localeCompare(b))) {
    const stats = eventTypeStats(cell);
    eventTypes[eventType] = stats;
    // The seed's gauge: the average over every request, failures included.
    averageLatency[eventType] = cell.counters.requests === 0 ? 0 : cell.counters.durationSum / cell.counters.requests;
    tokens[eventType] = stats.tokens;
  }

  const models: MetricsSummary['models'] = {};
  for (const [modelId, cell] of [...byModel].sort(([a], [b]) => a.localeCompare(b))) {
    const c = cell.counters;
    models[modelId] = {
      requests: c.requests,
      errors: c.errors,
      success_rate: successRate(c.requests, c.errors),
      tokens: c.tokens,
      average_latency: c.requests === 0 ? 0 : c.durationSum / c.requests,
    };
  }

  const o = overall.counters;
  const apis: MetricsSummary['apis'] = {};
  for (const api of API_NAMES) apis[api] = { requests: 0, errors: 0, success_rate: 0, tokens: 0 };
  for (const [api, counts] of apiCounts(o)) {
    apis[api] = { requests: counts.requests, errors: counts.errors, success_rate: successRate(counts.requests, counts.errors), tokens: counts.tokens };
  }
  return {
    generated_at: input.now,
    window: { seconds: input.windowSeconds, since: input.windowSeconds === null ? null : input.now - input.windowSeconds },
    overall: {
      total_requests: o.requests,
      total_errors: o.errors,
      success_rate: successRate(o.requests, o.errors),
      average_latency: o.requests === 0 ? 0 : o.durationSum / o.requests,
      total_tokens: o.tokens,
      tokens_per_second: o.okDuration > 0 ? o.okTokens / o.okDuration : 0,
      latency: distribution(o.requests - o.errors, o.okDuration, overall.latency, o.durationMin, o.durationMax),
      time_to_first_step: distribution(o.ttfsCount, o.ttfsSum, overall.ttfs, o.ttfsMin, o.ttfsMax),
    },
    endpoints,
    apis,
    event_types: eventTypes,
    average_latency_by_event_type: averageLatency,
    tokens_by_event_type: tokens,
    errors_by_type: { ...o.errorsByType },
    models,
    recent_events: input.recentEvents,
  };
}
