import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import { HTTP_ROUTES, exportFileName, type AppInfo, type DiffusionMonitorApi, type Result } from '../../shared/api';
import { API_INPUTS } from '../../shared/apiSchemas';
import { RENDERER_CSP_HEADER } from '../../shared/csp';
import { DiffusionError } from '../../shared/errors';
import { exportDocument } from '../export/exportDocument';
import type { InFlightRequests } from '../metrics/inFlightRequests';
import type { Logger } from '../../shared/logger';
import type { MetricsStore } from '../metrics/metricsStore';
import { openEventStream, sendError, validationError } from './errorReplies';

/** The monitor service as this transport calls it (the core's one instance). */
export type DashboardService = Omit<DiffusionMonitorApi, 'appInfo' | 'changePort' | 'appCommands' | 'export'> & {
  appInfo(transport: 'http'): Promise<Result<AppInfo>>;
};

export interface DashboardRoutesOptions {
  service: DashboardService;
  store: MetricsStore;
  inFlight?: InFlightRequests;
  /** The renderer build (`out/renderer`); `null` or a folder without index.html serves a hint instead. */
  rendererDir: string | null;
  log: Logger;
  /** SSE comment interval on the live-updates stream (default 15 s). */
  heartbeatMs?: number;
}

/** Headers of every page and asset of the dashboard. */
const PAGE_HEADERS = {
  'Content-Security-Policy': RENDERER_CSP_HEADER,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Opener-Policy': 'same-origin',
} as const;

/** Whether the renderer build is there to serve at `/` (the start-up line says so when it is not). */
export function dashboardBuilt(rendererDir: string | null): rendererDir is string {
  return rendererDir !== null && existsSync(join(rendererDir, 'index.html'));
}

const NOT_BUILT_PAGE = `<!doctype html><meta charset="utf-8"><title>Diffusion Monitor</title>
<body style="font-family:system-ui;background:#0b0f14;color:#d8dee9;padding:3rem">
<h1>The dashboard is not built yet</h1>
<p>Run <code>npm run build</code> in the project folder, then reload this page.
The API under <code>/api/diffusion/</code> works already.</p></body>`;

function parseInput<S extends z.ZodType>(schema: S, value: unknown, where: string): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw validationError(parsed.error, where, schema);
  return parsed.data;
}

function answer<T>(reply: FastifyReply, result: Result<T>): FastifyReply {
  if (result.ok) return reply.type('application/json; charset=utf-8').send(result.value);
  return sendError(reply, new DiffusionError(result.error.type, result.error.message));
}

function queryOf(request: FastifyRequest): Record<string, string | undefined> {
  return request.query as Record<string, string | undefined>;
}

/** Number query parameters arrive as text; anything else is passed on for the schema to refuse. */
function numberParam(value: string | undefined): number | undefined | string {
  if (value === undefined || value === '') return undefined;
  return /^\d+(\.\d+)?$/.test(value) ? Number(value) : value;
}

/** Integer query parameters arrive as text. */
function intParam(value: string | undefined): number | undefined | string {
  if (value === undefined || value === '') return undefined;
  return /^-?\d+$/.test(value) ? Number(value) : value;
}

/**
 * Refuses requests another site's page makes in a user's browser (the browser marks them):
 * only our own page, or clients that are not browsers, may read metrics or change settings.
 */
function isCrossSite(request: FastifyRequest): boolean {
  const site = request.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return true;
  const origin = request.headers.origin;
  if (origin === undefined || origin === 'null') return origin === 'null';
  try {
    return new URL(origin).host !== request.headers.host;
  } catch {
    return true;
  }
}

/**
 * The browser transport of the API (`/api/monitor/*`, paths from `HTTP_ROUTES`) and the renderer
 * build at `/`. The same `MonitorService` answers here and over IPC.
 */
export async function registerDashboardRoutes(app: FastifyInstance, options: DashboardRoutesOptions): Promise<void> {
  const { service } = options;
  const heartbeatMs = options.heartbeatMs ?? 15_000;

  await app.register(async (scope) => {
    scope.addHook('onRequest', async (request, reply) => {
      if (isCrossSite(request)) {
        return sendError(reply, new DiffusionError('validation', 'cross-site requests to the monitor API are refused', { status: 403 }));
      }
      void reply.header('Cache-Control', 'no-store');
      return undefined;
    });

    scope.get(HTTP_ROUTES.appInfo.path, async (_request, reply) => answer(reply, await service.appInfo('http')));

    scope.get(HTTP_ROUTES.summary.path, async (request, reply) => {
      const window = parseInput(API_INPUTS.summary, queryOf(request).window ?? 'all', 'window');
      return answer(reply, await service.summary(window));
    });

    scope.get(HTTP_ROUTES.series.path, async (request, reply) => {
      const window = parseInput(API_INPUTS.series, queryOf(request).window ?? 'all', 'window');
      return answer(reply, await service.series(window));
    });

    scope.get(HTTP_ROUTES.events.path, async (request, reply) => {
      const q = queryOf(request);
      const query = parseInput(
        API_INPUTS.events,
        Object.fromEntries(
          Object.entries({
            limit: intParam(q.limit),
            before: intParam(q.before),
            type: q.type,
            model: q.model,
            outcome: q.outcome,
            request_id: q.request_id,
            since: numberParam(q.since),
          }).filter(([, value]) => value !== undefined && value !== ''),
        ),
        'query',
      );
      return answer(reply, await service.events(query));
    });

    scope.post(HTTP_ROUTES.testConnection.path, async (request, reply) => {
      const target = parseInput(API_INPUTS.testConnection, request.body, 'body');
      return answer(reply, await service.testConnection(target));
    });

    scope.get(HTTP_ROUTES.getSettings.path, async (_request, reply) => answer(reply, await service.getSettings()));

    scope.put(HTTP_ROUTES.saveSettings.path, async (request, reply) => {
      const update = parseInput(API_INPUTS.saveSettings, request.body, 'body');
      return answer(reply, await service.saveSettings(update));
    });

    scope.get(HTTP_ROUTES.liveUpdates.path, (_request, reply) => {
      const raw = openEventStream(reply);
      raw.write('retry: 2000\n: connected\n\n');
      const unsubscribe = service.liveUpdates((update) => {
        if (!raw.destroyed) raw.write(`data: ${JSON.stringify(update)}\n\n`);
      });
      const heartbeat = setInterval(() => {
        if (!raw.destroyed) raw.write(': heartbeat\n\n');
      }, heartbeatMs);
      raw.on('close', () => {
        clearInterval(heartbeat);
        unsubscribe();
      });
    });

    scope.get(HTTP_ROUTES.export.path, async (request, reply) => {
      const q = queryOf(request);
      const exportRequest = parseInput(API_INPUTS.export, { format: q.format ?? 'json', ...(q.window ? { window: q.window } : {}) }, 'query');
      const abort = new AbortController();
      reply.raw.on('close', () => {
        if (!reply.raw.writableFinished) abort.abort();
      });
      const document = await exportDocument(options.store, {
        format: exportRequest.format,
        window: exportRequest.window,
        signal: abort.signal,
        ...(options.inFlight ? { inFlight: options.inFlight.snapshot() } : {}),
      });
      const fileName = exportFileName(exportRequest.format, new Date(), exportRequest.window);
      return reply.type(document.contentType).header('Content-Disposition', `attachment; filename="${fileName}"`).send(Readable.from(document.chunks));
    });
  });

  const rendererDir = options.rendererDir;
  const notBuilt = (reply: FastifyReply): FastifyReply =>
    reply
      .code(503)
      .headers(PAGE_HEADERS)
      .header('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'")
      .type('text/html; charset=utf-8')
      .send(NOT_BUILT_PAGE);
  if (rendererDir === null) {
    app.get('/', async (_request, reply) => notBuilt(reply));
    return;
  }
  // Registered whether or not the build is there yet, and `/` checks per request: after
  // `npm run build`, a running server serves the new dashboard on the next reload.
  await app.register(fastifyStatic, {
    root: rendererDir,
    prefix: '/',
    index: false,
    wildcard: true,
    suppressWarning: true,
    // Hashed assets may be cached for good; index.html must be revalidated.
    setHeaders: (reply, path) => {
      void reply.headers(PAGE_HEADERS).header('Cache-Control', path.endsWith('.html') ? 'no-cache' : 'public, max-age=31536000, immutable');
    },
  });
  app.get('/', async (_request, reply) => (dashboardBuilt(rendererDir) ? reply.sendFile('index.html') : notBuilt(reply)));
}
