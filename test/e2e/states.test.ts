import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeDllmServer } from '../fixtures/fakeDllmServer';
import type { FakeServer } from '../fixtures/fakeHttp';
import { ROOT, launchBrowser, lowContrastTexts, screenshot, type Browser } from './support/browser';
import { RENDERER_DIR, startApp, type RunningApp } from './support/startApp';

/**
 * The states a user must be able to see: a model backend going down and coming back, a failed
 * request explained, Settings refusing bad values next to the field, the playground stopped and
 * infilling, the 800 px layout, and the monitor server itself going away (last: it ends the app).
 */

const WIDE = { width: 1440, height: 900 };
const NARROW = { width: 800, height: 900 };
/** Health is probed at most every 5 s on the server and polled every 1.5–4 s here. */
const HEALTH_WAIT = { timeout: 20_000, interval: 250 };

let fake: FakeServer;
let app: RunningApp;
let appClosed = false;
let browser: Browser;
let page: Page;

async function open(view: string): Promise<void> {
  await page.goto(`${app.url}/#/${view}`);
  await page.getByTestId(`${view}-view`).waitFor();
}

/** Same-page navigation (hash change), which works while the server is gone. */
async function navigate(view: string): Promise<void> {
  await page.getByTestId(`nav-${view}`).click();
  await page.getByTestId(`${view}-view`).waitFor();
}

const visible = (testId: string) => () => page.getByTestId(testId).isVisible();

beforeAll(async () => {
  if (!existsSync(join(RENDERER_DIR, 'index.html'))) {
    execFileSync(join(ROOT, 'node_modules', '.bin', 'electron-vite'), ['build'], { cwd: ROOT, stdio: 'inherit' });
  }
  fake = await startFakeDllmServer({ steps: 16, stepMs: 60 });
  app = await startApp({ backendUrl: fake.url });
  browser = await launchBrowser(WIDE);
  page = browser.page;
});

afterAll(async () => {
  await browser?.close();
  if (!appClosed) await app?.close();
  await fake?.close();
});

describe('states the dashboard makes visible', () => {
  it('shows a backend going down in a banner and the sidebar dot, and clears both when it is back', async () => {
    await open('dashboard');
    await expect.poll(() => page.getByTestId('backend-status').getAttribute('data-state'), HEALTH_WAIT).toBe('up');
    expect(await page.getByTestId('health-banner').count()).toBe(0);

    const port = fake.port;
    await fake.close();
    await expect.poll(visible('health-banner'), HEALTH_WAIT).toBe(true);
    const banner = (await page.getByTestId('health-banner').textContent()) ?? '';
    expect(banner).toContain('unreachable since');
    expect(banner).toContain(fake.url.replace(/^http:\/\//, ''));
    expect(await page.getByTestId('backend-status').getAttribute('data-state')).toBe('down');
    await screenshot(page, 'backend-down');

    // The playground says so too, before anyone presses Run.
    await navigate('playground');
    await expect.poll(visible('health-banner'), HEALTH_WAIT).toBe(true);

    fake = await startFakeDllmServer({ port, steps: 16, stepMs: 60 });
    await navigate('dashboard');
    await expect.poll(visible('health-banner'), HEALTH_WAIT).toBe(false);
    await expect.poll(() => page.getByTestId('backend-status').getAttribute('data-state'), HEALTH_WAIT).toBe('up');
    await screenshot(page, 'backend-back');
  });

  it('keeps every text at WCAG AA contrast on the dashboard', async () => {
    await open('dashboard');
    await page.getByRole('radio', { name: 'All' }).click();
    await page.getByTestId('kpi-requests').waitFor();
    expect(await lowContrastTexts(page)).toEqual([]);
    // The check measures every text: against an impossible bar, they all fail it.
    expect((await lowContrastTexts(page, 21)).length).toBeGreaterThan(50);
    await screenshot(page, 'dashboard-contrast', true);
  });

  it("explains a failed request in its event's details, opened by keyboard", async () => {
    fake.setFault('http500');
    const response = await fetch(`${app.url}/api/diffusion/generate`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ prompt: 'this one fails', max_new_tokens: 8 }),
    });
    fake.setFault('none');
    expect(response.status).toBe(502);
    const requestId = response.headers.get('x-request-id') ?? '';
    const message = ((await response.json()) as { error: { message: string } }).error.message;

    await open('events');
    await page.getByTestId('filter-outcome').selectOption('error');
    const row = page.locator('tr.clickable').first();
    await expect.poll(() => row.textContent()).toContain('backend');
    await row.focus();
    await page.keyboard.press('Enter');
    const details = page.getByTestId('event-details');
    await details.waitFor();
    const text = (await details.textContent()) ?? '';
    expect(text).toContain(message.slice(0, 60));
    expect(text).toContain('HTTP 500');
    expect(text).toContain(requestId);
    expect(text).toMatch(/Duration\d[\d,.]* ms/);
    expect(text).not.toMatch(/\d\.\d{6,}/);
    expect(await page.getByTestId('events-total').textContent()).toMatch(/^\d[\d,]* matching events?$/);
    await screenshot(page, 'event-failure');
    await page.keyboard.press('Enter');
    await expect.poll(() => details.count()).toBe(0);

    // The client's X-Request-Id finds the one row, and a time filter keeps recent ones only.
    await page.getByTestId('filter-outcome').selectOption('');
    await page.getByTestId('filter-request-id').fill(requestId);
    await page.getByTestId('filter-request-id').press('Enter');
    await expect.poll(() => page.locator('tr.clickable').count()).toBe(1);
    await page.getByTestId('filter-request-id').fill('');
    await page.getByTestId('filter-request-id').press('Enter');
    await page.getByTestId('filter-since').selectOption('15m');
    await expect.poll(() => page.locator('tr.clickable').count()).toBeGreaterThan(1);
    const times = await page.locator('tr.clickable td:nth-child(2)').allTextContents();
    const oldest = times.map((t) => Date.parse(`${t.replace(' ', 'T')}Z`)).sort((a, b) => a - b)[0] as number;
    expect(Date.now() - oldest).toBeLessThan(16 * 60 * 1000);
  });

  it('puts each invalid setting in one sentence next to its field', async () => {
    await open('settings');
    await page.getByTestId('setting-backend').fill('localhost:8000');
    await page.getByTestId('setting-timeout').fill('-3');
    await page.getByTestId('setting-port').fill('70000');
    await page.getByTestId('save-settings').click();
    await expect.poll(visible('error-backend')).toBe(true);
    expect(await page.getByTestId('error-backend').textContent()).toMatch(/^Backend URL must be an http:\/\/ or https:\/\/ URL/);
    expect(await page.getByTestId('error-timeout').textContent()).toBe('Timeout must be above 0 and at most 3600');
    expect(await page.getByTestId('error-port').textContent()).toBe('Port must be between 0 and 65535');
    expect(await page.getByTestId('setting-timeout').getAttribute('aria-invalid')).toBe('true');
    expect(await page.locator('.notice-error').textContent()).toContain('3 settings need fixing');
    await screenshot(page, 'settings-errors', true);
    // Fixing a field takes its message away at once.
    await page.getByTestId('setting-timeout').fill('30');
    await expect.poll(() => page.getByTestId('error-timeout').count()).toBe(0);
  });

  it('runs an infill with its context around the gap, and says Stopped after Esc', async () => {
    await open('playground');
    // The mode switch answers arrow keys.
    await page.locator('[data-testid=mode] [aria-checked=true]').focus();
    await page.keyboard.press(
      (await page.locator('[data-testid=mode] [data-mode=generate]').getAttribute('aria-checked')) === 'true' ? 'ArrowRight' : 'ArrowLeft',
    );
    await expect.poll(() => page.locator('[data-testid=mode] [data-mode=infill]').getAttribute('aria-checked')).toBe('true');
    await page.getByTestId('prefix').fill('def add(a, b):\n');
    await page.getByTestId('suffix').fill('\n\nprint(add(2, 3))\n');
    await page.getByTestId('param-steps').fill('48');
    await page.getByTestId('run').click();
    await expect.poll(() => page.locator('[data-testid=diffusion-canvas] .tok.mask').count()).toBeGreaterThan(0);
    expect(await page.getByTestId('infill-prefix').textContent()).toBe('def add(a, b):\n');
    expect(await page.getByTestId('infill-suffix').textContent()).toBe('\n\nprint(add(2, 3))\n');
    await expect.poll(async () => Number(await page.getByTestId('diffusion-canvas').getAttribute('data-step')), { timeout: 10_000 }).toBeGreaterThanOrEqual(8);
    expect(await page.locator('[data-testid=diffusion-canvas] [class*=reveal-]').count()).toBeGreaterThan(0);
    await screenshot(page, 'playground-infill');

    await page.keyboard.press('Escape');
    await expect.poll(visible('run-stopped')).toBe(true);
    expect(await page.getByTestId('run-stopped').textContent()).toMatch(/Stopped at step \d+ of 48/);
    expect(await page.locator('[data-testid=diffusion-canvas] .tok.mask').count()).toBeGreaterThan(0);
    await screenshot(page, 'playground-stopped');

    // Switching mode clears the infill's canvas.
    await page.locator('[data-testid=mode] [data-mode=generate]').click();
    await expect.poll(() => page.getByTestId('run-stopped').count()).toBe(0);
    expect(await page.getByTestId('infill-prefix').count()).toBe(0);
  });

  it('lays out at 800 px: labelled icon sidebar, status dots, tables that scroll sideways', async () => {
    await page.setViewportSize(NARROW);
    await open('dashboard');
    await page.getByTestId('kpi-requests').waitFor();
    expect(await page.getByTestId('backend-status').isVisible()).toBe(true);
    expect(await page.getByTestId('live-indicator').isVisible()).toBe(true);
    await page.getByTestId('nav-events').hover();
    await expect.poll(() => page.getByTestId('nav-events').locator('.nav-label').isVisible()).toBe(true);
    // Headings in order: one h1, then h2s.
    const headings = await page.locator('h1, h2, h3').evaluateAll((els: Array<{ tagName: string }>) => els.map((el) => el.tagName));
    expect(headings[0]).toBe('H1');
    expect(headings.filter((tag) => tag === 'H1')).toHaveLength(1);
    expect(headings).not.toContain('H3');
    await screenshot(page, 'narrow-dashboard');

    await open('events');
    await page.locator('tr.clickable').first().waitFor();
    const scroll = page.locator('.table-scroll').first();
    const widths = await scroll.evaluate((el: { scrollWidth: number; clientWidth: number }) => ({ scroll: el.scrollWidth, client: el.clientWidth }));
    expect(widths.scroll).toBeGreaterThan(widths.client);
    // Labels also show on keyboard focus.
    await page.mouse.move(400, 600);
    await page.getByTestId('nav-playground').focus();
    await page.keyboard.press('Tab');
    await expect.poll(() => page.getByTestId('nav-events').locator('.nav-label').isVisible()).toBe(true);
    await screenshot(page, 'narrow-events');
    expect(await lowContrastTexts(page)).toEqual([]);

    await open('playground');
    const run = await page.getByTestId('run').boundingBox();
    const canvas = await page.getByTestId('diffusion-canvas').boundingBox();
    // The canvas sits beside the form, not below all of it.
    expect(canvas && run && canvas.x > run.x + run.width / 2).toBe(true);
    await screenshot(page, 'narrow-playground');
    await page.setViewportSize(WIDE);
  });

  it('tells the monitor server going away apart from an empty or failing view', async () => {
    await open('dashboard');
    await page.getByTestId('kpi-requests').waitFor();
    await app.close();
    appClosed = true;
    await expect.poll(visible('server-banner'), HEALTH_WAIT).toBe(true);
    expect(await page.getByTestId('live-indicator').textContent()).toContain('Server unreachable');
    expect(await page.getByTestId('health-banner').count()).toBe(0);
    await screenshot(page, 'server-gone-dashboard');

    await navigate('events');
    await expect.poll(visible('server-down')).toBe(true);
    expect(await page.getByText('No events recorded yet').count()).toBe(0);
    await screenshot(page, 'server-gone-events');

    await navigate('playground');
    await expect.poll(visible('server-banner')).toBe(true);
    expect(browser.pageErrors).toEqual([]);
  });
});
