/** Display formatting shared by every view. Pure functions: no DOM, unit-tested under Node. */

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const compact = new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 1 });

/** 1234 → "1,234"; a million and up → "1.2M". */
export function formatCount(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  return Math.abs(value) >= 1_000_000 ? compact.format(value) : integer.format(value);
}

/** Seconds as the unit that reads best: "820 µs", "42 ms", "1.24 s", "2m 05s". */
export function formatSeconds(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  const abs = Math.abs(value);
  if (abs === 0) return '0 ms';
  if (abs < 0.001) return `${Math.round(value * 1_000_000)} µs`;
  if (abs < 1) return `${(value * 1000).toFixed(abs < 0.01 ? 2 : abs < 0.1 ? 1 : 0)} ms`;
  if (abs < 60) return `${Number(value.toFixed(abs < 10 ? 2 : 1))} s`;
  const minutes = Math.floor(abs / 60);
  const seconds = Math.round(abs % 60);
  return `${value < 0 ? '-' : ''}${minutes}m ${String(seconds).padStart(2, '0')}s`;
}

/** 97.123 → "97.1%"; 100 → "100%". */
/** How a success rate (percent) reads: ok from 99 %, warn from 95 %, bad below. */
export function successRateTone(rate: number): 'ok' | 'warn' | 'bad' {
  return rate >= 99 ? 'ok' : rate >= 95 ? 'warn' : 'bad';
}

/** A table cell's classes for a success rate: `warn` or `bad` (nothing when ok). */
export function successRateClasses(rate: number): { warn: boolean; bad: boolean } {
  const tone = successRateTone(rate);
  return { warn: tone === 'warn', bad: tone === 'bad' };
}

export function formatPercent(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  if (value === 100 || value === 0) return `${value}%`;
  return `${value.toFixed(1)}%`;
}

/** Tokens per second with sensible precision. */
export function formatRate(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '—';
  if (value === 0) return '0';
  return value >= 100 ? integer.format(value) : String(Number(value.toFixed(1)));
}

export function formatBytes(value: number): string {
  if (value < 1024) return `${value} B`;
  if (value < 1024 * 1024) return `${(value / 1024).toFixed(1)} KB`;
  if (value < 1024 * 1024 * 1024) return `${(value / 1024 / 1024).toFixed(1)} MB`;
  return `${(value / 1024 / 1024 / 1024).toFixed(2)} GB`;
}

const pad = (n: number): string => String(n).padStart(2, '0');

/** A bucket label on a chart's time axis: "14:05" within a day, "Nov 28 14:00" or "Nov 28" beyond. */
export function formatBucketTime(unixSeconds: number, bucketSeconds: number, spanSeconds: number): string {
  const date = new Date(unixSeconds * 1000);
  const time = `${pad(date.getHours())}:${pad(date.getMinutes())}`;
  if (spanSeconds <= 26 * 3600) return time;
  const day = date.toLocaleDateString('en-US', { month: 'short', day: 'numeric' });
  return bucketSeconds >= 86400 ? day : `${day} ${time}`;
}

/** "just now", "12 s ago", "5 min ago", "3 h ago", else the date. */
export function formatAgo(unixSeconds: number, nowSeconds: number): string {
  const delta = Math.max(0, nowSeconds - unixSeconds);
  if (delta < 2) return 'just now';
  if (delta < 60) return `${Math.floor(delta)} s ago`;
  if (delta < 3600) return `${Math.floor(delta / 60)} min ago`;
  if (delta < 86400) return `${Math.floor(delta / 3600)} h ago`;
  return new Date(unixSeconds * 1000).toLocaleDateString('en-US', { month: 'short', day: 'numeric', year: 'numeric' });
}

/** The local time zone's short name ("UTC", "GMT+1", "CET"), so a bare clock time is not ambiguous. */
export function timeZoneName(date: Date = new Date()): string {
  return new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' }).formatToParts(date).find((part) => part.type === 'timeZoneName')?.value ?? '';
}

/** Absolute local time of an event: "2025-11-28 14:05:09". */
export function formatTimestamp(unixSeconds: number): string {
  const d = new Date(unixSeconds * 1000);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** A local clock time with its zone: "14:05:09 UTC". */
export function formatClock(unixSeconds: number): string {
  const d = new Date(unixSeconds * 1000);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())} ${timeZoneName(d)}`.trim();
}

/** Milliseconds for event details: 0.1557854490000027 s → "155.79 ms"; whole numbers stay whole. */
export function formatMilliseconds(seconds: number): string {
  const ms = seconds * 1000;
  return `${Number(ms.toFixed(ms >= 100 ? 1 : 2)).toLocaleString('en-US')} ms`;
}

/** Failures that happen before any model is chosen: the request never reached one. */
const BEFORE_ANY_MODEL = new Set(['validation', 'model_unavailable', 'rate_limited']);

/**
 * The model label of an event, or of a row of the per-model breakdown (no error type). The routes
 * store `default` when a failed request named no model: say what that means instead.
 */
export function modelLabel(modelId: string, errorType?: unknown): string {
  if (modelId !== 'default') return modelId;
  if (errorType === undefined) return 'none (failed before a model)';
  return typeof errorType === 'string' && BEFORE_ANY_MODEL.has(errorType) ? 'no model reached' : 'unknown (failed)';
}

/** `diffusion_generate_stream` → "generate/stream". */
export function endpointLabel(eventType: string): string {
  return eventType.startsWith('diffusion_') ? eventType.slice('diffusion_'.length).replace('_stream', '/stream') : eventType;
}
