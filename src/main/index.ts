import { join } from 'node:path';
import { app, BrowserWindow } from 'electron';
import { resolveConfig } from './config';
import { startCore, type Core } from './core';
import type { Logger } from './metrics/metricsStore';

/** Electron shell: wiring only. The core it starts is the same one `npm run serve` runs. */
const log: Logger = {
  info: (m) => console.log(`[diffusion-monitor] ${m}`),
  warn: (m) => console.warn(`[diffusion-monitor] ${m}`),
  error: (m) => console.error(`[diffusion-monitor] ${m}`),
};

let core: Core | undefined;

async function createWindow(): Promise<void> {
  const userData = app.getPath('userData');
  const config = resolveConfig({
    argv: process.argv.slice(app.isPackaged ? 1 : 2).filter((a) => a.startsWith('--')),
    env: process.env,
    cwd: process.cwd(),
    defaultSettingsFile: join(userData, 'settings.json'),
    defaultDbPath: join(userData, 'metrics.db'),
  });
  core = await startCore(config, { log });
  const window = new BrowserWindow({
    width: 1280,
    height: 860,
    webPreferences: {
      preload: join(__dirname, '../preload/index.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
    },
  });
  await window.loadFile(join(__dirname, '../renderer/index.html'));
}

app.whenReady().then(createWindow).catch((error: unknown) => {
  log.error(String(error));
  app.exit(1);
});

app.on('window-all-closed', () => {
  void core?.stop().finally(() => app.quit());
});
