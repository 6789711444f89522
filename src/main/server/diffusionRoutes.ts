import { performance } from 'node:perf_hooks';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { isStreamEndpoint, type Endpoint } from '../../shared/endpoints';
import { DiffusionError, ERROR_STATUS } from '../../shared/errors';
import { sseData, type StreamFrame } from '../../shared/frames';
import { GenerateBodySchema, InfillBodySchema, toGenerateRequest, toInfillRequest, type DiffusionRequest, type GenerateResponse } from '../../shared/requests';
import { attachClientFlow } from '../backend/clientFlow';
import type { BackendResult, DiffusionBackend } from '../backend/diffusionBackend';
import type { Logger } from '../../shared/logger';
import type { MetricsStore } from '../metrics/metricsStore';
import { ModelLabels } from '../metrics/modelLabels';
import { estimateTokenCount } from '../metrics/requestEvent';
import { openEventStream, sendError, toDiffusionError, validationError } from './errorReplies';
import { FairLimiter } from './fairLimiter';

/** Counts requests in progress per endpoint (exported as a gauge). */
export interface InFlightTracker {
  start(endpoint: Endpoint): void;
  end(endpoint: Endpoint): void;
}

export interface DiffusionRouteDeps {
  store: MetricsStore;
  /** The current backend; read per request so Settings can swap it without a restart. */
  backend: () => DiffusionBackend;
  defaultModel: () => string | null;
  log: Logger;
  inFlight?: InFlightTracker;
  /** Diffusion requests served at once, shared fairly by users/connections (default 128). */
  limiter?: FairLimiter;
  /** The bounded set of model labels events are recorded under (default: 100 models). */
  labels?: ModelLabels;
  /** Interval of SSE comment heartbeats while the backend is silent. */
  heartbeatMs?: number;
}

const ROUTES: ReadonlyArray<{ endpoint: Endpoint; schema: z.ZodType; build: (body: never) => DiffusionRequest }> = [
  { endpoint: 'generate', schema: GenerateBodySchema, build: toGenerateRequest as (body: never) => DiffusionRequest },
  { endpoint: 'infill', schema: InfillBodySchema, build: toInfillRequest as (body: never) => DiffusionRequest },
  { endpoint: 'generate/stream', schema: GenerateBodySchema, build: toGenerateRequest as (body: never) => DiffusionRequest },
  { endpoint: 'infill/stream', schema: InfillBodySchema, build: toInfillRequest as (body: never) => DiffusionRequest },
];

const ms = (seconds: number): string => (seconds * 1000).toFixed(2);

/** Per-request bookkeeping: timing, the one event it records, and the upstream abort. */
class RequestContext {
  readonly startedAt = Date.now() / 1000;
  readonly t0 = performance.now();
  readonly abort = new AbortController();
  backendSeconds = 0;
  timeToFirstStep: number | null = null;
  stepCount = 0;
  private recorded = false;

  constructor(
    readonly endpoint: Endpoint,
    readonly requestId: string,
  ) {}

  elapsed(): number {
    return (performance.now() - this.t0) / 1000;
  }

  /** Records the request's one event; later calls are ignored. */
  record(
    store: Pick<MetricsStore, 'record'>,
    details: {
      request?: DiffusionRequest;
      modelId: string;
      userId?: string;
      status: number;
      error?: DiffusionError;
      result?: BackendResult;
      backendKind: string;
    },
  ): void {
    if (this.recorded) return;
    this.recorded = true;
    const { request, result, error } = details;
    store.record({
      endpoint: this.endpoint,
      modelId: details.modelId,
      userId: details.userId ?? request?.user_id ?? 'anonymous',
      startedAt: this.startedAt,
      duration: this.elapsed(),
      requestId: this.requestId,
      status: details.status,
      ...(error ? { errorType: error.type, errorMessage: error.message, ...upstreamStatusOf(error) } : {}),
      params: {
        max_new_tokens: request?.max_new_tokens ?? null,
        temperature: request?.temperature ?? null,
        top_p: request?.top_p ?? null,
        alg: request?.alg ?? null,
      },
      ...(result ? { outputText: result.text } : {}),
      ...(result?.tokenCount !== undefined ? { reportedTokenCount: result.tokenCount } : {}),
      generationTime: result ? (result.generationTime ?? this.backendSeconds) : null,
      steps: result?.steps ?? (this.stepCount > 0 ? this.stepCount : (request?.steps ?? null)),
      timeToFirstStep: this.timeToFirstStep ?? result?.timeToFirstStep ?? null,
      backend: details.backendKind,
      ...(result?.chunks === undefined ? {} : { chunks: result.chunks }),
      ...(result?.timeToFirstChunk === undefined ? {} : { timeToFirstChunk: result.timeToFirstChunk }),
      ...(result?.upstreamRequestId === undefined ? {} : { upstreamRequestId: result.upstreamRequestId }),
    });
  }
}

/** The backend's HTTP status, which upstream errors carry in their details. */
function upstreamStatusOf(error: DiffusionError): { upstreamStatus?: number } {
  const status = (error.details as { upstream_status?: unknown } | undefined)?.upstream_status;
  return typeof status === 'number' ? { upstreamStatus: status } : {};
}

/** The model a request names, for recording; falls back to the default model. */
function modelOf(body: unknown, fallback: string | null): string {
  const named = (body as { model_id?: unknown } | null)?.model_id;
  if (typeof named === 'string' && named.length > 0 && named.length <= 200) return named;
  return fallback ?? 'default';
}

/**
 * The four measured diffusion routes and the models route. Every request to the four routes
 * records exactly one event, whatever its outcome; recording never waits on the disk.
 */
export async function registerDiffusionRoutes(app: FastifyInstance, deps: DiffusionRouteDeps): Promise<void> {
  const limiter = deps.limiter ?? new FairLimiter(128);
  const labels = deps.labels ?? new ModelLabels(undefined, deps.defaultModel);
  // Every event is recorded under a bounded model label; the client's own id stays in metadata.
  const store = { record: (outcome: Parameters<MetricsStore['record']>[0]) => deps.store.record(labels.label(outcome)) };
  const heartbeatMs = deps.heartbeatMs ?? 15_000;
  const contexts = new WeakMap<FastifyRequest, RequestContext>();

  const contextOf = (request: FastifyRequest, endpoint: Endpoint): RequestContext => {
    let ctx = contexts.get(request);
    if (!ctx) {
      ctx = new RequestContext(endpoint, String(request.id));
      contexts.set(request, ctx);
    }
    return ctx;
  };

  await app.register(async (scope) => {
    // Failures before the handler runs (bad JSON, wrong content type, body too large) are
    // requests too: they are answered in the taxonomy's shape and recorded.
    scope.setErrorHandler((error: FastifyError, request, reply) => {
      const endpoint = (request.routeOptions.config as { endpoint?: Endpoint }).endpoint;
      const mapped = toDiffusionError(error);
      if (mapped.type === 'internal') deps.log.error(`${request.method} ${request.url}: ${error.stack ?? error.message}`);
      if (endpoint) {
        contextOf(request, endpoint).record(store, {
          modelId: deps.defaultModel() ?? 'default',
          status: mapped.status,
          error: mapped,
          backendKind: deps.backend().kind,
        });
      }
      return sendError(reply, mapped);
    });

    for (const route of ROUTES) {
      scope.post(`/api/diffusion/${route.endpoint}`, { config: { endpoint: route.endpoint } }, async (request, reply) => {
        const ctx = contextOf(request, route.endpoint);
        const backend = deps.backend();
        const parsed = route.schema.safeParse(request.body ?? null);
        if (!parsed.success) {
          const error = validationError(parsed.error, 'body', route.schema);
          ctx.record(store, { modelId: modelOf(request.body, deps.defaultModel()), status: 400, error, backendKind: backend.kind });
          return sendError(reply, error);
        }
        const diffusionRequest = route.build(parsed.data as never);
        if (diffusionRequest.model_id === null) diffusionRequest.model_id = deps.defaultModel();
        // Fair share per user, or per connection for clients that name none.
        const key = (parsed.data as { user_id?: string }).user_id ?? `connection ${request.socket.remoteAddress}:${request.socket.remotePort}`;
        reply.raw.once('close', () => {
          if (!reply.raw.writableFinished) ctx.abort.abort();
        });
        let release: () => void;
        try {
          release = await limiter.acquire(key, ctx.abort.signal);
        } catch (thrown) {
          const error = toDiffusionError(thrown);
          ctx.record(store, {
            request: diffusionRequest,
            modelId: diffusionRequest.model_id ?? 'default',
            status: ERROR_STATUS[error.type],
            error,
            backendKind: backend.kind,
          });
          return error.type === 'cancelled' ? reply : sendError(reply.header('Retry-After', '1'), error);
        }
        try {
          return await (isStreamEndpoint(route.endpoint)
            ? streamRoute(request, reply, ctx, diffusionRequest, backend)
            : jsonRoute(reply, ctx, diffusionRequest, backend));
        } finally {
          release();
        }
      });
    }
  });

  async function jsonRoute(reply: FastifyReply, ctx: RequestContext, request: DiffusionRequest, backend: DiffusionBackend): Promise<FastifyReply> {
    reply.raw.on('close', () => {
      if (!reply.raw.writableFinished) ctx.abort.abort();
    });
    deps.inFlight?.start(ctx.endpoint);
    const backendStart = performance.now();
    try {
      const result = await backend.run(request, {
        signal: ctx.abort.signal,
        onFrame: (frame) => {
          if (frame.type === 'step' || frame.type === 'delta') {
            ctx.timeToFirstStep ??= ctx.elapsed();
            if (frame.type === 'step') ctx.stepCount += 1;
          }
        },
      });
      ctx.backendSeconds = (performance.now() - backendStart) / 1000;
      const body: GenerateResponse = {
        text: result.text,
        model_id: result.modelUsed,
        generation_time: result.generationTime ?? ctx.backendSeconds,
        token_count: result.tokenCount ?? estimateTokenCount(result.text),
        steps: result.steps ?? (ctx.stepCount > 0 ? ctx.stepCount : request.steps),
        request_id: ctx.requestId,
      };
      ctx.record(store, { request, modelId: request.model_id ?? result.modelUsed, status: 200, result, backendKind: backend.kind });
      return reply
        .header('Server-Timing', `backend;dur=${ms(ctx.backendSeconds)}, bridge;dur=${ms(Math.max(0, ctx.elapsed() - ctx.backendSeconds))}`)
        .send(body);
    } catch (thrown) {
      ctx.backendSeconds = (performance.now() - backendStart) / 1000;
      const error = toDiffusionError(thrown);
      if (error.type === 'internal') deps.log.error(`${ctx.endpoint}: ${(thrown as Error).stack ?? String(thrown)}`);
      ctx.record(store, { request, modelId: request.model_id ?? 'default', status: ERROR_STATUS[error.type], error, backendKind: backend.kind });
      if (error.type === 'cancelled' || reply.raw.destroyed) return reply;
      void reply.header('Server-Timing', `backend;dur=${ms(ctx.backendSeconds)}, bridge;dur=${ms(Math.max(0, ctx.elapsed() - ctx.backendSeconds))}`);
      return sendError(reply, error);
    } finally {
      deps.inFlight?.end(ctx.endpoint);
    }
  }

  async function streamRoute(
    request: FastifyRequest,
    reply: FastifyReply,
    ctx: RequestContext,
    diffusionRequest: DiffusionRequest,
    backend: DiffusionBackend,
  ): Promise<FastifyReply> {
    try {
      // What the backend would refuse at once (too long for the built-in model, a full queue) still gets its HTTP status.
      backend.preflight?.(diffusionRequest);
    } catch (thrown) {
      const error = toDiffusionError(thrown);
      ctx.record(store, { request: diffusionRequest, modelId: diffusionRequest.model_id ?? 'default', status: error.status, error, backendKind: backend.kind });
      return sendError(reply, error);
    }
    deps.inFlight?.start(ctx.endpoint);

    const raw = openEventStream(reply, { 'X-Request-Id': ctx.requestId, 'Server-Timing': `bridge;dur=${ms(ctx.elapsed())}` });
    attachClientFlow(ctx.abort.signal, raw);
    let clientGone = false;
    raw.on('close', () => {
      if (!raw.writableFinished) {
        clientGone = true;
        ctx.abort.abort();
      }
    });
    const send = (frame: StreamFrame): void => {
      if (!clientGone && !raw.destroyed) raw.write(sseData(frame));
    };
    let lastWrite = performance.now();
    const heartbeat = setInterval(
      () => {
        if (performance.now() - lastWrite >= heartbeatMs && !raw.destroyed && !raw.writableNeedDrain) {
          raw.write(': heartbeat\n\n');
          lastWrite = performance.now();
        }
      },
      Math.max(10, Math.floor(heartbeatMs / 2)),
    );

    send({ type: 'status', message: `generating with ${diffusionRequest.model_id ?? 'the default model'}`, request_id: ctx.requestId });
    const backendStart = performance.now();
    try {
      const result = await backend.run(diffusionRequest, {
        signal: ctx.abort.signal,
        onFrame: (frame) => {
          if (frame.type === 'step' || frame.type === 'delta') {
            ctx.timeToFirstStep ??= ctx.elapsed();
            if (frame.type === 'step') ctx.stepCount += 1;
          }
          send(frame);
          lastWrite = performance.now();
        },
      });
      ctx.backendSeconds = (performance.now() - backendStart) / 1000;
      // The last frame and the end of the chunked body leave in one segment (uncorked by end()).
      raw.cork();
      send({
        type: 'complete',
        text: result.text,
        generation_time: result.generationTime ?? ctx.backendSeconds,
        model_used: result.modelUsed,
        token_count: result.tokenCount ?? estimateTokenCount(result.text),
      });
      ctx.record(store, {
        request: diffusionRequest,
        modelId: diffusionRequest.model_id ?? result.modelUsed,
        status: 200,
        result,
        backendKind: backend.kind,
      });
    } catch (thrown) {
      ctx.backendSeconds = (performance.now() - backendStart) / 1000;
      raw.cork();
      const error = clientGone ? new DiffusionError('cancelled', 'the client closed the stream') : toDiffusionError(thrown);
      if (error.type === 'internal') deps.log.error(`${ctx.endpoint}: ${(thrown as Error).stack ?? String(thrown)}`);
      send({ type: 'error', error_type: error.type, message: error.message, retryable: error.retryable });
      ctx.record(store, {
        request: diffusionRequest,
        modelId: diffusionRequest.model_id ?? 'default',
        // The stream already answered 200; the stored status says how it really ended.
        status: ERROR_STATUS[error.type],
        error,
        backendKind: backend.kind,
      });
    } finally {
      clearInterval(heartbeat);
      deps.inFlight?.end(ctx.endpoint);
      if (!raw.destroyed) raw.end();
    }
    return reply;
  }

  app.get('/api/diffusion/models', async (request, reply) => {
    const abort = new AbortController();
    reply.raw.on('close', () => {
      if (!reply.raw.writableFinished) abort.abort();
    });
    const backend = deps.backend();
    const models = await backend.listModels(abort.signal);
    labels.admit(models);
    return { models, default_model: deps.defaultModel() ?? models[0] ?? null, backend: backend.kind, request_id: String(request.id) };
  });
}
