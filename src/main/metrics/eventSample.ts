import { apiLabelOf, type ApiName } from '../../shared/apis';
import { failureOf, parseMetadata } from '../../shared/events';

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
  /** The door it came through, as a bounded label; `diffusion` when left out. */
  api?: ApiName | 'other';
}

function finiteOrNull(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/** Reads a stored row into a sample. */
export function sampleFromRow(row: { event_type: string; model_id: string; duration: number; timestamp: number; metadata: string | null }): EventSample {
  const meta = parseMetadata(row.metadata);
  const errorType = failureOf(meta);
  return {
    eventType: row.event_type,
    modelId: row.model_id,
    duration: Number.isFinite(row.duration) ? Math.max(0, row.duration) : 0,
    timestamp: row.timestamp,
    success: errorType === null,
    errorType,
    tokens: Math.max(0, Math.trunc(finiteOrNull(meta.token_count) ?? 0)),
    generationTime: finiteOrNull(meta.generation_time),
    steps: finiteOrNull(meta.steps),
    timeToFirstStep: finiteOrNull(meta.time_to_first_step),
    api: apiLabelOf(meta.api),
  };
}
