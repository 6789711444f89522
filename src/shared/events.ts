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
