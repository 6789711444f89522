import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_GENERATE_ANSWER, startFakeDllmServer } from '../fixtures/fakeDllmServer';
import type { FakeServer } from '../fixtures/fakeHttp';
import { ROOT, launchBrowser, screenshot as shoot, type Browser } from './support/browser';
import { RENDERER_DIR, startApp, type RunningApp } from './support/startApp';
import { recordCanvasSteps, seenCanvasSteps } from './support/canvasSteps';

/**
 * The browser dashboard end to end: the headless server (in-process, seeded database, fake dllm
 * backend) serving the renderer build to Debian's Chromium, driven by playwright-core.
 */

const VIEWPORT = { width: 1440, height: 900 };

let fake: FakeServer;
let app: RunningApp;
let browser: Browser;
let page: Page;
/** Console errors and CSP violations the page reported; must stay empty. */
let pageErrors: string[] = [];

function screenshot(name: string, fullHeight = false): Promise<void> {
  return shoot(page, name, fullHeight);
}

async function open(view: string): Promise<void> {
  await page.goto(`${app.url}/#/${view}`);
  await page.getByTestId(`${view}-view`).waitFor();
}

/**
 * What the page functions below touch, typed structurally: they run in Chromium, while this file
 * is type-checked without the DOM library.
 */
interface CanvasLike {
  width: number;
  height: number;
  getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: ArrayLike<number> } } | null;
  toDataURL(): string;
}
/** Painted pixels of a canvas (alpha > 0), read back from the page. */
function paintedPixels(testId: string): Promise<number> {
  return page
    .getByTestId(testId)
    .locator('canvas')
    .evaluate((canvas: CanvasLike) => {
      const context2d = canvas.getContext('2d');
      if (!context2d || canvas.width === 0 || canvas.height === 0) return 0;
      const data = context2d.getImageData(0, 0, canvas.width, canvas.height).data;
      let painted = 0;
      for (let i = 3; i < data.length; i += 4) if ((data[i] as number) > 0) painted += 1;
      return painted;
    });
}

beforeAll(async () => {
  if (!existsSync(join(RENDERER_DIR, 'index.html'))) {
    execFileSync(join(ROOT, 'node_modules', '.bin', 'electron-vite'), ['build'], { cwd: ROOT, stdio: 'inherit' });
  }
  fake = await startFakeDllmServer({ steps: 16, stepMs: 60 });
  app = await startApp({ backendUrl: fake.url });
  browser = await launchBrowser(VIEWPORT);
  ({ page, pageErrors } = browser);
  page.on('console', (message) => {
    if (message.type() === 'error') pageErrors.push(message.text());
  });
});

afterAll(async () => {
  await browser?.close();
  await app?.close();
  await fake?.close();
});

describe('the browser dashboard', () => {
  it('shows the seeded numbers', async () => {
    await open('dashboard');
    await page.getByRole('radio', { name: 'All' }).click();
    const requests = page.getByTestId('kpi-requests').locator('.tile-value');
    await expect.poll(() => requests.textContent()).toBe(String(app.totals.requests));
    expect(await page.getByTestId('kpi-errors').locator('.tile-value').textContent()).toBe(String(app.totals.errors));
    const successRate = (((app.totals.requests - app.totals.errors) / app.totals.requests) * 100).toFixed(1);
    expect(await page.getByTestId('kpi-success').locator('.tile-value').textContent()).toBe(`${successRate}%`);
    await expect.poll(() => page.getByTestId('live-indicator').textContent()).toContain('Live');
    await page.getByRole('radio', { name: '1 hour' }).click();
    await expect.poll(() => requests.textContent()).not.toBe(String(app.totals.requests));
    await screenshot('dashboard', true);
  });

  it('draws the charts and redraws them when a request is made', async () => {
    await open('dashboard');
    // All time: a count that cannot drop while the test runs (a minute-aligned window's edge moves).
    await page.getByRole('radio', { name: 'All' }).click();
    const requests = page.getByTestId('kpi-requests').locator('.tile-value');
    const before = app.totals.requests;
    await expect.poll(() => requests.textContent()).toBe(String(before));
    for (const chart of ['chart-requests', 'chart-latency', 'chart-throughput', 'chart-ttfs', 'chart-endpoints', 'chart-models', 'chart-errors']) {
      await expect.poll(() => paintedPixels(chart), { message: chart }).toBeGreaterThan(2000);
    }
    const image = (): Promise<string> =>
      page
        .getByTestId('chart-requests')
        .locator('canvas')
        .evaluate((canvas: CanvasLike) => canvas.toDataURL());
    const drawn = await image();

    // A request from another client: the dashboard learns of it by push, not by reloading.
    const response = await fetch(`${app.url}/api/diffusion/generate`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ prompt: 'one more', max_new_tokens: 16 }),
    });
    expect(response.status).toBe(200);
    await expect.poll(() => requests.textContent(), { timeout: 10_000 }).toBe(String(before + 1));
    await expect.poll(image, { timeout: 10_000 }).not.toBe(drawn);
  });

  it('streams a generation in the playground with visible denoising steps', async () => {
    await open('playground');
    await expect.poll(() => page.locator('input[list=playground-models]').inputValue()).toBe('fake-dream-7b');
    await page.getByTestId('prompt').fill('Explain diffusion language models.');
    // Record every canvas state the page shows while the stream runs.
    await recordCanvasSteps(page);
    await page.keyboard.press('Control+Enter');
    await expect.poll(() => page.locator('.tok.mask').count()).toBeGreaterThan(0);
    // Half-way through: some positions filled in, some still masked.
    // (data-masked reads 0 before the first step arrives, so wait for a step first.)
    const canvas = page.getByTestId('diffusion-canvas');
    await expect
      .poll(async () => ((await canvas.getAttribute('data-step')) === '' ? 99 : Number(await canvas.getAttribute('data-masked'))), { timeout: 10_000 })
      .toBeLessThanOrEqual(7);
    await screenshot('playground-streaming');
    await page.getByTestId('run-outcome').waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('run-output').textContent()).toContain(DEFAULT_GENERATE_ANSWER);

    const seen = await seenCanvasSteps(page);
    expect(seen.length).toBeGreaterThanOrEqual(4);
    expect(seen.some((s) => s.masks > 0)).toBe(true);
    const masked = seen.map((s) => Number(s.masked));
    expect(masked[0]).toBeGreaterThan(masked.at(-1) as number);
    expect(masked.at(-1)).toBe(0);

    // The scrubber goes back to the first step, masks and all.
    await page.getByTestId('scrubber').locator('input[type=range]').fill('0');
    await expect.poll(() => page.locator('.tok.mask').count()).toBeGreaterThan(0);
    expect(await page.getByTestId('step-label').textContent()).toMatch(/^step 1 \/ 16/);
    await page.getByTestId('scrubber').locator('input[type=range]').fill('8');
    await screenshot('playground');
  });

  it('downloads exports whose content matches the export route', async () => {
    await open('export');
    // The count is there before any click: the seeded events plus the two requests of the tests before.
    await expect.poll(() => page.getByTestId('export-count-csv').textContent()).toBe(`${app.totals.requests + 2} events stored (all time).`);
    expect(await page.getByTestId('export-name-csv').textContent()).toMatch(/^diffusion-monitor-all-\d{4}-\d{2}-\d{2}T\d{4}\.csv$/);
    await page.getByRole('radio', { name: '15 min' }).click();
    await expect.poll(() => page.getByTestId('export-name-json').textContent()).toMatch(/^diffusion-monitor-15m-/);
    await page.getByRole('radio', { name: 'All' }).click();
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-button-prometheus').click()]);
    expect(download.suggestedFilename()).toMatch(/^diffusion-monitor-all-\d{4}-\d{2}-\d{2}T\d{4}\.prom$/);
    const file = await download.path();
    const served = await (await fetch(`${app.url}/api/diffusion/metrics/export?format=prometheus`)).text();
    expect(readFileSync(file, 'utf8')).toBe(served);
    await expect.poll(() => page.locator('.notice-ok').textContent()).toContain('Downloaded');

    const [csv] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-button-csv').click()]);
    expect(csv.suggestedFilename()).toMatch(/\.csv$/);
    const lines = readFileSync(await csv.path(), 'utf8')
      .trim()
      .split('\r\n');
    // The seeded events, plus the request and the playground run of the tests before.
    expect(lines.length - 1).toBe(app.totals.requests + 2);
    await screenshot('export');
  });

  it('keeps saved settings across a reload', async () => {
    await open('settings');
    const model = page.getByTestId('setting-model');
    await model.waitFor();
    await page.getByTestId('test-connection').click();
    await expect.poll(() => page.locator('.probe-result').textContent()).toContain('fake-dream-7b');
    await page.locator('.probe-result .chip', { hasText: 'fake-dream-7b' }).click();
    expect(await model.inputValue()).toBe('fake-dream-7b');
    await page.getByTestId('save-settings').click();
    await expect.poll(() => page.locator('.notice-ok').textContent()).toContain('In effect now: default model');
    await screenshot('settings');
    await page.reload();
    await page.getByTestId('settings-view').waitFor();
    await expect.poll(() => page.getByTestId('setting-model').inputValue()).toBe('fake-dream-7b');
    expect(JSON.parse(readFileSync(app.settingsFile, 'utf8'))).toMatchObject({ model: 'fake-dream-7b' });
  });

  it('lists and filters the events', async () => {
    await open('events');
    await expect.poll(() => page.getByTestId('events-table').locator('tbody tr').count()).toBe(50);
    await screenshot('events');
    await page.getByTestId('filter-outcome').selectOption('error');
    await expect.poll(() => page.getByTestId('events-table').locator('tbody tr').count()).toBe(app.totals.errors);
    expect(await page.getByTestId('events-table').locator('.badge-ok').count()).toBe(0);
  });

  it('reported no console errors or CSP violations', () => {
    expect(pageErrors).toEqual([]);
  });
});
