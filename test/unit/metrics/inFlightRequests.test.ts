import { describe, expect, it } from 'vitest';
import { InFlightRequests } from '../../../src/main/metrics/inFlightRequests';

describe('InFlightRequests', () => {
  it('counts per endpoint and in total', () => {
    const tracker = new InFlightRequests();
    tracker.start('generate');
    tracker.start('generate');
    tracker.start('infill/stream');
    expect(tracker.count('generate')).toBe(2);
    expect(tracker.total).toBe(3);
    tracker.end('generate');
    expect(tracker.snapshot()).toEqual({ generate: 1, infill: 0, 'generate/stream': 0, 'infill/stream': 1 });
  });

  it('never goes below zero on a surplus end', () => {
    const tracker = new InFlightRequests();
    tracker.end('infill');
    tracker.start('infill');
    tracker.end('infill');
    tracker.end('infill');
    expect(tracker.count('infill')).toBe(0);
    tracker.start('infill');
    expect(tracker.count('infill')).toBe(1);
  });
});
