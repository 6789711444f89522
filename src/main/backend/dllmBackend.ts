import type { DiffusionRequest } from '../../shared/requests';
import type { BackendHealth, BackendResult, DiffusionBackend, RunOptions } from './diffusionBackend';
import { dllmErrorType, DllmStreamReader, readDllmAnswer } from './dllmFrameReader';
import { HealthProbe } from './healthProbe';
import { fetchModelList } from './modelList';
import { readSseData } from './sseStream';
import type { ErrorClassifier } from './upstreamErrors';
import { UpstreamHttp, type UpstreamExchange } from './upstreamHttp';

/**
 * The type of an HTTP error whose body names no type of ours: a 503 is a model that cannot serve
 * (loading, not loaded), a 429 a rate limit; otherwise the message decides (Reynard answers 500
 * with "Model … not available"). A plain 404 stays `backend`: "no such route" to the fallback.
 */
const classifyDllmError: ErrorClassifier = (status, body) => {
  if (status === 503) return 'model_unavailable';
  // YipYap limits streams per client with 429; our client should back off just the same.
  if (status === 429) return 'rate_limited';
  return dllmErrorType(body.code, body.message ?? '');
};

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
      const error = await exchange.httpError(classifyDllmError);
      // A typed 404 (`model_unavailable`) is the backend's answer; an untyped one means "no such route".
      if (error.type !== 'backend') throw error;
      return this.runWithoutStream(route, body, request, options.signal);
    }
    if (exchange.status < 200 || exchange.status >= 300) throw await exchange.httpError(classifyDllmError);
    // Some services ignore the stream route's nature and answer JSON; take the answer anyway.
    if (/\bjson\b/i.test(exchange.contentType)) return this.nonStreamResult(exchange, request);
    return this.readStream(exchange, request, sentAt, options);
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

  /**
   * The request body of the upstream route; null options are left out so the backend's defaults
   * apply. The seed family reads `prompt` and `max_new_tokens`, Reynard's port `text` and
   * `max_length`; both ignore fields they do not know, so both spellings are sent.
   */
  private upstreamBody(request: DiffusionRequest): Record<string, unknown> {
    const text = request.kind === 'generate' ? { prompt: request.prompt, text: request.prompt } : { prefix: request.prefix, suffix: request.suffix };
    const options = {
      model_id: request.model_id ?? this.model,
      max_new_tokens: request.max_new_tokens,
      max_length: request.max_new_tokens,
      steps: request.steps,
      temperature: request.temperature,
      top_p: request.top_p,
      top_k: request.top_k,
      alg: request.alg,
      alg_temp: request.alg_temp,
    };
    return { ...text, ...Object.fromEntries(Object.entries(options).filter(([, value]) => value !== null)) };
  }

  private async readStream(exchange: UpstreamExchange, request: DiffusionRequest, sentAt: number, options: RunOptions): Promise<BackendResult> {
    const reader = new DllmStreamReader({
      url: exchange.url,
      fallbackModel: this.fallbackModel(request),
      sentAt,
      ...upstreamIdOf(exchange),
    });
    const onFrame = options.onFrame ?? (() => undefined);
    await readSseData(exchange, (data, event) => reader.read(data, event, onFrame));
    return reader.finish();
  }

  private async runWithoutStream(route: string, body: Record<string, unknown>, request: DiffusionRequest, signal: AbortSignal): Promise<BackendResult> {
    const exchange = await this.http.open({ method: 'POST', path: route, json: body, accept: 'application/json', signal });
    if (exchange.status < 200 || exchange.status >= 300) throw await exchange.httpError(classifyDllmError);
    return this.nonStreamResult(exchange, request);
  }

  private async nonStreamResult(exchange: UpstreamExchange, request: DiffusionRequest): Promise<BackendResult> {
    return readDllmAnswer(await exchange.json(), { url: exchange.url, fallbackModel: this.fallbackModel(request), ...upstreamIdOf(exchange) });
  }

  /** The model recorded when the backend names none: the requested one, else the configured default. */
  private fallbackModel(request: DiffusionRequest): string {
    return request.model_id ?? this.model ?? 'default';
  }

  private fetchModels(signal: AbortSignal | undefined, timeoutMs: number | undefined): Promise<string[]> {
    return fetchModelList(this.http, '/api/diffusion/models', signal, timeoutMs);
  }
}

/** The backend's own request id from the headers: ours and most servers send `X-Request-Id`, YipYap `X-Correlation-ID`. */
function upstreamIdOf(exchange: UpstreamExchange): { upstreamRequestId?: string } {
  const id = exchange.header('x-request-id') ?? exchange.header('x-correlation-id');
  return id === undefined || id === '' ? {} : { upstreamRequestId: id.slice(0, 200) };
}
