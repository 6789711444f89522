import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { StartupProblem } from '../../shared/api';
import type { AppConfig } from '../config';
import { StartupError, startCore, type Core, type CoreOptions } from '../core';
import type { Logger } from '../../shared/logger';
import type { MonitorService } from '../monitorService';
import type { SettingsService } from '../settingsService';
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
  problem: StartupProblem | null = null;
  /** The configuration to start with while no core runs. */
  private initial: AppConfig;

  constructor(
    config: AppConfig,
    private readonly options: DesktopCoreOptions,
  ) {
    this.initial = config;
  }

  /** The configuration running now, or the one the next start uses. */
  get config(): AppConfig {
    return this.core?.config() ?? this.initial;
  }

  /** The one monitor service, served over IPC here and over HTTP to browsers; null while stopped. */
  get service(): MonitorService | null {
    return this.core?.service ?? null;
  }

  /**
   * Starts the core. A taken port or an address that cannot be listened on becomes `problem`
   * (the window offers another port); other failures (an unusable database) are thrown.
   */
  async start(config: AppConfig = this.initial): Promise<void> {
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
      settings: this.options.settings,
      dashboard: { rendererDir: this.options.rendererDir },
    };
    try {
      this.core = await start(config, coreOptions);
    } catch (error) {
      if (!(error instanceof StartupError)) throw error;
      const taken = !(await canListen(config.host, config.port));
      // Anything but a listening problem (an unusable database) is not the window's to fix.
      if (!taken && error.reason !== 'port_in_use' && error.reason !== 'listen_failed') throw error;
      this.problem = {
        type: taken ? 'port_in_use' : 'listen_failed',
        message: error.message,
        port: config.port,
        suggestedPort: await findFreePort(config.host, config.port + 1),
      };
      this.options.log.warn(error.message);
      return;
    }
    this.problem = null;
  }

  /** Tries another port after a conflict; on success the port is saved for the next start. */
  async changePort(port: number): Promise<void> {
    if (this.core) throw new StartupError(`the server already runs on port ${this.core.server.port}; change the port in Settings`);
    await this.start({ ...this.initial, port });
    if (this.problem) throw new StartupError(this.problem.message);
    this.options.settings.save({ port });
  }

  /** Stops the server and flushes every pending event. */
  async stop(): Promise<void> {
    const core = this.core;
    if (core) this.initial = core.config();
    this.core = null;
    await core?.stop();
  }
}
