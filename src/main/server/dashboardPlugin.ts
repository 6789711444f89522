import type { FastifyInstance } from 'fastify';
import { backendOptionsFromConfig } from '../backend/createBackend';
import type { AppConfig, ResolveInput } from '../config';
import type { Core, CoreOptions } from '../core';
import type { Logger } from '../metrics/metricsStore';
import { SettingsService, applyLiveSettings } from '../settingsService';
import { probeBackend } from './backendProbe';
import { VERSION } from './createServer';
import { registerDashboardRoutes } from './dashboardRoutes';
import { createMonitorService, type MonitorServiceDeps } from './monitorService';

export type CorePlugin = NonNullable<CoreOptions['plugins']>[number];

export interface DashboardPluginOptions {
  settings: SettingsService;
  config: () => AppConfig;
  reconfigure?: MonitorServiceDeps['reconfigure'];
  /** The renderer build to serve at `/`. */
  rendererDir: string | null;
  log: Logger;
}

/** The base URL the server listens on, read once it listens. */
export function listeningUrl(app: FastifyInstance): string | null {
  const address = app.server.address();
  if (address === null || typeof address === 'string') return null;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return `http://${host}:${address.port}`;
}

/** The browser dashboard as a core plugin: `/api/monitor/*` and the renderer at `/`. */
export function dashboardPlugin(options: DashboardPluginOptions): CorePlugin {
  return async (app, core) => {
    const service = createMonitorService({
      store: core.store,
      settings: options.settings,
      config: options.config,
      ...(options.reconfigure ? { reconfigure: options.reconfigure } : {}),
      serverUrl: () => listeningUrl(app),
      probeBackend,
      transport: 'http',
      version: VERSION,
      log: options.log,
    });
    await registerDashboardRoutes(app, { service, store: core.store, inFlight: core.inFlight, rendererDir: options.rendererDir, log: options.log });
  };
}

export interface Dashboard {
  /** Pass to `startCore` in `plugins`. */
  plugin: CorePlugin;
  /** Hands over the started core, so saved backend settings apply without a restart. */
  attach(core: Core): void;
}

/**
 * The browser dashboard of a headless server (`npm run serve`): settings saved from the browser
 * go to `input.defaultSettingsFile` (or the file named by --settings) and the backend ones apply
 * at once.
 */
export function createDashboard(options: { input: ResolveInput; config: AppConfig; rendererDir: string | null; log: Logger }): Dashboard {
  let current = options.config;
  let core: Core | null = null;
  const settings = new SettingsService({ input: options.input, file: options.config.settingsFile ?? options.input.defaultSettingsFile ?? null });
  return {
    plugin: dashboardPlugin({
      settings,
      config: () => current,
      reconfigure: async (next) => {
        current = applyLiveSettings(current, next);
        await core?.setBackend(backendOptionsFromConfig(current));
      },
      rendererDir: options.rendererDir,
      log: options.log,
    }),
    attach: (started) => {
      core = started;
      current = { ...current, port: started.server.port };
    },
  };
}
