import { join } from 'node:path';
import { app, dialog, type BrowserWindow, type FileFilter, type SaveDialogOptions } from 'electron';
import { exportFileName, failure, ok, type AppCommand, type AppInfo, type DiffusionMonitorApi, type ExportOutcome, type Result } from '../../shared/api';
import type { ExportKind } from '../../shared/apiSchemas';
import { exportDocument } from '../export/exportDocument';
import { writeExportFile } from '../export/writeExportFile';
import type { Logger } from '../../shared/logger';
import { VERSION } from '../../shared/version';
import { toFailure, type MonitorService } from '../monitorService';
import type { SettingsService } from '../settingsService';
import type { DesktopCore } from './desktopCore';

const FILTERS: Record<ExportKind, FileFilter> = {
  json: { name: 'JSON summary', extensions: ['json'] },
  prometheus: { name: 'Prometheus text format', extensions: ['prom', 'txt'] },
  influxdb: { name: 'InfluxDB line protocol', extensions: ['lp', 'txt'] },
  csv: { name: 'CSV of raw events', extensions: ['csv'] },
};

/** Menu commands on their way to the renderer. */
export class CommandBus {
  private readonly listeners = new Set<(command: AppCommand) => void>();

  emit(command: AppCommand): void {
    for (const listener of this.listeners) listener(command);
  }

  subscribe(listener: (command: AppCommand) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

export interface DesktopApiDeps {
  desktop: DesktopCore;
  settings: SettingsService;
  commands: CommandBus;
  window: () => BrowserWindow | null;
  log: Logger;
}

/**
 * The API as the desktop serves it: the shared monitor service while the core runs, plus the
 * desktop's own parts (save dialog exports, menu commands, another port after a conflict).
 */
export function createDesktopApi(deps: DesktopApiDeps): DiffusionMonitorApi {
  const { desktop, log } = deps;
  const notRunning = (): Result<never> =>
    failure('model_unavailable', desktop.problem ? `the embedded server is not running: ${desktop.problem.message}` : 'the embedded server is not running');
  const withService = <T>(call: (service: MonitorService) => Promise<Result<T>>): Promise<Result<T>> =>
    desktop.service ? call(desktop.service) : Promise.resolve(notRunning());

  const appInfo = async (): Promise<Result<AppInfo>> => {
    if (desktop.service) return desktop.service.appInfo('ipc');
    const config = desktop.config;
    return ok({
      version: VERSION,
      transport: 'ipc',
      serverUrl: null,
      dbPath: config.dbPath,
      settingsFile: deps.settings.file,
      backend: { kind: config.backendKind, url: config.backendUrl, model: config.model },
      startupProblem: desktop.problem,
    });
  };

  return {
    appInfo,
    summary: (window) => withService((s) => s.summary(window)),
    series: (window) => withService((s) => s.series(window)),
    events: (query) => withService((s) => s.events(query)),
    models: () => withService((s) => s.models()),
    health: () => withService((s) => s.health()),
    testConnection: (target) => withService((s) => s.testConnection(target)),
    getSettings: async () => {
      if (desktop.service) return desktop.service.getSettings();
      try {
        return ok(deps.settings.view(desktop.config));
      } catch (error) {
        return toFailure(error, log);
      }
    },
    saveSettings: (update) => withService((s) => s.saveSettings(update)),
    changePort: async (port) => {
      try {
        await desktop.changePort(port);
      } catch (error) {
        return toFailure(error, log);
      }
      return appInfo();
    },
    liveUpdates: (listener) => desktop.service?.liveUpdates(listener) ?? (() => {}),
    appCommands: (listener) => deps.commands.subscribe(listener),
    run: (request, onFrame) => desktop.service?.run(request, onFrame) ?? { result: Promise.resolve(notRunning()), cancel: () => {} },
    export: (request, onProgress) => {
      const abort = new AbortController();
      const result = (async (): Promise<Result<ExportOutcome>> => {
        const core = desktop.core;
        if (!core) return notRunning();
        const format = request.format;
        const defaultPath = join(app.getPath('downloads'), exportFileName(format, new Date(), request.window ?? 'all'));
        const window = deps.window();
        const options: SaveDialogOptions = { title: `Export ${FILTERS[format].name}`, defaultPath, filters: [FILTERS[format]] };
        const choice = window ? await dialog.showSaveDialog(window, options) : await dialog.showSaveDialog(options);
        if (choice.canceled || !choice.filePath) return ok({ saved: false, location: null, bytes: 0, rows: null });
        let rows: number | null = null;
        try {
          const document = await exportDocument(core.store, {
            format,
            window: request.window ?? 'all',
            signal: abort.signal,
            inFlight: core.inFlight.snapshot(),
            onProgress: (progress) => {
              rows = progress.rows;
              onProgress(progress);
            },
          });
          const bytes = await writeExportFile(choice.filePath, document.chunks, abort.signal);
          return ok({ saved: true, location: choice.filePath, bytes, rows });
        } catch (error) {
          if (abort.signal.aborted) return failure('cancelled', 'export cancelled');
          return toFailure(error, log);
        }
      })();
      return { result, cancel: () => abort.abort() };
    },
  };
}
