import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { BackendFrame } from '../../../src/main/backend/diffusionBackend';
import { dllmErrorType, DllmStreamReader, readDllmAnswer } from '../../../src/main/backend/dllmFrameReader';
import { SseEventSplitter } from '../../../src/main/backend/sseStream';
import { DiffusionError } from '../../../src/shared/errors';
import { REYNARD_MODEL_NOT_AVAILABLE } from '../../fixtures/dialects/reynard';

const URL = 'http://127.0.0.1:8000/api/diffusion/generate/stream';

/** Splits `wire` into events and reads them like the backend does; returns the relayed frames and the result (or the thrown error). */
function readWire(pieces: string[], clock = { now: 0 }): { frames: BackendFrame[]; result: ReturnType<DllmStreamReader['finish']> | null; error: unknown } {
  const reader = new DllmStreamReader({ url: URL, fallbackModel: 'requested-model', now: () => clock.now, sentAt: 0 });
  const splitter = new SseEventSplitter();
  const frames: BackendFrame[] = [];
  try {
    let stopped = false;
    for (const piece of [...pieces, null]) {
      const events = piece === null ? splitter.end() : splitter.feed(piece);
      for (const event of events) {
        if (reader.read(event.data, event.event, (frame) => frames.push(frame)) === 'stop') {
          stopped = true;
          break;
        }
      }
      if (stopped) break;
    }
    return { frames, result: reader.finish(), error: null };
  } catch (error) {
    return { frames, result: null, error };
  }
}

describe('DllmStreamReader', () => {
  it('fills in what a seed-family complete frame leaves out: estimate source, model, timings', () => {
    const clock = { now: 0 };
    const { frames, result, error } = readWire(
      [
        'data: {"type":"status","message":"Starting text generation..."}\n\n',
        'data: {"type":"step","step":1,"text":"Once upon"}\n\n',
        'data: {"type":"complete","text":"Once upon a time","generation_time":0.02,"model_used":"llada"}\n\n',
      ],
      clock,
    );
    expect(error).toBeNull();
    expect(frames).toEqual([
      { type: 'status', message: 'Starting text generation...' },
      { type: 'step', step: 1, text: 'Once upon', total_steps: null, masked: null },
    ]);
    expect(result).toEqual({ text: 'Once upon a time', modelUsed: 'llada', generationTime: 0.02, steps: 1, timeToFirstStep: 0 });
    expect(result).not.toHaveProperty('tokenCount');
  });

  it('takes the model from the request when the complete frame names none, and keeps unknown fields', () => {
    const { frames, result } = readWire([
      'data: {"type":"step","text":"x","mystery":{"a":1}}\n\n',
      'data: {"type":"complete","text":"xy","token_count":2}\n\n',
    ]);
    expect(frames).toEqual([{ type: 'step', step: 1, text: 'x', total_steps: null, masked: null, mystery: { a: 1 } }]);
    expect(result).toMatchObject({ text: 'xy', modelUsed: 'requested-model', tokenCount: 2, steps: 1 });
    expect(result).not.toHaveProperty('generationTime');
  });

  it('turns Reynard token events into deltas and its complete metadata into a real count and time', () => {
    const event = (type: string, data: string, metadata: Record<string, unknown> = {}): string =>
      `data: ${JSON.stringify({ type, data, timestamp: 1764583200.5, metadata })}\r\n\r\n`;
    const { frames, result } = readWire([
      event('token', 'Once'),
      event('token', ' upon'),
      ': ping - 2025-12-01\r\n\r\n',
      event('complete', '', { tokens_generated: 2, processing_time: 0.3 }),
    ]);
    expect(frames).toEqual([
      { type: 'delta', text: 'Once' },
      { type: 'delta', text: ' upon' },
    ]);
    expect(result).toMatchObject({ text: 'Once upon', tokenCount: 2, generationTime: 0.3 });
  });

  it.each([
    [REYNARD_MODEL_NOT_AVAILABLE, 'model_unavailable', 'Model dreamon not available'],
    ['data: {"type":"error","data":"CUDA out of memory","timestamp":1}\n\n', 'backend', 'CUDA out of memory'],
    ['data: {"type":"error","error_type":"model_loading","message":"loading llada","retryable":true}\n\n', 'model_unavailable', 'loading llada'],
    ['data: {"type":"error","error_type":"generation","message":"sampler failed","retryable":false}\n\n', 'backend', 'sampler failed'],
    ['data: {"type":"error","error_type":"timeout","message":"too slow","retryable":true}\n\n', 'timeout', 'too slow'],
    ['event: error\ndata: upstream exploded\n\n', 'backend', 'upstream exploded'],
  ])('maps the error frame %j to %s', (wire, type, message) => {
    const { error } = readWire([wire]);
    expect(error).toBeInstanceOf(DiffusionError);
    expect((error as DiffusionError).type).toBe(type);
    expect((error as DiffusionError).message).toContain(message);
  });

  it('names the missing field and shows at most 200 characters of what arrived', () => {
    const secret = 'generated text '.repeat(100);
    const { error } = readWire([`data: ${JSON.stringify({ type: 'complete', generation_time: 1, note: secret })}\n\n`]);
    const message = (error as DiffusionError).message;
    expect(message).toContain('complete frame without `text`');
    const shown = message.slice(message.indexOf(': {') + 2);
    expect(shown.length).toBeLessThanOrEqual(201);
    expect(message).not.toContain(secret);
  });

  it('says which frame was skipped when a stream ends without its complete frame', () => {
    const { error } = readWire(['data: {"type":"step","step":1,\n\n']);
    expect((error as DiffusionError).type).toBe('backend');
    expect((error as DiffusionError).message).toMatch(/ended without a complete frame; 1 frame was skipped, the last one was not JSON: \{"type":"step"/);
  });

  it('reads frames through the framing quirks: BOM, CRLF, CR, event names, multi-line data, no last blank line', () => {
    const { frames, result } = readWire([
      '\uFEFFretry: 10\r\n: hi\r\n\r\n',
      'event: step\r\nid: 7\r\ndata: {"step":1,"text":"a"}\r\n\r\n',
      'data: {"type": "step",\ndata:  "step": 2, "text": "ab"}\r\r',
      'data: {"type":"heartbeat"}\ndata: {"type":"step","step":3,"text":"abc"}\n\n',
      'data: {"type":"complete","text":"abc","token_count":3}',
    ]);
    expect(frames.map((f) => (f.type === 'step' ? f.text : f.type))).toEqual(['a', 'ab', 'abc']);
    expect(result).toMatchObject({ text: 'abc', tokenCount: 3, steps: 3 });
  });
});

describe('SseEventSplitter', () => {
  it('reads bare JSON lines (NDJSON) as events, as Reynard’s documented client reads its streams', () => {
    const { frames, result } = readWire([
      '{"type":"token","data":"Once","timestamp":1}\n{"type":"tok',
      'en","data":" upon","timestamp":2}\n',
      '{"type":"complete","data":"","metadata":{"tokens_generated":2}}\n',
    ]);
    expect(frames).toEqual([
      { type: 'delta', text: 'Once' },
      { type: 'delta', text: ' upon' },
    ]);
    expect(result).toMatchObject({ text: 'Once upon', tokenCount: 2 });
  });

  it('ignores other lines that are no SSE field', () => {
    const splitter = new SseEventSplitter();
    expect([...splitter.feed('garbage line\nHTTP/1.1 nonsense: x\ndata: ok\n\n'), ...splitter.end()]).toEqual([{ data: 'ok', event: undefined }]);
  });
});

describe('readDllmAnswer', () => {
  const read = (json: unknown) => readDllmAnswer(json, { url: URL, fallbackModel: 'requested-model' });

  it('reads our answer, YipYap’s and Reynard’s', () => {
    expect(read({ text: 't', model_id: 'm', generation_time: 0.1, token_count: 3, steps: 8, request_id: 'r' })).toEqual({
      text: 't',
      modelUsed: 'm',
      generationTime: 0.1,
      tokenCount: 3,
      steps: 8,
      upstreamRequestId: 'r',
    });
    expect(read({ text: 'Once upon a time', history: ['Once'], generation_time: 0.02, model_used: 'llada' })).toEqual({
      text: 'Once upon a time',
      modelUsed: 'llada',
      generationTime: 0.02,
    });
    expect(read({ success: true, infilled_text: 'x', model_id: 'dreamon', processing_time: 0.3, tokens_generated: 1, metadata: {} })).toEqual({
      text: 'x',
      modelUsed: 'dreamon',
      generationTime: 0.3,
      tokenCount: 1,
    });
  });

  it('does not take Reynard’s default of 0 tokens for a count when text came back', () => {
    expect(read({ success: true, generated_text: 'four words of text', model_id: 'd', processing_time: 0, tokens_generated: 0 })).not.toHaveProperty(
      'tokenCount',
    );
  });

  it('turns success: false into the backend’s error and names the missing text field', () => {
    const failed = (() => {
      try {
        read({ success: false, error: 'Model llada not available' });
      } catch (error) {
        return error as DiffusionError;
      }
      return null;
    })();
    expect(failed?.type).toBe('model_unavailable');
    expect(() => read({ model_id: 'm' })).toThrow(/answer without `text` \(or `generated_text`, `infilled_text`\)/);
    expect(() => read(['not', 'an', 'object'])).toThrow(/answer that is an array where an object was expected/);
  });
});

describe('dllmErrorType', () => {
  it('keeps our taxonomy, maps YipYap’s extra categories and recognises unavailable models by message', () => {
    expect(dllmErrorType('network', 'x')).toBe('network');
    expect(dllmErrorType('model_loading', 'x')).toBe('model_unavailable');
    expect(dllmErrorType('generation', 'Model x not available')).toBe('backend');
    expect(dllmErrorType(undefined, 'Diffusion service is disabled')).toBe('model_unavailable');
    expect(dllmErrorType('internal', 'boom')).toBe('backend');
  });
});

/*
 * Property: whatever mixture of valid frames, unknown frames and framing quirks arrives, in any
 * chunking, the reader never throws and relays exactly the valid frames, in order.
 */
type Item =
  { kind: 'valid'; json: Record<string, unknown>; relayed: BackendFrame; typeInEventName: boolean } | { kind: 'noise'; payload: string; event?: string };

const text = fc.string({ unit: 'grapheme', maxLength: 12 });
const validItem: fc.Arbitrary<Item> = fc.oneof(
  fc.record({ message: text, upstream: fc.option(fc.string({ minLength: 1, maxLength: 8 }), { nil: undefined }) }).map(({ message, upstream }) => ({
    kind: 'valid' as const,
    json: { type: 'status', message, ...(upstream === undefined ? {} : { request_id: upstream }) },
    relayed: { type: 'status', message, ...(upstream === undefined ? {} : { upstream_request_id: upstream }) } as BackendFrame,
    typeInEventName: false,
  })),
  fc
    .record({
      step: fc.nat(4096),
      text,
      total: fc.option(fc.nat(4096), { nil: undefined }),
      masked: fc.option(fc.nat(512), { nil: undefined }),
      extra: fc.boolean(),
      inName: fc.boolean(),
    })
    .map(({ step, text: t, total, masked, extra, inName }) => {
      const json: Record<string, unknown> = {
        type: 'step',
        step,
        text: t,
        ...(total === undefined ? {} : { total_steps: total }),
        ...(masked === undefined ? {} : { masked }),
        ...(extra ? { confidence: [0.5] } : {}),
      };
      const relayed = { ...json, total_steps: total ?? null, masked: masked ?? null } as BackendFrame;
      if (inName) delete json.type;
      return { kind: 'valid' as const, json, relayed, typeInEventName: inName };
    }),
  text.map((t) => ({ kind: 'valid' as const, json: { type: 'delta', text: t }, relayed: { type: 'delta', text: t } as BackendFrame, typeInEventName: false })),
);
const noiseItem: fc.Arbitrary<Item> = fc.oneof(
  fc.constantFrom('heartbeat', 'usage', 'metrics', 'ping', 'progress').map((type) => ({ kind: 'noise' as const, payload: JSON.stringify({ type, value: 1 }) })),
  fc.constant({ kind: 'noise' as const, payload: '{}', event: 'ping' }),
  fc.constantFrom('42', '[1,2]', 'null', '"str"', 'true').map((payload) => ({ kind: 'noise' as const, payload })),
  // Not JSON at all; line breaks are framing, so they are not part of a payload.
  fc
    .string({ minLength: 1, maxLength: 20 })
    .filter((s) => !/[\r\n]/.test(s) && s.trim() !== '[DONE]' && s.trim() !== '' && !isJson(s))
    .map((payload) => ({ kind: 'noise' as const, payload })),
  fc.constant({ kind: 'noise' as const, payload: '{"type":"step","step":1' }),
  fc.constant({ kind: 'noise' as const, payload: '{"type":"step","step":1}' }),
);

function isJson(s: string): boolean {
  try {
    JSON.parse(s);
    return true;
  } catch {
    return false;
  }
}

interface Framing {
  eol: '\n' | '\r\n' | '\r';
  comment: boolean;
  idLine: boolean;
  retryLine: boolean;
  pretty: boolean;
}
const framing: fc.Arbitrary<Framing> = fc.record({
  eol: fc.constantFrom('\n' as const, '\r\n' as const, '\r' as const),
  comment: fc.boolean(),
  idLine: fc.boolean(),
  retryLine: fc.boolean(),
  pretty: fc.boolean(),
});

function serialise(payload: string, event: string | undefined, f: Framing, last: boolean, blankAtEnd: boolean): string {
  const lines: string[] = [];
  if (f.comment) lines.push(': keep-alive');
  if (f.retryLine) lines.push('retry: 2500');
  if (f.idLine) lines.push('id: 17');
  if (event !== undefined) lines.push(`event: ${event}`);
  for (const line of payload.split('\n')) lines.push(`data: ${line}`);
  const body = lines.join(f.eol) + f.eol;
  return last && !blankAtEnd ? body : body + f.eol;
}

describe('DllmStreamReader property', () => {
  it('never throws on valid frames, unknown frames and framing quirks, and relays the valid ones in order', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.oneof(validItem, noiseItem), framing), { maxLength: 25 }),
        fc.record({ text, tokenCount: fc.option(fc.nat(10_000), { nil: undefined }) }),
        framing,
        fc.record({ bom: fc.boolean(), blankAtEnd: fc.boolean(), doneMarker: fc.boolean() }),
        fc.array(fc.nat(), { maxLength: 12 }),
        (items, complete, completeFraming, ends, cuts) => {
          let wire = ends.bom ? '\uFEFF' : '';
          for (const [item, f] of items) {
            if (item.kind === 'valid') {
              const json = f.pretty ? JSON.stringify(item.json, null, 1) : JSON.stringify(item.json);
              wire += serialise(json, item.typeInEventName ? 'step' : undefined, f, false, true);
            } else {
              wire += serialise(item.payload, item.event, f, false, true);
            }
          }
          const completeJson = JSON.stringify({
            type: 'complete',
            text: complete.text,
            ...(complete.tokenCount === undefined ? {} : { token_count: complete.tokenCount }),
          });
          wire += serialise(completeJson, undefined, completeFraming, !ends.doneMarker, ends.blankAtEnd);
          if (ends.doneMarker) wire += serialise('[DONE]', undefined, completeFraming, true, ends.blankAtEnd);
          const points = [...new Set(cuts.map((c) => c % (wire.length + 1)))].sort((a, b) => a - b);
          const pieces: string[] = [];
          let from = 0;
          for (const point of points) {
            pieces.push(wire.slice(from, point));
            from = point;
          }
          pieces.push(wire.slice(from));

          const { frames, result, error } = readWire(pieces);

          expect(error).toBeNull();
          expect(frames).toEqual(items.flatMap(([item]) => (item.kind === 'valid' ? [item.relayed] : [])));
          expect(result?.text).toBe(complete.text);
          expect(result?.tokenCount).toBe(complete.tokenCount);
        },
      ),
      { numRuns: 300 },
    );
  });
});
