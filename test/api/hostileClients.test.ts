import { mkdirSync, writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { Client, request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { UnconfiguredBackend } from '../../src/main/backend/unconfiguredBackend';
import { ConfigError, resolveConfig } from '../../src/main/config';
import { startCore, type Core } from '../../src/main/core';
import { MetricsStore } from '../../src/main/metrics/metricsStore';
import { silentLogger } from '../../src/shared/logger';
import { createServer } from '../../src/main/server/createServer';
import { SettingsService, settingsFileOf } from '../../src/main/settingsService';
import { ErrorBodySchema } from '../../src/shared/errors';
import { Closer, waitFor } from '../fixtures/backendHarness';
import { startFakeDllmServer } from '../fixtures/fakeDllmServer';
import { framesOf, post } from '../fixtures/monitorHarness';
import { httpRequest, openSocket, rawRequest, type RawAnswer } from '../fixtures/rawHttp';
import { tempDir } from '../fixtures/tempDir';

const TOKEN = 'a-token-of-twenty-chars';
const closer = new Closer();
afterEach(() => closer.closeAll());

/** A listening core with a fresh database (kept after stop, so tests can read what was recorded). */
async function start(argv: string[] = [], options: { renderer?: boolean } = {}): Promise<{ core: Core; url: string; db: string }> {
  const dir = tempDir();
  closer.add({ close: async () => dir.cleanup() });
  const input = { argv: ['--port', '0', '--db', dir.file('m.db'), ...argv], env: {}, cwd: dir.path, defaultSettingsFile: dir.file('settings.json') };
  const config = resolveConfig(input);
  let dashboard: { rendererDir: string } | undefined;
  if (options.renderer === true) {
    const rendererDir = dir.file('renderer');
    mkdirSync(`${rendererDir}/assets`, { recursive: true });
    writeFileSync(`${rendererDir}/index.html`, '<!doctype html><title>Diffusion Monitor</title>');
    writeFileSync(`${rendererDir}/assets/app-1234.js`, 'console.log(1)');
    dashboard = { rendererDir };
  }
  const settings = new SettingsService({ input, file: settingsFileOf(input, config) });
  const core = await startCore(config, { log: silentLogger, settings, ...(dashboard ? { dashboard } : {}) });
  closer.add({ close: () => core.stop() });
  return { core, url: core.server.url, db: dir.file('m.db') };
}

/** Every answer has the taxonomy's body and an `X-Request-Id` that matches it. */
function expectContractShape(answer: RawAnswer | null, status: number): void {
  expect(answer).not.toBeNull();
  expect(answer?.status).toBe(status);
  const body = ErrorBodySchema.parse(answer?.json());
  expect(answer?.headers['x-request-id']).toBeTruthy();
  expect(body.error.request_id).toBe(answer?.headers['x-request-id']);
}

function storedEvents(db: string): Array<{ model_id: string; metadata: Record<string, unknown> }> {
  const sqlite = new Database(db, { readonly: true });
  try {
    return (sqlite.prepare('SELECT model_id, metadata FROM performance_events ORDER BY id').all() as Array<{ model_id: string; metadata: string }>).map(
      (row) => ({ model_id: row.model_id, metadata: JSON.parse(row.metadata) as Record<string, unknown> }),
    );
  } finally {
    sqlite.close();
  }
}

describe('request timeout and connection cap', () => {
  it('answers a stalled request body 408 in the contract shape instead of waiting forever', async () => {
    const { url } = await start(['--request-timeout', '0.3']);
    const socket = await openSocket(url);
    const head = 'POST /api/diffusion/generate HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"prom';
    expectContractShape(await rawRequest(url, head, socket), 408);
    socket.destroy();
    const headers = await rawRequest(url, 'GET /api/diffusion/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
    expectContractShape(headers, 408);
  });

  it('closes idle keep-alive connections after 5 s (Fastify would keep them 72 s)', async () => {
    const { core } = await start();
    expect(core.server.app.server.keepAliveTimeout).toBe(5000);
    expect(core.server.app.server.headersTimeout).toBe(30_000);
  });

  it('answers a connection past --max-connections with 429 and closes it; the others still work', async () => {
    const { url } = await start(['--max-connections', '3']);
    const held = await Promise.all([openSocket(url), openSocket(url), openSocket(url)]);
    const refused = await rawRequest(url, httpRequest('GET', '/api/diffusion/health'));
    expectContractShape(refused, 429);
    expect((refused?.json() as { error: { type: string } }).error.type).toBe('rate_limited');
    const answer = await rawRequest(url, httpRequest('GET', '/api/diffusion/health'), held[0]);
    expect(answer?.status).toBe(200);
    for (const socket of held) socket.destroy();
  });
});

describe('absolute-form request targets', () => {
  it('checks the target authority like Host (RFC 9112 §3.2.2)', async () => {
    const { url } = await start();
    const evil = await rawRequest(url, httpRequest('GET', 'http://evil.com/api/diffusion/health'));
    expectContractShape(evil, 421);
    const own = await rawRequest(url, httpRequest('GET', `${url}/api/diffusion/health`, { Host: 'evil.com' }));
    expect(own?.status).toBe(200);
  });
});

describe('cross-site simple requests', () => {
  it('refuses text/plain, form and multipart posts with 415 and records nothing', async () => {
    const { core, url } = await start();
    const bodies: Array<[string, string]> = [
      ['text/plain', '{"prompt":"x"}'],
      ['application/x-www-form-urlencoded', 'prompt=x'],
      ['multipart/form-data; boundary=b', '--b\r\nContent-Disposition: form-data; name="prompt"\r\n\r\nx\r\n--b--\r\n'],
    ];
    for (const [type, body] of bodies) {
      const answer = await rawRequest(url, httpRequest('POST', '/api/diffusion/generate', { 'Content-Type': type }, body));
      expectContractShape(answer, 415);
    }
    const crossSite = await post(`${url}/api/diffusion/generate`, { prompt: 'x' }, { 'sec-fetch-site': 'cross-site' });
    expect(crossSite.status).toBe(403);
    await core.store.flush();
    expect(core.store.summary().overall.total_requests).toBe(0);
  });
});

describe('the browser dashboard with --token', () => {
  it('serves the static shell without the token while every API call still needs it', async () => {
    const { url } = await start(['--token', TOKEN], { renderer: true });
    for (const path of ['/', '/index.html', '/assets/app-1234.js']) {
      const page = await request(`${url}${path}`);
      await page.body.text();
      expect(page.statusCode).toBe(200);
    }
    for (const path of ['/api/diffusion/health', '/api/monitor/app-info', '/metrics']) {
      const refused = await request(`${url}${path}`);
      await refused.body.text();
      expect(refused.statusCode).toBe(401);
    }
    const allowed = await request(`${url}/api/diffusion/health`, { headers: { authorization: `Bearer ${TOKEN}` } });
    await allowed.body.text();
    expect(allowed.statusCode).toBe(200);
  });
});

describe('answers Fastify and Node would give in their own shapes', () => {
  it('headers too large, a URL that does not decode, no Host, bytes that are not HTTP: all in the contract shape', async () => {
    const { url } = await start();
    expectContractShape(await rawRequest(url, httpRequest('GET', '/api/diffusion/health', { 'X-Big': 'b'.repeat(20_000) })), 431);
    expectContractShape(await rawRequest(url, httpRequest('GET', '/%ff')), 400);
    expectContractShape(await rawRequest(url, 'GET /api/diffusion/health HTTP/1.1\r\n\r\n'), 400);
    expectContractShape(await rawRequest(url, 'NOT HTTP AT ALL\r\n\r\n'), 400);
  });
});

describe('a client that leaves mid-body', () => {
  it('is recorded as cancelled, not validation', async () => {
    const { core, url } = await start();
    const socket = await openSocket(url);
    socket.write('POST /api/diffusion/generate HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{"prompt":"wr');
    await waitFor(() => false, 50);
    socket.destroy();
    expect(await waitFor(() => core.store.summary().overall.total_requests === 1, 10_000)).toBe(true);
    expect(core.store.summary().errors_by_type).toEqual({ cancelled: 1 });
  });
});

describe('shutdown', () => {
  it('lets a request in progress finish within the grace period', async () => {
    const fake = closer.add(await startFakeDllmServer({ steps: 5, stepMs: 60 }));
    const { core, url } = await start(['--backend', fake.url]);
    const answer = post(`${url}/api/diffusion/generate/stream`, { prompt: 'x' });
    expect(await waitFor(() => fake.requests.length === 1, 10_000)).toBe(true);
    const stopped = core.stop();
    const frames = framesOf((await answer).text);
    await stopped;
    expect(frames.at(-1)?.type).toBe('complete');
  });

  it('cuts what is still running after the grace period and records it as cancelled', async () => {
    const fake = closer.add(await startFakeDllmServer({ fault: 'hang' }));
    const { core, url, db } = await start(['--backend', fake.url, '--shutdown-grace', '0.2']);
    const answer = post(`${url}/api/diffusion/generate`, { prompt: 'x' }).catch((error: unknown) => error);
    expect(await waitFor(() => fake.requests.length === 1, 10_000)).toBe(true);
    await core.stop();
    await answer;
    const events = storedEvents(db);
    expect(events).toHaveLength(1);
    expect(events[0]?.metadata.error_type).toBe('cancelled');
  });
});

describe('bearer tokens', () => {
  it('takes the scheme in any case (RFC 9110 §11.1)', async () => {
    const { url } = await start(['--token', TOKEN]);
    for (const scheme of ['Bearer', 'bearer', 'BEARER']) {
      const answer = await request(`${url}/api/diffusion/health`, { headers: { authorization: `${scheme} ${TOKEN}` } });
      await answer.body.text();
      expect(answer.statusCode).toBe(200);
    }
  });

  it('refuses a token under 16 characters when listening beyond loopback', () => {
    expect(() => resolveConfig({ argv: ['--host', '0.0.0.0', '--token', 'short-token'], env: {}, cwd: '/' })).toThrow(ConfigError);
    expect(resolveConfig({ argv: ['--host', '0.0.0.0', '--token', TOKEN], env: {}, cwd: '/' }).token).toBe(TOKEN);
  });

  it('throttles wrong tokens per connection: 10 a second, then 429 even for the right one', async () => {
    let now = 1_000_000;
    const store = MetricsStore.open({ path: ':memory:' });
    const server = await createServer({
      config: { host: '127.0.0.1', port: 0, token: TOKEN, allowedHosts: [] },
      store,
      backend: () => new UnconfiguredBackend(),
      log: silentLogger,
      clock: () => now,
    });
    closer.add({ close: async () => (await server.close(), store.close()) });
    const client = closer.add(new Client(server.url, { pipelining: 1 }));
    const statuses: number[] = [];
    const attempt = async (token: string): Promise<number> => {
      const answer = await client.request({ method: 'GET', path: '/api/diffusion/health', headers: { authorization: `Bearer ${token}` } });
      await answer.body.text();
      return answer.statusCode;
    };
    for (let i = 0; i < 11; i++) statuses.push(await attempt('wrong'));
    expect(statuses).toEqual([...Array<number>(10).fill(401), 429]);
    expect(await attempt(TOKEN)).toBe(429);
    now += 1000;
    expect(await attempt(TOKEN)).toBe(200);
  });
});

describe('one local script and an editor', () => {
  it('shares the concurrency limit fairly: the editor gets the next free slot, a full queue answers 429', async () => {
    const fake = closer.add(await startFakeDllmServer({ fault: 'hang' }));
    const { core, url } = await start(['--backend', fake.url, '--max-concurrent', '2']);
    const script = Array.from({ length: 3 }, () => new AbortController());
    const streams = script.map((c, i) =>
      fetch(`${url}/api/diffusion/generate/stream`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ prompt: `script ${i}`, user_id: 'script' }),
        signal: c.signal,
      }).catch(() => undefined),
    );
    expect(await waitFor(() => fake.requests.length === 2, 10_000)).toBe(true);
    const editorLeft = new AbortController();
    const editor = fetch(`${url}/api/diffusion/generate/stream`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'editor', user_id: 'editor' }),
      signal: editorLeft.signal,
    }).catch(() => undefined);
    expect(await waitFor(() => core.server.concurrency().waiting === 2, 10_000)).toBe(true);
    const refused = await post(`${url}/api/diffusion/generate`, { prompt: 'one too many' });
    expect(refused.status).toBe(429);
    expect(refused.json()).toMatchObject({ error: { type: 'rate_limited', retryable: true } });
    script[0]?.abort();
    expect(await waitFor(() => fake.requests.length === 3, 10_000)).toBe(true);
    expect((fake.requests[2]?.body as { prompt?: string }).prompt).toBe('editor');
    for (const c of [...script, editorLeft]) c.abort();
    await Promise.all([...streams, editor]);
  });
});

describe('random model ids', () => {
  it('never become labels: models the backend reported keep theirs, the rest are invalid or other', async () => {
    const fake = closer.add(await startFakeDllmServer({ steps: 1, stepMs: 0 }));
    const { core, url, db } = await start(['--backend', fake.url, '--max-models', '5']);
    expect((await post(`${url}/api/diffusion/generate`, { prompt: 'x' })).status).toBe(200);
    const scrape = async (): Promise<number> => {
      const answer = await request(`${url}/metrics`);
      return (await answer.body.text()).split('\n').filter((line) => line !== '' && !line.startsWith('#')).length;
    };
    for (let i = 0; i < 20; i++) {
      await post(`${url}/api/diffusion/generate`, { prompt: 'x', model_id: `bad id ${i}` });
      await post(`${url}/api/diffusion/generate`, { prompt: 'x', model_id: `unknown-${i}` });
    }
    await core.store.flush();
    const series = await scrape();
    for (let i = 0; i < 50; i++) {
      await post(`${url}/api/diffusion/generate`, { prompt: 'x', model_id: `bad id ${i + 20}` });
      await post(`${url}/api/diffusion/generate`, { prompt: 'x', model_id: `unknown-${i + 20}` });
    }
    await core.store.flush();
    expect(await scrape()).toBe(series);
    expect(Object.keys(core.store.summary().models).sort()).toEqual(['fake-dream-7b', 'invalid', 'other']);
    await core.stop();
    const events = storedEvents(db);
    expect(events.find((e) => e.metadata.requested_model === 'unknown-3')?.model_id).toBe('other');
    expect(events.find((e) => e.metadata.requested_model === 'bad id 3')?.model_id).toBe('invalid');
  });
});

/** The front door's routes and the error shape each answers in. */
const FRONT_DOOR_POSTS: Array<{ path: string; body: unknown; shape: 'openai' | 'llama' }> = [
  { path: '/v1/chat/completions', body: { model: 'fake-dream-7b', messages: [{ role: 'user', content: 'x' }] }, shape: 'openai' },
  { path: '/v1/completions', body: { model: 'fake-dream-7b', prompt: 'x' }, shape: 'openai' },
  { path: '/v1/fim/completions', body: { model: 'fake-dream-7b', prompt: 'a', suffix: 'b' }, shape: 'openai' },
  { path: '/infill', body: { input_prefix: 'a', input_suffix: 'b' }, shape: 'llama' },
];

/** An error answer in OpenAI's shape (`error.message/type/param/code`) or llama.cpp's (`error.code/message/type`). */
function expectFrontDoorShape(answer: RawAnswer | null, status: number, shape: 'openai' | 'llama'): void {
  expect(answer).not.toBeNull();
  expect(answer?.status).toBe(status);
  const body = answer?.json() as { error: Record<string, unknown> };
  expect(typeof body.error.message).toBe('string');
  expect(typeof body.error.type).toBe('string');
  if (shape === 'openai') expect(body.error).toHaveProperty('param');
  else expect(body.error.code).toBe(status);
  // Not our own contract's shape: that one carries `retryable` and `request_id` in the error.
  expect(body.error).not.toHaveProperty('retryable');
  expect(answer?.headers['x-request-id']).toBeTruthy();
}

describe('the front door behind the same guards', () => {
  it('needs the token for /v1/* and /infill (GETs included) while the static shell loads without it', async () => {
    const fake = closer.add(await startFakeDllmServer({ steps: 1, stepMs: 0 }));
    const { url } = await start(['--backend', fake.url, '--token', TOKEN], { renderer: true });
    const shell = await rawRequest(url, httpRequest('GET', '/assets/app-1234.js'));
    expect(shell?.status).toBe(200);
    for (const path of ['/v1/models', '/v1/models/fake-dream-7b']) {
      const refused = await rawRequest(url, httpRequest('GET', path));
      expectFrontDoorShape(refused, 401, 'openai');
      expect(refused?.headers['www-authenticate']).toBe('Bearer');
    }
    // A route we lack, as tools probe it: still the token first, in OpenAI's shape.
    const probe = JSON.stringify({ model: 'fake-dream-7b', input: 'x' });
    expectFrontDoorShape(await rawRequest(url, httpRequest('POST', '/v1/embeddings', { 'Content-Type': 'application/json' }, probe)), 401, 'openai');
    expectFrontDoorShape(await rawRequest(url, httpRequest('GET', '/v1/embeddings')), 401, 'openai');
    expectFrontDoorShape(await rawRequest(url, httpRequest('GET', '/v1/embeddings', { Authorization: `Bearer ${TOKEN}` })), 404, 'openai');
    // The dashboard's static files answer GETs the front door has no route for; the token still comes first.
    expect((await rawRequest(url, httpRequest('GET', '/infill')))?.status).toBe(401);
    for (const { path, body, shape } of FRONT_DOOR_POSTS) {
      expectFrontDoorShape(await rawRequest(url, httpRequest('POST', path, { 'Content-Type': 'application/json' }, JSON.stringify(body))), 401, shape);
    }
    const allowed = await rawRequest(url, httpRequest('GET', '/v1/models', { Authorization: `Bearer ${TOKEN}` }));
    expect(allowed?.status).toBe(200);
    expect(allowed?.json()).toMatchObject({ object: 'list', data: [{ id: 'fake-dream-7b' }] });
  });

  it('refuses non-JSON bodies with 415 on every front-door POST, in that API’s shape, and records nothing', async () => {
    const fake = closer.add(await startFakeDllmServer({ steps: 1, stepMs: 0 }));
    const { core, url } = await start(['--backend', fake.url]);
    for (const { path, body, shape } of FRONT_DOOR_POSTS) {
      for (const type of ['text/plain', 'application/x-www-form-urlencoded']) {
        expectFrontDoorShape(await rawRequest(url, httpRequest('POST', path, { 'Content-Type': type }, JSON.stringify(body))), 415, shape);
      }
    }
    await core.store.flush();
    expect(core.store.summary().overall.total_requests).toBe(0);
    expect(fake.requests).toHaveLength(0);
  });

  it('refuses Sec-Fetch-Site: cross-site on every front-door POST with 403 in that API’s shape, and records nothing', async () => {
    const fake = closer.add(await startFakeDllmServer({ steps: 1, stepMs: 0 }));
    const { core, url } = await start(['--backend', fake.url]);
    for (const { path, body, shape } of FRONT_DOOR_POSTS) {
      const headers = { 'Content-Type': 'application/json', 'Sec-Fetch-Site': 'cross-site' };
      expectFrontDoorShape(await rawRequest(url, httpRequest('POST', path, headers, JSON.stringify(body))), 403, shape);
      // The same request from the same site goes through.
      const sameSite = await rawRequest(url, httpRequest('POST', path, { ...headers, 'Sec-Fetch-Site': 'same-origin' }, JSON.stringify(body)));
      expect(sameSite?.status).toBe(200);
    }
    await core.store.flush();
    expect(core.store.summary().overall.total_requests).toBe(FRONT_DOOR_POSTS.length);
  });

  it('shares one concurrency limit with /api/diffusion: a front-door request waits for a slot, a full queue answers 429 in its shape', async () => {
    const fake = closer.add(await startFakeDllmServer({ fault: 'hang' }));
    const { core, url } = await start(['--backend', fake.url, '--max-concurrent', '1']);
    const holder = new AbortController();
    const held = fetch(`${url}/api/diffusion/generate/stream`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'holds the slot', user_id: 'script' }),
      signal: holder.signal,
    }).catch(() => undefined);
    expect(await waitFor(() => fake.requests.length === 1, 10_000)).toBe(true);
    const waiterLeft = new AbortController();
    const waiting = fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'fake-dream-7b', messages: [{ role: 'user', content: 'editor' }], user: 'editor' }),
      signal: waiterLeft.signal,
    }).catch(() => undefined);
    expect(await waitFor(() => core.server.concurrency().waiting === 1, 10_000)).toBe(true);
    expect(fake.requests).toHaveLength(1);
    const { path, body, shape } = FRONT_DOOR_POSTS[3] as (typeof FRONT_DOOR_POSTS)[number];
    const refused = await rawRequest(url, httpRequest('POST', path, { 'Content-Type': 'application/json' }, JSON.stringify(body)));
    expectFrontDoorShape(refused, 429, shape);
    expect(refused?.headers['retry-after']).toBe('1');
    holder.abort();
    // The slot the diffusion stream freed goes to the waiting chat request.
    expect(await waitFor(() => fake.requests.length === 2, 10_000)).toBe(true);
    expect(JSON.stringify(fake.requests[1]?.body)).toContain('editor');
    waiterLeft.abort();
    await Promise.all([held, waiting]);
    expect(await waitFor(() => core.server.concurrency().running === 0, 10_000)).toBe(true);
    await core.store.flush();
    expect(core.store.summary().errors_by_type).toMatchObject({ rate_limited: 1 });
  });

  it('records front-door requests under bounded model labels, the client’s id kept in metadata', async () => {
    const fake = closer.add(await startFakeDllmServer({ steps: 1, stepMs: 0 }));
    const { core, url, db } = await start(['--backend', fake.url]);
    const chat = (model: string, extra: Record<string, unknown> = {}): ReturnType<typeof post> =>
      post(`${url}/v1/chat/completions`, { model, messages: [{ role: 'user', content: 'x' }], ...extra });
    expect((await chat('fake-dream-7b')).status).toBe(200);
    await chat('unknown-front-door-model');
    await chat('bad front door model', { temperature: 'hot' });
    await post(`${url}/infill`, { model: 'unknown-infill-model', input_prefix: 'a', input_suffix: 'b' });
    await core.stop();
    const events = storedEvents(db);
    expect(events).toHaveLength(4);
    expect(events[0]?.model_id).toBe('fake-dream-7b');
    expect(events.find((e) => e.metadata.requested_model === 'unknown-front-door-model')?.model_id).toBe('other');
    expect(events.find((e) => e.metadata.requested_model === 'bad front door model')?.model_id).toBe('invalid');
    expect(events.find((e) => e.metadata.requested_model === 'unknown-infill-model')?.model_id).toBe('other');
    expect(new Set(events.map((e) => e.metadata.api))).toEqual(new Set(['openai_chat', 'llamacpp_infill']));
  });
});
