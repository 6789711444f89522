import Negotiator from 'negotiator';
import type { ExportFormat } from '../../shared/apiSchemas';
import type { MetricsStore } from '../metrics/metricsStore';
import { renderInflux } from './influx';
import { OPENMETRICS_CONTENT_TYPE, PROMETHEUS_CONTENT_TYPE, renderPrometheus, type PrometheusOptions } from './prometheus';

export interface RenderedExport {
  contentType: string;
  body: string;
}

/** True when the `Accept` header prefers OpenMetrics over the classic text format. */
export function prefersOpenMetrics(accept: string | undefined): boolean {
  if (!accept) return false;
  // Offered with their versions so that versioned Accept entries (as Prometheus sends them) match.
  const preferred = new Negotiator({ headers: { accept } }).mediaType(['text/plain; version=0.0.4', 'application/openmetrics-text; version=1.0.0']);
  return preferred?.startsWith('application/openmetrics-text') === true;
}

/** Renders one export format from the store's aggregates (never from a table scan). */
export async function renderExport(
  store: MetricsStore,
  format: ExportFormat,
  options: { windowSeconds?: number; openMetrics?: boolean; inFlight?: PrometheusOptions['inFlight'] } = {},
): Promise<RenderedExport> {
  switch (format) {
    case 'prometheus': {
      // Prometheus counters must only grow, so the scrape output always covers all time.
      const openMetrics = options.openMetrics === true;
      return {
        contentType: openMetrics ? OPENMETRICS_CONTENT_TYPE : PROMETHEUS_CONTENT_TYPE,
        body: await renderPrometheus(store.cells(), { openMetrics, ...(options.inFlight ? { inFlight: options.inFlight } : {}) }),
      };
    }
    case 'influxdb':
      return { contentType: 'text/plain; charset=utf-8', body: renderInflux(store.cells(options.windowSeconds), store.now()) };
    case 'json':
      return {
        contentType: 'application/json; charset=utf-8',
        body: JSON.stringify(store.summary(options.windowSeconds === undefined ? {} : { windowSeconds: options.windowSeconds })),
      };
  }
}
