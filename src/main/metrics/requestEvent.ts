import { eventTypeOf, type Endpoint } from '../../shared/endpoints';
import type { ErrorType } from '../../shared/errors';
import { DEFAULT_API, type ApiName } from '../../shared/apis';
import type { EventMetadata, TokenCountSource } from '../../shared/events';
import type { EventRow } from '../store/sqliteMetricsFile';
import type { EventSample } from './eventSample';

/** Everything the server knows about a finished request to one of the four diffusion routes. */
export interface RequestOutcome {
  endpoint: Endpoint;
  modelId: string;
  userId: string;
  /** Unix seconds at request start. */
  startedAt: number;
  /** Wall seconds from request start to the end of the response (for streams: the whole stream). */
  duration: number;
  requestId: string;
  status: number;
  /** `undefined` on success. */
  errorType?: ErrorType;
  /** Our own error message for a failed request (capped when stored; never prompt or output text). */
  errorMessage?: string;
  /** The HTTP status the backend answered with, when a failure came from its answer. */
  upstreamStatus?: number;
  params: {
    max_new_tokens?: number | null;
    temperature?: number | null;
    top_p?: number | null;
    alg?: string | null;
  };
  /** The generated text, used only to estimate the token count; never stored. */
  outputText?: string;
  /** A token count the backend reported; preferred over the estimate. */
  reportedTokenCount?: number;
  /**
   * The count already settled by whoever answered the request (the server's lifecycle), so the
   * row stores exactly what the response said; `outputText` and `reportedTokenCount` are then unused.
   */
  tokens?: TokenCount;
  generationTime?: number | null;
  steps?: number | null;
  timeToFirstStep?: number | null;
  backend?: string | null;
  /** The door the request came through; `diffusion` (our own routes) when left out. */
  api?: ApiName;
  /** The model the client named, when `modelId` is a bounded label instead (see `ModelLabels`). */
  requestedModel?: string;
  /** Stored as `metadata.chunks`, `time_to_first_chunk`, `upstream_request_id` when known. */
  chunks?: number;
  timeToFirstChunk?: number;
  upstreamRequestId?: string;
}

/** Python's `len()` counts code points, not UTF-16 units; the seed's estimate is defined on it. */
function codePointLength(text: string): number {
  let length = 0;
  for (let i = 0; i < text.length; i += 1) {
    const code = text.charCodeAt(i);
    if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) i += 1;
    }
    length += 1;
  }
  return length;
}

/** The seed's estimate: `max(1, len(text) // 4)`. */
export function estimateTokenCount(text: string): number {
  return Math.max(1, Math.floor(codePointLength(text) / 4));
}

/** Stored error messages are capped: enough to diagnose, never a page of upstream text. */
export const ERROR_MESSAGE_LIMIT = 500;

function cappedMessage(message: string): string {
  const chars = Array.from(message);
  return chars.length <= ERROR_MESSAGE_LIMIT ? message : `${chars.slice(0, ERROR_MESSAGE_LIMIT - 1).join('')}…`;
}

/** A token count and where it came from. */
export interface TokenCount {
  count: number;
  source: TokenCountSource;
}

/**
 * The token count of an answer: the backend's own count when it reported a usable one, else the
 * seed's estimate of the text. A failed request that produced no text counts zero tokens instead
 * of the estimate's floor of one.
 */
export function countTokens(input: { text?: string; reported?: number; success: boolean }): TokenCount {
  const { reported, text } = input;
  if (reported !== undefined && Number.isFinite(reported) && reported >= 0) return { count: Math.trunc(reported), source: 'backend' };
  if (text !== undefined && (input.success || text.length > 0)) return { count: estimateTokenCount(text), source: 'estimate' };
  return { count: 0, source: 'estimate' };
}

/** Turns a finished request into the stored row and the sample the aggregates count. */
export function buildRequestEvent(outcome: RequestOutcome): { row: EventRow; sample: EventSample; metadata: EventMetadata } {
  const success = outcome.errorType === undefined;
  const tokens =
    outcome.tokens ??
    countTokens({
      success,
      ...(outcome.outputText === undefined ? {} : { text: outcome.outputText }),
      ...(outcome.reportedTokenCount === undefined ? {} : { reported: outcome.reportedTokenCount }),
    });
  const tokenCount = tokens.count;

  const metadata: EventMetadata = {
    token_count: tokenCount,
    max_new_tokens: outcome.params.max_new_tokens ?? null,
    temperature: outcome.params.temperature ?? null,
    top_p: outcome.params.top_p ?? null,
    alg: outcome.params.alg ?? null,
    generation_time: outcome.generationTime ?? null,
    success,
    error_type: outcome.errorType ?? null,
    status: outcome.status,
    steps: outcome.steps ?? null,
    time_to_first_step: outcome.timeToFirstStep ?? null,
    backend: outcome.backend ?? null,
    request_id: outcome.requestId,
    token_count_source: tokens.source,
    api: outcome.api ?? DEFAULT_API,
    ...(outcome.requestedModel === undefined ? {} : { requested_model: outcome.requestedModel }),
    ...(!success && outcome.errorMessage !== undefined ? { error_message: cappedMessage(outcome.errorMessage) } : {}),
    ...(!success && outcome.upstreamStatus !== undefined && Number.isInteger(outcome.upstreamStatus) ? { upstream_status: outcome.upstreamStatus } : {}),
    ...(outcome.chunks === undefined ? {} : { chunks: outcome.chunks }),
    ...(outcome.timeToFirstChunk === undefined ? {} : { time_to_first_chunk: outcome.timeToFirstChunk }),
    ...(outcome.upstreamRequestId === undefined ? {} : { upstream_request_id: outcome.upstreamRequestId }),
  };
  const eventType = eventTypeOf(outcome.endpoint);
  const duration = Math.max(0, outcome.duration);
  return {
    row: {
      model_id: outcome.modelId,
      user_id: outcome.userId,
      event_type: eventType,
      duration,
      timestamp: outcome.startedAt,
      metadata: JSON.stringify(metadata),
    },
    sample: {
      eventType,
      modelId: outcome.modelId,
      duration,
      timestamp: outcome.startedAt,
      success,
      errorType: metadata.error_type,
      tokens: tokenCount,
      generationTime: metadata.generation_time,
      steps: metadata.steps,
      timeToFirstStep: metadata.time_to_first_step,
      api: metadata.api,
    },
    metadata,
  };
}
