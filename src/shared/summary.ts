import type { ErrorType } from './errors';
import type { PerformanceEvent } from './events';

/** Latency-style distribution, seconds. Percentiles are within 1% of the exact value (DDSketch). */
export interface Distribution {
  count: number;
  average: number;
  p50: number;
  p95: number;
  p99: number;
}

export interface EndpointStats {
  requests: number;
  errors: number;
  /** `((requests - errors) / requests) * 100`, 0 when there are no requests. */
  success_rate: number;
}

export interface EventTypeStats extends EndpointStats {
  tokens: number;
  /** Successful requests only (count, average and percentiles); failures are in `errors`. */
  latency: Distribution;
  time_to_first_step: Distribution;
  /** Tokens of successful requests divided by their wall time. */
  tokens_per_second: number;
}

/** One door's share: requests, errors and tokens of the requests that came through it. */
export interface ApiStats extends EndpointStats {
  tokens: number;
}

export interface ModelStats extends EndpointStats {
  tokens: number;
  average_latency: number;
}

/** The answer of `GET /api/diffusion/metrics` and the JSON export. */
export interface MetricsSummary {
  generated_at: number;
  /** The window the numbers cover; `seconds: null` means all stored events. */
  window: { seconds: number | null; since: number | null };
  overall: {
    total_requests: number;
    total_errors: number;
    success_rate: number;
    /** The seed's average over every request, failures included. */
    average_latency: number;
    total_tokens: number;
    tokens_per_second: number;
    /** Successful requests only. */
    latency: Distribution;
    time_to_first_step: Distribution;
  };
  /** Keyed by endpoint (`generate`, `infill`, `generate/stream`, `infill/stream`). */
  endpoints: Record<string, EndpointStats>;
  /**
   * Keyed by door (`diffusion`, `openai_chat`, `openai_completions`, `fim`, `llamacpp_infill`,
   * and `other` for foreign rows naming another); every door of ours is present, zero included.
   */
  apis: Record<string, ApiStats>;
  /** Keyed by event type (`diffusion_generate`, ...). */
  event_types: Record<string, EventTypeStats>;
  /** The seed's "average latency by event type". */
  average_latency_by_event_type: Record<string, number>;
  /** The seed's "token totals by event type". */
  tokens_by_event_type: Record<string, number>;
  errors_by_type: Partial<Record<ErrorType | string, number>>;
  models: Record<string, ModelStats>;
  recent_events: PerformanceEvent[];
}

/** The seed's success-rate formula. */
export function successRate(total: number, errors: number): number {
  return total === 0 ? 0 : ((total - errors) / total) * 100;
}
