import { describe, expect, it } from 'vitest';
import { endpointLabel, formatAgo, formatBytes, formatCount, formatPercent, formatRate, formatSeconds } from '../../../src/renderer/src/format';

describe('format', () => {
  it('formats seconds in the unit that reads best', () => {
    expect(formatSeconds(0)).toBe('0 ms');
    expect(formatSeconds(0.0004)).toBe('400 µs');
    expect(formatSeconds(0.0423)).toBe('42.3 ms');
    expect(formatSeconds(0.42)).toBe('420 ms');
    expect(formatSeconds(2)).toBe('2 s');
    expect(formatSeconds(1.234)).toBe('1.23 s');
    expect(formatSeconds(125)).toBe('2m 05s');
    expect(formatSeconds(null)).toBe('—');
    expect(formatSeconds(Number.NaN)).toBe('—');
  });

  it('formats counts, rates, percentages and sizes', () => {
    expect(formatCount(1234)).toBe('1,234');
    expect(formatCount(2_500_000)).toBe('2.5M');
    expect(formatRate(0)).toBe('0');
    expect(formatRate(50)).toBe('50');
    expect(formatRate(52.37)).toBe('52.4');
    expect(formatRate(1234.5)).toBe('1,235');
    expect(formatPercent(80)).toBe('80.0%');
    expect(formatPercent(100)).toBe('100%');
    expect(formatBytes(2048)).toBe('2.0 KB');
  });

  it('says how long ago, and names endpoints as the routes do', () => {
    expect(formatAgo(100, 100.5)).toBe('just now');
    expect(formatAgo(100, 130)).toBe('30 s ago');
    expect(formatAgo(0, 7200)).toBe('2 h ago');
    expect(endpointLabel('diffusion_infill_stream')).toBe('infill/stream');
    expect(endpointLabel('diffusion_generate')).toBe('generate');
    expect(endpointLabel('custom_event')).toBe('custom_event');
  });
});
