import type { AppConfig } from './config';
import type { DiffusionBackend } from './backend/diffusionBackend';
import { renderInflux } from './export/influx';
import { InfluxPusher } from './export/influxPusher';
import { InFlightRequests } from './metrics/inFlightRequests';
import type { Logger } from '../shared/logger';
import { MetricsStore } from './metrics/metricsStore';
import { createMonitorService, type MonitorService } from './monitorService';
import { Runtime } from './runtime';
import { probeBackend } from './server/backendProbe';
import { createServer, type RunningServer } from './server/createServer';
import type { ServerLimits } from './server/serverLimits';
import { registerDashboardRoutes } from './server/dashboardRoutes';
import { SettingsService } from './settingsService';

/** Why the core could not start, for callers that react differently (the desktop offers another port). */
export type StartupFailure = 'port_in_use' | 'listen_failed' | 'database';

/** A start-up failure the user can act on, reported as one line. */
export class StartupError extends Error {
  override name = 'StartupError';
  constructor(
    message: string,
    readonly reason: StartupFailure | null = null,
  ) {
    super(message);
  }
}

/**
 * The running core: the store, the server, the runtime (configuration and backend client) and
 * the one `MonitorService` both transports serve.
 */
export interface Core {
  store: MetricsStore;
  server: RunningServer;
  runtime: Runtime;
  service: MonitorService;
  settings: SettingsService;
  /** The configuration running now (saved live settings applied, the real port). */
  config(): AppConfig;
  /** The backend client serving requests now. */
  backend(): DiffusionBackend;
  /** Requests in progress per endpoint; the diffusion routes call `start`/`end` on it. */
  inFlight: InFlightRequests;
  /** The built-in InfluxDB pusher, when `config.influx` is set. */
  influxPusher: InfluxPusher | null;
  /** Stops accepting requests, flushes every pending event and closes the database. */
  stop(): Promise<void>;
}

export interface CoreOptions {
  log: Logger;
  /** better-sqlite3 binding for another ABI (the Electron app). */
  nativeBinding?: string;
  /** SSE heartbeat interval while the backend is silent (default 15 s; tests shorten it). */
  heartbeatMs?: number;
  /** A ready backend client (tests); by default one is built from the configuration. */
  backend?: DiffusionBackend;
  /** The settings file Settings saves to; without one, saves are refused. */
  settings?: SettingsService;
  /** Serve the browser dashboard (`/api/monitor/*` and the renderer build at `/`). */
  dashboard?: { rendererDir: string | null };
}

/** The server's limits from the settings, in its units; absent ones keep their defaults. */
function serverLimitsOf(config: AppConfig): Partial<ServerLimits> {
  const limits = config.limits ?? {};
  return {
    ...(limits.requestTimeoutSeconds === undefined ? {} : { requestTimeoutMs: limits.requestTimeoutSeconds * 1000 }),
    ...(limits.maxConnections === undefined ? {} : { maxConnections: limits.maxConnections }),
    ...(limits.shutdownGraceSeconds === undefined ? {} : { shutdownGraceMs: limits.shutdownGraceSeconds * 1000 }),
    ...(limits.maxConcurrent === undefined ? {} : { maxConcurrent: limits.maxConcurrent }),
    ...(limits.maxModels === undefined ? {} : { maxModels: limits.maxModels }),
  };
}

/** Starts the store and the embedded server; shared by `npm run serve` and the desktop app. */
export async function startCore(config: AppConfig, options: CoreOptions): Promise<Core> {
  let store: MetricsStore;
  try {
    store = MetricsStore.open({ path: config.dbPath, log: options.log, ...(options.nativeBinding ? { nativeBinding: options.nativeBinding } : {}) });
  } catch (error) {
    throw new StartupError(`cannot open metrics database ${config.dbPath}: ${(error as Error).message}`, 'database');
  }
  const runtime = new Runtime(config, options.backend);
  const settings = options.settings ?? new SettingsService({ input: { argv: [], env: {}, cwd: '.' }, file: null });
  const inFlight = new InFlightRequests();
  const influxPusher = config.influx
    ? new InfluxPusher({ settings: config.influx, render: () => renderInflux(store.cells(), store.now()), log: options.log })
    : null;
  let server: RunningServer | null = null;
  const service = createMonitorService({ store, settings, runtime, serverUrl: () => server?.url ?? null, probeBackend, log: options.log });
  const dashboard = options.dashboard;
  try {
    server = await createServer({
      config,
      store,
      backend: () => runtime.backend(),
      defaultModel: () => runtime.defaultModel(),
      log: options.log,
      ...(options.heartbeatMs ? { heartbeatMs: options.heartbeatMs } : {}),
      inFlight,
      influxPusher,
      limits: serverLimitsOf(config),
      plugins: dashboard ? [(app) => registerDashboardRoutes(app, { service, store, inFlight, rendererDir: dashboard.rendererDir, log: options.log })] : [],
    });
  } catch (error) {
    service.close();
    store.close();
    await runtime.close();
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new StartupError(`port ${config.port} on ${config.host} is already in use; choose another with --port`, 'port_in_use');
    if (code === 'EADDRNOTAVAIL') throw new StartupError(`cannot listen on ${config.host}: no such local address`, 'listen_failed');
    if (code === 'EACCES') throw new StartupError(`not allowed to listen on ${config.host}:${config.port}; choose a port above 1024`, 'listen_failed');
    throw error;
  }
  const running = server;
  runtime.listening(running.port);
  influxPusher?.start();
  let stopping: Promise<void> | undefined;
  return {
    store,
    server: running,
    runtime,
    service,
    settings,
    config: () => runtime.config(),
    backend: () => runtime.backend(),
    inFlight,
    influxPusher,
    stop: () => {
      stopping ??= (async () => {
        await running.close();
        service.close();
        await runtime.close();
        // After the server so the last snapshot includes the last requests; bounded (3 s) when InfluxDB is down.
        await influxPusher?.stop();
        store.close();
      })();
      return stopping;
    },
  };
}
