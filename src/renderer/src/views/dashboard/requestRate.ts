import type { MetricsSeries } from '../../../../shared/series';
import { formatRate } from '../../format';

/**
 * Requests per minute, honestly: over the minutes that had traffic when buckets are minutes
 * (a burst in one minute of a 15-minute window is not "1.5 / min"), else labelled a window average.
 */
export function requestRate(series: MetricsSeries): string {
  const total = series.requests.reduce((a, b) => a + b, 0);
  if (total === 0) return 'no traffic in this window';
  if (series.bucketSeconds === 60) {
    const active = series.requests.filter((r) => r > 0).length;
    return `${formatRate(total / active)} / min over ${active} active min`;
  }
  const minutes = Math.max(1, (series.window.to - series.window.from) / 60);
  return `${formatRate(total / minutes)} / min, window average`;
}
