import type { FastifyInstance } from 'fastify';
import type { AppConfig } from './config';
import { backendOptionsFromConfig, createBackend, type CreateBackendOptions } from './backend/createBackend';
import type { DiffusionBackend } from './backend/diffusionBackend';
import { renderInflux } from './export/influx';
import { InfluxPusher } from './export/influxPusher';
import { InFlightRequests } from './metrics/inFlightRequests';
import { MetricsStore, type Logger } from './metrics/metricsStore';
import { createServer, type RunningServer } from './server/createServer';
import type { ServerLimits } from './server/serverLimits';

/** A start-up failure the user can act on, reported as one line. */
export class StartupError extends Error {
  override name = 'StartupError';
}

export interface Core {
  config: AppConfig;
  store: MetricsStore;
  server: RunningServer;
  /** The backend client serving requests now. */
  backend(): DiffusionBackend;
  /** Replaces the backend client (Settings applies a new URL or protocol without a restart). */
  setBackend(options: CreateBackendOptions): Promise<void>;
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
  plugins?: Array<(app: FastifyInstance, core: { store: MetricsStore; inFlight: InFlightRequests }) => void | Promise<void>>;
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
    throw new StartupError(`cannot open metrics database ${config.dbPath}: ${(error as Error).message}`);
  }
  let backend = options.backend ?? createBackend(backendOptionsFromConfig(config));
  let defaultModel = config.model;
  const inFlight = new InFlightRequests();
  const influxPusher = config.influx
    ? new InfluxPusher({ settings: config.influx, render: () => renderInflux(store.cells(), store.now()), log: options.log })
    : null;
  let server: RunningServer;
  try {
    server = await createServer({
      config,
      store,
      backend: () => backend,
      defaultModel: () => defaultModel,
      log: options.log,
      ...(options.heartbeatMs ? { heartbeatMs: options.heartbeatMs } : {}),
      inFlight,
      influxPusher,
      limits: serverLimitsOf(config),
      plugins: (options.plugins ?? []).map((plugin) => (app: FastifyInstance) => plugin(app, { store, inFlight })),
    });
  } catch (error) {
    store.close();
    await backend.close();
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new StartupError(`port ${config.port} on ${config.host} is already in use; choose another with --port`);
    if (code === 'EADDRNOTAVAIL') throw new StartupError(`cannot listen on ${config.host}: no such local address`);
    if (code === 'EACCES') throw new StartupError(`not allowed to listen on ${config.host}:${config.port}; choose a port above 1024`);
    throw error;
  }
  influxPusher?.start();
  let stopping: Promise<void> | undefined;
  return {
    config,
    store,
    server,
    backend: () => backend,
    setBackend: async (next) => {
      const previous = backend;
      backend = createBackend(next);
      defaultModel = next.model;
      // Requests already running finish on the old client; close it once they are done.
      setTimeout(() => void previous.close(), Math.ceil(next.timeoutSeconds * 1000) + 1000).unref();
    },
    inFlight,
    influxPusher,
    stop: () => {
      stopping ??= (async () => {
        await server.close();
        await backend.close();
        // After the server so the last snapshot includes the last requests; bounded (3 s) when InfluxDB is down.
        await influxPusher?.stop();
        store.close();
      })();
      return stopping;
    },
  };
}
