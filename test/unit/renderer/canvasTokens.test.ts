import { describe, expect, it } from 'vitest';
import { REVEAL_BANDS, countMasks, diffCanvas, nextRevealSteps, revealBand, splitCanvas } from '../../../src/renderer/src/views/playground/canvasTokens';

describe('splitCanvas', () => {
  it('cuts a canvas into mask tokens, words and whitespace', () => {
    expect(splitCanvas('<|mask|> models<|mask|> every\n<|mdm_mask|>')).toEqual([
      { kind: 'mask', text: '<|mask|>' },
      { kind: 'space', text: ' ' },
      { kind: 'text', text: 'models' },
      { kind: 'mask', text: '<|mask|>' },
      { kind: 'space', text: ' ' },
      { kind: 'text', text: 'every' },
      { kind: 'space', text: '\n' },
      { kind: 'mask', text: '<|mdm_mask|>' },
    ]);
    expect(countMasks('a [MASK] b <|mask|><|mask|>')).toBe(3);
  });

  it('keeps the text exactly (joined units give the canvas back)', () => {
    const canvas = 'def add(a, b):\n    <|mask|><|mask|> a + b\n';
    expect(
      splitCanvas(canvas)
        .map((u) => u.text)
        .join(''),
    ).toBe(canvas);
  });
});

describe('diffCanvas', () => {
  it('marks the words revealed since the previous step, and only those', () => {
    const previous = '<|mask|> models<|mask|> every position<|mask|><|mask|> text';
    const current = '<|mask|> models refine every position of<|mask|> text';
    const fresh = diffCanvas(previous, current)
      .filter((u) => u.fresh)
      .map((u) => u.text);
    expect(fresh).toEqual(['refine', 'of']);
  });

  it('marks every word fresh on the first step and nothing when a step changes nothing', () => {
    expect(
      diffCanvas(null, 'a <|mask|> b')
        .filter((u) => u.fresh)
        .map((u) => u.text),
    ).toEqual(['a', 'b']);
    expect(diffCanvas('a b', 'a b').some((u) => u.fresh)).toBe(false);
  });

  it('handles whole drafts replacing each other (Mercury-style diffusing)', () => {
    const units = diffCanvas('The cat sat on teh mat', 'The cat sat on the mat.');
    expect(units.filter((u) => u.fresh).map((u) => u.text)).toEqual(['the', 'mat.']);
  });
});

describe('reveal steps (the canvas colours each position by when it appeared)', () => {
  it('carries each word back to the step that revealed it', () => {
    const steps = ['<|mask|> <|mask|> <|mask|>', 'def <|mask|> <|mask|>', 'def <|mask|> b', 'def a b'];
    let reveal: number[] | null = null;
    let units = diffCanvas(null, steps[0] as string);
    reveal = nextRevealSteps(null, units, 0);
    for (let i = 1; i < steps.length; i += 1) {
      units = diffCanvas(steps[i - 1] as string, steps[i] as string);
      reveal = nextRevealSteps(reveal, units, i);
    }
    const words = units.map((u, i) => [u.text, reveal?.[i]]).filter(([text]) => text !== ' ');
    expect(words).toEqual([
      ['def', 1],
      ['a', 3],
      ['b', 2],
    ]);
  });

  it('spreads reveal steps over the colour bands, early to late', () => {
    expect(revealBand(0, 64)).toBe(0);
    expect(revealBand(63, 64)).toBe(REVEAL_BANDS - 1);
    expect(revealBand(32, 64)).toBe(Math.floor(REVEAL_BANDS / 2));
    expect(revealBand(-1, 64)).toBe(REVEAL_BANDS - 1);
  });
});
