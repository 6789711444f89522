import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { StartupProblem } from '../../shared/api';
import type { AppConfig } from '../config';
import { StartupError, startCore, type Core, type CoreOptions } from '../core';
import type { Logger } from '../metrics/metricsStore';
import { probeBackend } from '../server/backendProbe';
import { VERSION } from '../server/createServer';
import { dashboardPlugin } from '../server/dashboardPlugin';
import { createMonitorService, type MonitorService } from '../server/monitorService';
import { applyLiveSettings, type SettingsService } from '../settingsService';
import { backendOptionsFromConfig } from '../backend/createBackend';
import { detectForeignListener } from './foreignListener';
import { canListen, findFreePort } from './freePort';

export interface DesktopCoreOptions {
  settings: SettingsService;
  log: Logger;
  /** better-sqlite3 built for Electron's ABI. */
  nativeBinding?: string;
  /** The renderer build, also served by the embedded server for browsers. */
  rendererDir: string;
  start?: typeof startCore;
  /** Another program answering on the port (macOS's AirPlay Receiver on 7000); see foreignListener.ts. */
  detectForeignListener?: typeof detectForeignListener;
}

/**
 * The desktop app's core: the same `startCore` as headless mode, plus what the window needs when
 * it cannot start (the port is taken) and a way to try again on another port.
 */
export class DesktopCore {
  core: Core | null = null;
  service: MonitorService | null = null;
  problem: StartupProblem | null = null;
  private current: AppConfig;

  constructor(
    config: AppConfig,
    private readonly options: DesktopCoreOptions,
  ) {
    this.current = config;
  }

  get config(): AppConfig {
    return this.current;
  }

  /**
   * Starts the core. A taken port or an address that cannot be listened on becomes `problem`
   * (the window offers another port); other failures (an unusable database) are thrown.
   */
  async start(config: AppConfig = this.current): Promise<void> {
    const start = this.options.start ?? startCore;
    // A first start, or a database moved in Settings to a folder that does not exist yet.
    if (config.dbPath !== ':memory:') mkdirSync(dirname(config.dbPath), { recursive: true });
    // Checked before listening: a listener on the other loopback address does not stop our listen.
    const foreign = await (this.options.detectForeignListener ?? detectForeignListener)(config.host, config.port);
    if (foreign) {
      this.problem = foreign;
      this.options.log.warn(foreign.message);
      return;
    }
    const coreOptions: CoreOptions = {
      log: this.options.log,
      ...(this.options.nativeBinding ? { nativeBinding: this.options.nativeBinding } : {}),
      plugins: [
        dashboardPlugin({
          settings: this.options.settings,
          config: () => this.current,
          reconfigure: (next) => this.reconfigure(next),
          rendererDir: this.options.rendererDir,
          log: this.options.log,
        }),
      ],
    };
    try {
      this.core = await start(config, coreOptions);
    } catch (error) {
      if (!(error instanceof StartupError)) throw error;
      const taken = !(await canListen(config.host, config.port));
      // Anything but a listening problem (an unusable database) is not the window's to fix.
      if (!taken && !/listen|in use/.test(error.message)) throw error;
      this.problem = {
        type: taken ? 'port_in_use' : 'listen_failed',
        message: error.message,
        port: config.port,
        suggestedPort: await findFreePort(config.host, config.port + 1),
      };
      this.options.log.warn(error.message);
      return;
    }
    this.current = { ...config, port: this.core.server.port };
    this.problem = null;
    this.service = createMonitorService({
      store: this.core.store,
      settings: this.options.settings,
      config: () => this.current,
      reconfigure: (next) => this.reconfigure(next),
      serverUrl: () => this.core?.server.url ?? null,
      probeBackend,
      transport: 'ipc',
      version: VERSION,
      log: this.options.log,
    });
  }

  /** Takes over saved backend settings without a restart (a new backend client). */
  private async reconfigure(next: AppConfig): Promise<void> {
    this.current = applyLiveSettings(this.current, next);
    await this.core?.setBackend(backendOptionsFromConfig(this.current));
  }

  /** Tries another port after a conflict; on success the port is saved for the next start. */
  async changePort(port: number): Promise<void> {
    if (this.core) throw new StartupError(`the server already runs on port ${this.core.server.port}; change the port in Settings`);
    await this.start({ ...this.current, port });
    if (this.problem) throw new StartupError(this.problem.message);
    this.options.settings.save({ port });
  }

  /** Stops the server and flushes every pending event. */
  async stop(): Promise<void> {
    const core = this.core;
    this.core = null;
    this.service = null;
    await core?.stop();
  }
}
