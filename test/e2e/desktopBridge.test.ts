import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as electron from 'electron';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { resolveConfig, type ResolveInput } from '../../src/main/config';
import { CSV_COLUMNS } from '../../src/main/export/csv';
import { silentLogger } from '../../src/shared/logger';
import { SettingsService } from '../../src/main/settingsService';
import { CommandBus, createDesktopApi } from '../../src/main/shell/desktopApi';
import { DesktopCore } from '../../src/main/shell/desktopCore';
import { registerApiHandlers, type IpcRegistration } from '../../src/main/shell/ipc';
import { isTrustedSender } from '../../src/main/shell/trustedSender';
import { tempDir } from '../fixtures/tempDir';
import { FakeWebContents, type fakeElectron, type FakeIpcMain } from '../unit/shell/electronFake';
import { RENDERER_DIR } from './support/startApp';

/**
 * The renderer as the desktop window runs it: over the preload's bridge, not HTTP. The real
 * preload bundle (out/preload/index.cjs) runs in Chromium with `electron` replaced by a fake
 * ipcRenderer whose messages cross to this process, where the real IPC handlers, desktop API
 * and core answer them (ipcMain and the save dialog are the fakes of test/unit/shell).
 */

vi.mock('electron', async () => (await import('../unit/shell/electronFake')).fakeElectron());
const fake = electron as unknown as ReturnType<typeof fakeElectron>;

const ROOT = resolve(import.meta.dirname, '../..');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const PRELOAD = join(ROOT, 'out', 'preload', 'index.cjs');

/** Runs in the page before its scripts: what Electron gives a sandboxed preload, over the bindings. */
function fakePreloadEnvironment(preloadSource: string): string {
  return `(() => {
  const listeners = new Map();
  window.__fakeIpcEmit = (channel, args) => { for (const listener of listeners.get(channel) ?? []) listener({}, ...args); };
  const ipcRenderer = {
    invoke: (channel, ...args) => window.__fakeIpcInvoke(channel, args),
    send: (channel, ...args) => { void window.__fakeIpcSend(channel, args); },
    on: (channel, listener) => { if (!listeners.has(channel)) listeners.set(channel, []); listeners.get(channel).push(listener); },
  };
  const contextBridge = { exposeInMainWorld: (name, value) => { window[name] = value; } };
  const require = (name) => {
    if (name === 'electron') return { ipcRenderer, contextBridge };
    throw new Error('a sandboxed preload can require only electron, not ' + name);
  };
  const module = { exports: {} };
  (function (require, module, exports) {
${preloadSource}
  })(require, module, module.exports);
})();`;
}

/** The window's web contents: what main sends reaches the page's fake ipcRenderer. */
class WindowContents extends FakeWebContents {
  page: Page | null = null;

  override send(channel: string, ...args: unknown[]): void {
    super.send(channel, ...args);
    void this.page
      ?.evaluate(([c, a]) => (globalThis as unknown as { __fakeIpcEmit(channel: string, args: unknown[]): void }).__fakeIpcEmit(c, a), [channel, args] as const)
      .catch(() => {});
  }
}

let dir: ReturnType<typeof tempDir>;
let desktop: DesktopCore;
let registration: IpcRegistration;
let context: BrowserContext;
let page: Page;
let profile: string;
const commands = new CommandBus();
const contents = new WindowContents();
const pageErrors: string[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  if (!existsSync(join(RENDERER_DIR, 'index.html')) || !existsSync(PRELOAD)) {
    execFileSync(process.execPath, [join(ROOT, 'node_modules', 'electron-vite', 'bin', 'electron-vite.js'), 'build'], { cwd: ROOT, stdio: 'inherit' });
  }
  dir = tempDir('diffusion-monitor-bridge-');
  mkdirSync(dir.file('userData'));
  const input: ResolveInput = {
    argv: ['--port', '0'],
    env: {},
    cwd: dir.path,
    defaultSettingsFile: dir.file('userData/settings.json'),
    defaultDbPath: dir.file('userData/metrics.db'),
  };
  const settings = new SettingsService({ input, file: dir.file('userData/settings.json') });
  desktop = new DesktopCore(resolveConfig(input), { settings, log: silentLogger, rendererDir: RENDERER_DIR });
  await desktop.start();
  const api = createDesktopApi({ desktop, settings, commands, window: () => null, log: silentLogger });
  registration = registerApiHandlers(api, { isTrusted: (event) => isTrustedSender(event.senderFrame, undefined), log: silentLogger });
  const ipcMain = fake.ipcMain as unknown as FakeIpcMain;

  profile = mkdtempSync(join(tmpdir(), 'diffusion-monitor-chromium-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  page = context.pages()[0] ?? (await context.newPage());
  contents.page = page;
  page.on('console', (message) => {
    if (message.type() === 'error') pageErrors.push(message.text());
  });
  page.on('pageerror', (error) => pageErrors.push(error.message));
  await page.exposeBinding('__fakeIpcInvoke', (_source, channel: string, args: unknown[]) => ipcMain.invoke(channel, contents, ...args));
  await page.exposeBinding('__fakeIpcSend', (_source, channel: string, args: unknown[]) => ipcMain.sendFrom(channel, contents, ...args));
  await page.addInitScript({ content: fakePreloadEnvironment(readFileSync(PRELOAD, 'utf8')) });
});

afterAll(async () => {
  await context?.close();
  registration?.dispose();
  await desktop?.stop();
  dir?.cleanup();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

function show(view: string): Promise<void> {
  return page.evaluate((hash) => {
    (globalThis as unknown as { location: { hash: string } }).location.hash = hash;
  }, `#/${view}`);
}

describe('the renderer over the preload bridge', () => {
  it('runs an export chosen from the native menu once, not again when the Export view reopens', async () => {
    const saved = dir.file('menu-export.csv');
    fake.dialog.showSaveDialog.mockResolvedValue({ canceled: false, filePath: saved });
    await page.goto(`${desktop.core?.server.url ?? ''}/#/dashboard`);
    await page.getByTestId('dashboard-view').waitFor();
    // The desktop's wording: the page talks IPC, not HTTP.
    await show('export');
    await expect.poll(() => page.getByTestId('export-view').textContent()).toContain('choose where to save');
    await show('dashboard');
    await page.getByTestId('dashboard-view').waitFor();

    // File → Export → CSV, as the menu sends it.
    commands.emit({ type: 'export', format: 'csv' });
    await page.getByTestId('export-view').waitFor();
    await expect.poll(() => page.getByTestId('export-view').textContent()).toContain('menu-export.csv');
    expect(fake.dialog.showSaveDialog).toHaveBeenCalledTimes(1);
    expect(readFileSync(saved, 'utf8').split(/\r?\n/)[0]).toBe(CSV_COLUMNS.join(','));

    // Away and back: nothing runs by itself. Then one click, which must be the next dialog.
    await show('dashboard');
    await page.getByTestId('dashboard-view').waitFor();
    await show('export');
    await page.getByTestId('export-view').waitFor();
    fake.dialog.showSaveDialog.mockResolvedValue({ canceled: true, filePath: '' });
    await page.getByTestId('export-button-prometheus').click();
    await expect.poll(() => fake.dialog.showSaveDialog.mock.calls.length).toBe(2);
    const titles = fake.dialog.showSaveDialog.mock.calls.map((call) => (call.at(-1) as { title: string }).title);
    expect(titles).toEqual([expect.stringContaining('CSV'), expect.stringContaining('Prometheus')]);
    expect(pageErrors).toEqual([]);
  });
});
