/**
 * Histogram bucket upper bounds, seconds. Following the OpenTelemetry GenAI semantic conventions:
 * `gen_ai.client.operation.duration` for request latency and `gen_ai.server.time_to_first_token`
 * for time to first step (the first denoising state plays the role of the first token).
 */
export const LATENCY_BUCKETS = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92] as const;

export const TTFS_BUCKETS = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10] as const;

/**
 * Denoising steps per request. OpenTelemetry GenAI has no step metric; its nearest count-valued
 * histogram, `gen_ai.client.token.usage`, uses exponential bounds (powers of 4). Step counts span
 * 1 (one-shot drafts) to a few thousand (LLaDA/Dream with steps = generation length), so we keep
 * the exponential shape at base 2 for twice the resolution over that range.
 */
export const STEPS_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096] as const;

/** Index of the first bucket whose upper bound holds `value`; `bounds.length` for +Inf. */
export function bucketIndex(bounds: readonly number[], value: number): number {
  let low = 0;
  let high = bounds.length;
  while (low < high) {
    const mid = (low + high) >> 1;
    if (value <= (bounds[mid] as number)) high = mid;
    else low = mid + 1;
  }
  return low;
}
