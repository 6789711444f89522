import type { EventMetadata } from '../../shared/events';

/** What the aggregates need of one event: the row's columns plus the metadata fields that are counted. */
export interface EventSample {
  eventType: string;
  modelId: string;
  duration: number;
  timestamp: number;
  success: boolean;
  errorType: string | null;
  tokens: number;
  generationTime: number | null;
  steps: number | null;
  timeToFirstStep: number | null;
}

function finiteOrNull(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/**
 * Reads a stored row into a sample. Rows written by other programs may carry any metadata (or
 * none): a row counts as failed only when it says so (`success: false` or an `error_type`).
 */
export function sampleFromRow(row: { event_type: string; model_id: string; duration: number; timestamp: number; metadata: string | null }): EventSample {
  let meta: Partial<Record<keyof EventMetadata, unknown>> = {};
  if (row.metadata) {
    try {
      const parsed: unknown = JSON.parse(row.metadata);
      if (parsed && typeof parsed === 'object') meta = parsed as typeof meta;
    } catch {
      // A foreign row with unreadable metadata still counts as a request.
    }
  }
  const errorType = typeof meta.error_type === 'string' && meta.error_type !== '' ? meta.error_type : null;
  return {
    eventType: row.event_type,
    modelId: row.model_id,
    duration: Number.isFinite(row.duration) ? Math.max(0, row.duration) : 0,
    timestamp: row.timestamp,
    success: meta.success !== false && meta.success !== 0 && errorType === null,
    errorType: errorType ?? (meta.success === false || meta.success === 0 ? 'unknown' : null),
    tokens: Math.max(0, Math.trunc(finiteOrNull(meta.token_count) ?? 0)),
    generationTime: finiteOrNull(meta.generation_time),
    steps: finiteOrNull(meta.steps),
    timeToFirstStep: finiteOrNull(meta.time_to_first_step),
  };
}
