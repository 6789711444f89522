import { DDSketch } from '@datadog/sketches-js';
import { describe, expect, it } from 'vitest';
import { decodeSketch, encodeSketch } from '../../../src/main/metrics/sketchCodec';

function sketchOf(values: number[]): DDSketch {
  const sketch = new DDSketch({ relativeAccuracy: 0.01 });
  for (const v of values) sketch.accept(v);
  return sketch;
}

describe('sketch codec', () => {
  const values = Array.from({ length: 2000 }, (_, i) => (i % 7 === 0 ? 0 : 0.001 * 1.003 ** i));

  it('round-trips to identical quantiles', () => {
    const original = sketchOf(values);
    const decoded = decodeSketch(JSON.parse(JSON.stringify(encodeSketch(original))) as number[], 0.01);
    expect(decoded.count).toBe(original.count);
    for (const q of [0, 0.1, 0.5, 0.9, 0.95, 0.99, 1]) expect(decoded.getValueAtQuantile(q)).toBe(original.getValueAtQuantile(q));
  });

  it('decoded sketches still accept values and merge like the originals', () => {
    const a = decodeSketch(encodeSketch(sketchOf(values.slice(0, 1000))), 0.01);
    const b = decodeSketch(encodeSketch(sketchOf(values.slice(1000))), 0.01);
    a.merge(b);
    a.accept(1000);
    const whole = sketchOf([...values, 1000]);
    for (const q of [0.5, 0.95, 0.99, 1]) expect(a.getValueAtQuantile(q)).toBe(whole.getValueAtQuantile(q));
  });

  it('is compact for a single value and handles empty sketches', () => {
    expect(encodeSketch(sketchOf([0.5]))).toHaveLength(3);
    expect(decodeSketch(encodeSketch(new DDSketch()), 0.01).count).toBe(0);
  });
});
