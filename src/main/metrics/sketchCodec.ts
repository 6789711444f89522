import { DDSketch } from '@datadog/sketches-js';

/**
 * Compact encoding of a DDSketch for the rollup table: `[zeroCount, minKey, ...counts]` over the
 * keys the sketch really uses. The library's own protobuf form writes whole dense chunks
 * (kilobytes for a single value), which would make a per-minute rollup larger than its events.
 * Decoding restores the same bins through the store's own `copy`, so quantiles and merges are
 * exactly those of the original sketch.
 */
export type EncodedSketch = number[];

export function encodeSketch(sketch: DDSketch): EncodedSketch {
  const store = sketch.store;
  if (store.count === 0) return [sketch.zeroCount];
  const counts: number[] = [];
  for (let key = store.minKey; key <= store.maxKey; key += 1) counts.push(store.bins[key - store.offset] ?? 0);
  return [sketch.zeroCount, store.minKey, ...counts];
}

export function decodeSketch(encoded: EncodedSketch | undefined, relativeAccuracy: number): DDSketch {
  const sketch = new DDSketch({ relativeAccuracy });
  if (!encoded || encoded.length === 0) return sketch;
  const [zeroCount = 0, minKey = 0, ...counts] = encoded;
  const storeCount = counts.reduce((sum, c) => sum + c, 0);
  if (storeCount > 0) {
    sketch.store.copy({ bins: counts, count: storeCount, minKey, maxKey: minKey + counts.length - 1, offset: minKey } as DDSketch['store']);
  }
  sketch.zeroCount = zeroCount;
  sketch.count = storeCount + zeroCount;
  return sketch;
}

/**
 * Adds an encoded sketch into a live one, bin by bin, without building a sketch for it: how
 * frozen cells (see `RollupCell.freeze`) are merged.
 */
export function mergeEncodedSketch(into: DDSketch, encoded: EncodedSketch): void {
  const zeroCount = encoded[0] ?? 0;
  const minKey = encoded[1] ?? 0;
  let total = 0;
  for (let i = 2; i < encoded.length; i += 1) {
    const count = encoded[i] ?? 0;
    if (count > 0) {
      into.store.add(minKey + i - 2, count);
      total += count;
    }
  }
  into.zeroCount += zeroCount;
  into.count += total + zeroCount;
}
