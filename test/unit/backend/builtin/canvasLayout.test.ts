import { describe, expect, it } from 'vitest';
import { answerOf, layOut } from '../../../../src/main/backend/builtin/canvasLayout';
import { Tokenizer } from '../../../../src/main/backend/builtin/tokenizer';
import { toGenerateRequest, toInfillRequest } from '../../../../src/shared/requests';
import { failureOf } from '../../../fixtures/backendHarness';

// A vocabulary in the contract's shape: characters, the two specials, then whitespace runs.
const vocab = ['\n', ' ', 'a', 'b', 'c', '(', ')', ':', '<|mask|>', '', '  ', '    '];
const tokenizer = new Tokenizer({
  vocab,
  mask_id: 8,
  pad_id: 9,
  tokenizer: { type: 'greedy-longest-match', unknown: ' ' },
  special_text: { mask: '<|mask|>', pad: '' },
});

describe('Tokenizer', () => {
  it('takes the longest entry at each position, never a special token, and maps unknown characters to the unknown text', () => {
    expect(tokenizer.encode('     a')).toEqual([11, 1, 2]);
    expect(tokenizer.encode('ab\nz')).toEqual([2, 3, 0, 1]);
    // The mask's text in the input is plain characters, not a mask.
    expect(tokenizer.encode('<|mask|>')).not.toContain(8);
    expect(tokenizer.encode('')).toEqual([]);
  });

  it('decodes masks as <|mask|> and the end token as its empty text', () => {
    expect(tokenizer.decode([2, 8, 9, 11])).toBe('a<|mask|>    ');
  });
});

describe('layOut', () => {
  it('puts the prompt before max_new_tokens masks', () => {
    const layout = layOut(toGenerateRequest({ prompt: 'ab', max_new_tokens: 3 }), tokenizer, 16);
    expect([...layout.tokens]).toEqual([2, 3, 8, 8, 8]);
    expect(layout).toMatchObject({ gapStart: 2, gapEnd: 5, truncation: null });
  });

  it('keeps the tail of a prompt that is too long and says so', () => {
    const layout = layOut(toGenerateRequest({ prompt: 'aaaabc', max_new_tokens: 4 }), tokenizer, 7);
    expect([...layout.tokens]).toEqual([2, 3, 4, 8, 8, 8, 8]);
    expect(layout.truncation).toMatch(/left-truncated to its last 3 of 6 tokens .* context of 7/);
  });

  it('lays an infill out as prefix tail, masks, suffix head, sharing the room', () => {
    const request = toInfillRequest({ prefix: 'aaaaaa', suffix: 'bbbbbb', max_new_tokens: 2 });
    const layout = layOut(request, tokenizer, 8);
    expect([...layout.tokens]).toEqual([2, 2, 2, 8, 8, 3, 3, 3]);
    expect(layout).toMatchObject({ gapStart: 3, gapEnd: 5 });
    expect(layout.truncation).toMatch(/prefix cut to its last 3 of 6 tokens, suffix cut to its first 3 of 6/);
    // A short suffix leaves its unused half to the prefix.
    expect([...layOut(toInfillRequest({ prefix: 'aaaaaa', suffix: 'b', max_new_tokens: 2 }), tokenizer, 8).tokens]).toEqual([2, 2, 2, 2, 2, 8, 8, 3]);
  });

  it('refuses max_new_tokens that leaves no room for context, naming the limit', async () => {
    const error = await failureOf(Promise.resolve().then(() => layOut(toGenerateRequest({ prompt: 'a', max_new_tokens: 8 }), tokenizer, 8)));
    expect(error.type).toBe('validation');
    expect(error.message).toContain('max_new_tokens: at most 7');
  });
});

describe('answerOf', () => {
  const layout = { tokens: new Int32Array(), gapStart: 1, gapEnd: 5, truncation: null };
  it('ends a generation at the first end token and counts the tokens before it', () => {
    expect(answerOf('generate', Int32Array.from([2, 3, 11, 9, 4, 0]), layout, tokenizer)).toEqual({ text: 'b    ', tokenCount: 2 });
  });

  it('keeps the whole gap of an infill, dropping end tokens', () => {
    expect(answerOf('infill', Int32Array.from([2, 3, 9, 4, 2, 0]), layout, tokenizer)).toEqual({ text: 'bca', tokenCount: 3 });
  });
});
