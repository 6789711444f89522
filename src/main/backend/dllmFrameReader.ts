import { z } from 'zod';
import { DiffusionError, type ErrorType } from '../../shared/errors';
import type { BackendFrame, BackendResult } from './diffusionBackend';
import { describeIssue } from './upstreamDiagnostics';
import { excerpt, malformedError, upstreamErrorType } from './upstreamErrors';

/*
 * The lenient reader of what a `dllm` backend sends: our own contract, the seed family's YipYap
 * stream (status without request id, incremental `step` text, `complete` without `token_count`,
 * `error_type`s of its own), Reynard's port (`{type: token|complete|error, data, timestamp,
 * metadata}` events) and whatever SSE framing they use. Only what is needed to relay is required
 * (`type`, `text` on `step`; a text for `complete`); everything else is optional and filled in,
 * unknown fields are kept, unknown frame types ignored. These schemas describe what we accept;
 * the frames we send are built from src/shared/frames.ts, never validated with these.
 */

/** A field that is used when it has the right shape and ignored otherwise. */
const optionalText = z.string().optional().catch(undefined);
const optionalCount = z.number().int().min(0).optional().catch(undefined);
const optionalSeconds = z.number().min(0).optional().catch(undefined);

const EnvelopeSchema = z.looseObject({ type: optionalText });
const StatusInSchema = z.looseObject({ message: optionalText, data: z.unknown().optional(), request_id: optionalText });
const StepInSchema = z.looseObject({ text: z.string(), step: optionalCount, total_steps: optionalCount, masked: optionalCount });
const DeltaInSchema = z.looseObject({ text: optionalText, data: optionalText, token: optionalText });
const MetadataSchema = z
  .looseObject({ tokens_generated: optionalCount, processing_time: optionalSeconds, model_id: optionalText, model: optionalText })
  .optional()
  .catch(undefined);
const UsageSchema = z.looseObject({ completion_tokens: optionalCount }).optional().catch(undefined);
const CompleteInSchema = z.looseObject({
  text: optionalText,
  data: optionalText,
  model_used: optionalText,
  model_id: optionalText,
  model: optionalText,
  token_count: optionalCount,
  tokens_generated: optionalCount,
  generation_time: optionalSeconds,
  processing_time: optionalSeconds,
  steps: optionalCount,
  metadata: MetadataSchema,
  usage: UsageSchema,
});
const ErrorInSchema = z.looseObject({
  error_type: optionalText,
  message: optionalText,
  data: z.unknown().optional(),
  error: z.unknown().optional(),
  detail: z.unknown().optional(),
  retryable: z.boolean().optional().catch(undefined),
});

/** The non-stream answers: ours `{text, model_id, …}`, YipYap's `{text, model_used, history, …}`, Reynard's `{success, generated_text|infilled_text, …}`. */
const AnswerInSchema = z.looseObject({
  success: z.boolean().optional().catch(undefined),
  text: optionalText,
  generated_text: optionalText,
  infilled_text: optionalText,
  model_id: optionalText,
  model_used: optionalText,
  model: optionalText,
  token_count: z.number().int().min(0).nullable().optional().catch(undefined),
  tokens_generated: optionalCount,
  generation_time: optionalSeconds,
  processing_time: optionalSeconds,
  steps: z.number().int().min(0).nullable().optional().catch(undefined),
  request_id: optionalText,
  usage: UsageSchema,
  error: z.unknown().optional(),
  message: optionalText,
  detail: z.unknown().optional(),
});

/** YipYap's error categories that are not ours (its `generation` is a failing backend, `backend`). */
const YIPYAP_ERROR_TYPES: Readonly<Record<string, ErrorType>> = { model_loading: 'model_unavailable', generation: 'backend' };

/** Messages that say the model cannot serve (Reynard: "Model dreamon not available", "Diffusion service is disabled"). */
const MODEL_UNAVAILABLE_MESSAGE = /\bmodel\b.*\bnot (available|loaded|found)\b|\bunknown model\b|\bno model\b|service is disabled/i;

/** Maps what an upstream error frame or answer says about itself onto our taxonomy. */
export function dllmErrorType(reported: string | undefined, message: string): ErrorType {
  if (reported !== undefined) {
    const mapped = YIPYAP_ERROR_TYPES[reported] ?? upstreamErrorType(reported);
    if (mapped !== 'backend' || reported === 'backend' || reported in YIPYAP_ERROR_TYPES) return mapped;
  }
  return MODEL_UNAVAILABLE_MESSAGE.test(message) ? 'model_unavailable' : 'backend';
}

/** The first string found among an error's message-bearing fields (`data` may be `{error: "…"}`). */
function messageOf(...candidates: unknown[]): string | undefined {
  for (const candidate of candidates) {
    if (typeof candidate === 'string' && candidate.trim() !== '') return candidate;
    if (typeof candidate === 'object' && candidate !== null) {
      const inner = candidate as Record<string, unknown>;
      const found = messageOf(inner.message, inner.error, inner.detail);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

function upstreamError(url: string, reported: string | undefined, message: string | undefined, retryable: boolean | undefined): DiffusionError {
  const said = message ?? '(no message)';
  const type = dllmErrorType(reported, said);
  return new DiffusionError(type, `backend at ${url} reported ${reported ?? 'an error'}: ${excerpt(said)}`, {
    details: { ...(reported === undefined ? {} : { upstream_error_type: reported }), ...(retryable === undefined ? {} : { upstream_retryable: retryable }) },
  });
}

/** One SSE payload as JSON values: a whole JSON document, or one per line when a server put several `data:` lines in one event. */
function payloadValues(data: string): unknown[] | null {
  const trimmed = data.trim();
  if (trimmed === '') return [];
  try {
    return [JSON.parse(trimmed) as unknown];
  } catch {
    const lines = trimmed.split('\n').filter((line) => line.trim() !== '');
    if (lines.length < 2) return null;
    const values: unknown[] = [];
    for (const line of lines) {
      try {
        values.push(JSON.parse(line) as unknown);
      } catch {
        return null;
      }
    }
    return values;
  }
}

/** Options of one stream's reader. */
export interface DllmStreamReaderOptions {
  /** The upstream URL, for messages. */
  url: string;
  /** The model recorded when the backend names none: the requested one, else the configured default. */
  fallbackModel: string;
  /** Clock in milliseconds (default `performance.now`), injectable for tests. */
  now?: () => number;
  /** When the request was sent, on the same clock; default: when the reader was made. */
  sentAt?: number;
  /** An upstream request id from the headers (`X-Request-Id`, `X-Correlation-ID`). */
  upstreamRequestId?: string;
}

/** What the caller does after one SSE event; `idle`: the event was no progress (ignored or skipped). */
export type DllmReadVerdict = 'continue' | 'stop' | 'idle';

/**
 * Reads one `dllm` stream event by event. `read` hands each frame worth relaying to `onFrame`
 * (in order), throws the taxonomy error of an upstream `error` frame, and says `stop` once the
 * answer is complete (or `[DONE]` arrived); `finish` returns the result, or throws a `backend`
 * error that names what was missing and shows a bounded excerpt of what arrived.
 */
export class DllmStreamReader {
  private readonly url: string;
  private readonly fallbackModel: string;
  private readonly now: () => number;
  private readonly sentAt: number;
  private upstreamRequestId: string | undefined;
  private result: BackendResult | null = null;
  private accumulated = '';
  private increments = 0;
  private stepFrames = 0;
  private lastStep = 0;
  private firstProgressAt: number | null = null;
  private skipped = 0;
  private lastSkipped: { why: string; sample: string } | null = null;

  constructor(options: DllmStreamReaderOptions) {
    this.url = options.url;
    this.fallbackModel = options.fallbackModel;
    this.now = options.now ?? (() => performance.now());
    this.sentAt = options.sentAt ?? this.now();
    this.upstreamRequestId = options.upstreamRequestId;
  }

  /** Reads one SSE event (`data` and its `event:` name). Never throws on frames it does not understand. */
  read(data: string, eventName: string | undefined, onFrame: (frame: BackendFrame) => void): DllmReadVerdict {
    if (this.result !== null) return 'stop';
    if (data.trim() === '[DONE]') return 'stop';
    if (data.trim() === '') return 'idle';
    const values = payloadValues(data);
    if (values === null) {
      // A named error event with a plain-text payload is still an error.
      if (eventName === 'error') throw upstreamError(this.url, undefined, data, undefined);
      this.skip('was not JSON', data);
      return 'idle';
    }
    let verdict: DllmReadVerdict = 'idle';
    for (const value of values) {
      const next = this.readValue(value, eventName, data, onFrame);
      if (next === 'stop') return 'stop';
      if (next === 'continue') verdict = 'continue';
    }
    return verdict;
  }

  /** The result of the stream, once it ended or stopped. */
  finish(): BackendResult {
    if (this.result !== null) return this.result;
    const skipped =
      this.lastSkipped === null
        ? ''
        : `; ${this.skipped} frame${this.skipped === 1 ? ' was' : 's were'} skipped, the last one ${this.lastSkipped.why}: ${excerpt(this.lastSkipped.sample)}`;
    throw new DiffusionError('backend', `backend at ${this.url} sent a stream that ended without a complete frame${skipped}`, {
      ...(this.lastSkipped === null ? {} : { details: { sample: excerpt(this.lastSkipped.sample), skipped_frames: this.skipped } }),
    });
  }

  private skip(why: string, sample: string): void {
    this.skipped += 1;
    this.lastSkipped = { why, sample };
  }

  private progress(): void {
    this.firstProgressAt ??= this.now();
  }

  private readValue(value: unknown, eventName: string | undefined, raw: string, onFrame: (frame: BackendFrame) => void): DllmReadVerdict {
    const envelope = EnvelopeSchema.safeParse(value);
    if (!envelope.success) {
      this.skip('was not a JSON object', raw);
      return 'idle';
    }
    // Some servers name the frame in the SSE `event:` line instead of the JSON.
    const type = envelope.data.type ?? (eventName === 'message' ? undefined : eventName);
    switch (type) {
      case 'status': {
        const status = StatusInSchema.parse(value);
        const { request_id: upstreamId, data, ...rest } = status;
        if (upstreamId !== undefined) this.upstreamRequestId ??= upstreamId;
        const message = status.message ?? (typeof data === 'string' ? data : '');
        // The backend's request id would pass for ours in our clients' eyes; it travels under its own name.
        onFrame({ ...rest, type: 'status', message, ...(upstreamId === undefined ? {} : { upstream_request_id: upstreamId }) });
        return 'continue';
      }
      case 'step': {
        const parsed = StepInSchema.safeParse(value);
        if (!parsed.success) {
          this.skip(`was a step frame whose ${describeIssue(parsed.error, value)}`, raw);
          return 'idle';
        }
        this.progress();
        this.stepFrames += 1;
        const step = parsed.data.step ?? this.stepFrames;
        this.lastStep = step;
        onFrame({ ...parsed.data, type: 'step', step, total_steps: parsed.data.total_steps ?? null, masked: parsed.data.masked ?? null });
        return 'continue';
      }
      case 'delta':
      case 'token': {
        const parsed = DeltaInSchema.parse(value);
        const text = parsed.text ?? parsed.data ?? parsed.token;
        if (text === undefined) {
          this.skip(`was a ${type} frame without \`text\` or \`data\``, raw);
          return 'idle';
        }
        this.progress();
        this.accumulated += text;
        this.increments += 1;
        // Reynard's token events become our delta frames; a delta of ours keeps its extra fields.
        onFrame(type === 'delta' ? { ...parsed, type: 'delta', text } : { type: 'delta', text });
        return 'continue';
      }
      case 'complete':
        this.complete(CompleteInSchema.parse(value), raw);
        return 'stop';
      case 'error': {
        const error = ErrorInSchema.parse(value);
        throw upstreamError(this.url, error.error_type, messageOf(error.message, error.data, error.error, error.detail), error.retryable);
      }
      default:
        // Heartbeats, `usage`, `metrics`, pings: not ours to relay, never fatal, and no progress.
        return 'idle';
    }
  }

  private complete(frame: z.infer<typeof CompleteInSchema>, raw: string): void {
    // Reynard's `complete` has `data: ""`; its text is the tokens that came before.
    const text = frame.text ?? (this.increments > 0 ? this.accumulated : frame.data);
    if (text === undefined) throw malformedError('a complete frame without `text` (or `data`)', this.url, raw);
    const steps = this.stepFrames > 0 ? Math.max(this.stepFrames, this.lastStep) : frame.steps;
    const tokenCount = frame.token_count ?? frame.metadata?.tokens_generated ?? frame.tokens_generated ?? frame.usage?.completion_tokens;
    const generationTime = frame.generation_time ?? frame.metadata?.processing_time ?? frame.processing_time;
    this.result = {
      text,
      modelUsed: frame.model_used ?? frame.model_id ?? frame.model ?? frame.metadata?.model_id ?? frame.metadata?.model ?? this.fallbackModel,
      ...(tokenCount === undefined ? {} : { tokenCount }),
      ...(generationTime === undefined ? {} : { generationTime }),
      ...(steps === undefined ? {} : { steps }),
      ...(this.firstProgressAt === null ? {} : { timeToFirstStep: (this.firstProgressAt - this.sentAt) / 1000 }),
      ...(this.upstreamRequestId === undefined ? {} : { upstreamRequestId: this.upstreamRequestId }),
    };
  }
}

/**
 * Reads a non-stream answer of a `dllm` backend (ours, YipYap's or Reynard's). A `success: false`
 * answer is the backend's error; an answer without any text field is a `backend` error that
 * names the field and shows at most 200 characters of what arrived.
 */
export function readDllmAnswer(json: unknown, options: { url: string; fallbackModel: string; upstreamRequestId?: string }): BackendResult {
  const parsed = AnswerInSchema.safeParse(json);
  if (!parsed.success) throw malformedError(`an answer that is ${describeIssue(parsed.error, json)}`, options.url, JSON.stringify(json));
  const answer = parsed.data;
  if (answer.success === false) {
    throw upstreamError(options.url, undefined, messageOf(answer.error, answer.message, answer.detail), undefined);
  }
  const text = answer.text ?? answer.generated_text ?? answer.infilled_text;
  if (text === undefined) throw malformedError('an answer without `text` (or `generated_text`, `infilled_text`)', options.url, JSON.stringify(json));
  // Reynard's `tokens_generated` defaults to 0; with text present, 0 means "not counted".
  const reynardCount = answer.tokens_generated === 0 && text.length > 0 ? undefined : answer.tokens_generated;
  const tokenCount = answer.token_count ?? reynardCount ?? answer.usage?.completion_tokens;
  const generationTime = answer.generation_time ?? answer.processing_time;
  const upstreamRequestId = answer.request_id ?? options.upstreamRequestId;
  return {
    text,
    modelUsed: answer.model_id ?? answer.model_used ?? answer.model ?? options.fallbackModel,
    ...(tokenCount == null ? {} : { tokenCount }),
    ...(generationTime === undefined ? {} : { generationTime }),
    ...(answer.steps == null ? {} : { steps: answer.steps }),
    ...(upstreamRequestId === undefined ? {} : { upstreamRequestId }),
  };
}
