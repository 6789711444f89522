import { mkdirSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/main/config';
import { startCore, type Core } from '../../src/main/core';
import { silentLogger } from '../../src/shared/logger';
import { SettingsService, settingsFileOf } from '../../src/main/settingsService';
import { HTTP_ROUTES, type EventsPage, type LiveUpdate, type SaveOutcome, type SettingsView } from '../../src/shared/api';
import type { ErrorBody } from '../../src/shared/errors';
import type { MetricsSeries } from '../../src/shared/series';
import type { MetricsSummary } from '../../src/shared/summary';
import { RENDERER_CSP_HEADER } from '../../src/shared/csp';
import { readSseBody } from '../../src/shared/sseReader';
import { tempDir } from '../fixtures/tempDir';

let dir: ReturnType<typeof tempDir>;
let core: Core | undefined;

async function start(options: { renderer?: boolean; argv?: string[] } = {}): Promise<{ url: string; core: Core }> {
  dir = tempDir();
  const rendererDir = dir.file('renderer');
  if (options.renderer !== false) {
    mkdirSync(`${rendererDir}/assets`, { recursive: true });
    writeFileSync(`${rendererDir}/index.html`, '<!doctype html><title>Diffusion Monitor</title>');
    writeFileSync(`${rendererDir}/assets/app-1234.js`, 'console.log(1)');
  }
  const input = {
    argv: ['--port', '0', '--db', dir.file('m.db'), ...(options.argv ?? [])],
    env: {},
    cwd: dir.path,
    defaultSettingsFile: dir.file('settings.json'),
  };
  const config = resolveConfig(input);
  const settings = new SettingsService({ input, file: settingsFileOf(input, config) });
  core = await startCore(config, { log: silentLogger, settings, dashboard: { rendererDir } });
  return { url: core.server.url, core };
}

function record(c: Core, errorType?: 'timeout'): void {
  c.store.record({
    endpoint: 'generate/stream',
    modelId: 'dream',
    userId: 'u',
    startedAt: Date.now() / 1000,
    duration: 0.8,
    requestId: `r-${Math.random()}`,
    status: errorType ? 504 : 200,
    ...(errorType ? { errorType } : { outputText: 'a fine answer' }),
    params: {},
  });
}

async function json<T>(response: Response | Promise<Response>): Promise<T> {
  return (await (await response).json()) as T;
}

afterEach(async () => {
  await core?.stop();
  core = undefined;
  dir.cleanup();
});

describe('/api/monitor', () => {
  it('answers summary, series and events for a window', async () => {
    const { url, core } = await start();
    record(core);
    record(core, 'timeout');
    core.store.flush();
    const summary = await json<MetricsSummary>(fetch(`${url}${HTTP_ROUTES.summary.path}?window=15m`));
    expect(summary.overall).toMatchObject({ total_requests: 2, total_errors: 1, success_rate: 50 });
    const series = await json<MetricsSeries>(fetch(`${url}${HTTP_ROUTES.series.path}?window=1h`));
    expect(series.t).toHaveLength(60);
    expect(series.requests.reduce((a, b) => a + b, 0)).toBe(2);
    const page = await json<EventsPage>(fetch(`${url}${HTTP_ROUTES.events.path}?limit=1&outcome=error`));
    expect(page.events).toHaveLength(1);
    expect(page.events[0]?.metadata.error_type).toBe('timeout');
    expect(page.nextBefore).toBeNull();
    const first = await json<EventsPage>(fetch(`${url}${HTTP_ROUTES.events.path}?limit=1`));
    expect(first.nextBefore).toBe(first.events[0]?.id);
    const older = await json<EventsPage>(fetch(`${url}${HTTP_ROUTES.events.path}?limit=1&before=${first.nextBefore}`));
    expect(older.events[0]?.id).toBeLessThan(first.events[0]?.id as number);
  });

  it('finds an event by its request id, and only events since a time', async () => {
    const { url, core } = await start();
    record(core);
    const wanted = core.store.events({ limit: 1 })[0]?.metadata.request_id as string;
    record(core, 'timeout');
    core.store.record({
      endpoint: 'generate',
      modelId: 'dream',
      userId: 'u',
      startedAt: Date.now() / 1000 - 7200,
      duration: 0.5,
      requestId: 'old-one',
      status: 200,
      outputText: 'x',
      params: {},
    });
    core.store.flush();
    const found = await json<EventsPage>(fetch(`${url}${HTTP_ROUTES.events.path}?request_id=${encodeURIComponent(wanted)}`));
    expect(found.events.map((e) => e.metadata.request_id)).toEqual([wanted]);
    const none = await json<EventsPage>(fetch(`${url}${HTTP_ROUTES.events.path}?request_id=nope&outcome=error`));
    expect(none.events).toEqual([]);
    const recent = await json<EventsPage>(fetch(`${url}${HTTP_ROUTES.events.path}?since=${Math.floor(Date.now() / 1000 - 3600)}`));
    expect(recent.events).toHaveLength(2);
    expect(recent.events.some((e) => e.metadata.request_id === 'old-one')).toBe(false);
    expect((await fetch(`${url}${HTTP_ROUTES.events.path}?since=yesterday`)).status).toBe(400);
  });

  it('answers bad input with 400 and the field named', async () => {
    const { url } = await start();
    for (const path of [
      `${HTTP_ROUTES.summary.path}?window=3y`,
      `${HTTP_ROUTES.events.path}?limit=0`,
      `${HTTP_ROUTES.events.path}?outcome=maybe`,
      `${HTTP_ROUTES.export.path}?format=xml`,
    ]) {
      const response = await fetch(`${url}${path}`);
      expect(response.status, path).toBe(400);
      expect((await json<ErrorBody>(response)).error.type).toBe('validation');
    }
    const put = await fetch(`${url}${HTTP_ROUTES.saveSettings.path}`, {
      method: 'PUT',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ port: 'seven' }),
    });
    expect(put.status).toBe(400);
    expect((await json<ErrorBody>(put)).error.message).toBe('port must be a number');
  });

  it('saves settings to the file and serves them back after a "reload"', async () => {
    const { url, core } = await start();
    const saved = await fetch(`${url}${HTTP_ROUTES.saveSettings.path}`, {
      method: 'PUT',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ backend: 'http://127.0.0.1:8111', timeout: 30, token: 'a-long-enough-token', db: dir.file('other.db') }),
    });
    expect(saved.status).toBe(200);
    const outcome = await json<SaveOutcome>(saved);
    expect(outcome.applied.sort()).toEqual(['backend', 'timeout']);
    // The token waits for a restart; the database is set by --db, so the saved one waits for the flag to go.
    expect(outcome.restartRequired).toEqual(['token']);
    expect(outcome.settings.overridden).toContain('db');
    expect(core.backend().url).toBe('http://127.0.0.1:8111');
    const again = await json<SettingsView>(fetch(`${url}${HTTP_ROUTES.getSettings.path}`));
    expect(again.saved).toMatchObject({ backend: 'http://127.0.0.1:8111', timeout: 30 });
    expect(again.effective).toMatchObject({ backend: 'http://127.0.0.1:8111', timeout: 30, db: dir.file('m.db') });
  });

  it('refuses requests from other sites', async () => {
    const { url } = await start();
    const crossSite = await fetch(`${url}${HTTP_ROUTES.summary.path}`, { headers: { 'Sec-Fetch-Site': 'cross-site' } });
    expect(crossSite.status).toBe(403);
    const foreignOrigin = await fetch(`${url}${HTTP_ROUTES.saveSettings.path}`, {
      method: 'PUT',
      headers: { Origin: 'http://evil.example', 'Content-Type': 'application/json' },
      body: '{}',
    });
    expect(foreignOrigin.status).toBe(403);
    const sameOrigin = await fetch(`${url}${HTTP_ROUTES.summary.path}`, { headers: { Origin: url, 'Sec-Fetch-Site': 'same-origin' } });
    expect(sameOrigin.status).toBe(200);
  });

  it('pushes live updates over SSE when events are recorded', async () => {
    const { url, core } = await start();
    const abort = new AbortController();
    const response = await fetch(`${url}${HTTP_ROUTES.liveUpdates.path}`, { signal: abort.signal });
    expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const updates: LiveUpdate[] = [];
    const reading = readSseBody(response.body as ReadableStream<Uint8Array>, (data) => {
      updates.push(JSON.parse(data) as LiveUpdate);
      abort.abort();
    }).catch(() => undefined);
    record(core);
    record(core);
    await reading;
    expect(updates[0]?.count).toBe(2);
    expect(updates[0]?.events.map((e) => e.event_type)).toEqual(['diffusion_generate_stream', 'diffusion_generate_stream']);
  });

  it('downloads exports as attachments with dated file names, identical to the export route', async () => {
    const { url, core } = await start();
    record(core);
    core.store.flush();
    const prometheus = await fetch(`${url}${HTTP_ROUTES.export.path}?format=prometheus`);
    expect(prometheus.headers.get('content-disposition')).toMatch(/^attachment; filename="diffusion-monitor-all-\d{4}-\d{2}-\d{2}T\d{4}\.prom"$/);
    expect(await prometheus.text()).toBe(await (await fetch(`${url}/api/diffusion/metrics/export?format=prometheus`)).text());
    const csv = await fetch(`${url}${HTTP_ROUTES.export.path}?format=csv&window=15m`);
    expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect((await csv.text()).trim().split('\r\n')).toHaveLength(2);
  });

  it('serves the renderer at / with the CSP and security headers', async () => {
    const { url } = await start();
    const page = await fetch(`${url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toBe(RENDERER_CSP_HEADER);
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(page.headers.get('x-frame-options')).toBe('DENY');
    expect(await page.text()).toContain('<title>Diffusion Monitor</title>');
    const asset = await fetch(`${url}/assets/app-1234.js`);
    expect(asset.headers.get('cache-control')).toContain('immutable');
    expect((await fetch(`${url}/assets/../../m.db`)).status).toBe(404);
    expect((await fetch(`${url}/api/diffusion/metrics`)).status).toBe(200);
  });

  it('explains how to build the dashboard when it is not built', async () => {
    const { url } = await start({ renderer: false });
    const page = await fetch(`${url}/`);
    expect(page.status).toBe(503);
    expect(await page.text()).toContain('npm run build');
  });

  it('serves a dashboard built while it runs on the next reload, without a restart', async () => {
    const { url } = await start({ renderer: false });
    expect((await fetch(`${url}/`)).status).toBe(503);
    const rendererDir = dir.file('renderer');
    mkdirSync(`${rendererDir}/assets`, { recursive: true });
    writeFileSync(`${rendererDir}/assets/app-5678.js`, 'console.log(2)');
    writeFileSync(`${rendererDir}/index.html`, '<!doctype html><title>Built later</title><script src="/assets/app-5678.js"></script>');
    const page = await fetch(`${url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toBe(RENDERER_CSP_HEADER);
    expect(page.headers.get('cache-control')).toBe('no-cache');
    expect(await page.text()).toContain('Built later');
    expect(await (await fetch(`${url}/assets/app-5678.js`)).text()).toBe('console.log(2)');
  });
});
