import { escape } from '@influxdata/influxdb-client';
import { ENDPOINTS, endpointOf } from '../../shared/endpoints';
import type { LabelledCell } from '../metrics/metricsAggregates';
import { buildSummary } from '../metrics/summary';

const MEASUREMENT = 'diffusion_llm';

/**
 * A tag key or value as the line protocol reference says (docs.influxdata.com, "InfluxDB line
 * protocol reference", special characters): commas, spaces and `=` are escaped with a backslash
 * (the client library's `escape.tag`), and nothing else is. What the protocol cannot carry is
 * replaced: control characters (a newline ends the line; influxd would keep a `\t` escape
 * literally) become spaces, and since influxd's scanner lets a backslash escape whatever follows
 * it, one backslash of an odd run right before an escaped character or the end is dropped — a
 * value ending in `\` would otherwise swallow the separator after it and void the whole line.
 * Inner backslashes are written as they are, so they are stored as they are. An empty value, which
 * influxd refuses, becomes one escaped space.
 */
export function tagValue(value: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are exactly what must go
  const printable = value.replace(/[\u0000-\u001f\u007f]/g, ' ');
  const carried = printable.replace(/\\+(?=[,= ]|$)/g, (run) => (run.length % 2 === 1 ? run.slice(1) : run));
  const escaped = escape.tag(carried);
  return escaped === '' ? '\\ ' : escaped;
}

/** Python's repr of a float, as the seed printed its values (`2.0`, `1.5`). */
export function floatField(value: number): string {
  if (!Number.isFinite(value)) return '0.0';
  return Number.isInteger(value) ? `${value}.0` : String(value);
}

/** Nanoseconds since the epoch as an exact integer string. */
export function nanoseconds(unixSeconds: number): string {
  return (BigInt(Math.round(unixSeconds * 1e6)) * 1000n).toString();
}

/**
 * Renders the aggregates as InfluxDB line protocol: the seed's lines first (requests per
 * endpoint, average latency and tokens per event type), then errors, percentiles, per-API
 * (door) counts and per-model usage. All lines carry one timestamp, the moment of the export.
 */
export function renderInflux(cells: readonly LabelledCell[], nowSeconds: number): string {
  const summary = buildSummary({ cells, recentEvents: [], windowSeconds: null, now: nowSeconds });
  const ts = nanoseconds(nowSeconds);
  const lines: string[] = [];
  const line = (tags: Record<string, string>, fields: string): void => {
    const tagText = Object.entries(tags)
      .map(([k, v]) => `,${escape.tag(k)}=${tagValue(v)}`)
      .join('');
    lines.push(`${MEASUREMENT}${tagText} ${fields} ${ts}`);
  };
  const activeEndpoints = ENDPOINTS.filter((e) => (summary.endpoints[e]?.requests ?? 0) > 0);
  for (const endpoint of activeEndpoints) line({ type: 'requests', endpoint }, `count=${summary.endpoints[endpoint]?.requests ?? 0}`);
  for (const [eventType, avg] of Object.entries(summary.average_latency_by_event_type)) {
    line({ type: 'latency', event_type: eventType }, `value=${floatField(avg)}`);
  }
  for (const [eventType, tokens] of Object.entries(summary.tokens_by_event_type)) {
    line({ type: 'tokens', event_type: eventType }, `count=${tokens}`);
  }
  for (const endpoint of activeEndpoints) line({ type: 'errors', endpoint }, `count=${summary.endpoints[endpoint]?.errors ?? 0}`);
  for (const [eventType, stats] of Object.entries(summary.event_types)) {
    const endpoint = endpointOf(eventType);
    line(
      { type: 'latency_percentiles', event_type: eventType, ...(endpoint ? { endpoint } : {}) },
      `p50=${floatField(stats.latency.p50)},p95=${floatField(stats.latency.p95)},p99=${floatField(stats.latency.p99)}`,
    );
    if (stats.time_to_first_step.count > 0) {
      const t = stats.time_to_first_step;
      line(
        { type: 'time_to_first_step', event_type: eventType },
        `p50=${floatField(t.p50)},p95=${floatField(t.p95)},p99=${floatField(t.p99)},count=${t.count}`,
      );
    }
  }
  for (const [errorType, count] of Object.entries(summary.errors_by_type)) {
    line({ type: 'error_types', error_type: errorType }, `count=${count ?? 0}`);
  }
  for (const [api, stats] of Object.entries(summary.apis)) {
    if (stats.requests > 0) line({ type: 'api', api }, `requests=${stats.requests},errors=${stats.errors},tokens=${stats.tokens}`);
  }
  for (const [model, stats] of Object.entries(summary.models)) {
    line({ type: 'model', model }, `requests=${stats.requests},errors=${stats.errors},tokens=${stats.tokens},latency=${floatField(stats.average_latency)}`);
  }
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}
