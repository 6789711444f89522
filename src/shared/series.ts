/** The dashboard's time windows. `all` spans every stored event. */
export const TIME_WINDOWS = ['15m', '1h', '24h', 'all'] as const;
export type TimeWindowKey = (typeof TIME_WINDOWS)[number];

/** Seconds covered by each window; `null` for all time. */
export const TIME_WINDOW_SECONDS: Record<TimeWindowKey, number | null> = {
  '15m': 15 * 60,
  '1h': 60 * 60,
  '24h': 24 * 60 * 60,
  all: null,
};

/** Percentile lines over time; `null` where a bucket had no observation. */
export interface PercentileSeries {
  p50: Array<number | null>;
  p95: Array<number | null>;
  p99: Array<number | null>;
}

/**
 * Bucketed time series for the dashboard's charts, computed in the main process from the
 * per-minute aggregates. Its size depends on the number of buckets, never on the number of
 * events, so the renderer stays smooth however busy the window was.
 */
export interface MetricsSeries {
  window: { key: TimeWindowKey; seconds: number | null; from: number; to: number };
  /** Width of one bucket in seconds (a whole number of minutes). */
  bucketSeconds: number;
  /** Start of each bucket, Unix seconds, ascending; every bucket is present (zero-filled). */
  t: number[];
  requests: number[];
  errors: number[];
  tokens: number[];
  /** Tokens of successful requests divided by their wall time; `null` where none succeeded. */
  tokensPerSecond: Array<number | null>;
  /** Latency of successful requests, seconds; `null` where none succeeded. */
  latency: PercentileSeries;
  /** Time to the first denoising step (or first delta), seconds. */
  timeToFirstStep: PercentileSeries;
  /** Requests per bucket for each endpoint that had any in the window. */
  requestsByEndpoint: Record<string, number[]>;
  /** Errors per bucket for each error type that occurred in the window. */
  errorsByType: Record<string, number[]>;
}
