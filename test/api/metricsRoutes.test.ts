import { readFileSync } from 'node:fs';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/main/config';
import { startCore, type Core } from '../../src/main/core';
import { silentLogger } from '../../src/shared/logger';
import type { MetricsSummary } from '../../src/shared/summary';
import { seedExampleRows, writeSeedDatabase } from '../fixtures/seedDatabase';
import { tempDir } from '../fixtures/tempDir';

const dir = tempDir();
let core: Core;
let base: string;

beforeAll(async () => {
  const dbPath = dir.file('seed.db');
  const now = Date.now() / 1000;
  writeSeedDatabase(dbPath, seedExampleRows(now - 120));
  core = await startCore(resolveConfig({ argv: ['--port', '0', '--db', dbPath], env: {}, cwd: dir.path }), { log: silentLogger });
  base = core.server.url;
});

afterAll(async () => {
  await core.stop();
  dir.cleanup();
});

async function get(path: string, headers: Record<string, string> = {}) {
  const response = await request(`${base}${path}`, { headers });
  return { status: response.statusCode, headers: response.headers, text: await response.body.text() };
}

describe('GET /api/diffusion/metrics', () => {
  it('serves the summary of the seeded database', async () => {
    const response = await get('/api/diffusion/metrics');
    expect(response.status).toBe(200);
    expect(response.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const summary = JSON.parse(response.text) as MetricsSummary;
    expect(summary.endpoints.generate).toEqual({ requests: 10, errors: 2, success_rate: 80 });
    expect(summary.endpoints.infill).toEqual({ requests: 5, errors: 1, success_rate: 80 });
    expect(summary.average_latency_by_event_type).toEqual({ diffusion_generate: 1.5, diffusion_infill: 2 });
    expect(summary.tokens_by_event_type).toEqual({ diffusion_generate: 25, diffusion_infill: 30 });
    expect(summary.event_types.diffusion_generate?.latency).toMatchObject({ p50: 1.5, p95: 1.5, p99: 1.5 });
    expect(summary.recent_events).toHaveLength(15);
  });

  it('honours ?window= and ?recent=', async () => {
    const recent = JSON.parse((await get('/api/diffusion/metrics?window=15m&recent=3')).text) as MetricsSummary;
    expect(recent.overall.total_requests).toBe(15);
    expect(recent.recent_events).toHaveLength(3);
    expect(recent.window.seconds).toBe(900);
  });

  it.each([
    ['/api/diffusion/metrics?window=yesterday', 'window'],
    ['/api/diffusion/metrics?recent=-1', 'recent'],
  ])('answers 400 for %s', async (path, field) => {
    const response = await get(path);
    expect(response.status).toBe(400);
    const body = JSON.parse(response.text) as { error: { type: string; details: { field: string } } };
    expect(body.error.type).toBe('validation');
    expect(body.error.details.field).toBe(field);
  });
});

describe('GET /api/diffusion/metrics/export', () => {
  it('defaults to JSON: the full summary', async () => {
    const response = await get('/api/diffusion/metrics/export');
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
    expect((JSON.parse(response.text) as MetricsSummary).overall.total_requests).toBe(15);
  });

  it('serves Prometheus text 0.0.4 with the seed numbers', async () => {
    const response = await get('/api/diffusion/metrics/export?format=prometheus');
    expect(response.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(response.text).toContain('diffusion_llm_requests_total{endpoint="generate"} 10');
    expect(response.text).toContain('diffusion_llm_errors_total{endpoint="infill"} 1');
    expect(response.text).toContain('diffusion_llm_latency_seconds{event_type="diffusion_generate"} 1.5');
    expect(response.text).toContain('diffusion_llm_tokens_total{event_type="diffusion_infill"} 30');
  });

  it('serves OpenMetrics to a scraper that prefers it, also on /metrics', async () => {
    const accept = 'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';
    for (const path of ['/api/diffusion/metrics/export?format=prometheus', '/metrics']) {
      const response = await get(path, { accept });
      expect(response.headers['content-type']).toBe('application/openmetrics-text; version=1.0.0; charset=utf-8');
      expect(response.text.endsWith('# EOF\n')).toBe(true);
    }
    expect((await get('/metrics')).headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
  });

  it('serves InfluxDB line protocol with the seed lines', async () => {
    const response = await get('/api/diffusion/metrics/export?format=influxdb');
    expect(response.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(response.text).toMatch(/^diffusion_llm,type=requests,endpoint=generate count=10 \d{19}$/m);
    expect(response.text).toMatch(/^diffusion_llm,type=latency,event_type=diffusion_infill value=2\.0 \d{19}$/m);
  });

  it('answers an unknown format with 400 listing the valid ones', async () => {
    const response = await get('/api/diffusion/metrics/export?format=xml');
    expect(response.status).toBe(400);
    expect(JSON.parse(response.text)).toMatchObject({ error: { type: 'validation', message: expect.stringContaining('json, prometheus, influxdb') } });
  });
});

describe('health and guards', () => {
  it('reports server, store and backend state', async () => {
    const response = await get('/api/diffusion/health');
    expect(response.status).toBe(200);
    expect(JSON.parse(response.text)).toMatchObject({
      status: 'ok',
      store: { ok: true, consecutive_failures: 0, last_error: null },
      backend: { configured: false, kind: 'dllm' },
    });
    const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(JSON.parse(response.text)).toMatchObject({ version });
  });

  it('refuses a request whose Host is not a local name', async () => {
    const response = await get('/api/diffusion/metrics', { host: 'attacker.example' });
    expect(response.status).toBe(421);
    expect(JSON.parse(response.text)).toMatchObject({ error: { type: 'validation' } });
  });

  it('answers unknown routes with a JSON 404', async () => {
    const response = await get('/api/diffusion/nope');
    expect(response.status).toBe(404);
    expect(JSON.parse(response.text)).toMatchObject({ error: { type: 'validation', message: expect.stringContaining('/api/diffusion/nope') } });
  });
});

describe('bearer token', () => {
  it('is required on every route when configured', async () => {
    const tokenDir = tempDir();
    const guarded = await startCore(resolveConfig({ argv: ['--port', '0', '--db', tokenDir.file('t.db'), '--token', 's3cret'], env: {}, cwd: tokenDir.path }), {
      log: silentLogger,
    });
    try {
      const denied = await request(`${guarded.server.url}/api/diffusion/metrics`);
      expect(denied.statusCode).toBe(401);
      await denied.body.text();
      const allowed = await request(`${guarded.server.url}/api/diffusion/metrics`, { headers: { authorization: 'Bearer s3cret' } });
      expect(allowed.statusCode).toBe(200);
      await allowed.body.text();
    } finally {
      await guarded.stop();
      tokenDir.cleanup();
    }
  });
});
