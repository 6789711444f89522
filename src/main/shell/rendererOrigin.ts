/** The privileged scheme the desktop window loads the renderer from (never `file://`). */
export const APP_SCHEME = 'app';
export const APP_HOST = 'diffusion-monitor';
export const RENDERER_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const RENDERER_ENTRY = `${RENDERER_ORIGIN}/index.html`;

/**
 * True when `url` belongs to our renderer: the `app://` origin, or in development the Vite dev
 * server electron-vite started (`ELECTRON_RENDERER_URL`).
 */
export function isRendererUrl(url: string | undefined | null, devServerUrl: string | undefined): boolean {
  if (!url) return false;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (parsed.protocol === `${APP_SCHEME}:` && parsed.host === APP_HOST) return true;
  if (devServerUrl) {
    try {
      return parsed.origin === new URL(devServerUrl).origin;
    } catch {
      return false;
    }
  }
  return false;
}
