import { dirname, join } from 'node:path';
import { app, BrowserWindow, dialog, Menu, session, shell } from 'electron';
import { ConfigError, resolveConfig, type AppConfig, type ResolveInput } from './config';
import type { Logger } from '../shared/logger';
import { loopbackUrl } from './monitorService';
import { SettingsService, settingsFileOf } from './settingsService';
import { registerAppScheme, serveRenderer } from './shell/appProtocol';
import { ownArguments } from './shell/appArguments';
import { CommandBus, createDesktopApi } from './shell/desktopApi';
import { DesktopCore } from './shell/desktopCore';
import { registerApiHandlers, type IpcRegistration } from './shell/ipc';
import { buildAppMenu } from './shell/menu';
import { findNativeBinding } from './shell/nativeBinding';
import { RENDERER_ENTRY } from './shell/rendererOrigin';
import { isTrustedSender } from './shell/trustedSender';
import { createMainWindow, guardWebContents } from './shell/window';

/** Electron shell: wiring only. The core it starts is the same one `npm run serve` runs. */
const log: Logger = {
  info: (m) => console.log(`[diffusion-monitor] ${m}`),
  warn: (m) => console.warn(`[diffusion-monitor] ${m}`),
  error: (m) => console.error(`[diffusion-monitor] ${m}`),
};

const devServerUrl = app.isPackaged ? undefined : process.env.ELECTRON_RENDERER_URL;
const rendererDir = join(__dirname, '../renderer');
const preloadPath = join(__dirname, '../preload/index.cjs');

registerAppScheme();
app.enableSandbox();

let mainWindow: BrowserWindow | null = null;

function fatal(title: string, message: string, code: number): void {
  log.error(`${title}: ${message}`);
  dialog.showErrorBox(title, message);
  app.exit(code);
}

function resolveStartupConfig(userData: string): { input: ResolveInput; config: AppConfig } | null {
  const input: ResolveInput = {
    argv: ownArguments(process.argv.slice(app.isPackaged ? 1 : 2)),
    env: process.env,
    cwd: process.cwd(),
    defaultSettingsFile: join(userData, 'settings.json'),
    defaultDbPath: join(userData, 'metrics.db'),
  };
  try {
    return { input, config: resolveConfig(input) };
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    fatal('Diffusion Monitor cannot start', error.message, 2);
    return null;
  }
}

async function openWindow(): Promise<void> {
  mainWindow = await createMainWindow({ preloadPath, url: devServerUrl ?? RENDERER_ENTRY, devTools: !app.isPackaged });
  mainWindow.on('closed', () => {
    mainWindow = null;
  });
}

async function main(): Promise<void> {
  await app.whenReady();
  const started = resolveStartupConfig(app.getPath('userData'));
  if (!started) return;
  const { input, config } = started;
  const settings = new SettingsService({ input, file: settingsFileOf(input, config) });

  const binding = findNativeBinding({ appPath: app.getAppPath(), resourcesPath: process.resourcesPath, isPackaged: app.isPackaged });
  if (binding?.builtFor && binding.builtFor !== process.versions.electron) {
    log.warn(`the Electron-ABI better-sqlite3 was built for Electron ${binding.builtFor}, this is ${process.versions.electron}; run npm run native:electron`);
  }
  const desktop = new DesktopCore(config, { settings, log, rendererDir, ...(binding ? { nativeBinding: binding.path } : {}) });
  try {
    await desktop.start();
  } catch (error) {
    const hint = binding ? '' : '\n\nbetter-sqlite3 for Electron is missing: run "npm run native:electron" (or start with "npm start", which does it).';
    fatal('Diffusion Monitor cannot start', `${(error as Error).message}${hint}`, 1);
    return;
  }

  // Nothing the page asks for (camera, notifications, ...) is granted, but writing the clipboard (Copy).
  const allowed = (permission: string): boolean => permission === 'clipboard-sanitized-write';
  session.defaultSession.setPermissionRequestHandler((_contents, permission, callback) => callback(allowed(permission)));
  session.defaultSession.setPermissionCheckHandler((_contents, permission) => allowed(permission));
  app.on('web-contents-created', (_event, contents) => guardWebContents(contents, devServerUrl));
  serveRenderer(rendererDir);

  const commands = new CommandBus();
  const api = createDesktopApi({ desktop, settings, commands, window: () => mainWindow, log });
  const ipc: IpcRegistration = registerApiHandlers(api, { isTrusted: (event) => isTrustedSender(event.senderFrame, devServerUrl), log });

  Menu.setApplicationMenu(
    buildAppMenu({
      command: (command) => commands.emit(command),
      openDataFolder: () => void shell.openPath(dirname(desktop.config.dbPath)),
      openInBrowser: (path) => {
        if (desktop.core) void shell.openExternal(`${loopbackUrl(desktop.core.server.url)}${path}`);
      },
      isMac: process.platform === 'darwin',
      devTools: !app.isPackaged,
    }),
  );

  // Quit waits for the store to flush every pending event; a second request does not wait again.
  let stopping = false;
  let stopped = false;
  app.on('before-quit', (event) => {
    if (stopped) return;
    event.preventDefault();
    if (stopping) return;
    stopping = true;
    ipc.dispose();
    desktop
      .stop()
      .catch((error: unknown) => log.error(`shutdown: ${(error as Error).message}`))
      .finally(() => {
        stopped = true;
        app.quit();
      });
  });
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) void openWindow();
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => app.quit());

  await openWindow();
}

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.on('second-instance', () => {
    if (!mainWindow) return;
    if (mainWindow.isMinimized()) mainWindow.restore();
    mainWindow.focus();
  });
  main().catch((error: unknown) => fatal('Diffusion Monitor failed', (error as Error).stack ?? String(error), 1));
}
