import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { BackendFrame } from '../../../src/main/backend/diffusionBackend';
import { OpenAiStreamReader, readOpenAiAnswer } from '../../../src/main/backend/openaiChunkReader';
import { DiffusionError } from '../../../src/shared/errors';

const URL = 'http://127.0.0.1:30000/v1/chat/completions';
const chunk = (content: string | null, extra: Record<string, unknown> = {}): string =>
  JSON.stringify({
    id: 'c1',
    model: 'llada2',
    choices: [{ index: 0, delta: { role: null, content }, finish_reason: null, matched_stop: null }],
    usage: null,
    ...extra,
  });

function reader(diffusing = false, clock = { now: 0 }) {
  return { clock, reader: new OpenAiStreamReader({ url: URL, model: 'asked', diffusing, now: () => clock.now, sentAt: 0 }) };
}

describe('OpenAiStreamReader', () => {
  it('counts the text-carrying chunks of a block stream and times the first one', () => {
    const { clock, reader: r } = reader();
    const frames: BackendFrame[] = [];
    clock.now = 40;
    r.read(chunk(''), (f) => frames.push(f));
    clock.now = 250;
    r.read(chunk('block one '), (f) => frames.push(f));
    clock.now = 400;
    r.read(chunk('block two'), (f) => frames.push(f));
    r.read(JSON.stringify({ id: 'c1', choices: [{ index: 0, delta: { content: null }, finish_reason: 'stop' }] }), (f) => frames.push(f));
    r.read(JSON.stringify({ id: 'c1', choices: [], usage: { prompt_tokens: 3, completion_tokens: 64, total_tokens: 67 } }), (f) => frames.push(f));
    expect(r.read('[DONE]', (f) => frames.push(f))).toBe('stop');

    expect(frames).toEqual([
      { type: 'delta', text: 'block one ' },
      { type: 'delta', text: 'block two' },
    ]);
    expect(r.finish('stopped')).toEqual({
      text: 'block one block two',
      modelUsed: 'llada2',
      tokenCount: 64,
      chunks: 2,
      timeToFirstChunk: 0.25,
      timeToFirstStep: 0.25,
      upstreamRequestId: 'c1',
    });
  });

  it('relays Mercury drafts as steps that replace each other', () => {
    const { reader: r } = reader(true);
    const frames: BackendFrame[] = [];
    r.read(chunk('Dxffusion'), (f) => frames.push(f));
    r.read(chunk('Diffusion', {}), (f) => frames.push(f));
    r.read('[DONE]', (f) => frames.push(f));
    expect(frames.map((f) => f.type)).toEqual(['step', 'step']);
    expect(r.finish('stopped')).toMatchObject({ text: 'Diffusion', steps: 2, chunks: 2 });
  });

  it('skips a stray non-JSON event, and says so when the stream then ends cut', () => {
    const { reader: r } = reader();
    r.read('keep-alive', () => undefined);
    r.read(chunk('partial'), () => undefined);
    expect(() => r.finish('ended')).toThrow(/ended before \[DONE\] after a chunk that is not JSON: keep-alive/);
  });

  it('accepts a stream that ends after a finish_reason without [DONE], usage absent', () => {
    const { reader: r } = reader();
    r.read(JSON.stringify({ choices: [{ text: 'abc', finish_reason: 'length' }] }), () => undefined);
    const result = r.finish('ended');
    expect(result).toMatchObject({ text: 'abc', modelUsed: 'asked', chunks: 1 });
    expect(result).not.toHaveProperty('tokenCount');
  });

  it('turns an error object inside the stream into a typed error', () => {
    const { reader: r } = reader();
    let thrown: unknown;
    try {
      r.read(JSON.stringify({ error: { message: 'The model `x` does not exist.', type: 'invalid_request_error', code: 'model_not_found' } }), () => undefined);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(DiffusionError);
    expect((thrown as DiffusionError).type).toBe('model_unavailable');
  });
});

describe('readOpenAiAnswer', () => {
  it('reads a non-stream answer and names what is missing', () => {
    expect(readOpenAiAnswer({ model: 'm', choices: [{ message: { content: 'hi' } }], usage: { completion_tokens: 1 } }, 'asked', URL)).toEqual({
      text: 'hi',
      modelUsed: 'm',
      tokenCount: 1,
    });
    expect(() => readOpenAiAnswer({ choices: [] }, 'asked', URL)).toThrow(/answer without `choices\[0\]`/);
    expect(() => readOpenAiAnswer({ choices: [{ finish_reason: 'stop' }] }, 'asked', URL)).toThrow(
      /`choices\[0\]\.message\.content` \(or `choices\[0\]\.text`\)/,
    );
  });
});

describe('OpenAiStreamReader property', () => {
  type Part =
    { kind: 'text'; text: string; api: 'chat' | 'completions' } | { kind: 'empty' } | { kind: 'usage'; tokens: number } | { kind: 'stray'; data: string };
  const part: fc.Arbitrary<Part> = fc.oneof(
    fc.record({
      kind: fc.constant('text' as const),
      text: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }),
      api: fc.constantFrom('chat' as const, 'completions' as const),
    }),
    fc.constant({ kind: 'empty' as const }),
    fc.record({ kind: fc.constant('usage' as const), tokens: fc.nat(100_000) }),
    fc.constantFrom('ping', '', ' ', '42', '[]').map((data) => ({ kind: 'stray' as const, data })),
  );
  const wire = (p: Part): string => {
    switch (p.kind) {
      case 'text':
        return p.api === 'chat' ? chunk(p.text) : JSON.stringify({ choices: [{ index: 0, text: p.text, finish_reason: null }], usage: null });
      case 'empty':
        return chunk(null);
      case 'usage':
        return JSON.stringify({ choices: [], usage: { completion_tokens: p.tokens } });
      case 'stray':
        return p.data;
    }
  };

  it('never throws on chunks, strays and usage, relays the text in order and counts the chunks that carry it', () => {
    fc.assert(
      fc.property(fc.array(part, { maxLength: 30 }), (parts) => {
        const { reader: r } = reader();
        const frames: BackendFrame[] = [];
        for (const p of parts) r.read(wire(p), (f) => frames.push(f));
        r.read('[DONE]', (f) => frames.push(f));
        const texts = parts.flatMap((p) => (p.kind === 'text' ? [p.text] : []));
        const usage = parts.flatMap((p) => (p.kind === 'usage' ? [p.tokens] : [])).at(-1);
        expect(frames).toEqual(texts.map((text) => ({ type: 'delta', text })));
        const result = r.finish('stopped');
        expect(result.text).toBe(texts.join(''));
        expect(result.chunks).toBe(texts.length);
        expect(result.tokenCount).toBe(usage);
      }),
      { numRuns: 200 },
    );
  });
});
