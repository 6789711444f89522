import { z } from 'zod';
import { DiffusionError } from '../../shared/errors';
import type { BackendFrame, BackendResult } from './diffusionBackend';
import { describeIssue } from './upstreamDiagnostics';
import { excerpt, malformedError, parseErrorBody, upstreamErrorType } from './upstreamErrors';

/*
 * The lenient reader of OpenAI-compatible streams: chat (`delta.content`), completions and FIM
 * (`text`), SGLang's dLLM mode (one chunk per 32-token block, `usage: null` on every chunk),
 * vLLM's DiffusionGemma (one chunk per denoised canvas, usage only when asked for, sometimes never),
 * Mercury's `diffusing: true` (each chunk a whole draft replacing the previous one). Only `choices`
 * items that carry text matter; every other field is optional and unknown ones are ignored.
 */

const optionalText = z.string().nullable().optional().catch(undefined);
const optionalCount = z.number().int().min(0).optional().catch(undefined);

/** One streamed chunk (or one non-stream answer) of chat, completions or FIM. */
const ChunkSchema = z.looseObject({
  model: z.string().optional().catch(undefined),
  id: z.string().optional().catch(undefined),
  choices: z
    .array(
      z.looseObject({
        delta: z.looseObject({ content: optionalText }).nullable().optional().catch(undefined),
        message: z.looseObject({ content: optionalText }).nullable().optional().catch(undefined),
        text: optionalText,
        finish_reason: optionalText,
      }),
    )
    .optional()
    .catch(undefined),
  usage: z.looseObject({ completion_tokens: optionalCount }).nullable().optional().catch(undefined),
  error: z.unknown().optional(),
});
type Chunk = z.infer<typeof ChunkSchema>;

/**
 * Validates a chunk; an `error` object inside a 200 stream (vLLM does this) becomes a typed error.
 * Only a chunk that is not an object at all fails, with the field named.
 */
export function parseChunk(json: unknown, url: string): Chunk {
  const parsed = ChunkSchema.safeParse(json);
  if (!parsed.success) throw malformedError(`an invalid chunk (${describeIssue(parsed.error, json)})`, url, JSON.stringify(json));
  const chunk = parsed.data;
  if (chunk.error !== undefined && chunk.error !== null) {
    const body = parseErrorBody(JSON.stringify({ error: chunk.error }));
    const reported = upstreamErrorType(body.type);
    const type = reported === 'backend' && body.code === 'model_not_found' ? 'model_unavailable' : reported;
    throw new DiffusionError(type, `backend at ${url} reported an error mid-stream: ${excerpt(body.message ?? JSON.stringify(chunk.error))}`);
  }
  return chunk;
}

/** The result of a non-streamed answer (`choices[0].message.content` or `.text`). */
export function readOpenAiAnswer(json: unknown, model: string, url: string): BackendResult {
  const chunk = parseChunk(json, url);
  const choice = chunk.choices?.[0];
  const text = choice?.message?.content ?? choice?.text ?? choice?.delta?.content;
  if (text === undefined || text === null) {
    const missing = choice === undefined ? '`choices[0]`' : '`choices[0].message.content` (or `choices[0].text`)';
    throw malformedError(`an answer without ${missing}`, url, JSON.stringify(json));
  }
  const tokenCount = chunk.usage?.completion_tokens;
  return { text, modelUsed: chunk.model ?? model, ...(tokenCount === undefined ? {} : { tokenCount }) };
}

/** Options of one OpenAI-compatible stream's reader. */
export interface OpenAiStreamReaderOptions {
  url: string;
  /** The model sent; replaced by the one the chunks name. */
  model: string;
  /** Mercury's `diffusing: true`: each chunk is a whole draft that replaces the previous one. */
  diffusing: boolean;
  /** Clock in milliseconds (default `performance.now`), injectable for tests. */
  now?: () => number;
  /** When the request was sent, on the same clock; default: when the reader was made. */
  sentAt?: number;
}

/**
 * Reads one OpenAI-compatible stream chunk by chunk: text becomes `delta` frames (or `step` frames
 * for Mercury drafts), the last `usage` gives the real token count, and every text-carrying chunk
 * is counted, so block-diffusion servers show their blocks (`chunks`, `timeToFirstChunk`).
 */
export class OpenAiStreamReader {
  private readonly url: string;
  private readonly diffusing: boolean;
  private readonly now: () => number;
  private readonly sentAt: number;
  private text = '';
  private modelUsed: string;
  private tokenCount: number | undefined;
  private chunks = 0;
  private firstChunkAt: number | null = null;
  private finished = false;
  private skipped: string | null = null;
  private upstreamRequestId: string | undefined;

  constructor(options: OpenAiStreamReaderOptions) {
    this.url = options.url;
    this.modelUsed = options.model;
    this.diffusing = options.diffusing;
    this.now = options.now ?? (() => performance.now());
    this.sentAt = options.sentAt ?? this.now();
  }

  /**
   * Reads one SSE event; `stop` at `[DONE]`, `idle` for a stray that is no progress. Throws only
   * an upstream `error` chunk's taxonomy error.
   */
  read(data: string, onFrame: (frame: BackendFrame) => void): 'continue' | 'stop' | 'idle' {
    const trimmed = data.trim();
    if (trimmed === '[DONE]') return 'stop';
    if (trimmed === '') return 'idle';
    let json: unknown;
    try {
      json = JSON.parse(trimmed);
    } catch {
      // A stray non-JSON event (a proxy's ping) is skipped; if the stream then ends cut, we say so.
      this.skipped = data;
      return 'idle';
    }
    if (typeof json !== 'object' || json === null || Array.isArray(json)) {
      this.skipped = data;
      return 'idle';
    }
    const chunk = parseChunk(json, this.url);
    if (chunk.model) this.modelUsed = chunk.model;
    if (chunk.id) this.upstreamRequestId ??= chunk.id;
    if (chunk.usage?.completion_tokens !== undefined) this.tokenCount = chunk.usage.completion_tokens;
    const choice = chunk.choices?.[0];
    if (choice === undefined) return 'continue';
    const piece = choice.delta?.content ?? choice.text ?? '';
    if (piece !== '') {
      this.chunks += 1;
      this.firstChunkAt ??= this.now();
      if (this.diffusing) {
        // Mercury sends the whole current draft each time; it replaces the previous one.
        this.text = piece;
        onFrame({ type: 'step', step: this.chunks, total_steps: null, text: piece, masked: null });
      } else {
        this.text += piece;
        onFrame({ type: 'delta', text: piece });
      }
    }
    if (choice.finish_reason) this.finished = true;
    return 'continue';
  }

  /** The result once the stream stopped (`[DONE]`) or ended; a stream cut before its end is a `backend` error. */
  finish(verdict: 'stopped' | 'ended'): BackendResult {
    // Without [DONE] only a finish_reason tells a complete answer from a cut one.
    if (verdict === 'ended' && !this.finished) {
      const what = this.skipped === null ? 'a stream that ended before [DONE]' : 'a stream that ended before [DONE] after a chunk that is not JSON';
      throw malformedError(what, this.url, this.skipped ?? undefined);
    }
    const sinceSent = this.firstChunkAt === null ? undefined : (this.firstChunkAt - this.sentAt) / 1000;
    return {
      text: this.text,
      modelUsed: this.modelUsed,
      ...(this.tokenCount === undefined ? {} : { tokenCount: this.tokenCount }),
      ...(this.diffusing && this.chunks > 0 ? { steps: this.chunks } : {}),
      ...(sinceSent === undefined ? {} : { timeToFirstStep: sinceSent, timeToFirstChunk: sinceSent }),
      chunks: this.chunks,
      ...(this.upstreamRequestId === undefined ? {} : { upstreamRequestId: this.upstreamRequestId.slice(0, 200) }),
    };
  }
}
