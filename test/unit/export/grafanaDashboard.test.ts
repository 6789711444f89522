import { parser } from '@prometheus-io/lezer-promql';
import { describe, expect, it } from 'vitest';
import { renderPrometheus } from '../../../src/main/export/prometheus';
import { InFlightRequests } from '../../../src/main/metrics/inFlightRequests';
import { MetricsStore } from '../../../src/main/metrics/metricsStore';
import { dashboardQueries } from '../../fixtures/monitoring/grafanaQueries';
import { recordVariedEvents } from '../../fixtures/monitoring/variedEvents';
import { seedExampleRows } from '../../fixtures/seedDatabase';

/** Labels a query may name: ours, the histogram's `le`, and what Prometheus adds to every target. */
const KNOWN_LABELS = new Set(['endpoint', 'event_type', 'model', 'error_type', 'le', 'job', 'instance', 'api']);

interface Parsed {
  metrics: string[];
  labels: string[];
  errors: string[];
}

/** Parses PromQL with Prometheus's own grammar; answers metric names, label names and syntax errors. */
function parsePromql(query: string): Parsed {
  const parsed: Parsed = { metrics: [], labels: [], errors: [] };
  parser.parse(query).iterate({
    enter(node) {
      const text = query.slice(node.from, node.to);
      if (node.type.isError) parsed.errors.push(`syntax error at ${node.from}: ${JSON.stringify(query.slice(node.from, node.from + 20))}`);
      if (node.name === 'VectorSelector') {
        const name = node.node.getChild('Identifier');
        if (name) parsed.metrics.push(query.slice(name.from, name.to));
        else parsed.errors.push(`selector without a metric name: ${text}`);
      }
      if (node.name === 'LabelName') parsed.labels.push(text);
    },
  });
  return parsed;
}

/** Every sample name of an export from a store holding every kind of event (the seed's and varied ones). */
async function exportedNames(): Promise<Set<string>> {
  const store = MetricsStore.open({ path: ':memory:' });
  try {
    for (const row of seedExampleRows()) store.recordRow({ ...row, user_id: 'seed', metadata: JSON.stringify(row.metadata) });
    recordVariedEvents(store, 120);
    const inFlight = new InFlightRequests();
    const text = await renderPrometheus(store.cells(), { inFlight: inFlight.snapshot() });
    const names = new Set<string>();
    for (const line of text.split('\n')) {
      if (line === '' || line.startsWith('#')) continue;
      names.add(/^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)?.[0] ?? '');
    }
    return names;
  } finally {
    store.close();
  }
}

describe('the Grafana dashboard', () => {
  const queries = dashboardQueries();

  it('has the panels monitoring users ask for', () => {
    const all = queries.map((q) => q.raw).join('\n');
    expect(all).toMatch(/rate\(diffusion_llm_requests_total/);
    expect(all).toMatch(/sum by \(error_type\) \(rate\(diffusion_llm_errors_by_type_total/);
    for (const q of ['0.5', '0.95', '0.99']) expect(all).toContain(`histogram_quantile(${q}, sum by (le) (rate(diffusion_llm_request_duration_seconds_bucket`);
    expect(all).toMatch(/histogram_quantile\(0\.95, sum by \(le\) \(rate\(diffusion_llm_time_to_first_step_seconds_bucket/);
    expect(all).toMatch(/rate\(diffusion_llm_tokens_total/);
    expect(all).toMatch(/sum by \(model\)/);
    expect(queries.length).toBeGreaterThan(20);
  });

  it.each(dashboardQueries().map((q) => [q.where, q] as const))('%s parses as PromQL', (_where, query) => {
    const parsed = parsePromql(query.promql);
    expect(parsed.errors, query.raw).toEqual([]);
    expect(parsed.metrics.length, query.raw).toBeGreaterThan(0);
    for (const label of parsed.labels) expect(KNOWN_LABELS, `${query.raw} names label ${label}`).toContain(label);
  });

  it('names only metrics that renderPrometheus produces', async () => {
    const exported = await exportedNames();
    const missing: string[] = [];
    for (const query of queries) {
      for (const metric of parsePromql(query.promql).metrics) if (!exported.has(metric)) missing.push(`${query.where}: ${metric}`);
    }
    expect(missing).toEqual([]);
  });

  it('the check can fail: a misspelt metric is caught', async () => {
    const exported = await exportedNames();
    const metrics = parsePromql('histogram_quantile(0.9, sum by (le) (rate(diffusion_llm_request_latency_seconds_bucket[5m])))').metrics;
    expect(metrics).toEqual(['diffusion_llm_request_latency_seconds_bucket']);
    expect(exported.has(metrics[0] as string)).toBe(false);
    expect(parsePromql('sum(rate(diffusion_llm_requests_total[5m])').errors).not.toEqual([]);
  });
});
