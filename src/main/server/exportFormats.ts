import Negotiator from 'negotiator';
import { OPENMETRICS_CONTENT_TYPE, PROMETHEUS_CONTENT_TYPE, renderPrometheus } from '../export/prometheus';
import { renderInflux } from '../export/influx';
import type { MetricsStore } from '../metrics/metricsStore';

export const EXPORT_FORMATS = ['json', 'prometheus', 'influxdb'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export interface RenderedExport {
  contentType: string;
  body: string;
}

/** True when the `Accept` header prefers OpenMetrics over the classic text format. */
export function prefersOpenMetrics(accept: string | undefined): boolean {
  if (!accept) return false;
  const preferred = new Negotiator({ headers: { accept } }).mediaType(['text/plain', 'application/openmetrics-text']);
  return preferred === 'application/openmetrics-text';
}

/** Renders one export format from the store's aggregates (never from a table scan). */
export async function renderExport(
  store: MetricsStore,
  format: ExportFormat,
  options: { windowSeconds?: number; openMetrics?: boolean } = {},
): Promise<RenderedExport> {
  switch (format) {
    case 'prometheus': {
      // Prometheus counters must only grow, so the scrape output always covers all time.
      const openMetrics = options.openMetrics === true;
      return {
        contentType: openMetrics ? OPENMETRICS_CONTENT_TYPE : PROMETHEUS_CONTENT_TYPE,
        body: await renderPrometheus(store.cells(), { openMetrics }),
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
