import type { DDSketch } from '@datadog/sketches-js';

/**
 * A sketch quantile clamped into the observed range (so ten 2.0 s requests have p50 = 2.0, not
 * the sketch's bucket midpoint); `null` for an empty sketch. The summary's cards and the
 * dashboard's charts both read percentiles through this, so they cannot disagree.
 */
export function clampedQuantile(sketch: DDSketch, q: number, min: number | null, max: number | null): number | null {
  if (sketch.count <= 0) return null;
  const value = sketch.getValueAtQuantile(q);
  if (!Number.isFinite(value)) return null;
  return Math.min(max ?? value, Math.max(min ?? value, value));
}
