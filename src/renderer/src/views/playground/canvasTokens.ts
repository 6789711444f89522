/**
 * The diffusion canvas as the playground draws it: a step's text cut into units (mask tokens,
 * words, whitespace), each marked masked, settled, or newly revealed since the previous step.
 * Pure functions, unit-tested under Node.
 */

/** Mask tokens of the common diffusion LMs (Dream/DiffuCoder: `<|mask|>`, LLaDA: `<|mdm_mask|>`). */
export const MASK_PATTERN = /<\|mask\|>|<\|mdm_mask\|>|\[MASK\]/g;

export type UnitKind = 'mask' | 'text' | 'space';

export interface CanvasUnit {
  kind: UnitKind;
  text: string;
  /** Revealed at this step (it was not in the previous step's canvas at this place). */
  fresh: boolean;
  /** The index of the same unit in the previous step's canvas, -1 when it is new here. */
  from: number;
}

/** Cuts a canvas into mask tokens, runs of whitespace and words. */
export function splitCanvas(canvas: string): Array<{ kind: UnitKind; text: string }> {
  const units: Array<{ kind: UnitKind; text: string }> = [];
  let last = 0;
  const pushText = (text: string): void => {
    for (const part of text.match(/\s+|[^\s]+/g) ?? []) units.push({ kind: /^\s+$/.test(part) ? 'space' : 'text', text: part });
  };
  for (const match of canvas.matchAll(MASK_PATTERN)) {
    const at = match.index;
    if (at > last) pushText(canvas.slice(last, at));
    units.push({ kind: 'mask', text: match[0] });
    last = at + match[0].length;
  }
  if (last < canvas.length) pushText(canvas.slice(last));
  return units;
}

export function countMasks(canvas: string): number {
  return canvas.match(MASK_PATTERN)?.length ?? 0;
}

/**
 * Marks the units of `current` that are new compared with `previous`: those not part of the
 * longest common subsequence of the two unit lists. Canvases are a few hundred units long, so
 * the quadratic table is cheap; longer ones fall back to a positional comparison.
 */
export function diffCanvas(previous: string | null, current: string): CanvasUnit[] {
  const now = splitCanvas(current);
  if (previous === null) return now.map((u) => ({ ...u, fresh: u.kind === 'text', from: -1 }));
  const before = splitCanvas(previous);
  const n = before.length;
  const m = now.length;
  if (n * m > 4_000_000) {
    return now.map((u, i) => {
      const same = before[i]?.text === u.text;
      return { ...u, fresh: u.kind === 'text' && !same, from: same ? i : -1 };
    });
  }
  // lcs[i][j]: LCS length of before[i..] and now[j..], flattened.
  const width = m + 1;
  const lcs = new Uint16Array((n + 1) * width);
  for (let i = n - 1; i >= 0; i -= 1) {
    for (let j = m - 1; j >= 0; j -= 1) {
      lcs[i * width + j] =
        (before[i] as { text: string }).text === (now[j] as { text: string }).text
          ? (lcs[(i + 1) * width + j + 1] as number) + 1
          : Math.max(lcs[(i + 1) * width + j] as number, lcs[i * width + j + 1] as number);
    }
  }
  const kept = new Array<number>(m).fill(-1);
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if ((before[i] as { text: string }).text === (now[j] as { text: string }).text) {
      kept[j] = i;
      i += 1;
      j += 1;
    } else if ((lcs[(i + 1) * width + j] as number) >= (lcs[i * width + j + 1] as number)) {
      i += 1;
    } else {
      j += 1;
    }
  }
  return now.map((u, index) => ({ ...u, fresh: u.kind === 'text' && kept[index] === -1, from: kept[index] ?? -1 }));
}

/**
 * For each unit of a step's canvas, the index of the step that revealed it (-1 for masks and
 * whitespace), carried over from the previous step's units through `diffCanvas`'s mapping.
 */
export function nextRevealSteps(previousReveal: readonly number[] | null, units: readonly CanvasUnit[], stepIndex: number): number[] {
  return units.map((unit) => {
    if (unit.kind !== 'text') return -1;
    if (unit.from >= 0 && previousReveal !== null) {
      const carried = previousReveal[unit.from] ?? -1;
      if (carried >= 0) return carried;
    }
    return stepIndex;
  });
}

/** Colour bands of the canvas: a position's band says how early in the run it was revealed. */
export const REVEAL_BANDS = 6;

/** The band (0 = earliest, `REVEAL_BANDS - 1` = latest) of a reveal step in a run of `total` steps. */
export function revealBand(stepIndex: number, total: number): number {
  if (stepIndex < 0 || total <= 1) return REVEAL_BANDS - 1;
  return Math.min(REVEAL_BANDS - 1, Math.floor((stepIndex / (total - 1)) * REVEAL_BANDS));
}
