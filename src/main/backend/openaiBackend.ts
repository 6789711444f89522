import { DiffusionError } from '../../shared/errors';
import type { DiffusionRequest } from '../../shared/requests';
import type { OpenAiGenerateApi, OpenAiInfillApi } from '../../shared/apiSchemas';
import type { BackendHealth, BackendResult, DiffusionBackend, RunOptions } from './diffusionBackend';
import { HealthProbe } from './healthProbe';
import { fetchModelList } from './modelList';
import { OpenAiStreamReader, readOpenAiAnswer } from './openaiChunkReader';
import { readSseData } from './sseStream';
import type { ErrorClassifier } from './upstreamErrors';
import { UpstreamHttp, type UpstreamExchange } from './upstreamHttp';

/** How long a model discovered through `/v1/models` stays the default. */
const DISCOVERED_MODEL_TTL_MS = 60_000;

/** Options of an `OpenAiBackend`. */
export interface OpenAiBackendOptions {
  /** Base URL of the server, e.g. `http://127.0.0.1:30000` (a trailing `/v1` is tolerated). */
  url: string;
  /** Seconds of silence tolerated (before the first answer and between chunks); default 120. */
  timeoutSeconds?: number;
  /** Model used when a request names none; null means the first one `/v1/models` lists. */
  model?: string | null;
  /** Sent as `Authorization: Bearer …` (Mercury and hosted servers need one). */
  apiKey?: string | null;
  /** `chat` (default): `/v1/chat/completions` with one user message; `completions`: `/v1/completions`. */
  generateApi?: OpenAiGenerateApi;
  /** `completions` (default): `/v1/completions` with `suffix`; `fim`: `/v1/fim/completions`. */
  infillApi?: OpenAiInfillApi;
  /** Mercury's `diffusing: true`: each chunk is a whole draft that replaces the previous one. */
  diffusing?: boolean;
}

/** A 404 that names a model means the model is unknown; any other 404 is a route the server lacks. */
const classifyOpenAiError: ErrorClassifier = (status, body) =>
  status === 404 && (body.code === 'model_not_found' || /\bmodel\b/i.test(body.message ?? '')) ? 'model_unavailable' : 'backend';

/**
 * Client of an OpenAI-compatible server: SGLang serving LLaDA 2.x, vLLM serving DiffusionGemma,
 * Inception's Mercury. It always streams upstream, so our timeout measures silence rather than
 * total length and a client that leaves stops the generation.
 */
export class OpenAiBackend implements DiffusionBackend {
  readonly kind = 'openai' as const;
  readonly url: string;
  private readonly http: UpstreamHttp;
  private readonly model: string | null;
  private readonly generateApi: OpenAiGenerateApi;
  private readonly infillApi: OpenAiInfillApi;
  private readonly diffusing: boolean;
  private readonly healthProbe: HealthProbe;
  private discovered: { model: string; at: number } | null = null;

  constructor(options: OpenAiBackendOptions) {
    // Users copy OpenAI base URLs, which end in /v1; our routes add it themselves.
    const baseUrl = options.url.replace(/\/+$/, '').replace(/\/v1$/, '');
    this.http = new UpstreamHttp({ baseUrl, timeoutSeconds: options.timeoutSeconds, apiKey: options.apiKey ?? null });
    this.url = this.http.baseUrl;
    this.model = options.model ?? null;
    this.generateApi = options.generateApi ?? 'chat';
    this.infillApi = options.infillApi ?? 'completions';
    this.diffusing = options.diffusing ?? false;
    this.healthProbe = new HealthProbe({ kind: this.kind, url: this.url, listModels: (timeoutMs) => this.fetchModels(undefined, timeoutMs) });
  }

  async run(request: DiffusionRequest, options: RunOptions): Promise<BackendResult> {
    const model = request.model_id ?? this.model ?? (await this.defaultModel(options.signal));
    const { path, body } = this.upstreamRequest(request, model);
    const sentAt = performance.now();
    const exchange = await this.http.open({ method: 'POST', path, json: body, accept: 'text/event-stream', signal: options.signal });
    if (exchange.status < 200 || exchange.status >= 300) throw await exchange.httpError(classifyOpenAiError);
    // A server that ignores `stream: true` answers one JSON document; take it anyway.
    if (/\bjson\b/i.test(exchange.contentType)) return readOpenAiAnswer(await exchange.json(), model, exchange.url);
    return this.readStream(exchange, model, sentAt, options);
  }

  listModels(signal?: AbortSignal): Promise<string[]> {
    return this.fetchModels(signal, undefined);
  }

  health(): Promise<BackendHealth> {
    return this.healthProbe.check();
  }

  close(): Promise<void> {
    return this.http.close();
  }

  private upstreamRequest(request: DiffusionRequest, model: string): { path: string; body: Record<string, unknown> } {
    const common: Record<string, unknown> = {
      model,
      max_tokens: request.max_new_tokens,
      temperature: request.temperature,
      top_p: request.top_p,
      // Not in OpenAI's schema, but SGLang and vLLM accept it and others ignore it.
      ...(request.top_k === null ? {} : { top_k: request.top_k }),
      // vLLM refuses more than four; we cut at every one of them ourselves anyway.
      ...(request.stop === null ? {} : { stop: request.stop.slice(0, 4) }),
      ...(request.seed === null ? {} : { seed: request.seed }),
      stream: true,
      // Asks for a last chunk with `usage`, so we store the real token count.
      stream_options: { include_usage: true },
      ...(this.diffusing ? { diffusing: true } : {}),
    };
    if (request.kind === 'infill') {
      const path = this.infillApi === 'fim' ? '/v1/fim/completions' : '/v1/completions';
      return { path, body: { ...common, prompt: request.prefix, suffix: request.suffix } };
    }
    if (this.generateApi === 'completions') return { path: '/v1/completions', body: { ...common, prompt: request.prompt } };
    // A chat request from the front door reaches a chat backend with its messages unchanged.
    return { path: '/v1/chat/completions', body: { ...common, messages: request.messages ?? [{ role: 'user', content: request.prompt }] } };
  }

  private async readStream(exchange: UpstreamExchange, model: string, sentAt: number, options: RunOptions): Promise<BackendResult> {
    const reader = new OpenAiStreamReader({ url: exchange.url, model, diffusing: this.diffusing, sentAt });
    const onFrame = options.onFrame ?? (() => undefined);
    const verdict = await readSseData(exchange, (data) => reader.read(data, onFrame));
    return reader.finish(verdict);
  }

  /** The first model the server lists, remembered for a minute so runs do not each pay a round trip. */
  private async defaultModel(signal: AbortSignal): Promise<string> {
    if (this.discovered !== null && Date.now() - this.discovered.at < DISCOVERED_MODEL_TTL_MS) return this.discovered.model;
    const models = await this.fetchModels(signal, undefined);
    const model = models[0];
    if (model === undefined) {
      throw new DiffusionError('model_unavailable', `backend at ${this.url} lists no models; load one or set --model`);
    }
    this.discovered = { model, at: Date.now() };
    return model;
  }

  private fetchModels(signal: AbortSignal | undefined, timeoutMs: number | undefined): Promise<string[]> {
    return fetchModelList(this.http, '/v1/models', signal, timeoutMs);
  }
}
