import { Registry, type RegistryContentType } from 'prom-client';
import { API_NAMES } from '../../shared/apis';
import { ENDPOINTS, EVENT_TYPES, endpointOf, isStreamEndpoint, type Endpoint } from '../../shared/endpoints';
import { ERROR_TYPES } from '../../shared/errors';
import { LATENCY_BUCKETS, STEPS_BUCKETS, TTFS_BUCKETS } from '../metrics/buckets';
import type { LabelledCell } from '../metrics/metricsAggregates';
import { mergeByLabels } from '../metrics/metricsAggregates';
import { apiCounts, type CellCounters } from '../metrics/rollupCell';

type Labels = Record<string, string>;
interface Sample {
  labels: Labels;
  value: number;
  metricName?: string;
}

/**
 * A read-only metric for prom-client's registry: the values come from our aggregates instead of
 * from inc()/observe() calls, so the exposition (names, escaping, HELP/TYPE, OpenMetrics) is
 * prom-client's while the numbers are the database's.
 */
interface CollectedMetric {
  name: string;
  help: string;
  type: 'counter' | 'gauge' | 'histogram';
  aggregator: 'sum';
  get(): { name: string; help: string; type: string; values: Sample[]; aggregator: 'sum' };
}

function metric(name: string, help: string, type: CollectedMetric['type'], values: Sample[]): CollectedMetric {
  const self: CollectedMetric = {
    name,
    help,
    type,
    aggregator: 'sum',
    get: () => ({ name: self.name, help, type, values, aggregator: 'sum' }),
  };
  return self;
}

function sumBy(cells: readonly LabelledCell[], key: (cell: LabelledCell) => string | undefined): Map<string, CellCounters[]> {
  const out = new Map<string, CellCounters[]>();
  for (const cell of cells) {
    const k = key(cell);
    if (k === undefined) continue;
    const list = out.get(k) ?? [];
    list.push(cell.cell.counters);
    out.set(k, list);
  }
  return out;
}

const total = (list: readonly CellCounters[] | undefined, pick: (c: CellCounters) => number): number => (list ?? []).reduce((acc, c) => acc + pick(c), 0);

interface HistogramSpec {
  bounds: readonly number[];
  cells: readonly LabelledCell[];
  counts: (c: CellCounters) => readonly number[];
  count: (c: CellCounters) => number;
  sum: (c: CellCounters) => number;
}

/** A histogram family: its `_bucket`, `_sum` and `_count` samples per (event type, model). */
function histogram(name: string, help: string, spec: HistogramSpec): CollectedMetric {
  return metric(name, help, 'histogram', histogramSamples(name, spec));
}

function histogramSamples(name: string, { bounds, cells, counts, count, sum }: HistogramSpec): Sample[] {
  const values: Sample[] = [];
  for (const { eventType, modelId, cell } of cells) {
    const c = cell.counters;
    if (count(c) === 0) continue;
    const labels = { event_type: eventType, model: modelId };
    let cumulative = 0;
    const perBucket = counts(c);
    bounds.forEach((bound, i) => {
      cumulative += perBucket[i] ?? 0;
      values.push({ metricName: `${name}_bucket`, labels: { ...labels, le: String(bound) }, value: cumulative });
    });
    values.push({ metricName: `${name}_bucket`, labels: { ...labels, le: '+Inf' }, value: count(c) });
    values.push({ metricName: `${name}_sum`, labels, value: sum(c) });
    values.push({ metricName: `${name}_count`, labels, value: count(c) });
  }
  return values;
}

export interface PrometheusOptions {
  openMetrics?: boolean;
  /** Requests in progress per endpoint (live, not stored); endpoints left out read as zero. */
  inFlight?: Readonly<Partial<Record<Endpoint, number>>>;
}

const isStreamEventType = (eventType: string): boolean => {
  const endpoint = endpointOf(eventType);
  return endpoint !== undefined && isStreamEndpoint(endpoint);
};

const sumOf = (values: readonly number[]): number => values.reduce((acc, v) => acc + v, 0);

/**
 * Errors per (event type, model, error type). Every type of the taxonomy is declared at zero for
 * each (event type, model) that has seen a request, so the first error of a kind shows in rate().
 */
function errorsByTypeSamples(cells: readonly LabelledCell[]): Sample[] {
  const values: Sample[] = [];
  for (const { eventType, modelId, cell } of cells) {
    const c = cell.counters;
    if (c.requests === 0) continue;
    const types = new Set<string>([...ERROR_TYPES, ...Object.keys(c.errorsByType)]);
    for (const errorType of types) {
      values.push({ labels: { event_type: eventType, model: modelId, error_type: errorType }, value: c.errorsByType[errorType] ?? 0 });
    }
  }
  return values;
}

/**
 * Requests and errors per door (`api`): every door of ours is declared at zero from the start,
 * `other` appears only for foreign rows that name another.
 */
function byApiSamples(cells: readonly LabelledCell[]): { requests: Sample[]; errors: Sample[] } {
  const totals = new Map<string, { requests: number; errors: number }>(API_NAMES.map((api) => [api, { requests: 0, errors: 0 }]));
  for (const { cell } of cells) {
    for (const [api, counts] of apiCounts(cell.counters)) {
      const into = totals.get(api) ?? { requests: 0, errors: 0 };
      into.requests += counts.requests;
      into.errors += counts.errors;
      totals.set(api, into);
    }
  }
  const entries = [...totals];
  return {
    requests: entries.map(([api, t]) => ({ labels: { api }, value: t.requests })),
    errors: entries.map(([api, t]) => ({ labels: { api }, value: t.errors })),
  };
}

export const PROMETHEUS_CONTENT_TYPE = Registry.PROMETHEUS_CONTENT_TYPE;
export const OPENMETRICS_CONTENT_TYPE = Registry.OPENMETRICS_CONTENT_TYPE;

/**
 * Renders all-time aggregates as Prometheus text 0.0.4 (or OpenMetrics 1.0). The first four
 * families are the seed's, with its names, labels and HELP texts; counters for the four
 * endpoints are always present (zero before the first request) so rate() works from the start.
 * Then ours, labelled only by `endpoint`, `event_type`, `model`, `error_type` and `api`: histograms
 * of request duration, time to first step, stream duration and denoising steps (bounds in
 * `metrics/buckets.ts`), errors by type, tokens by model, requests and errors by API (the door:
 * our routes or the OpenAI-compatible / llama.cpp front door) and the in-flight gauge.
 */
export async function renderPrometheus(cells: readonly LabelledCell[], options: PrometheusOptions = {}): Promise<string> {
  const perLabels = mergeByLabels(cells);
  const byEndpoint = sumBy(perLabels, (c) => endpointOf(c.eventType));
  const byEventType = sumBy(perLabels, (c) => c.eventType);
  const eventTypes = [...new Set<string>([...EVENT_TYPES, ...byEventType.keys()])];
  const byApi = byApiSamples(perLabels);

  const registry = new Registry<RegistryContentType>();
  registry.setContentType(options.openMetrics ? Registry.OPENMETRICS_CONTENT_TYPE : Registry.PROMETHEUS_CONTENT_TYPE);
  const families: CollectedMetric[] = [
    metric(
      'diffusion_llm_requests_total',
      'Total number of requests',
      'counter',
      ENDPOINTS.map((endpoint) => ({ labels: { endpoint }, value: total(byEndpoint.get(endpoint), (c) => c.requests) })),
    ),
    metric(
      'diffusion_llm_errors_total',
      'Total number of errors',
      'counter',
      ENDPOINTS.map((endpoint) => ({ labels: { endpoint }, value: total(byEndpoint.get(endpoint), (c) => c.errors) })),
    ),
    metric(
      'diffusion_llm_latency_seconds',
      'Average latency in seconds',
      'gauge',
      eventTypes
        .filter((eventType) => total(byEventType.get(eventType), (c) => c.requests) > 0)
        .map((eventType) => {
          const list = byEventType.get(eventType);
          return { labels: { event_type: eventType }, value: total(list, (c) => c.durationSum) / total(list, (c) => c.requests) };
        }),
    ),
    metric(
      'diffusion_llm_tokens_total',
      'Total tokens generated',
      'counter',
      eventTypes.map((eventType) => ({ labels: { event_type: eventType }, value: total(byEventType.get(eventType), (c) => c.tokens) })),
    ),
    histogram('diffusion_llm_request_duration_seconds', 'Request latency in seconds (whole stream for stream routes)', {
      bounds: LATENCY_BUCKETS,
      cells: perLabels,
      counts: (c) => c.latencyBuckets,
      count: (c) => c.requests,
      sum: (c) => c.durationSum,
    }),
    histogram('diffusion_llm_time_to_first_step_seconds', 'Time from request start to the first denoising step or text in seconds', {
      bounds: TTFS_BUCKETS,
      cells: perLabels,
      counts: (c) => c.ttfsBuckets,
      count: (c) => c.ttfsCount,
      sum: (c) => c.ttfsSum,
    }),
    histogram('diffusion_llm_stream_duration_seconds', 'Wall time of a whole stream, from request start to the last frame, in seconds (stream routes only)', {
      bounds: LATENCY_BUCKETS,
      cells: perLabels.filter((c) => isStreamEventType(c.eventType)),
      counts: (c) => c.latencyBuckets,
      count: (c) => c.requests,
      sum: (c) => c.durationSum,
    }),
    // The count comes from the buckets so that cells stored before this histogram existed stay consistent.
    histogram('diffusion_llm_denoising_steps', 'Denoising steps per request, for requests whose backend reported them', {
      bounds: STEPS_BUCKETS,
      cells: perLabels,
      counts: (c) => c.stepsBuckets,
      count: (c) => sumOf(c.stepsBuckets),
      sum: (c) => c.stepsSum,
    }),
    metric('diffusion_llm_errors_by_type_total', 'Total number of errors by error type', 'counter', errorsByTypeSamples(perLabels)),
    metric(
      'diffusion_llm_tokens_by_model_total',
      'Total tokens generated, by event type and model',
      'counter',
      perLabels
        .filter((c) => c.cell.counters.requests > 0)
        .map(({ eventType, modelId, cell }) => ({ labels: { event_type: eventType, model: modelId }, value: cell.counters.tokens })),
    ),
    metric('diffusion_llm_requests_by_api_total', 'Total number of requests by API they came through', 'counter', byApi.requests),
    metric('diffusion_llm_errors_by_api_total', 'Total number of errors by API they came through', 'counter', byApi.errors),
    metric(
      'diffusion_llm_in_flight_requests',
      'Requests in progress',
      'gauge',
      ENDPOINTS.map((endpoint) => ({ labels: { endpoint }, value: options.inFlight?.[endpoint] ?? 0 })),
    ),
  ];
  for (const family of families) registry.registerMetric(family as never);
  return registry.metrics();
}
