import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { resolveConfig, type AppConfig } from '../../../src/main/config';
import { startCore, type Core } from '../../../src/main/core';
import { silentLogger } from '../../../src/shared/logger';
import { MetricsStore } from '../../../src/main/metrics/metricsStore';
import { SettingsService, settingsFileOf } from '../../../src/main/settingsService';
import { tempDir } from '../../fixtures/tempDir';
import { seedEvents, type SeedTotals } from './seedEvents';

export const RENDERER_DIR = resolve(import.meta.dirname, '../../../out/renderer');

export interface RunningApp {
  core: Core;
  url: string;
  config: AppConfig;
  totals: SeedTotals;
  settingsFile: string;
  close(): Promise<void>;
}

/**
 * The headless server as `npm run serve` starts it, in-process on a free port, over a fresh
 * seeded database in a temporary folder, serving the renderer build from `out/renderer`.
 */
export async function startApp(options: { backendUrl?: string; seed?: boolean } = {}): Promise<RunningApp> {
  const dir = tempDir('diffusion-monitor-e2e-');
  const dbPath = dir.file('metrics.db');
  let totals: SeedTotals = { requests: 0, errors: 0, tokens: 0, models: [] };
  if (options.seed !== false) {
    const store = MetricsStore.open({ path: dbPath });
    totals = seedEvents(store);
    store.close();
  }
  const input = {
    argv: ['--port', '0', '--db', dbPath, ...(options.backendUrl ? ['--backend', options.backendUrl] : [])],
    env: {},
    cwd: dir.path,
    defaultSettingsFile: join(dir.path, 'settings.json'),
  };
  const config = resolveConfig(input);
  const settings = new SettingsService({ input, file: settingsFileOf(input, config) });
  const core = await startCore(config, { log: silentLogger, settings, dashboard: { rendererDir: RENDERER_DIR } });
  return {
    core,
    url: core.server.url,
    config,
    totals,
    settingsFile: input.defaultSettingsFile,
    close: async () => {
      await core.stop();
      dir.cleanup();
    },
  };
}

// `npx tsx test/e2e/support/startApp.ts [backend-url]`: a seeded instance to look at by hand.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const app = await startApp({ ...(process.argv[2] ? { backendUrl: process.argv[2] } : {}) });
  process.stdout.write(`seeded dashboard on ${app.url}/ (${app.totals.requests} requests)\n`);
  const stop = (): void => void app.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
