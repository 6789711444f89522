import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { DiffusionError } from '../../shared/errors';
import { parseWindow } from '../../shared/timeWindow';
import { VERSION } from '../../shared/version';
import type { DiffusionBackend } from '../backend/diffusionBackend';
import type { InFlightRequests } from '../metrics/inFlightRequests';
import type { Logger } from '../../shared/logger';
import type { MetricsStore } from '../metrics/metricsStore';
import type { InfluxPusherStatus } from '../export/influxPusher';
import { EXPORT_FORMATS, type ExportFormat } from '../../shared/apiSchemas';
import { prefersOpenMetrics, renderExport } from '../export/exportFormats';
import { BODY_LIMIT, sendError, toDiffusionError } from './errorReplies';
import { registerDiffusionRoutes } from './diffusionRoutes';
import { registerFrontDoor } from './openai/frontDoor';
import { RequestLifecycle } from './requestLifecycle';
import { ModelLabels } from '../metrics/modelLabels';
import { FairLimiter } from './fairLimiter';
import { createRequestGuard } from './requestGuards';
import { bodyDeadline, DEFAULT_SERVER_LIMITS, drainAndClose, limitConnections, limitOptions, type ServerLimits } from './serverLimits';

/** Where the server listens and whom it lets in (a resolved configuration fits this). */
export interface ServerSettings {
  host: string;
  /** 0 asks for any free port. */
  port: number;
  /** Bearer token every request must send; null when none is required. */
  token: string | null;
  /** Extra `Host` header names accepted besides loopback names (DNS-rebinding defence). */
  allowedHosts: readonly string[];
}

export interface ServerDeps {
  config: ServerSettings;
  store: MetricsStore;
  /** The current backend client; read per request so Settings can swap it without a restart. */
  backend: () => DiffusionBackend;
  /** The model a request uses when it names none. */
  defaultModel?: () => string | null;
  log: Logger;
  /** Requests in progress, exported as the in-flight gauge. */
  inFlight?: InFlightRequests;
  /** The built-in InfluxDB pusher, whose state `/api/diffusion/health` shows. */
  influxPusher?: { health(): InfluxPusherStatus } | null;
  /** SSE heartbeat interval while the backend is silent (default 15 s). */
  heartbeatMs?: number;
  /** Milliseconds, for the token throttle's windows; injectable for tests. */
  clock?: () => number;
  /** Timeouts, connection cap and shutdown grace; defaults in `DEFAULT_SERVER_LIMITS`. */
  limits?: Partial<ServerLimits>;
  /** Extra routes (the diffusion routes, the renderer) registered on the same instance. */
  plugins?: Array<(app: FastifyInstance) => void | Promise<void>>;
}

export interface RunningServer {
  url: string;
  port: number;
  app: FastifyInstance;
  /** Diffusion requests running and waiting for a slot, and the limit. */
  concurrency(): { running: number; waiting: number; limit: number };
  close(): Promise<void>;
}

function windowParam(query: unknown): number | undefined {
  const raw = (query as { window?: unknown }).window;
  if (raw === undefined) return undefined;
  try {
    return parseWindow(String(raw));
  } catch (error) {
    throw new DiffusionError('validation', (error as Error).message, { details: { field: 'window' } });
  }
}

/** Builds the embedded HTTP server with the metrics and health routes, and starts listening. */
export async function createServer(deps: ServerDeps): Promise<RunningServer> {
  const { config, store, log } = deps;
  const limits: ServerLimits = { ...DEFAULT_SERVER_LIMITS, ...deps.limits };
  const app = Fastify({
    bodyLimit: BODY_LIMIT,
    logger: false,
    genReqId: () => randomUUID(),
    ...limitOptions(limits),
  });
  limitConnections(app.server, limits.maxConnections);
  // Headers are bounded by Node (its default of 60 s would outlast the request timeout); bodies by us.
  app.server.headersTimeout = limits.requestTimeoutMs;
  app.addHook('preParsing', bodyDeadline(limits.requestTimeoutMs));
  const limiter = new FairLimiter(limits.maxConcurrent);
  const labels = new ModelLabels(limits.maxModels, deps.defaultModel ?? (() => null));
  let closing = false;
  let shutdown: Promise<void> | undefined;

  app.addHook('onRequest', createRequestGuard({ ...config, closing: () => closing, ...(deps.clock ? { now: deps.clock } : {}) }));
  // Answers finishing during shutdown close their connection instead of keeping it alive.
  app.addHook('onSend', async (_request, reply) => {
    if (closing) void reply.header('Connection', 'close');
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const mapped = toDiffusionError(error);
    if (mapped.type === 'internal') log.error(`${request.method} ${request.url}: ${error.stack ?? error.message}`);
    return sendError(reply, mapped);
  });

  app.setNotFoundHandler((request, reply) =>
    sendError(reply, new DiffusionError('validation', `no route ${request.method} ${request.url.split('?')[0]}`, { status: 404 })),
  );

  app.get('/api/diffusion/metrics', async (request) => {
    const windowSeconds = windowParam(request.query);
    const recentRaw = (request.query as { recent?: string }).recent;
    const recentLimit = recentRaw === undefined ? 20 : Number(recentRaw);
    if (!Number.isInteger(recentLimit) || recentLimit < 0 || recentLimit > 1000) {
      throw new DiffusionError('validation', 'recent must be an integer from 0 to 1000', { details: { field: 'recent' } });
    }
    return store.summary({ ...(windowSeconds === undefined ? {} : { windowSeconds }), recentLimit });
  });

  const sendExport = async (request: FastifyRequest, reply: FastifyReply, format: ExportFormat): Promise<FastifyReply> => {
    const windowSeconds = windowParam(request.query);
    const rendered = await renderExport(store, format, {
      ...(windowSeconds === undefined ? {} : { windowSeconds }),
      openMetrics: format === 'prometheus' && prefersOpenMetrics(request.headers.accept),
      ...(deps.inFlight ? { inFlight: deps.inFlight.snapshot() } : {}),
    });
    return reply.type(rendered.contentType).send(rendered.body);
  };

  app.get('/api/diffusion/metrics/export', async (request, reply) => {
    const format = (request.query as { format?: string }).format ?? 'json';
    if (!(EXPORT_FORMATS as readonly string[]).includes(format)) {
      throw new DiffusionError('validation', `unknown format ${JSON.stringify(format)}; valid formats: ${EXPORT_FORMATS.join(', ')}`, {
        details: { field: 'format', valid: EXPORT_FORMATS },
      });
    }
    return sendExport(request, reply, format as ExportFormat);
  });

  // The conventional scrape path.
  app.get('/metrics', async (request, reply) => sendExport(request, reply, 'prometheus'));

  app.get('/api/diffusion/health', async () => {
    const backend = await deps.backend().health();
    labels.admit(backend.models);
    return {
      status: 'ok',
      version: VERSION,
      uptime_seconds: process.uptime(),
      store: store.health(),
      backend,
      influx_pusher: deps.influxPusher?.health() ?? { enabled: false },
      concurrency: { running: limiter.active, waiting: limiter.waiting, limit: limiter.maxActive },
    };
  });

  const defaultModel = deps.defaultModel ?? (() => null);
  const lifecycle = new RequestLifecycle({
    store,
    backend: deps.backend,
    defaultModel,
    log,
    ...(deps.inFlight ? { inFlight: deps.inFlight } : {}),
    ...(deps.heartbeatMs ? { heartbeatMs: deps.heartbeatMs } : {}),
    limiter,
    labels,
  });
  await registerDiffusionRoutes(app, lifecycle, { defaultModel });
  await registerFrontDoor(app, lifecycle, { defaultModel, log });

  for (const plugin of deps.plugins ?? []) await plugin(app);

  await app.listen({ host: config.host, port: config.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const shownHost = config.host.includes(':') ? `[${config.host}]` : config.host;
  return {
    url: `http://${shownHost}:${port}`,
    port,
    app,
    concurrency: () => ({ running: limiter.active, waiting: limiter.waiting, limit: limiter.maxActive }),
    close: () => {
      closing = true;
      shutdown ??= drainAndClose(app, { graceMs: limits.shutdownGraceMs, busy: () => (deps.inFlight?.total ?? 0) + limiter.waiting });
      return shutdown;
    },
  };
}
