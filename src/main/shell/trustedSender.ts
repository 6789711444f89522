import type { WebFrameMain } from 'electron';
import { isRendererUrl } from './rendererOrigin';

/**
 * IPC is answered only for our renderer's top-level frame: a frame that navigated elsewhere, an
 * iframe, or a destroyed frame gets nothing.
 */
export function isTrustedSender(frame: WebFrameMain | null | undefined, devServerUrl: string | undefined): boolean {
  if (!frame) return false;
  try {
    if (frame.parent !== null) return false;
    return isRendererUrl(frame.url, devServerUrl);
  } catch {
    // Accessing a disposed frame throws.
    return false;
  }
}
