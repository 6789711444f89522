import { DiffusionError } from '../../../shared/errors';
import type { DiffusionRequest } from '../../../shared/requests';
import type { Tokenizer } from './tokenizer';

/**
 * Where a request's text goes on the model's fixed-size canvas. Generate: the prompt (its tail
 * when it is too long) followed by `max_new_tokens` masks. Infill (DreamOn's layout): the
 * prefix's tail, the masks, the suffix's head. Only the masks are ever changed.
 */
export interface CanvasLayout {
  /** The initial canvas: context ids and the mask id in the gap. */
  tokens: Int32Array;
  /** The gap the model fills: positions `[gapStart, gapEnd)`. */
  gapStart: number;
  gapEnd: number;
  /** What was cut to fit, in words, for the `status` frame; null when everything fitted. */
  truncation: string | null;
}

/** The largest `max_new_tokens` a model of this context length accepts: at least one context position stays. */
export function maxNewTokensFor(contextLength: number): number {
  return contextLength - 1;
}

/** Refuses, as a 400 naming the limit, a request that cannot fit on the canvas. */
export function checkFits(request: DiffusionRequest, contextLength: number): void {
  const limit = maxNewTokensFor(contextLength);
  if (request.max_new_tokens > limit) {
    throw new DiffusionError(
      'validation',
      `max_new_tokens: at most ${limit} with the built-in model (context length ${contextLength} positions, at least one kept for the ${request.kind === 'generate' ? 'prompt' : 'prefix or suffix'})`,
      { details: [{ field: 'max_new_tokens', message: `must be at most ${limit}`, limit }] },
    );
  }
}

export function layOut(request: DiffusionRequest, tokenizer: Tokenizer, contextLength: number): CanvasLayout {
  checkFits(request, contextLength);
  const gap = request.max_new_tokens;
  const room = contextLength - gap;
  if (request.kind === 'generate') {
    const prompt = tokenizer.encode(request.prompt);
    const kept = prompt.slice(Math.max(0, prompt.length - room));
    const tokens = Int32Array.from([...kept, ...new Array<number>(gap).fill(tokenizer.maskId)]);
    const truncation =
      kept.length < prompt.length
        ? `prompt left-truncated to its last ${kept.length} of ${prompt.length} tokens to fit the built-in model's context of ${contextLength}`
        : null;
    return { tokens, gapStart: kept.length, gapEnd: kept.length + gap, truncation };
  }
  const prefix = tokenizer.encode(request.prefix);
  const suffix = tokenizer.encode(request.suffix);
  // Each side gets up to half the room; a side that needs less leaves the rest to the other.
  const suffixRoom = Math.min(suffix.length, Math.max(Math.floor(room / 2), room - prefix.length));
  const prefixRoom = Math.min(prefix.length, room - suffixRoom);
  const keptPrefix = prefix.slice(prefix.length - prefixRoom);
  const keptSuffix = suffix.slice(0, suffixRoom);
  const tokens = Int32Array.from([...keptPrefix, ...new Array<number>(gap).fill(tokenizer.maskId), ...keptSuffix]);
  const cuts: string[] = [];
  if (keptPrefix.length < prefix.length) cuts.push(`prefix cut to its last ${keptPrefix.length} of ${prefix.length} tokens`);
  if (keptSuffix.length < suffix.length) cuts.push(`suffix cut to its first ${keptSuffix.length} of ${suffix.length} tokens`);
  return {
    tokens,
    gapStart: keptPrefix.length,
    gapEnd: keptPrefix.length + gap,
    truncation: cuts.length > 0 ? `${cuts.join(', ')} to fit the built-in model's context of ${contextLength}` : null,
  };
}

/**
 * The answer in a finished canvas: for generate, the gap up to the first end (pad) token; for
 * infill, the whole gap with end tokens dropped. `tokenCount` counts the model tokens in it.
 */
export function answerOf(kind: DiffusionRequest['kind'], canvas: Int32Array, layout: CanvasLayout, tokenizer: Tokenizer): { text: string; tokenCount: number } {
  const ids: number[] = [];
  for (let p = layout.gapStart; p < layout.gapEnd; p += 1) {
    const id = canvas[p] as number;
    if (id === tokenizer.padId) {
      if (kind === 'generate') break;
      continue;
    }
    ids.push(id);
  }
  return { text: tokenizer.decode(ids), tokenCount: ids.length };
}
