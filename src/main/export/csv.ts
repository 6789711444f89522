import { apiLabelOf } from '../../shared/apis';
import { endpointOf } from '../../shared/endpoints';
import { failureOf, parseMetadata } from '../../shared/events';
import type { StoredEventRow } from '../store/sqliteMetricsFile';
import type { MetricsStore } from '../metrics/metricsStore';

/** Columns of the raw-events CSV: the seed's columns, then the metadata fields we record. */
export const CSV_COLUMNS = [
  'id',
  'timestamp',
  'time_utc',
  'event_type',
  'endpoint',
  'model_id',
  'user_id',
  'duration',
  'success',
  'error_type',
  'status',
  'token_count',
  'token_count_source',
  'steps',
  'time_to_first_step',
  'generation_time',
  'max_new_tokens',
  'temperature',
  'top_p',
  'alg',
  'backend',
  'request_id',
  'api',
] as const;

/**
 * One CSV field (RFC 4180). Text that a spreadsheet would run as a formula (`=`, `+`, `-`, `@`,
 * tab, carriage return first) is prefixed with `'`: model and user ids come from requests.
 */
export function csvField(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : '';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  let text = typeof value === 'string' ? value : JSON.stringify(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** One event as a CSV line (with its line break). */
export function csvLine(row: StoredEventRow): string {
  const m = parseMetadata(row.metadata);
  const values: Record<(typeof CSV_COLUMNS)[number], unknown> = {
    id: row.id,
    timestamp: row.timestamp,
    time_utc: Number.isFinite(row.timestamp) ? new Date(row.timestamp * 1000).toISOString() : '',
    event_type: row.event_type,
    endpoint: endpointOf(row.event_type) ?? '',
    model_id: row.model_id,
    user_id: row.user_id,
    duration: row.duration,
    success: failureOf(m) === null,
    error_type: m.error_type,
    status: m.status,
    token_count: m.token_count,
    token_count_source: m.token_count_source,
    steps: m.steps,
    time_to_first_step: m.time_to_first_step,
    generation_time: m.generation_time,
    max_new_tokens: m.max_new_tokens,
    temperature: m.temperature,
    top_p: m.top_p,
    alg: m.alg,
    backend: m.backend,
    request_id: m.request_id,
    api: apiLabelOf(m.api),
  };
  return `${CSV_COLUMNS.map((column) => csvField(values[column])).join(',')}\r\n`;
}

export interface CsvExportOptions {
  /** Only events whose timestamp is at or after this (Unix seconds). */
  since?: number;
  /** Rows per chunk; between chunks the event loop runs, so requests are not held up. */
  chunkRows?: number;
  signal?: AbortSignal;
  onProgress?: (rows: number, totalRows: number) => void;
}

/**
 * The raw events as CSV, oldest first, in chunks. Each chunk reads by id from where the last
 * one stopped and releases the connection before yielding, so the store keeps writing while a
 * large export runs.
 */
export async function* renderCsvChunks(store: MetricsStore, options: CsvExportOptions = {}): AsyncGenerator<string> {
  const chunkRows = options.chunkRows ?? 5000;
  const totalRows = store.storedEventCount();
  yield `${CSV_COLUMNS.join(',')}\r\n`;
  let afterId = 0;
  let rows = 0;
  for (;;) {
    if (options.signal?.aborted) throw options.signal.reason ?? new Error('export cancelled');
    const chunk = store.storedRowsAfter(afterId, chunkRows);
    let text = '';
    for (const row of chunk) {
      if (options.since === undefined || row.timestamp >= options.since) text += csvLine(row);
    }
    const read = chunk.length;
    afterId = chunk.at(-1)?.id ?? afterId;
    rows += read;
    options.onProgress?.(rows, Math.max(totalRows, rows));
    if (text !== '') yield text;
    if (read < chunkRows) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}
