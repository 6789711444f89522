import type { ALGORITHMS } from '../../../shared/requests';
import { drawIndex, type Random } from './random';

/**
 * The masked-diffusion sampler of Dream's `diffusion_generate` (DreamGenerationMixin._sample in
 * Dream-org/Dream, `generation_utils.py`), in TypeScript: pure, with the model and the randomness
 * injected. Differences from Dream, on purpose: no logit shift (our model is trained bidirectional
 * from scratch, not adapted from an autoregressive one), and the mask token is never sampled, so a
 * revealed position can never read as masked again.
 */

export type Algorithm = (typeof ALGORITHMS)[number];

/** Dream's `eps`: the last timestep, so that s/t never divides by zero. */
export const EPS = 1e-3;

export interface SamplerOptions {
  steps: number;
  /** 0 = argmax (greedy). */
  temperature: number;
  /** Nucleus filtering; 1 (or more) keeps every token. */
  topP: number;
  /** Keep the k most likely tokens; null or 0 keeps every token. */
  topK: number | null;
  alg: Algorithm;
  /** Confidence algorithms: 0 or null reveals the most confident; above 0 samples positions from softmax(confidence / alg_temp). */
  algTemp: number | null;
}

/** `linspace(1, eps, steps + 1)`, as `torch.linspace` computes it. */
export function timesteps(steps: number): Float64Array {
  const out = new Float64Array(steps + 1);
  const stride = (EPS - 1) / steps;
  for (let i = 0; i <= steps; i += 1) out[i] = 1 + stride * i;
  out[steps] = EPS;
  return out;
}

/** Positions a confidence algorithm reveals at step `i` (of `steps`) with `masked` still masked. */
export function revealCount(masked: number, i: number, steps: number, ts: Float64Array = timesteps(steps)): number {
  if (i >= steps - 1) return masked;
  const t = ts[i] as number;
  const s = ts[i + 1] as number;
  return Math.floor(masked * (1 - s / t));
}

/** The chance that `origin` reveals a masked position at step `i`. */
export function revealProbability(i: number, steps: number, ts: Float64Array = timesteps(steps)): number {
  if (i >= steps - 1) return 1;
  return 1 - (ts[i + 1] as number) / (ts[i] as number);
}

/** One position's draw: the token and the confidence the algorithms rank positions by. */
export interface TokenDraw {
  token: number;
  confidence: number;
}

/**
 * Dream's `sample_tokens` for one position: temperature, then top-p, then top-k on the logits;
 * softmax; a draw (argmax at temperature 0). Confidence: the drawn token's probability
 * (`maskgit_plus`, `origin`), top-1 minus top-2 (`topk_margin`), or the negative entropy
 * (`entropy`). `scratch` must hold at least `logits.length` numbers.
 */
export function sampleToken(
  logits: Float32Array,
  options: Pick<SamplerOptions, 'temperature' | 'topP' | 'topK' | 'alg'>,
  random: Random,
  forbidden: number,
  scratch: Float64Array = new Float64Array(logits.length),
): TokenDraw {
  const n = logits.length;
  const scaled = scratch;
  const divisor = options.temperature > 0 ? options.temperature : 1;
  for (let v = 0; v < n; v += 1) scaled[v] = v === forbidden ? -Infinity : (logits[v] as number) / divisor;

  if (options.topP < 1) filterTopP(scaled, n, options.topP);
  if (options.topK !== null && options.topK > 0 && options.topK < n) filterTopK(scaled, n, options.topK);

  // Softmax in place.
  let max = -Infinity;
  for (let v = 0; v < n; v += 1) if ((scaled[v] as number) > max) max = scaled[v] as number;
  let sum = 0;
  for (let v = 0; v < n; v += 1) {
    const e = Number.isFinite(scaled[v] as number) ? Math.exp((scaled[v] as number) - max) : 0;
    scaled[v] = e;
    sum += e;
  }
  let best = 0;
  let second = 0;
  let argmax = -1;
  for (let v = 0; v < n; v += 1) {
    const p = (scaled[v] as number) / sum;
    scaled[v] = p;
    if (p > best || argmax === -1) {
      second = best;
      best = p;
      argmax = v;
    } else if (p > second) {
      second = p;
    }
  }
  let token = argmax;
  if (options.temperature > 0) {
    const drawn = drawIndex(scaled.subarray(0, n), random);
    if (drawn >= 0) token = drawn;
  }
  let confidence: number;
  switch (options.alg) {
    case 'topk_margin':
      confidence = best - second;
      break;
    case 'entropy': {
      let negEntropy = 0;
      for (let v = 0; v < n; v += 1) {
        const p = scaled[v] as number;
        negEntropy += p * Math.log(p + 1e-10);
      }
      confidence = negEntropy;
      break;
    }
    default:
      confidence = scaled[token] as number;
  }
  return { token, confidence };
}

/** Dream's `top_p_logits`: drop tokens once the sorted cumulative probability passes `topP`, keeping the first that crosses it. */
function filterTopP(logits: Float64Array, n: number, topP: number): void {
  const order = sortedDescending(logits, n);
  let max = -Infinity;
  for (let v = 0; v < n; v += 1) if ((logits[v] as number) > max) max = logits[v] as number;
  let sum = 0;
  for (let v = 0; v < n; v += 1) sum += Number.isFinite(logits[v] as number) ? Math.exp((logits[v] as number) - max) : 0;
  let cumulative = 0;
  let removeFromHere = false;
  for (const v of order) {
    if (removeFromHere) {
      logits[v] = -Infinity;
      continue;
    }
    const value = logits[v] as number;
    cumulative += Number.isFinite(value) ? Math.exp(value - max) / sum : 0;
    // The token that crosses the threshold is kept; everything after it goes.
    if (cumulative > topP) removeFromHere = true;
  }
}

/** Dream's `top_k_logits`: drop tokens below the k-th largest logit (ties with it stay). */
function filterTopK(logits: Float64Array, n: number, k: number): void {
  const order = sortedDescending(logits, n);
  const threshold = logits[order[k - 1] as number] as number;
  for (let v = 0; v < n; v += 1) if ((logits[v] as number) < threshold) logits[v] = -Infinity;
}

function sortedDescending(values: Float64Array, n: number): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  order.sort((a, b) => (values[b] as number) - (values[a] as number) || a - b);
  return order;
}

/**
 * Which of the candidate positions to reveal: the `count` most confident (ties: leftmost first),
 * or, with `algTemp` > 0, `count` drawn without replacement from softmax(confidence / algTemp)
 * (Dream's `torch.multinomial(..., num_samples)`).
 */
export function choosePositions(confidences: ArrayLike<number>, count: number, algTemp: number | null, random: Random): number[] {
  const n = confidences.length;
  if (count <= 0) return [];
  if (count >= n) return Array.from({ length: n }, (_, i) => i);
  if (algTemp === null || algTemp <= 0) {
    const order = Array.from({ length: n }, (_, i) => i);
    order.sort((a, b) => (confidences[b] as number) - (confidences[a] as number) || a - b);
    return order.slice(0, count);
  }
  let max = -Infinity;
  for (let i = 0; i < n; i += 1) max = Math.max(max, (confidences[i] as number) / algTemp);
  const weights = new Float64Array(n);
  for (let i = 0; i < n; i += 1) weights[i] = Math.exp((confidences[i] as number) / algTemp - max);
  const chosen: number[] = [];
  for (let k = 0; k < count; k += 1) {
    let index = drawIndex(weights, random);
    // Every remaining weight underflowed to 0: take the leftmost not yet chosen.
    if (index < 0) index = weights.findIndex((_, i) => !chosen.includes(i));
    chosen.push(index);
    weights[index] = 0;
  }
  return chosen;
}

/** The model: logits `[tokens.length × vocab]` for a canvas. */
export type Forward = (tokens: Int32Array) => Promise<Float32Array> | Float32Array;

export interface DenoiseInput {
  /** The canvas: context tokens and `maskId` at every position to generate. Updated in place. */
  canvas: Int32Array;
  maskId: number;
  vocabSize: number;
}

export interface StepReport {
  /** 1-based. */
  step: number;
  totalSteps: number;
  canvas: Int32Array;
  /** Positions still masked after this step. */
  masked: number;
  /** Positions revealed at this step. */
  revealed: number[];
}

/**
 * Runs the denoising loop: `steps` forward passes, each revealing some masked positions
 * (never re-masking one, never touching a context position). `onStep` is called after every
 * step; returning `false` stops the loop (the client left, the timeout fired) and the result
 * says so.
 */
export async function denoise(
  input: DenoiseInput,
  options: SamplerOptions,
  forward: Forward,
  random: Random,
  onStep: (report: StepReport) => boolean | void,
): Promise<{ canvas: Int32Array; steps: number; stopped: boolean }> {
  const { canvas, maskId, vocabSize } = input;
  const steps = options.steps;
  const ts = timesteps(steps);
  const scratch = new Float64Array(vocabSize);
  for (let i = 0; i < steps; i += 1) {
    const masked: number[] = [];
    for (let p = 0; p < canvas.length; p += 1) if (canvas[p] === maskId) masked.push(p);
    let revealed: number[] = [];
    if (masked.length > 0) {
      const logits = await forward(canvas);
      if (logits.length < canvas.length * vocabSize)
        throw new Error(`the model gave ${logits.length} logits for ${canvas.length} positions × ${vocabSize} tokens`);
      const row = (p: number): Float32Array => logits.subarray(p * vocabSize, (p + 1) * vocabSize);
      if (options.alg === 'origin') {
        const chance = revealProbability(i, steps, ts);
        for (const p of masked) {
          if (random() < chance) {
            canvas[p] = sampleToken(row(p), options, random, maskId, scratch).token;
            revealed.push(p);
          }
        }
      } else {
        const draws = masked.map((p) => sampleToken(row(p), options, random, maskId, scratch));
        const chosen = choosePositions(
          draws.map((d) => d.confidence),
          revealCount(masked.length, i, steps, ts),
          options.algTemp,
          random,
        );
        revealed = chosen.map((k) => masked[k] as number).sort((a, b) => a - b);
        for (const k of chosen) canvas[masked[k] as number] = (draws[k] as TokenDraw).token;
      }
    }
    const keepGoing = onStep({ step: i + 1, totalSteps: steps, canvas, masked: masked.length - revealed.length, revealed });
    if (keepGoing === false) return { canvas, steps: i + 1, stopped: i + 1 < steps };
  }
  return { canvas, steps, stopped: false };
}
