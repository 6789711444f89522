import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const ROOT = resolve(import.meta.dirname, '../../..');
/** Screenshots kept as the suite's artifacts. */
export const SHOTS = join(ROOT, 'test-results', 'e2e');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export interface Browser {
  context: BrowserContext;
  page: Page;
  /** Uncaught exceptions on the page; must stay empty. */
  pageErrors: string[];
  close(): Promise<void>;
}

/** Debian's Chromium, headless, with a throw-away profile. */
export async function launchBrowser(viewport: { width: number; height: number }): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  mkdirSync(SHOTS, { recursive: true });
  const profile = mkdtempSync(join(tmpdir(), 'diffusion-monitor-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    viewport,
    acceptDownloads: true,
    timezoneId: 'UTC',
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const pageErrors: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  return {
    context,
    page,
    pageErrors,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** A screenshot under test-results/e2e/; `fullHeight` grows the viewport to the content pane's height. */
export async function screenshot(page: Page, name: string, fullHeight = false): Promise<void> {
  const viewport = page.viewportSize() ?? { width: 1440, height: 900 };
  if (fullHeight) {
    // The app scrolls inside its content pane, so a "full page" shot needs a viewport that tall.
    const height = await page.locator('.content').evaluate((content: { scrollHeight: number }) => content.scrollHeight + 8);
    await page.setViewportSize({ width: viewport.width, height: Math.max(viewport.height, height) });
  }
  await page.screenshot({ path: join(SHOTS, `${name}.png`) });
  if (fullHeight) await page.setViewportSize(viewport);
}

/** One text element whose contrast is below WCAG AA. */
export interface LowContrast {
  text: string;
  ratio: number;
  color: string;
  background: string;
}

/**
 * Every visible text element's contrast against the background it is drawn on (backgrounds of
 * its ancestors composited, gradients ignored), lowest first; those below `minimum` are returned.
 * Disabled controls are exempt, as in WCAG 1.4.3.
 */
export function lowContrastTexts(page: Page, minimum = 4.5): Promise<LowContrast[]> {
  return page.evaluate((min) => {
    type Rgba = [number, number, number, number];
    interface El {
      tagName: string;
      parentElement: El | null;
      childNodes: ArrayLike<{ nodeType: number; textContent: string | null }>;
      closest(selector: string): El | null;
      getClientRects(): { length: number };
      textContent: string | null;
    }
    const scope = globalThis as unknown as {
      document: { body: El; querySelectorAll(selector: string): ArrayLike<El> };
      getComputedStyle(el: El): { color: string; backgroundColor: string; opacity: string; visibility: string; display: string };
    };
    const parse = (value: string): Rgba => {
      const match = /rgba?\(([^)]+)\)/.exec(value);
      if (!match) return [0, 0, 0, 0];
      const parts = (match[1] as string)
        .split(/[ ,/]+/)
        .filter(Boolean)
        .map(Number);
      return [parts[0] ?? 0, parts[1] ?? 0, parts[2] ?? 0, parts[3] ?? 1];
    };
    const over = (top: Rgba, bottom: Rgba): Rgba => {
      const a = top[3] + bottom[3] * (1 - top[3]);
      if (a === 0) return [0, 0, 0, 0];
      const mix = (i: number): number => (top[i]! * top[3] + bottom[i]! * bottom[3] * (1 - top[3])) / a;
      return [mix(0), mix(1), mix(2), a];
    };
    const luminance = (c: Rgba): number => {
      const channel = (v: number): number => {
        const s = v / 255;
        return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
      };
      return 0.2126 * channel(c[0]) + 0.7152 * channel(c[1]) + 0.0722 * channel(c[2]);
    };
    const background = (el: El): Rgba => {
      const chain: El[] = [];
      for (let node: El | null = el; node; node = node.parentElement) chain.push(node);
      let result: Rgba = [11, 15, 20, 1];
      for (const node of chain.reverse()) result = over(parse(scope.getComputedStyle(node).backgroundColor), result);
      return result;
    };
    const found: Array<{ text: string; ratio: number; color: string; background: string }> = [];
    const all = scope.document.querySelectorAll('body *');
    for (let i = 0; i < all.length; i += 1) {
      const el = all[i] as El;
      if (['SCRIPT', 'STYLE', 'CANVAS', 'OPTION'].includes(el.tagName)) continue;
      const own = Array.from(el.childNodes)
        .filter((n) => n.nodeType === 3)
        .map((n) => n.textContent ?? '')
        .join('')
        .trim();
      if (own === '' || el.getClientRects().length === 0) continue;
      if (el.closest('[disabled], [aria-disabled=true]')) continue;
      const style = scope.getComputedStyle(el);
      if (style.visibility === 'hidden') continue;
      const bg = background(el);
      const fg = over(parse(style.color), bg);
      const [l1, l2] = [luminance(fg), luminance(bg)].sort((a, b) => b - a) as [number, number];
      const ratio = (l1 + 0.05) / (l2 + 0.05);
      if (ratio < min)
        found.push({
          text: own.slice(0, 40),
          ratio: Math.round(ratio * 100) / 100,
          color: style.color,
          background: `rgb(${bg.slice(0, 3).map(Math.round).join(', ')})`,
        });
    }
    return found.sort((a, b) => a.ratio - b.ratio);
  }, minimum);
}
