import { performance } from 'node:perf_hooks';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ApiName } from '../../shared/apis';
import { isStreamEndpoint, type Endpoint } from '../../shared/endpoints';
import { DiffusionError, ERROR_STATUS } from '../../shared/errors';
import type { TokenCountSource } from '../../shared/events';
import type { DiffusionRequest } from '../../shared/requests';
import { attachClientFlow } from '../backend/clientFlow';
import type { BackendFrame, BackendResult, DiffusionBackend } from '../backend/diffusionBackend';
import type { Logger } from '../../shared/logger';
import type { MetricsStore } from '../metrics/metricsStore';
import { ModelLabels } from '../metrics/modelLabels';
import { countTokens } from '../metrics/requestEvent';
import { openEventStream, toDiffusionError } from './errorReplies';
import { FairLimiter } from './fairLimiter';

/** Counts requests in progress per endpoint (exported as a gauge). */
export interface InFlightTracker {
  start(endpoint: Endpoint): void;
  end(endpoint: Endpoint): void;
}

export interface LifecycleDeps {
  store: MetricsStore;
  /** The current backend; read once per request so Settings can swap it without a restart. */
  backend: () => DiffusionBackend;
  defaultModel: () => string | null;
  log: Logger;
  inFlight?: InFlightTracker;
  /** Requests served at once, across every door, shared fairly by users/connections (default 128). */
  limiter?: FairLimiter;
  /** The bounded set of model labels events are recorded under (default: 100 models). */
  labels?: ModelLabels;
  /** Interval of SSE comment heartbeats while the backend is silent. */
  heartbeatMs?: number;
}

/** What a finished generation reports, computed once for the answer and the stored row alike. */
export interface Answer {
  /** The final text (for infill: the text that fills the gap), cut at a stop sequence if one matched. */
  text: string;
  modelUsed: string;
  tokenCount: number;
  tokenCountSource: TokenCountSource;
  /** The backend's own generation time when it reported one, else the seconds we waited for it. */
  generationTime: number;
  steps: number | null;
  timeToFirstStep: number | null;
  /** The stop sequence that ended the text, if one did. */
  stoppedBy: string | null;
}

/** A request a door has read and accepted. */
export interface AcceptedRequest {
  request: DiffusionRequest;
  stream: boolean;
  /** Nothing to generate (llama.cpp's cache warm-up with `n_predict: 0`): answered empty, still recorded. */
  noGeneration?: boolean;
}

/** Writes one request's answers in its API's shape. */
export interface AnswerWriter {
  /** The non-stream response body. */
  json(answer: Answer): unknown;
  /** SSE text sent as the stream opens ('' for none). */
  open(): string;
  /** SSE text relaying one backend frame ('' to send nothing). */
  frame(frame: BackendFrame): string;
  /** SSE text that ends a successful stream. */
  complete(answer: Answer): string;
  /** SSE text that ends a failed stream. */
  error(error: DiffusionError): string;
}

/**
 * One API's way in: how it reads a request and how it answers. The lifecycle does the rest —
 * timing, abort, the fair concurrency limit, in-flight counting, client backpressure, heartbeats
 * and the one recorded event under a bounded model label.
 */
export interface Door<A extends AcceptedRequest = AcceptedRequest> {
  /** Stored as `metadata.api`. */
  readonly api: ApiName;
  /** The endpoint a request is recorded under when it fails before `accept` succeeds. */
  endpointOf(body: unknown): Endpoint;
  /** Reads the body; throws a `validation` DiffusionError naming the field. */
  accept(body: unknown): A;
  /** The error body in this API's shape (the HTTP status is the error's). */
  errorBody(error: DiffusionError, requestId: string): unknown;
  /** A writer for one accepted request. */
  writer(accepted: A, meta: { requestId: string; createdAt: number }): AnswerWriter;
}

/** A route answered through a door. */
export interface DoorRoute {
  path: string;
  door: Door;
}

/** Route config the lifecycle reads back in its error handler (and `sendError` for hook errors). */
interface DoorRouteConfig {
  door: Door;
  errorBody: Door['errorBody'];
}

/** The `user_id` of a request that named no user. */
const ANONYMOUS_USER = 'anonymous';

const ms = (seconds: number): string => (seconds * 1000).toFixed(2);

/** The endpoint a request's kind and mode are stored under. */
export function endpointFor(request: DiffusionRequest, stream: boolean): Endpoint {
  if (request.kind === 'generate') return stream ? 'generate/stream' : 'generate';
  return stream ? 'infill/stream' : 'infill';
}

/** Cuts `text` at the first of the stop sequences; the sequence itself is not part of the answer. */
export function cutAtStop(text: string, stop: readonly string[] | null): { text: string; stoppedBy: string | null } {
  let at = -1;
  let by: string | null = null;
  for (const sequence of stop ?? []) {
    if (sequence === '') continue;
    const found = text.indexOf(sequence);
    if (found >= 0 && (at < 0 || found < at)) {
      at = found;
      by = sequence;
    }
  }
  return at < 0 ? { text, stoppedBy: null } : { text: text.slice(0, at), stoppedBy: by };
}

/** Progress seen while a backend works. */
interface Progress {
  backendSeconds: number;
  stepCount: number;
  timeToFirstStep: number | null;
}

/** The one computation of the numbers a finished request answers with and stores. */
export function answerOf(result: BackendResult, progress: Progress, request: DiffusionRequest): Answer {
  const cut = cutAtStop(result.text, request.stop);
  // A count the backend made for text we then cut no longer applies; estimate the kept text instead.
  const tokens = countTokens({
    text: cut.text,
    success: true,
    ...(cut.stoppedBy !== null || result.tokenCount === undefined ? {} : { reported: result.tokenCount }),
  });
  return {
    text: cut.text,
    modelUsed: result.modelUsed,
    tokenCount: tokens.count,
    tokenCountSource: tokens.source,
    generationTime: result.generationTime ?? progress.backendSeconds,
    steps: result.steps ?? (progress.stepCount > 0 ? progress.stepCount : request.steps),
    timeToFirstStep: progress.timeToFirstStep ?? result.timeToFirstStep ?? null,
    stoppedBy: cut.stoppedBy,
  };
}

/** The backend's HTTP status, which upstream errors carry in their details. */
function upstreamStatusOf(error: DiffusionError): { upstreamStatus?: number } {
  const status = (error.details as { upstream_status?: unknown } | undefined)?.upstream_status;
  return typeof status === 'number' ? { upstreamStatus: status } : {};
}

/** The model a request names, for recording one that failed before it was read; else the default. */
function modelOf(body: unknown, fallback: string | null): string {
  const fields = body as { model_id?: unknown; model?: unknown } | null;
  for (const named of [fields?.model_id, fields?.model]) {
    if (typeof named === 'string' && named.length > 0 && named.length <= 200) return named;
  }
  return fallback ?? 'default';
}

/** An open SSE response. */
interface OpenStream {
  raw: FastifyReply['raw'];
  clientGone: boolean;
  send(text: string): void;
}

/** Everything one request holds from arrival to its recorded event. */
class RequestContext {
  readonly startedAt = Date.now() / 1000;
  readonly t0 = performance.now();
  readonly abort = new AbortController();
  readonly progress: Progress = { backendSeconds: 0, stepCount: 0, timeToFirstStep: null };
  readonly backend: DiffusionBackend;
  endpoint: Endpoint;
  modelId: string;
  request: DiffusionRequest | null = null;
  answer: Answer | null = null;
  /** What the backend answered, for the row's upstream details (chunks, the backend's own id). */
  result: BackendResult | null = null;
  error: DiffusionError | null = null;
  status = 200;
  backendStarted = false;
  stream: OpenStream | null = null;
  writer: AnswerWriter | null = null;
  /** Released when the request ends, whatever the outcome (the limiter's slot, timers, the in-flight count). */
  readonly releases: Array<() => void> = [];
  private settled = false;

  constructor(
    readonly requestId: string,
    readonly door: Door,
    body: unknown,
    deps: LifecycleDeps,
  ) {
    this.backend = deps.backend();
    this.endpoint = door.endpointOf(body);
    this.modelId = modelOf(body, deps.defaultModel());
  }

  elapsed(): number {
    return (performance.now() - this.t0) / 1000;
  }

  serverTiming(): string {
    const backend = this.progress.backendSeconds;
    return `backend;dur=${ms(backend)}, bridge;dur=${ms(Math.max(0, this.elapsed() - backend))}`;
  }

  /** Marks the request ended; true only the first time, so its event is recorded once. */
  settle(): boolean {
    if (this.settled) return false;
    this.settled = true;
    return true;
  }
}

/**
 * The life of every measured request, whichever API it came through: read, run the backend,
 * answer (JSON or a stream), and record exactly one event when it ends, success or failure.
 * Recording never waits on the disk.
 */
export class RequestLifecycle {
  private readonly contexts = new WeakMap<FastifyRequest, RequestContext>();
  private readonly heartbeatMs: number;
  private readonly limiter: FairLimiter;
  private readonly labels: ModelLabels;

  constructor(private readonly deps: LifecycleDeps) {
    this.heartbeatMs = deps.heartbeatMs ?? 15_000;
    this.limiter = deps.limiter ?? new FairLimiter(128);
    this.labels = deps.labels ?? new ModelLabels(undefined, deps.defaultModel);
  }

  /**
   * The current backend's models for any door's models route, the listing aborted when the client
   * leaves. Each listed model earns its own metric label.
   */
  async listModels(reply: FastifyReply): Promise<{ models: string[]; backend: DiffusionBackend }> {
    const abort = new AbortController();
    reply.raw.on('close', () => {
      if (!reply.raw.writableFinished) abort.abort();
    });
    const backend = this.deps.backend();
    const models = await backend.listModels(abort.signal);
    this.labels.admit(models);
    return { models, backend };
  }

  /**
   * Registers POST routes answered through their doors, in one scope whose error handler records
   * the failures Fastify raises before a handler runs (bad JSON, body too large) and answers them
   * in the door's shape.
   */
  async mount(app: FastifyInstance, routes: readonly DoorRoute[]): Promise<void> {
    await app.register(async (scope) => {
      scope.setErrorHandler((error: FastifyError, request, reply) => {
        const config = request.routeOptions.config as Partial<DoorRouteConfig>;
        if (!config.door) throw error;
        const ctx = this.contextOf(request, config.door);
        return this.run(ctx, reply, async () => {
          throw error;
        });
      });
      for (const { path, door } of routes) {
        const config: DoorRouteConfig = { door, errorBody: door.errorBody };
        scope.post(path, { config }, async (request, reply) => {
          const ctx = this.contextOf(request, door);
          return this.run(ctx, reply, () => this.serve(ctx, request, reply));
        });
      }
    });
  }

  private contextOf(request: FastifyRequest, door: Door): RequestContext {
    let ctx = this.contexts.get(request);
    if (!ctx) {
      ctx = new RequestContext(String(request.id), door, request.body ?? null, this.deps);
      this.contexts.set(request, ctx);
    }
    return ctx;
  }

  /** Runs `work`, answers a failure in the door's shape, and records the one event in `finally`. */
  private async run(ctx: RequestContext, reply: FastifyReply, work: () => Promise<FastifyReply>): Promise<FastifyReply> {
    try {
      return await work();
    } catch (thrown) {
      const error = ctx.stream?.clientGone ? new DiffusionError('cancelled', 'the client closed the stream') : toDiffusionError(thrown);
      if (error.type === 'internal') this.deps.log.error(`${ctx.endpoint}: ${(thrown as Error).stack ?? String(thrown)}`);
      ctx.error = error;
      // A stream already answered 200; the stored status says how it really ended.
      ctx.status = ctx.stream ? ERROR_STATUS[error.type] : error.status;
      if (ctx.stream) {
        ctx.stream.raw.cork();
        ctx.stream.send(ctx.writer?.error(error) ?? '');
        return reply;
      }
      if (error.type === 'cancelled' || reply.raw.destroyed) return reply;
      if (ctx.backendStarted) void reply.header('Server-Timing', ctx.serverTiming());
      if (error.retryAfterSeconds !== undefined) void reply.header('Retry-After', String(Math.max(1, Math.ceil(error.retryAfterSeconds))));
      return reply.code(error.status).type('application/json; charset=utf-8').send(ctx.door.errorBody(error, ctx.requestId));
    } finally {
      for (const release of ctx.releases.splice(0).reverse()) release();
      if (ctx.stream && !ctx.stream.raw.destroyed) ctx.stream.raw.end();
      this.record(ctx);
    }
  }

  private record(ctx: RequestContext): void {
    if (!ctx.settle()) return;
    const { request, answer, error, result } = ctx;
    const steps = answer?.steps ?? (ctx.progress.stepCount > 0 ? ctx.progress.stepCount : (request?.steps ?? null));
    // Every event is recorded under a bounded model label; the client's own id stays in metadata.
    const outcome = this.labels.label({
      endpoint: ctx.endpoint,
      modelId: request?.model_id ?? answer?.modelUsed ?? ctx.modelId,
      userId: request?.user_id ?? 'anonymous',
      startedAt: ctx.startedAt,
      duration: ctx.elapsed(),
      requestId: ctx.requestId,
      status: ctx.status,
      ...(error ? { errorType: error.type, errorMessage: error.message, ...upstreamStatusOf(error) } : {}),
      params: {
        max_new_tokens: request?.max_new_tokens ?? null,
        temperature: request?.temperature ?? null,
        top_p: request?.top_p ?? null,
        alg: request?.alg ?? null,
      },
      ...(answer && !error ? { tokens: { count: answer.tokenCount, source: answer.tokenCountSource } } : {}),
      generationTime: answer && !error ? answer.generationTime : null,
      steps,
      timeToFirstStep: ctx.progress.timeToFirstStep ?? answer?.timeToFirstStep ?? null,
      backend: ctx.backend.kind,
      api: ctx.door.api,
      ...(result?.chunks === undefined ? {} : { chunks: result.chunks }),
      ...(result?.timeToFirstChunk === undefined ? {} : { timeToFirstChunk: result.timeToFirstChunk }),
      ...(result?.upstreamRequestId === undefined ? {} : { upstreamRequestId: result.upstreamRequestId }),
    });
    this.deps.store.record(outcome);
  }

  private async serve(ctx: RequestContext, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
    const accepted = ctx.door.accept(request.body ?? null);
    const diffusionRequest = accepted.request;
    if (diffusionRequest.model_id === null) diffusionRequest.model_id = this.deps.defaultModel();
    ctx.request = diffusionRequest;
    ctx.endpoint = endpointFor(diffusionRequest, accepted.stream);
    const writer = ctx.door.writer(accepted, { requestId: ctx.requestId, createdAt: Math.floor(ctx.startedAt) });
    ctx.writer = writer;
    // A client that leaves (while waiting for a slot or while its answer is made) aborts the work.
    reply.raw.once('close', () => {
      if (!reply.raw.writableFinished) ctx.abort.abort();
    });
    // Fair share per user, or per connection for clients that name none; released in run()'s cleanup.
    const key =
      diffusionRequest.user_id !== ANONYMOUS_USER
        ? `user ${diffusionRequest.user_id}`
        : `connection ${request.socket.remoteAddress}:${request.socket.remotePort}`;
    try {
      ctx.releases.push(await this.limiter.acquire(key, ctx.abort.signal));
    } catch (thrown) {
      if (thrown instanceof DiffusionError && thrown.type === 'rate_limited') void reply.header('Retry-After', '1');
      throw thrown;
    }
    return isStreamEndpoint(ctx.endpoint) ? this.streamAnswer(ctx, request, reply, accepted, writer) : this.jsonAnswer(ctx, reply, accepted, writer);
  }

  /** Runs the backend (or nothing, for a request with nothing to generate) and settles the answer. */
  private async generate(ctx: RequestContext, accepted: AcceptedRequest, relay?: (frame: BackendFrame) => void): Promise<Answer> {
    const request = accepted.request;
    if (accepted.noGeneration) {
      ctx.answer = {
        text: '',
        modelUsed: request.model_id ?? 'default',
        tokenCount: 0,
        tokenCountSource: 'estimate',
        generationTime: 0,
        steps: null,
        timeToFirstStep: null,
        stoppedBy: null,
      };
      return ctx.answer;
    }
    this.deps.inFlight?.start(ctx.endpoint);
    const endpoint = ctx.endpoint;
    ctx.releases.push(() => this.deps.inFlight?.end(endpoint));
    ctx.backendStarted = true;
    const backendStart = performance.now();
    let result: BackendResult;
    try {
      result = await ctx.backend.run(request, {
        signal: ctx.abort.signal,
        onFrame: (frame) => {
          if (frame.type === 'step' || frame.type === 'delta') {
            ctx.progress.timeToFirstStep ??= ctx.elapsed();
            if (frame.type === 'step') ctx.progress.stepCount += 1;
          }
          relay?.(frame);
        },
      });
    } finally {
      ctx.progress.backendSeconds = (performance.now() - backendStart) / 1000;
    }
    ctx.result = result;
    ctx.answer = answerOf(result, ctx.progress, request);
    return ctx.answer;
  }

  private async jsonAnswer(ctx: RequestContext, reply: FastifyReply, accepted: AcceptedRequest, writer: AnswerWriter): Promise<FastifyReply> {
    const answer = await this.generate(ctx, accepted);
    return reply.header('Server-Timing', ctx.serverTiming()).send(writer.json(answer));
  }

  private async streamAnswer(
    ctx: RequestContext,
    request: FastifyRequest,
    reply: FastifyReply,
    accepted: AcceptedRequest,
    writer: AnswerWriter,
  ): Promise<FastifyReply> {
    // What the backend would refuse at once (too long for the built-in model, a full queue) still gets its HTTP status.
    if (!accepted.noGeneration) ctx.backend.preflight?.(accepted.request);
    const raw = openEventStream(reply, { 'X-Request-Id': ctx.requestId, 'Server-Timing': `bridge;dur=${ms(ctx.elapsed())}` });
    // Backpressure: the backend's reads under this request's signal wait while the client's buffer is full.
    attachClientFlow(ctx.abort.signal, raw);
    let lastWrite = performance.now();
    const stream: OpenStream = {
      raw,
      clientGone: false,
      send: (text) => {
        if (text === '' || stream.clientGone || raw.destroyed) return;
        raw.write(text);
        lastWrite = performance.now();
      },
    };
    ctx.stream = stream;
    raw.on('close', () => {
      if (!raw.writableFinished) {
        stream.clientGone = true;
        ctx.abort.abort();
      }
    });
    const heartbeat = setInterval(
      () => {
        if (performance.now() - lastWrite >= this.heartbeatMs && !raw.destroyed && !raw.writableNeedDrain) {
          raw.write(': heartbeat\n\n');
          lastWrite = performance.now();
        }
      },
      Math.max(10, Math.floor(this.heartbeatMs / 2)),
    );
    ctx.releases.push(() => clearInterval(heartbeat));

    stream.send(writer.open());
    const answer = await this.generate(ctx, accepted, (frame) => stream.send(writer.frame(frame)));
    // The last frame and the end of the chunked body leave in one segment (uncorked by end()).
    raw.cork();
    stream.send(writer.complete(answer));
    return reply;
  }
}
