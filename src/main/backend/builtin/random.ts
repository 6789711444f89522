/** A source of uniform numbers in [0, 1); the sampler's only randomness, injected so runs can be replayed. */
export type Random = () => number;

/**
 * A seeded generator (mulberry32: 32 bits of state, good enough for sampling tokens, not for
 * cryptography). The same seed gives the same sequence on every platform; seeds above 2^32
 * (any safe integer is accepted) fold their high bits in.
 */
export function seededRandom(seed: number): Random {
  const high = Math.floor(seed / 4294967296) >>> 0;
  let state = ((seed >>> 0) ^ Math.imul(high, 0x9e3779b9)) >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Draws an index from unnormalised non-negative weights; -1 when they sum to zero. */
export function drawIndex(weights: ArrayLike<number>, random: Random): number {
  let total = 0;
  for (let i = 0; i < weights.length; i += 1) total += weights[i] as number;
  if (!(total > 0)) return -1;
  let u = random() * total;
  let last = -1;
  for (let i = 0; i < weights.length; i += 1) {
    const w = weights[i] as number;
    if (w <= 0) continue;
    last = i;
    u -= w;
    if (u < 0) return i;
  }
  // Rounding left a sliver past the end: the last index with weight takes it.
  return last;
}
