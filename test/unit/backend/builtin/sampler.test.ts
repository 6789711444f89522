import { describe, expect, it } from 'vitest';
import { drawIndex, seededRandom } from '../../../../src/main/backend/builtin/random';
import {
  choosePositions,
  denoise,
  revealCount,
  sampleToken,
  timesteps,
  type Algorithm,
  type Forward,
  type SamplerOptions,
  type StepReport,
} from '../../../../src/main/backend/builtin/sampler';

const VOCAB = 6;
const MASK = 5;

/** Logits for one position from probabilities (log p, so softmax gives them back). */
function logitsOf(probs: number[]): Float32Array {
  return Float32Array.from(probs.map((p) => (p > 0 ? Math.log(p) : -1e9)));
}

/**
 * A hand-built model: position p prefers token p % 5 with a confidence that grows with p, so the
 * confidence ranking of positions is known in advance. The mask token gets the highest logit of
 * all, to show it is never sampled.
 */
const rankedModel: Forward = (tokens) => {
  const out = new Float32Array(tokens.length * VOCAB);
  for (let p = 0; p < tokens.length; p += 1) {
    for (let v = 0; v < VOCAB; v += 1) out[p * VOCAB + v] = v === p % 5 ? 1 + p * 0.1 : 0;
    out[p * VOCAB + MASK] = 50;
  }
  return out;
};

const defaults: SamplerOptions = { steps: 4, temperature: 0, topP: 1, topK: null, alg: 'entropy', algTemp: null };

async function run(options: Partial<SamplerOptions>, canvas: Int32Array, seed = 1, forward: Forward = rankedModel) {
  const reports: Array<Omit<StepReport, 'canvas'> & { canvas: number[] }> = [];
  const result = await denoise({ canvas, maskId: MASK, vocabSize: VOCAB }, { ...defaults, ...options }, forward, seededRandom(seed), (r) => {
    reports.push({ ...r, canvas: [...r.canvas], revealed: [...r.revealed] });
  });
  return { result, reports };
}

const masks = (n: number, context: number[] = []): Int32Array => Int32Array.from([...context, ...new Array<number>(n).fill(MASK)]);

describe('timesteps and the reveal schedule', () => {
  it('is linspace(1, 1e-3, steps + 1)', () => {
    const ts = timesteps(4);
    expect(ts.length).toBe(5);
    expect(ts[0]).toBe(1);
    expect(ts[4]).toBe(1e-3);
    expect(ts[2]).toBeCloseTo((1 + 1e-3) / 2, 12);
  });

  it('reveals int(masked × (1 − s/t)) per step and everything left at the last', () => {
    const ts = timesteps(4);
    expect(revealCount(64, 0, 4)).toBe(Math.floor(64 * (1 - (ts[1] as number) / (ts[0] as number))));
    // 64 × (1 − 0.75025) = 15.98: eps keeps the first steps just under an even share, as in Dream.
    expect(revealCount(64, 0, 4)).toBe(15);
    expect(revealCount(7, 3, 4)).toBe(7);
  });
});

describe('denoise', () => {
  for (const alg of ['origin', 'maskgit_plus', 'topk_margin', 'entropy'] as Algorithm[]) {
    it(`${alg}: per-step reveals sum to the masked count, one report per step, never re-masking`, async () => {
      const context = [0, 1, 2];
      const { result, reports } = await run({ alg, steps: 8, temperature: 0.7 }, masks(20, context), 7);

      expect(reports.map((r) => r.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
      expect(reports.every((r) => r.totalSteps === 8)).toBe(true);
      expect(reports.reduce((n, r) => n + r.revealed.length, 0)).toBe(20);
      expect(reports.at(-1)?.masked).toBe(0);
      for (let i = 0; i < reports.length; i += 1) {
        const now = reports[i] as (typeof reports)[number];
        const before = i === 0 ? [...masks(20, context)] : (reports[i - 1] as (typeof reports)[number]).canvas;
        expect(now.masked).toBe(now.canvas.filter((t) => t === MASK).length);
        for (let p = 0; p < before.length; p += 1) {
          // A revealed position keeps its token; only masks change, and only into non-mask tokens.
          if (before[p] !== MASK) expect(now.canvas[p]).toBe(before[p]);
          if (now.revealed.includes(p)) expect(now.canvas[p]).not.toBe(MASK);
        }
      }
      expect([...result.canvas.slice(0, 3)]).toEqual(context);
      expect(result).toMatchObject({ steps: 8, stopped: false });
    });
  }

  it('confidence algorithms follow the schedule exactly and reveal the most confident first', async () => {
    const { reports } = await run({ alg: 'maskgit_plus', steps: 4 }, masks(12));
    const counts: number[] = [];
    let left = 12;
    for (let i = 0; i < 4; i += 1) {
      const n = revealCount(left, i, 4);
      counts.push(n);
      left -= n;
    }
    expect(reports.map((r) => r.revealed.length)).toEqual(counts);
    // rankedModel is most confident at the highest positions.
    expect(counts[0]).toBeGreaterThan(0);
    expect(reports[0]?.revealed).toEqual(Array.from({ length: counts[0] as number }, (_, k) => 12 - (counts[0] as number) + k));
  });

  it('is deterministic at temperature 0 without any seed', async () => {
    const a = await run({ temperature: 0, alg: 'topk_margin', steps: 5 }, masks(10), 1);
    const b = await run({ temperature: 0, alg: 'topk_margin', steps: 5 }, masks(10), 999);
    expect(a.reports).toEqual(b.reports);
    expect([...a.result.canvas]).toEqual([0, 1, 2, 3, 4, 0, 1, 2, 3, 4]);
  });

  it('reproduces a sampled run from the same seed and differs with another', async () => {
    const noisy: Forward = (tokens) => new Float32Array(tokens.length * VOCAB).fill(0);
    const options = { temperature: 1, alg: 'origin' as const, steps: 6 };
    const a = await run(options, masks(30), 42, noisy);
    const b = await run(options, masks(30), 42, noisy);
    const c = await run(options, masks(30), 43, noisy);
    expect(a.reports).toEqual(b.reports);
    expect(a.reports).not.toEqual(c.reports);
  });

  it('stops at the step where onStep says so', async () => {
    let calls = 0;
    const result = await denoise({ canvas: masks(8), maskId: MASK, vocabSize: VOCAB }, { ...defaults, steps: 8 }, rankedModel, seededRandom(1), () => {
      calls += 1;
      return calls < 3;
    });
    expect(calls).toBe(3);
    expect(result).toMatchObject({ steps: 3, stopped: true });
  });

  it('changes only the masked positions of an infill canvas', async () => {
    const canvas = Int32Array.from([3, 3, MASK, MASK, MASK, 4, 4]);
    const { result } = await run({ alg: 'entropy', temperature: 0.9, steps: 2 }, canvas, 5);
    expect([result.canvas[0], result.canvas[1], result.canvas[5], result.canvas[6]]).toEqual([3, 3, 4, 4]);
    expect([...result.canvas].includes(MASK)).toBe(false);
  });
});

describe('sampleToken', () => {
  const probs = [0.5, 0.3, 0.15, 0.05, 0, 0];
  const opts: Pick<SamplerOptions, 'temperature' | 'topP' | 'topK' | 'alg'> = { temperature: 1, topP: 1, topK: null, alg: 'maskgit_plus' };

  const histogram = (options: Partial<SamplerOptions>, draws = 4000): number[] => {
    const random = seededRandom(11);
    const counts = new Array<number>(VOCAB).fill(0);
    for (let i = 0; i < draws; i += 1) {
      const token = sampleToken(logitsOf(probs), { ...opts, ...options }, random, MASK).token;
      counts[token] = (counts[token] ?? 0) + 1;
    }
    return counts;
  };

  it('takes the argmax at temperature 0, with the top probability as maskgit_plus confidence', () => {
    const draw = sampleToken(logitsOf(probs), { ...opts, temperature: 0 }, seededRandom(1), MASK);
    expect(draw.token).toBe(0);
    expect(draw.confidence).toBeCloseTo(0.5, 6);
  });

  it('gives top-1 minus top-2 for topk_margin and the negative entropy for entropy', () => {
    expect(sampleToken(logitsOf(probs), { ...opts, temperature: 0, alg: 'topk_margin' }, seededRandom(1), MASK).confidence).toBeCloseTo(0.2, 6);
    const negEntropy = probs.reduce((sum, p) => sum + p * Math.log(p + 1e-10), 0);
    expect(sampleToken(logitsOf(probs), { ...opts, temperature: 0, alg: 'entropy' }, seededRandom(1), MASK).confidence).toBeCloseTo(negEntropy, 5);
  });

  it('samples in proportion to the probabilities at temperature 1', () => {
    const counts = histogram({});
    expect(counts[0]! / 4000).toBeCloseTo(0.5, 1);
    expect(counts[1]! / 4000).toBeCloseTo(0.3, 1);
    expect(counts[4]).toBe(0);
  });

  it('top_k keeps only the k most likely tokens', () => {
    const counts = histogram({ topK: 2 });
    expect(counts[2]).toBe(0);
    expect(counts[3]).toBe(0);
    expect(counts[0]! / 4000).toBeCloseTo(0.5 / 0.8, 1);
  });

  it('top_p keeps the smallest set whose probability passes p, including the token that crosses it', () => {
    // 0.5 < 0.6, 0.5 + 0.3 = 0.8 > 0.6: tokens 0 and 1 stay.
    const counts = histogram({ topP: 0.6 });
    expect(counts[0]! + counts[1]!).toBe(4000);
    expect(counts[1]).toBeGreaterThan(0);
    // p below the top token's own probability keeps only the top token.
    expect(histogram({ topP: 0.4 })[0]).toBe(4000);
  });

  it('never samples the forbidden (mask) token, however likely', () => {
    const draw = sampleToken(logitsOf([0.01, 0.01, 0.01, 0.01, 0.01, 0.95]), { ...opts, temperature: 0 }, seededRandom(1), MASK);
    expect(draw.token).not.toBe(MASK);
  });
});

describe('choosePositions', () => {
  it('takes the most confident, leftmost first on ties', () => {
    expect(choosePositions([0.1, 0.9, 0.5, 0.9], 2, null, seededRandom(1))).toEqual([1, 3]);
    expect(choosePositions([0.1, 0.9, 0.5, 0.9], 2, 0, seededRandom(1))).toEqual([1, 3]);
  });

  it('with alg_temp samples positions without replacement from softmax(confidence / alg_temp)', () => {
    const confidences = [Math.log(0.7), Math.log(0.2), Math.log(0.1)];
    const random = seededRandom(3);
    const first = [0, 0, 0];
    for (let i = 0; i < 3000; i += 1) {
      const chosen = choosePositions(confidences, 2, 1, random);
      expect(new Set(chosen).size).toBe(2);
      const at = chosen[0] as number;
      first[at] = (first[at] ?? 0) + 1;
    }
    expect(first[0]! / 3000).toBeCloseTo(0.7, 1);
    expect(first[2]! / 3000).toBeCloseTo(0.1, 1);
    // A low alg_temp sharpens the choice towards the most confident.
    const sharp = choosePositions(confidences, 1, 0.01, seededRandom(3));
    expect(sharp).toEqual([0]);
  });
});

describe('drawIndex', () => {
  it('never picks a zero weight and says -1 when all are zero', () => {
    const random = seededRandom(9);
    for (let i = 0; i < 500; i += 1) expect(drawIndex([0, 1, 0, 3], random)).not.toBe(0);
    expect(drawIndex([0, 0], random)).toBe(-1);
  });
});

describe('seededRandom', () => {
  it('gives different streams for seeds that differ only above 32 bits', () => {
    const a = seededRandom(7);
    const b = seededRandom(7 + 2 ** 32);
    expect([a(), a(), a()]).not.toEqual([b(), b(), b()]);
    expect(seededRandom(2 ** 40)()).toBe(seededRandom(2 ** 40)());
  });
});
