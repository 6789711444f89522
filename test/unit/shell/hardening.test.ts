import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as electron from 'electron';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { API_KEYS, BRIDGE_NAME } from '../../../src/shared/api';
import { RENDERER_CSP, RENDERER_CSP_HEADER } from '../../../src/shared/csp';
import { serveRenderer } from '../../../src/main/shell/appProtocol';
import { isRendererUrl } from '../../../src/main/shell/rendererOrigin';
import { HARDENED_WEB_PREFERENCES, createMainWindow, guardWebContents } from '../../../src/main/shell/window';
import { tempDir } from '../../fixtures/tempDir';

vi.mock('electron', async () => (await import('./electronFake')).fakeElectron());

const root = resolve(import.meta.dirname, '../../..');
const fake = electron as unknown as ReturnType<typeof import('./electronFake').fakeElectron>;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : /\.(ts|tsx)$/.test(name) ? [path] : [];
  });
}

describe('webPreferences', () => {
  it('are hardened', () => {
    expect(HARDENED_WEB_PREFERENCES).toMatchObject({
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
    });
  });

  it('are what the window is created with, plus only the preload and devtools', async () => {
    const loadURL = vi.fn(async () => undefined);
    fake.BrowserWindow.mockImplementation(function (this: object) {
      return Object.assign(this, { once: vi.fn(), show: vi.fn(), loadURL });
    });
    await createMainWindow({ preloadPath: '/app/out/preload/index.cjs', url: 'app://diffusion-monitor/index.html', devTools: false });
    const options = fake.BrowserWindow.mock.calls[0]?.[0] as { webPreferences: Record<string, unknown> };
    expect(options.webPreferences).toEqual({ ...HARDENED_WEB_PREFERENCES, preload: '/app/out/preload/index.cjs', devTools: false });
    expect(loadURL).toHaveBeenCalledWith('app://diffusion-monitor/index.html');
  });

  it('are never weakened anywhere in the sources', () => {
    const weakening =
      /(contextIsolation|sandbox|webSecurity)\s*:\s*false|nodeIntegration\w*\s*:\s*true|allowRunningInsecureContent\s*:\s*true|webviewTag\s*:\s*true|disable-web-security|appendSwitch\(['"]no-sandbox/;
    for (const file of sourceFiles(join(root, 'src'))) {
      expect(readFileSync(file, 'utf8'), file).not.toMatch(weakening);
    }
  });
});

describe('Content-Security-Policy', () => {
  it('is strict: nothing inline, no eval, nothing from other origins', () => {
    const directives = new Map(
      RENDERER_CSP.split(';')
        .map((d) => d.trim().split(/\s+/))
        .map(([name, ...values]) => [name as string, values]),
    );
    expect(directives.get('default-src')).toEqual(["'none'"]);
    expect(directives.get('script-src')).toEqual(["'self'"]);
    expect(directives.get('style-src')).toEqual(["'self'"]);
    expect(directives.get('connect-src')).toEqual(["'self'"]);
    expect(directives.get('object-src')).toEqual(["'none'"]);
    expect(directives.get('base-uri')).toEqual(["'none'"]);
    expect(RENDERER_CSP).not.toMatch(/unsafe-|\*|https?:/);
    expect(RENDERER_CSP_HEADER).toBe(`${RENDERER_CSP}; frame-ancestors 'none'`);
  });

  it('is the one index.html declares, and index.html has no inline script or style', () => {
    const html = readFileSync(join(root, 'src/renderer/index.html'), 'utf8');
    const meta = /<meta\s+http-equiv="Content-Security-Policy"\s+content="([^"]+)"/.exec(html);
    expect(meta?.[1]).toBe(RENDERER_CSP);
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/<style|\sstyle=/);
  });

  it('is sent with every renderer file of the app:// protocol, which serves nothing outside the build', async () => {
    const dir = tempDir();
    try {
      const { writeFileSync } = await import('node:fs');
      writeFileSync(dir.file('index.html'), '<!doctype html>');
      fake.protocol.handle.mockClear();
      serveRenderer(dir.path);
      const handler = fake.protocol.handle.mock.calls[0]?.[1] as (request: Request) => Promise<Response>;
      const page = await handler(new Request('app://diffusion-monitor/index.html'));
      expect(page.status).toBe(200);
      expect(page.headers.get('Content-Security-Policy')).toBe(RENDERER_CSP_HEADER);
      expect(page.headers.get('Content-Type')).toBe('text/html; charset=utf-8');
      for (const url of [
        'app://diffusion-monitor/%2e%2e/%2e%2e/etc/passwd',
        'app://diffusion-monitor/..%2F..%2Fetc%2Fpasswd',
        'app://elsewhere/index.html',
        'app://diffusion-monitor/missing.js',
      ]) {
        expect((await handler(new Request(url))).status, url).toBe(404);
      }
    } finally {
      dir.cleanup();
    }
  });
});

describe('navigation and new windows', () => {
  class Contents {
    readonly listeners = new Map<string, (event: { preventDefault: () => void }, url: string) => void>();
    openHandler: ((details: { url: string }) => { action: string }) | undefined;
    on(name: string, listener: (event: { preventDefault: () => void }, url: string) => void): this {
      this.listeners.set(name, listener);
      return this;
    }
    setWindowOpenHandler(handler: (details: { url: string }) => { action: string }): void {
      this.openHandler = handler;
    }
    fire(name: string, url: string): boolean {
      let prevented = false;
      this.listeners.get(name)?.({ preventDefault: () => (prevented = true) }, url);
      return prevented;
    }
  }

  let contents: Contents;
  beforeAll(() => {
    contents = new Contents();
    guardWebContents(contents as unknown as Electron.WebContents, undefined);
  });

  it('keeps the window on the renderer and sends web links to the system browser', () => {
    expect(contents.fire('will-navigate', 'app://diffusion-monitor/index.html#/events')).toBe(false);
    expect(contents.fire('will-navigate', 'https://example.com/')).toBe(true);
    expect(fake.shell.openExternal).toHaveBeenCalledWith('https://example.com/');
    fake.shell.openExternal.mockClear();
    expect(contents.fire('will-navigate', 'file:///etc/passwd')).toBe(true);
    expect(fake.shell.openExternal).not.toHaveBeenCalled();
    expect(contents.fire('will-redirect', 'https://example.com/')).toBe(true);
    expect(contents.fire('will-attach-webview', '')).toBe(true);
  });

  it('opens no new window, ever', () => {
    expect(contents.openHandler?.({ url: 'https://example.com/' })).toEqual({ action: 'deny' });
    expect(contents.openHandler?.({ url: 'app://diffusion-monitor/index.html' })).toEqual({ action: 'deny' });
  });

  it('recognises the renderer origin and, in development only, the dev server', () => {
    expect(isRendererUrl('app://diffusion-monitor/index.html', undefined)).toBe(true);
    expect(isRendererUrl('app://diffusion-monitor.evil/index.html', undefined)).toBe(false);
    expect(isRendererUrl('http://localhost:5173/', undefined)).toBe(false);
    expect(isRendererUrl('http://localhost:5173/#/x', 'http://localhost:5173')).toBe(true);
    expect(isRendererUrl('file:///index.html', undefined)).toBe(false);
  });
});

describe('preload', () => {
  it('exposes exactly one object, the API, with one function per key and nothing of Electron', async () => {
    await import('../../../src/preload/index');
    expect(fake.contextBridge.exposeInMainWorld).toHaveBeenCalledTimes(1);
    const [name, api] = fake.contextBridge.exposeInMainWorld.mock.calls[0] as [string, Record<string, unknown>];
    expect(name).toBe(BRIDGE_NAME);
    expect(Object.keys(api).sort()).toEqual([...API_KEYS].sort());
    for (const value of Object.values(api)) expect(typeof value).toBe('function');
  });
});
