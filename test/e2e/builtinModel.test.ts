import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, SHOTS, launchBrowser, type Browser } from './support/browser';
import { RENDERER_DIR, startApp, type RunningApp } from './support/startApp';
import { recordCanvasSteps, seenCanvasSteps } from './support/canvasSteps';

/**
 * The Playground and the dashboard against the built-in model: no backend is configured and no
 * fake stands in; the real model file runs in the real worker, the canvas in Chromium shows it.
 */

const VIEWPORT = { width: 1440, height: 900 };

let app: RunningApp;
let browser: Browser;
let page: Page;
let pageErrors: string[] = [];

async function open(view: string): Promise<void> {
  await page.goto(`${app.url}/#/${view}`);
  await page.getByTestId(`${view}-view`).waitFor();
}

const maskedNow = async (): Promise<number> => Number(await page.getByTestId('diffusion-canvas').getAttribute('data-masked'));

beforeAll(async () => {
  if (!existsSync(join(RENDERER_DIR, 'index.html'))) {
    execFileSync(join(ROOT, 'node_modules', '.bin', 'electron-vite'), ['build'], { cwd: ROOT, stdio: 'inherit' });
  }
  // No backend URL, an empty database: what a new user sees on the first start.
  app = await startApp({ seed: false });
  browser = await launchBrowser(VIEWPORT);
  ({ page, pageErrors } = browser);
  // Console errors count as failures here too: the built-in model's first run must be clean.
  page.on('console', (message) => {
    if (message.type() === 'error') pageErrors.push(message.text());
  });
});

afterAll(async () => {
  await browser?.close();
  await app?.close();
});

describe('the built-in model in the browser dashboard', () => {
  it('names the built-in model as the backend and runs the one-click sample from the empty dashboard', async () => {
    await open('dashboard');
    await expect.poll(() => page.getByTestId('backend-label').textContent()).toBe('built-in model');
    await page.getByTestId('sample-run').click();
    await expect.poll(() => page.getByTestId('sample-status').textContent(), { timeout: 30_000 }).toMatch(/^Sample answered in /);
    // The sample is a recorded request like any other, and the dashboard shows it.
    await expect.poll(() => page.getByTestId('kpi-requests').textContent(), { timeout: 10_000 }).toContain('1');
    expect(app.core.store.summary().overall.total_requests).toBe(1);
  });

  it('denoises a generation on the Playground canvas step by step, and keeps a screenshot mid-denoise', async () => {
    await open('playground');
    await page.getByRole('radio', { name: 'Generate' }).click();
    await page.getByTestId('prompt').fill('def parse(line):\n    ');
    // `origin` over many steps unmasks at an even pace, so the canvas is caught half-way.
    const field = (label: string) => page.locator('label.field').filter({ has: page.getByText(label, { exact: true }) });
    await field('Steps').locator('input').fill('1500');
    await field('Algorithm').locator('select').selectOption('origin');
    await field('Temperature').locator('input').fill('0.8');
    await recordCanvasSteps(page);
    await page.getByTestId('run').click();
    await expect.poll(maskedNow, { timeout: 30_000 }).toBeLessThanOrEqual(48);
    await page.screenshot({ path: join(SHOTS, 'builtin-playground-denoising.png') });
    await page.getByTestId('run-outcome').waitFor({ timeout: 60_000 });
    expect(await page.getByTestId('run-outcome').textContent()).toContain('dm-builtin-pystdlib');

    const seen = await seenCanvasSteps(page);
    expect(seen.length).toBeGreaterThanOrEqual(4);
    // Drawn masks and the frames' masked counts agree, and only fall.
    expect(seen.some((s) => s.masks > 0 && s.masks < 64)).toBe(true);
    const masked = seen.map((s) => Number(s.masked));
    for (let i = 1; i < masked.length; i += 1) expect(masked[i]).toBeLessThanOrEqual(masked[i - 1] as number);
    expect(masked.at(-1)).toBe(0);

    // Scrubbed back to the middle, the canvas shows that step's real masks.
    const scrubber = page.getByTestId('scrubber').locator('input[type=range]');
    const last = Number(await scrubber.getAttribute('max'));
    await scrubber.fill(String(Math.floor(last / 2)));
    await expect.poll(maskedNow).toBeGreaterThan(0);
    // The drawn mask tokens settle to the frame's masked count.
    await expect.poll(async () => (await page.getByTestId('diffusion-canvas').locator('.tok.mask').count()) - (await maskedNow())).toBe(0);
    await page.screenshot({ path: join(SHOTS, 'builtin-playground-scrubbed.png') });
  });

  it('reported no console errors or CSP violations', () => {
    expect(pageErrors).toEqual([]);
  });
});
