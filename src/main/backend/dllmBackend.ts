import { z } from 'zod';
import { DiffusionError } from '../../shared/errors';
import { StreamFrameSchema, type StreamFrame } from '../../shared/frames';
import type { DiffusionRequest } from '../../shared/requests';
import type { BackendHealth, BackendResult, DiffusionBackend, RunOptions } from './diffusionBackend';
import { HealthProbe } from './healthProbe';
import { fetchModelList } from './modelList';
import { readSseData } from './sseStream';
import { malformedError, upstreamErrorType } from './upstreamErrors';
import { UpstreamHttp, type UpstreamExchange } from './upstreamHttp';

/** Options of a `DllmBackend`. */
export interface DllmBackendOptions {
  /** Base URL of the seed-compatible service, e.g. `http://127.0.0.1:8000`. */
  url: string;
  /** Seconds of silence tolerated (before the first answer and between frames); default 120. */
  timeoutSeconds?: number;
  /** Model sent when a request names none; null lets the backend choose. */
  model?: string | null;
  /** Bearer token, e.g. for another Diffusion Monitor started with `--token`. */
  apiKey?: string | null;
}

/** The non-stream answer of `/api/diffusion/generate` and `/infill`, read leniently. */
const NonStreamAnswerSchema = z.object({
  text: z.string(),
  model_id: z.string().optional(),
  generation_time: z.number().optional(),
  token_count: z.number().int().min(0).nullable().optional(),
  steps: z.number().int().min(0).nullable().optional(),
  request_id: z.string().optional(),
});

/**
 * Client of a backend that speaks our own `/api/diffusion/*` contract (a Python process running
 * Dream/DiffuCoder/LLaDA, another Diffusion Monitor, any seed-compatible service). It always asks
 * for the stream, because only the stream carries the intermediate denoising states, and falls
 * back to the plain route when the backend has no stream route.
 */
export class DllmBackend implements DiffusionBackend {
  readonly kind = 'dllm' as const;
  readonly url: string;
  private readonly http: UpstreamHttp;
  private readonly model: string | null;
  private readonly healthProbe: HealthProbe;

  constructor(options: DllmBackendOptions) {
    this.http = new UpstreamHttp({ baseUrl: options.url, timeoutSeconds: options.timeoutSeconds, apiKey: options.apiKey ?? null });
    this.url = this.http.baseUrl;
    this.model = options.model ?? null;
    this.healthProbe = new HealthProbe({ kind: this.kind, url: this.url, listModels: (timeoutMs) => this.fetchModels(undefined, timeoutMs) });
  }

  async run(request: DiffusionRequest, options: RunOptions): Promise<BackendResult> {
    const route = request.kind === 'generate' ? '/api/diffusion/generate' : '/api/diffusion/infill';
    const body = this.upstreamBody(request);
    const sentAt = performance.now();
    const exchange = await this.http.open({ method: 'POST', path: `${route}/stream`, json: body, accept: 'text/event-stream', signal: options.signal });
    if (exchange.status === 404) {
      const error = await exchange.httpError();
      // A typed 404 (`model_unavailable`) is the backend's answer; an untyped one means "no such route".
      if (error.type !== 'backend') throw error;
      return this.runWithoutStream(route, body, request, options.signal);
    }
    if (exchange.status < 200 || exchange.status >= 300) throw await exchange.httpError();
    // Some services ignore the stream route's nature and answer JSON; take the answer anyway.
    if (/\bjson\b/i.test(exchange.contentType)) return this.nonStreamResult(await exchange.json(), request, exchange.url);
    return this.readStream(exchange, sentAt, options);
  }

  async listModels(signal?: AbortSignal): Promise<string[]> {
    return this.fetchModels(signal, undefined);
  }

  health(): Promise<BackendHealth> {
    return this.healthProbe.check();
  }

  close(): Promise<void> {
    return this.http.close();
  }

  /** The request body of the upstream route; null options are left out so the backend's defaults apply. */
  private upstreamBody(request: DiffusionRequest): Record<string, unknown> {
    const text = request.kind === 'generate' ? { prompt: request.prompt } : { prefix: request.prefix, suffix: request.suffix };
    const options = {
      model_id: request.model_id ?? this.model,
      max_new_tokens: request.max_new_tokens,
      steps: request.steps,
      temperature: request.temperature,
      top_p: request.top_p,
      top_k: request.top_k,
      alg: request.alg,
      alg_temp: request.alg_temp,
    };
    return { ...text, ...Object.fromEntries(Object.entries(options).filter(([, value]) => value !== null)) };
  }

  private async readStream(exchange: UpstreamExchange, sentAt: number, options: RunOptions): Promise<BackendResult> {
    let result: BackendResult | null = null;
    let stepFrames = 0;
    let lastStep = 0;
    let firstProgressAt: number | null = null;
    await readSseData(exchange, (data) => {
      const frame = parseFrame(data, exchange.url);
      switch (frame.type) {
        case 'status':
          options.onFrame?.(frame);
          return 'continue';
        case 'step':
          firstProgressAt ??= performance.now();
          stepFrames += 1;
          lastStep = frame.step;
          options.onFrame?.(frame);
          return 'continue';
        case 'delta':
          firstProgressAt ??= performance.now();
          options.onFrame?.(frame);
          return 'continue';
        case 'complete': {
          const steps = stepFrames > 0 ? Math.max(stepFrames, lastStep) : undefined;
          result = {
            text: frame.text,
            modelUsed: frame.model_used,
            tokenCount: frame.token_count,
            generationTime: frame.generation_time,
            ...(steps === undefined ? {} : { steps }),
            ...(firstProgressAt === null ? {} : { timeToFirstStep: (firstProgressAt - sentAt) / 1000 }),
          };
          return 'stop';
        }
        case 'error':
          throw new DiffusionError(upstreamErrorType(frame.error_type), `backend at ${exchange.url} reported ${frame.error_type}: ${frame.message}`, {
            details: { upstream_error_type: frame.error_type, upstream_retryable: frame.retryable },
          });
      }
    });
    if (result === null) throw malformedError('a stream that ended without a complete frame', exchange.url);
    return result;
  }

  private async runWithoutStream(route: string, body: Record<string, unknown>, request: DiffusionRequest, signal: AbortSignal): Promise<BackendResult> {
    const exchange = await this.http.open({ method: 'POST', path: route, json: body, accept: 'application/json', signal });
    if (exchange.status < 200 || exchange.status >= 300) throw await exchange.httpError();
    return this.nonStreamResult(await exchange.json(), request, exchange.url);
  }

  private nonStreamResult(json: unknown, request: DiffusionRequest, url: string): BackendResult {
    const parsed = NonStreamAnswerSchema.safeParse(json);
    if (!parsed.success) throw malformedError('an answer without a text field', url, JSON.stringify(json));
    const answer = parsed.data;
    return {
      text: answer.text,
      modelUsed: answer.model_id ?? request.model_id ?? this.model ?? 'unknown',
      ...(answer.token_count == null ? {} : { tokenCount: answer.token_count }),
      ...(answer.generation_time === undefined ? {} : { generationTime: answer.generation_time }),
      ...(answer.steps == null ? {} : { steps: answer.steps }),
    };
  }

  private fetchModels(signal: AbortSignal | undefined, timeoutMs: number | undefined): Promise<string[]> {
    return fetchModelList(this.http, '/api/diffusion/models', signal, timeoutMs);
  }
}

/**
 * Parses and validates one SSE payload. Valid frames are returned as sent, not as zod's stripped
 * copy, so fields a newer backend adds reach our clients unchanged.
 */
function parseFrame(data: string, url: string): StreamFrame {
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch {
    throw malformedError('an SSE frame that is not JSON', url, data);
  }
  const parsed = StreamFrameSchema.safeParse(json);
  if (!parsed.success) throw malformedError(`an invalid SSE frame (${parsed.error.issues[0]?.message ?? 'unknown shape'})`, url, data);
  return json as StreamFrame;
}
