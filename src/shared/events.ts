import type { ApiName } from './apis';
import type { ErrorType } from './errors';

/** How `token_count` was obtained: the seed's `max(1, len(text) // 4)` or a count the backend reported. */
export type TokenCountSource = 'estimate' | 'backend';

/**
 * The JSON stored in `performance_events.metadata`. The first six fields are the seed's;
 * the rest are ours. Prompts and outputs are never stored.
 */
export interface EventMetadata {
  token_count: number;
  max_new_tokens: number | null;
  temperature: number | null;
  top_p: number | null;
  alg: string | null;
  generation_time: number | null;
  success: boolean;
  error_type: ErrorType | null;
  status: number;
  steps: number | null;
  time_to_first_step: number | null;
  backend: string | null;
  request_id: string;
  token_count_source: TokenCountSource;
  /** The door the request came through (`diffusion` for our own routes). */
  api: ApiName;
  /** The `model_id` the client sent, when the row's model is a bounded label instead (`invalid`, `other`). */
  requested_model?: string;
  /** Failed requests only: our error message, at most 500 characters (never prompt or output text). */
  error_message?: string;
  /** Failed requests only: the HTTP status the backend answered with, when the failure came from it. */
  upstream_status?: number;
  /** Text-carrying chunks of an OpenAI-compatible stream (blocks, canvases or tokens); only on such rows. */
  chunks?: number;
  /** Seconds from sending the upstream request to its first text-carrying chunk; only on such rows. */
  time_to_first_chunk?: number;
  /** The backend's own id of the request, when it sent one; only on such rows. */
  upstream_request_id?: string;
}

/** One row of `performance_events`, metadata decoded. */
export interface PerformanceEvent {
  id: number;
  model_id: string;
  user_id: string;
  event_type: string;
  duration: number;
  timestamp: number;
  /** Decoded metadata; `null` when the row holds none, a raw object for rows written by other programs. */
  metadata: Partial<EventMetadata> & Record<string, unknown>;
}

/** Stored metadata as it may be: whatever a row holds, ours or another program's. */
export type StoredMetadata = Partial<Record<keyof EventMetadata, unknown>> & Record<string, unknown>;

/**
 * Reads `performance_events.metadata`: `{}` when there is none or it is JSON but not an object,
 * `{raw: text}` when it is not JSON at all (a foreign row still counts as a request).
 */
export function parseMetadata(text: string | null): StoredMetadata {
  if (!text) return {};
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as StoredMetadata) : {};
  } catch {
    return { raw: text };
  }
}

/**
 * How a stored event says it failed: `error_type` when it names one, `'unknown'` for a bare
 * `success: false` (or 0), `null` for a success. Rows written by other programs may carry any
 * metadata (or none); a row counts as failed only when it says so. The aggregates, the
 * failed-events table, the CSV export and the dashboard's badges all ask this function.
 */
export function failureOf(meta: StoredMetadata): string | null {
  if (typeof meta.error_type === 'string' && meta.error_type !== '') return meta.error_type;
  return meta.success === false || meta.success === 0 ? 'unknown' : null;
}
