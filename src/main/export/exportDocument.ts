import type { ExportProgress } from '../../shared/api';
import type { ExportKind } from '../../shared/apiSchemas';
import { TIME_WINDOW_SECONDS, type TimeWindowKey } from '../../shared/series';
import type { MetricsStore } from '../metrics/metricsStore';
import type { PrometheusOptions } from './prometheus';
import { renderCsvChunks } from './csv';
import { renderExport } from './exportFormats';

export interface ExportDocument {
  contentType: string;
  /** The body in order; large exports (CSV) arrive in many chunks. */
  chunks: AsyncIterable<string>;
}

export interface ExportDocumentOptions {
  format: ExportKind;
  window: TimeWindowKey;
  inFlight?: PrometheusOptions['inFlight'];
  signal?: AbortSignal;
  onProgress?: (progress: ExportProgress) => void;
}

/**
 * One export as a stream of text: the same bytes as `GET /api/diffusion/metrics/export` for
 * json, prometheus and influxdb, and the raw events for csv. Shared by the desktop's save-to-file
 * and the browser's download route.
 */
export async function exportDocument(store: MetricsStore, options: ExportDocumentOptions): Promise<ExportDocument> {
  const windowSeconds = TIME_WINDOW_SECONDS[options.window] ?? undefined;
  if (options.format === 'csv') {
    let bytes = 0;
    const chunks = renderCsvChunks(store, {
      ...(windowSeconds === undefined ? {} : { since: store.now() - windowSeconds }),
      ...(options.signal ? { signal: options.signal } : {}),
      onProgress: (rows, totalRows) => options.onProgress?.({ bytes, rows, totalRows }),
    });
    async function* counted(): AsyncGenerator<string> {
      for await (const chunk of chunks) {
        bytes += Buffer.byteLength(chunk);
        yield chunk;
      }
    }
    return { contentType: 'text/csv; charset=utf-8', chunks: counted() };
  }
  const rendered = await renderExport(store, options.format, {
    ...(windowSeconds === undefined ? {} : { windowSeconds }),
    ...(options.inFlight ? { inFlight: options.inFlight } : {}),
  });
  async function* single(): AsyncGenerator<string> {
    yield rendered.body;
    options.onProgress?.({ bytes: Buffer.byteLength(rendered.body), rows: null, totalRows: null });
  }
  return { contentType: rendered.contentType, chunks: single() };
}
