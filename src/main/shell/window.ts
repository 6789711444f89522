import { BrowserWindow, shell, type WebContents, type WebPreferences } from 'electron';
import { isRendererUrl } from './rendererOrigin';

/**
 * The renderer runs like a web page: isolated from the preload, sandboxed, without Node, and
 * unable to load remote or insecure content. Asserted by `test/unit/shell/hardening.test.ts`.
 */
export const HARDENED_WEB_PREFERENCES = {
  contextIsolation: true,
  sandbox: true,
  nodeIntegration: false,
  nodeIntegrationInWorker: false,
  nodeIntegrationInSubFrames: false,
  webSecurity: true,
  allowRunningInsecureContent: false,
  experimentalFeatures: false,
  webviewTag: false,
  navigateOnDragDrop: false,
  spellcheck: false,
} as const satisfies WebPreferences;

/** Opens http(s) links in the user's browser; everything else is dropped. */
function openExternally(url: string): void {
  try {
    const protocol = new URL(url).protocol;
    if (protocol === 'http:' || protocol === 'https:') void shell.openExternal(url);
  } catch {
    // Not a URL: nothing to open.
  }
}

/**
 * Blocks navigation away from the renderer and every new window, for any web contents the app
 * creates. Links the renderer marks as external open in the system browser instead.
 */
export function guardWebContents(contents: WebContents, devServerUrl: string | undefined): void {
  contents.on('will-navigate', (event, url) => {
    if (isRendererUrl(url, devServerUrl)) return;
    event.preventDefault();
    openExternally(url);
  });
  contents.on('will-redirect', (event, url) => {
    if (!isRendererUrl(url, devServerUrl)) event.preventDefault();
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(({ url }) => {
    openExternally(url);
    return { action: 'deny' };
  });
}

export interface MainWindowOptions {
  preloadPath: string;
  /** `app://diffusion-monitor/index.html`, or the dev server's URL. */
  url: string;
  devTools: boolean;
}

/** The one window; shown once the first paint is ready, so it never flashes white. */
export async function createMainWindow(options: MainWindowOptions): Promise<BrowserWindow> {
  const window = new BrowserWindow({
    width: 1360,
    height: 900,
    minWidth: 960,
    minHeight: 640,
    show: false,
    backgroundColor: '#0b0f14',
    title: 'Diffusion Monitor',
    autoHideMenuBar: false,
    webPreferences: { ...HARDENED_WEB_PREFERENCES, preload: options.preloadPath, devTools: options.devTools },
  });
  window.once('ready-to-show', () => window.show());
  await window.loadURL(options.url);
  return window;
}
