import { describe, expect, it } from 'vitest';
import { countMasks, diffCanvas, splitCanvas } from '../../../src/renderer/src/views/playground/canvasTokens';

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
