import type { FastifyInstance } from 'fastify';
import type { AppConfig } from './config';
import type { DiffusionBackend } from './backend/diffusionBackend';
import { MetricsStore, type Logger } from './metrics/metricsStore';
import { createServer, type RunningServer } from './server/createServer';

/** A start-up failure the user can act on, reported as one line. */
export class StartupError extends Error {
  override name = 'StartupError';
}

export interface Core {
  config: AppConfig;
  store: MetricsStore;
  server: RunningServer;
  backend: DiffusionBackend | null;
  /** Stops accepting requests, flushes every pending event and closes the database. */
  stop(): Promise<void>;
}

export interface CoreOptions {
  log: Logger;
  /** better-sqlite3 binding for another ABI (the Electron app). */
  nativeBinding?: string;
  backend?: DiffusionBackend | null;
  plugins?: Array<(app: FastifyInstance, core: { store: MetricsStore }) => void | Promise<void>>;
}

/** Starts the store and the embedded server; shared by `npm run serve` and the desktop app. */
export async function startCore(config: AppConfig, options: CoreOptions): Promise<Core> {
  let store: MetricsStore;
  try {
    store = MetricsStore.open({ path: config.dbPath, log: options.log, ...(options.nativeBinding ? { nativeBinding: options.nativeBinding } : {}) });
  } catch (error) {
    throw new StartupError(`cannot open metrics database ${config.dbPath}: ${(error as Error).message}`);
  }
  const backend = options.backend ?? null;
  let server: RunningServer;
  try {
    server = await createServer({
      config,
      store,
      backend,
      log: options.log,
      plugins: (options.plugins ?? []).map((plugin) => (app: FastifyInstance) => plugin(app, { store })),
    });
  } catch (error) {
    store.close();
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw new StartupError(`port ${config.port} on ${config.host} is already in use; choose another with --port`);
    if (code === 'EADDRNOTAVAIL') throw new StartupError(`cannot listen on ${config.host}: no such local address`);
    if (code === 'EACCES') throw new StartupError(`not allowed to listen on ${config.host}:${config.port}; choose a port above 1024`);
    throw error;
  }
  let stopping: Promise<void> | undefined;
  return {
    config,
    store,
    server,
    backend,
    stop: () => {
      stopping ??= (async () => {
        await server.close();
        await backend?.close();
        store.close();
      })();
      return stopping;
    },
  };
}
