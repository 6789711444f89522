import {
  failure,
  failureOfErrorBody,
  ok,
  type AppInfo,
  type DiffusionMonitorApi,
  type EventsPage,
  type LiveUpdate,
  readHealthReport,
  type HealthReport,
  type ModelList,
  type Result,
} from '../shared/api';
import { EventsQuerySchema, type BackendTarget } from '../shared/apiSchemas';
import { DiffusionError, asDiffusionError } from '../shared/errors';
import type { PerformanceEvent } from '../shared/events';
import { runDiffusionStream } from '../shared/runStream';
import { TIME_WINDOW_SECONDS } from '../shared/series';
import { VERSION } from '../shared/version';
import type { Logger } from '../shared/logger';
import type { MetricsStore } from './metrics/metricsStore';
import { SeriesBuilder } from './metrics/series';
import type { Runtime } from './runtime';
import { LIVE_FIELDS, type SettingsService } from './settingsService';

/**
 * The part of the API that does not depend on where it runs: one instance per process, served
 * by both transports (IPC in the desktop app, `/api/monitor/*` for browsers). Each transport
 * names itself in `appInfo`.
 */
export type MonitorService = Pick<
  DiffusionMonitorApi,
  'summary' | 'series' | 'events' | 'models' | 'health' | 'testConnection' | 'getSettings' | 'saveSettings' | 'liveUpdates' | 'run'
> & {
  appInfo(transport: AppInfo['transport']): Promise<Result<AppInfo>>;
  /** Stops listening to the store. */
  close(): void;
};

export interface MonitorServiceDeps {
  store: MetricsStore;
  settings: SettingsService;
  /** The configuration running now, and where saved live settings take effect. */
  runtime: Pick<Runtime, 'config' | 'apply'>;
  /** Base URL of the embedded server, which the playground and model list go through. */
  serverUrl: () => string | null;
  probeBackend: (target: BackendTarget, timeoutSeconds: number, signal: AbortSignal) => Promise<string[]>;
  log: Logger;
  /** Live updates are coalesced over this many milliseconds (default 250). */
  liveCoalesceMs?: number;
}

const RECENT_IN_SUMMARY = 10;
const EVENTS_PER_UPDATE = 20;

/** Turns anything thrown into a failed result in the taxonomy. */
export function toFailure(error: unknown, log?: Logger): { ok: false; error: { type: DiffusionError['type']; message: string } } {
  const mapped = asDiffusionError(error);
  if (mapped.type !== 'internal') return failure(mapped.type, mapped.message);
  log?.error(`monitor API: ${(error as Error | undefined)?.stack ?? String(error)}`);
  // The desktop shows its own failures to its one user: the message says more than "internal".
  return failure('internal', (error as Error | undefined)?.message ?? String(error));
}

async function attempt<T>(log: Logger, body: () => T | Promise<T>): Promise<Result<T>> {
  try {
    return ok(await body());
  } catch (error) {
    return toFailure(error, log);
  }
}

/** A loopback address for reaching our own server (a wildcard listen address is not one). */
export function loopbackUrl(serverUrl: string): string {
  const url = new URL(serverUrl);
  if (url.hostname === '0.0.0.0') url.hostname = '127.0.0.1';
  if (url.hostname === '[::]') url.hostname = '[::1]';
  return url.origin;
}

/**
 * The main-process implementation of the API over the core: summaries, series and events from
 * the store, settings through the settings file, and the playground and model list through the
 * embedded server's public routes. The desktop shell and the HTTP routes both serve it.
 */
export function createMonitorService(deps: MonitorServiceDeps): MonitorService {
  const { store, log, runtime } = deps;
  const series = new SeriesBuilder(store);

  const authHeaders = (): Record<string, string> => {
    const token = runtime.config().token;
    return token === null ? {} : { Authorization: `Bearer ${token}` };
  };

  const ownServer = (): string => {
    const url = deps.serverUrl();
    if (url === null) throw new DiffusionError('model_unavailable', 'the embedded server is not running');
    return loopbackUrl(url);
  };

  return {
    close: () => series.close(),

    appInfo: (transport) =>
      attempt(log, () => {
        const config = runtime.config();
        return {
          version: VERSION,
          transport,
          serverUrl: deps.serverUrl(),
          dbPath: config.dbPath,
          settingsFile: deps.settings.file,
          backend: { kind: config.backendKind, url: config.backendUrl, model: config.model },
          startupProblem: null,
        };
      }),

    summary: (window) =>
      attempt(log, () => {
        const windowSeconds = TIME_WINDOW_SECONDS[window];
        return store.summary({ ...(windowSeconds === null ? {} : { windowSeconds }), recentLimit: RECENT_IN_SUMMARY });
      }),

    series: (window) => attempt(log, () => series.build(window)),

    events: (query) =>
      attempt(log, (): EventsPage => {
        const q = EventsQuerySchema.parse(query);
        const rows = store.events({
          limit: q.limit + 1,
          ...(q.before === undefined ? {} : { beforeId: q.before }),
          ...(q.type === undefined ? {} : { eventType: q.type }),
          ...(q.model === undefined ? {} : { modelId: q.model }),
          ...(q.outcome === undefined ? {} : { outcome: q.outcome }),
          ...(q.request_id === undefined ? {} : { requestId: q.request_id }),
          ...(q.since === undefined ? {} : { since: q.since }),
        });
        const events = rows.slice(0, q.limit);
        return { events, nextBefore: rows.length > q.limit ? (events.at(-1)?.id ?? null) : null };
      }),

    models: () =>
      attempt(log, async (): Promise<ModelList> => {
        const response = await fetch(`${ownServer()}/api/diffusion/models`, { headers: authHeaders(), signal: AbortSignal.timeout(30_000) });
        const text = await response.text();
        if (!response.ok) {
          const stated = failureOfErrorBody(text);
          throw new DiffusionError(stated?.error.type ?? 'backend', stated?.error.message ?? `listing models answered HTTP ${response.status}`);
        }
        let json: unknown = null;
        try {
          json = JSON.parse(text);
        } catch {
          json = null;
        }
        const value = (json ?? {}) as { models?: unknown; default_model?: unknown; backend?: unknown };
        return {
          models: Array.isArray(value.models) ? value.models.filter((m): m is string => typeof m === 'string') : [],
          defaultModel: typeof value.default_model === 'string' ? value.default_model : null,
          backend: typeof value.backend === 'string' ? value.backend : runtime.config().backendKind,
        };
      }),

    health: () =>
      attempt(log, async (): Promise<HealthReport> => {
        const response = await fetch(`${ownServer()}/api/diffusion/health`, { headers: authHeaders(), signal: AbortSignal.timeout(10_000) });
        const text = await response.text();
        if (!response.ok) throw new DiffusionError(failureOfErrorBody(text)?.error.type ?? 'internal', `health answered HTTP ${response.status}`);
        return readHealthReport(JSON.parse(text));
      }),

    testConnection: (target) =>
      attempt(log, async () => {
        const started = performance.now();
        const models = await deps.probeBackend(target, runtime.config().timeoutSeconds, AbortSignal.timeout(15_000));
        return { models, latencyMs: Math.round(performance.now() - started) };
      }),

    getSettings: () => attempt(log, () => deps.settings.view(runtime.config())),

    saveSettings: (update) =>
      attempt(log, async () => {
        const { changed, config: next } = deps.settings.save(update);
        const overridden = new Set(deps.settings.overridden);
        const effective = changed.filter((field) => !overridden.has(field));
        const applied = effective.filter((field) => LIVE_FIELDS.has(field));
        if (applied.length > 0) runtime.apply(next);
        return {
          settings: deps.settings.view(runtime.config()),
          applied,
          restartRequired: effective.filter((field) => !applied.includes(field)),
        };
      }),

    liveUpdates: (listener) => {
      const coalesceMs = deps.liveCoalesceMs ?? 250;
      let pending: PerformanceEvent[] = [];
      let count = 0;
      let timer: NodeJS.Timeout | undefined;
      const push = (): void => {
        timer = undefined;
        const update: LiveUpdate = { at: store.now(), count, events: pending.slice(-EVENTS_PER_UPDATE).reverse() };
        pending = [];
        count = 0;
        try {
          listener(update);
        } catch (error) {
          log.warn(`live update listener failed: ${(error as Error).message}`);
        }
      };
      const unsubscribe = store.subscribe((batch) => {
        count += batch.timestamps.length;
        pending.push(...batch.events(EVENTS_PER_UPDATE));
        if (pending.length > EVENTS_PER_UPDATE * 4) pending = pending.slice(-EVENTS_PER_UPDATE);
        timer ??= setTimeout(push, coalesceMs);
      });
      return () => {
        unsubscribe();
        if (timer) clearTimeout(timer);
        timer = undefined;
      };
    },

    run: (request, onFrame) => {
      const abort = new AbortController();
      const result = (async () => {
        let baseUrl: string;
        try {
          baseUrl = ownServer();
        } catch (error) {
          return toFailure(error, log);
        }
        return runDiffusionStream({ baseUrl, request, onFrame, signal: abort.signal, headers: authHeaders() });
      })();
      return { result, cancel: () => abort.abort() };
    },
  };
}
