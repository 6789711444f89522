import { afterEach, describe, expect, it, vi } from 'vitest';
import { HTTP_ROUTES, type LiveUpdate } from '../../../src/shared/api';
import type { StreamFrame } from '../../../src/shared/frames';
import { createHttpTransport } from '../../../src/renderer/src/api/httpTransport';

interface Call {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string | null;
}

/** A fetch that answers from a table, as the server's routes do, and records every call. */
function fakeFetch(answer: (call: Call) => Response | Promise<Response>): { fetch: typeof fetch; calls: Call[] } {
  const calls: Call[] = [];
  const answering = (async (input: string | URL | Request, init?: RequestInit) => {
    const call: Call = {
      method: init?.method ?? 'GET',
      url: String(input),
      headers: { ...(init?.headers as Record<string, string> | undefined) },
      body: typeof init?.body === 'string' ? init.body : null,
    };
    calls.push(call);
    return answer(call);
  }) as typeof fetch;
  return { fetch: answering, calls };
}

const json = (value: unknown, status = 200): Response => new Response(JSON.stringify(value), { status, headers: { 'content-type': 'application/json' } });
const sse = (...data: unknown[]): Response =>
  new Response(data.map((d) => `data: ${JSON.stringify(d)}\n\n`).join(''), { headers: { 'content-type': 'text/event-stream' } });

afterEach(() => {
  vi.useRealTimers();
});

describe('the HTTP transport', () => {
  it('calls the monitor routes with their query, body and the bearer token', async () => {
    const { fetch, calls } = fakeFetch(() => json({ fine: true }));
    const api = createHttpTransport({ fetch, tokens: { get: () => 'tok-123' } });
    expect(await api.summary('1h')).toEqual({ ok: true, value: { fine: true } });
    await api.events({ limit: 10, before: 5, model: 'm' });
    await api.saveSettings({ timeout: 30 });
    expect(calls.map((c) => `${c.method} ${c.url}`)).toEqual([
      `GET ${HTTP_ROUTES.summary.path}?window=1h`,
      `GET ${HTTP_ROUTES.events.path}?limit=10&before=5&model=m`,
      `PUT ${HTTP_ROUTES.saveSettings.path}`,
    ]);
    expect(calls[2]).toMatchObject({ headers: { Authorization: 'Bearer tok-123', 'Content-Type': 'application/json' }, body: '{"timeout":30}' });
  });

  it('reads error answers in the taxonomy, reports 401, and calls an unreachable server network', async () => {
    const onUnauthorized = vi.fn();
    const answers = [
      json({ error: { type: 'validation', message: 'timeout must be above 0 and at most 3600', retryable: false } }, 400),
      json({ error: { type: 'validation', message: 'missing or wrong bearer token', retryable: false } }, 401),
      new Response('<html>bad gateway</html>', { status: 502 }),
    ];
    const { fetch } = fakeFetch(() => answers.shift() ?? Promise.reject(new TypeError('fetch failed')));
    const api = createHttpTransport({ fetch, tokens: { get: () => null }, onUnauthorized });
    expect(await api.saveSettings({ timeout: 0 })).toEqual({ ok: false, error: { type: 'validation', message: 'timeout must be above 0 and at most 3600' } });
    expect(await api.getSettings()).toMatchObject({ ok: false, error: { type: 'validation' } });
    expect(onUnauthorized).toHaveBeenCalledTimes(1);
    expect(await api.appInfo()).toEqual({ ok: false, error: { type: 'internal', message: 'the server answered HTTP 502' } });
    expect(await api.appInfo()).toMatchObject({ ok: false, error: { type: 'network', message: expect.stringContaining('fetch failed') } });
  });

  it('maps the public model list into the API shape', async () => {
    const { fetch, calls } = fakeFetch(() => json({ models: ['dream'], default_model: 'dream', backend: 'dllm' }));
    const api = createHttpTransport({ fetch, tokens: { get: () => null } });
    expect(await api.models()).toEqual({ ok: true, value: { models: ['dream'], defaultModel: 'dream', backend: 'dllm' } });
    expect(calls[0]?.url).toBe('/api/diffusion/models');
  });

  it('runs the playground through the public stream route with the same fetch', async () => {
    const { fetch, calls } = fakeFetch(() =>
      sse(
        { type: 'step', step: 1, total_steps: 2, text: 'a <|mask|>', masked: 1 },
        { type: 'complete', text: 'a b', generation_time: 0.2, model_used: 'dream', token_count: 2 },
      ),
    );
    const api = createHttpTransport({ fetch, tokens: { get: () => 'tok' } });
    const frames: StreamFrame[] = [];
    const result = await api.run({ mode: 'infill', body: { prefix: 'a ', suffix: '' } }, (frame) => frames.push(frame)).result;
    expect(calls[0]).toMatchObject({ method: 'POST', url: '/api/diffusion/infill/stream', headers: { Authorization: 'Bearer tok' } });
    expect(frames.map((f) => f.type)).toEqual(['step', 'complete']);
    expect(result).toMatchObject({ ok: true, value: { text: 'a b' } });
  });

  it('shares one live stream between subscribers, reconnects after a drop, and stops when the last one leaves', async () => {
    vi.useFakeTimers();
    const update: LiveUpdate = { at: 1, count: 1, events: [] };
    const { fetch, calls } = fakeFetch((call) => (call.url === HTTP_ROUTES.liveUpdates.path ? sse(update) : json({})));
    const live: boolean[] = [];
    const api = createHttpTransport({ fetch, tokens: { get: () => null }, onLiveChange: (connected) => live.push(connected) });
    const first: LiveUpdate[] = [];
    const second: LiveUpdate[] = [];
    const stopFirst = api.liveUpdates((u) => first.push(u));
    const stopSecond = api.liveUpdates((u) => second.push(u));
    await vi.advanceTimersByTimeAsync(0);
    expect(calls).toHaveLength(1);
    expect(first).toEqual([update]);
    expect(second).toEqual([update]);
    // The fake's stream ends after one update: the transport reconnects after a back-off.
    expect(live).toEqual([true, false]);
    await vi.advanceTimersByTimeAsync(1000);
    expect(calls).toHaveLength(2);
    stopFirst();
    stopSecond();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(calls).toHaveLength(2);
  });
});
