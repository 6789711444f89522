import type { Page } from 'playwright-core';

/** One canvas state the Playground drew: its step, its `masked` count, and the masks on screen. */
export interface SeenStep {
  step: string;
  masked: string;
  masks: number;
}

interface ElementLike {
  dataset: Record<string, string | undefined>;
  querySelectorAll(selector: string): { length: number };
}
interface PageGlobals {
  document: { querySelector(selector: string): ElementLike };
  MutationObserver: new (callback: () => void) => { observe(target: ElementLike, options: Record<string, boolean>): void };
  seenSteps: SeenStep[];
}

/** Starts recording, in the page, every step the diffusion canvas shows (one entry per new step). */
export async function recordCanvasSteps(page: Page): Promise<void> {
  await page.evaluate(() => {
    const scope = globalThis as unknown as PageGlobals;
    const seen: SeenStep[] = [];
    scope.seenSteps = seen;
    const canvas = scope.document.querySelector('[data-testid=diffusion-canvas]');
    new scope.MutationObserver(() => {
      const step = canvas.dataset.step ?? '';
      if (step !== '' && seen.at(-1)?.step !== step)
        seen.push({ step, masked: canvas.dataset.masked ?? '', masks: canvas.querySelectorAll('.tok.mask').length });
    }).observe(canvas, { attributes: true, childList: true, subtree: true });
  });
}

/** The steps recorded since `recordCanvasSteps`. */
export function seenCanvasSteps(page: Page): Promise<SeenStep[]> {
  return page.evaluate(() => (globalThis as unknown as PageGlobals).seenSteps);
}
