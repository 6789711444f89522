/** Parses a summary window such as `15m`, `1h`, `24h`, `7d`, `90s` into seconds; `all` or empty means no window. */
export function parseWindow(value: string | undefined): number | undefined {
  if (value === undefined || value === '' || value === 'all') return undefined;
  const match = /^(\d+(?:\.\d+)?)(s|m|h|d|w)$/.exec(value.trim());
  if (!match) {
    throw new RangeError(`window must look like 15m, 1h, 24h, 7d or "all"; got ${JSON.stringify(value)}`);
  }
  const amount = Number(match[1]);
  const unit = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 }[match[2] as 's' | 'm' | 'h' | 'd' | 'w'];
  const seconds = amount * unit;
  if (seconds <= 0 || seconds > 10 * 365 * 86400) {
    throw new RangeError(`window must be between 1s and 10 years; got ${JSON.stringify(value)}`);
  }
  return seconds;
}
