import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { EventMetadata, PerformanceEvent } from '../../src/shared/events';
import type { StepFrame } from '../../src/shared/frames';
import { deadPort, waitFor } from '../fixtures/backendHarness';
import { DEFAULT_GENERATE_ANSWER, DEFAULT_INFILL_ANSWER, MASK, startFakeDllmServer } from '../fixtures/fakeDllmServer';
import type { FakeServer } from '../fixtures/fakeHttp';
import { DEFAULT_CHAT_ANSWER, startFakeOpenAiServer } from '../fixtures/fakeOpenAiServer';
import { framesOf, post, startMonitor } from '../fixtures/monitorHarness';

type Monitor = Awaited<ReturnType<typeof startMonitor>>;

/** The events the request with this id stored (flushes first). */
function eventsOf(monitor: Monitor, requestId: string): PerformanceEvent[] {
  return monitor.core.store.events({ limit: 1000 }).filter((e) => e.metadata.request_id === requestId);
}

describe('dllm backend', () => {
  let fake: FakeServer;
  let monitor: Monitor;

  beforeAll(async () => {
    fake = await startFakeDllmServer({ steps: 8, stepMs: 5 });
    monitor = await startMonitor(['--backend', fake.url, '--backend-kind', 'dllm']);
  });
  afterAll(async () => {
    await monitor.close();
    await fake.close();
  });
  afterEach(() => fake.setFault('none'));

  it('answers generate with the full result and records one row', async () => {
    const answer = await post(`${monitor.url}/api/diffusion/generate`, { text: 'Explain diffusion', max_length: 32, steps: 8 });
    expect(answer.status).toBe(200);
    const body = answer.json() as Record<string, unknown>;
    expect(body).toMatchObject({ text: DEFAULT_GENERATE_ANSWER, model_id: 'fake-dream-7b', steps: 8, request_id: answer.headers['x-request-id'] });
    // The dllm contract's complete frame carries the backend's own count: it is stored as real.
    expect(body.token_count).not.toBe(Math.floor(DEFAULT_GENERATE_ANSWER.length / 4));
    expect(answer.headers['server-timing']).toMatch(/^backend;dur=[\d.]+, bridge;dur=[\d.]+$/);
    const [event, ...more] = eventsOf(monitor, String(answer.headers['x-request-id']));
    expect(more).toHaveLength(0);
    expect(event).toMatchObject({ event_type: 'diffusion_generate', user_id: 'anonymous' });
    expect(event?.metadata).toMatchObject<Partial<EventMetadata>>({
      success: true,
      error_type: null,
      status: 200,
      max_new_tokens: 32,
      temperature: 0.2,
      top_p: 0.9,
      alg: 'entropy',
      steps: 8,
      backend: 'dllm',
      token_count: body.token_count as number,
      token_count_source: 'backend',
    });
    expect(event?.metadata.time_to_first_step).toBeGreaterThan(0);
    // What reached the backend: the prompt alias resolved, the options forwarded.
    expect(fake.requests.at(-1)?.body).toMatchObject({ prompt: 'Explain diffusion', max_new_tokens: 32, steps: 8 });
  });

  it('streams denoising steps in order, masks filling in, then complete', async () => {
    const answer = await post(`${monitor.url}/api/diffusion/generate/stream`, { prompt: 'Explain diffusion', user_id: 'alice' });
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    const frames = framesOf(answer.text);
    expect(frames[0]).toMatchObject({ type: 'status', request_id: answer.headers['x-request-id'] });
    const steps = frames.filter((f): f is StepFrame => f.type === 'step');
    expect(steps.map((s) => s.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(steps[0]?.text).toContain(MASK);
    const masked = steps.map((s) => s.masked ?? 0);
    expect([...masked].sort((a, b) => b - a)).toEqual(masked);
    expect(frames.at(-1)).toMatchObject({ type: 'complete', text: DEFAULT_GENERATE_ANSWER, model_used: 'fake-dream-7b' });
    const [event] = eventsOf(monitor, String(answer.headers['x-request-id']));
    expect(event).toMatchObject({ event_type: 'diffusion_generate_stream', user_id: 'alice' });
    expect(event?.metadata).toMatchObject({ success: true, steps: 8 });
    expect(event?.metadata.time_to_first_step).toBeLessThanOrEqual(event?.duration ?? 0);
  });

  it('sends prefix and suffix to the backend for infill, stream and not', async () => {
    for (const route of ['infill', 'infill/stream']) {
      const answer = await post(`${monitor.url}/api/diffusion/${route}`, { prefix: 'def add(a, b):\n', suffix: '\nprint(add(1, 2))' });
      expect(answer.status).toBe(200);
      expect(fake.requests.at(-1)?.body).toMatchObject({ prefix: 'def add(a, b):\n', suffix: '\nprint(add(1, 2))' });
      const text = route === 'infill' ? (answer.json() as { text: string }).text : (framesOf(answer.text).at(-1) as { text: string }).text;
      expect(text).toBe(DEFAULT_INFILL_ANSWER);
      expect(eventsOf(monitor, String(answer.headers['x-request-id']))[0]?.event_type).toBe(
        route === 'infill' ? 'diffusion_infill' : 'diffusion_infill_stream',
      );
    }
  });

  it.each([
    ['http500', 'backend', 502],
    ['malformedSse', 'backend', 502],
    ['errorFrame', 'backend', 502],
    ['destroyMidStream', 'network', 502],
  ] as const)('maps the fault %s to %s (%i), body and row', async (fault, type, status) => {
    fake.setFault(fault);
    const answer = await post(`${monitor.url}/api/diffusion/generate`, { prompt: 'x' });
    expect(answer.status).toBe(status);
    expect(answer.json()).toMatchObject({ error: { type, request_id: answer.headers['x-request-id'], retryable: type === 'network' } });
    const [event] = eventsOf(monitor, String(answer.headers['x-request-id']));
    expect(event?.metadata).toMatchObject({ success: false, error_type: type, status });
    // Our message, as the client got it, explains the failure in the Events view.
    expect(event?.metadata.error_message).toBe((answer.json() as { error: { message: string } }).error.message);
    if (fault === 'http500') expect(event?.metadata.upstream_status).toBe(500);
  });

  it('ends a stream with an error frame when the backend fails mid-stream', async () => {
    fake.setFault('destroyMidStream');
    const answer = await post(`${monitor.url}/api/diffusion/generate/stream`, { prompt: 'x' });
    expect(answer.status).toBe(200);
    const frames = framesOf(answer.text);
    expect(frames.at(-1)).toMatchObject({ type: 'error', error_type: 'network', retryable: true });
    expect(eventsOf(monitor, String(answer.headers['x-request-id']))[0]?.metadata).toMatchObject({ success: false, error_type: 'network' });
  });

  it('aborts the upstream request within a second when the client leaves, and records it as cancelled', async () => {
    fake.setFault('hang');
    const controller = new AbortController();
    const before = monitor.core.store.events({ limit: 1 })[0]?.id ?? 0;
    const pending = fetch(`${monitor.url}/api/diffusion/generate/stream`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'x' }),
      signal: controller.signal,
    }).then(async (r) => r.text());
    expect(await waitFor(() => fake.openConnections() > 0 && fake.requests.at(-1)?.path === '/api/diffusion/generate/stream', 2000)).toBe(true);
    controller.abort();
    await pending.catch(() => undefined);
    expect(await waitFor(() => fake.openConnections() === 0, 1000)).toBe(true);
    expect(await waitFor(() => (monitor.core.store.events({ limit: 1 })[0]?.id ?? 0) > before, 1000)).toBe(true);
    expect(monitor.core.store.events({ limit: 1 })[0]?.metadata).toMatchObject({ success: false, error_type: 'cancelled' });
  });

  it('lists the models and reports the backend in health', async () => {
    const models = await fetch(`${monitor.url}/api/diffusion/models`).then((r) => r.json());
    expect(models).toMatchObject({ models: ['fake-dream-7b'], backend: 'dllm' });
    const health = await fetch(`${monitor.url}/api/diffusion/health`).then((r) => r.json());
    expect(health).toMatchObject({ backend: { configured: true, reachable: true, models: ['fake-dream-7b'] } });
  });
});

describe('openai backend', () => {
  let fake: FakeServer;
  let monitor: Monitor;

  beforeAll(async () => {
    fake = await startFakeOpenAiServer({ chunkMs: 2 });
    monitor = await startMonitor(['--backend', fake.url, '--backend-kind', 'openai']);
  });
  afterAll(async () => {
    await monitor.close();
    await fake.close();
  });

  it('generates through chat completions and stores the real token count', async () => {
    const answer = await post(`${monitor.url}/api/diffusion/generate`, { prompt: 'What is LLaDA?', top_k: 40 });
    expect(answer.status).toBe(200);
    expect(answer.json()).toMatchObject({ text: DEFAULT_CHAT_ANSWER, model_id: 'fake-llada2-mini' });
    expect(fake.requests.at(-1)).toMatchObject({ path: '/v1/chat/completions', body: { stream: true, max_tokens: 64, top_k: 40 } });
    const [event] = eventsOf(monitor, String(answer.headers['x-request-id']));
    expect(event?.metadata.token_count_source).toBe('backend');
    expect(event?.metadata.token_count).toBe((answer.json() as { token_count: number }).token_count);
    expect(event?.metadata.token_count).not.toBe(Math.max(1, Math.floor(DEFAULT_CHAT_ANSWER.length / 4)));
  });

  it('streams deltas and infills with suffix through /v1/completions', async () => {
    const stream = await post(`${monitor.url}/api/diffusion/generate/stream`, { prompt: 'What is LLaDA?' });
    const frames = framesOf(stream.text);
    const deltas = frames.filter((f) => f.type === 'delta').map((f) => (f as { text: string }).text);
    expect(deltas.length).toBeGreaterThan(1);
    expect(deltas.join('')).toBe(DEFAULT_CHAT_ANSWER);
    expect(frames.at(-1)).toMatchObject({ type: 'complete', text: DEFAULT_CHAT_ANSWER });

    const infill = await post(`${monitor.url}/api/diffusion/infill`, { prefix: 'def add(a, b):\n', suffix: '\n' });
    expect(infill.status).toBe(200);
    expect(fake.requests.at(-1)).toMatchObject({ path: '/v1/completions', body: { prompt: 'def add(a, b):\n', suffix: '\n' } });
  });

  it('cuts the answer at a stop sequence, forwards stop and seed, and stores the count of what was kept', async () => {
    const answer = await post(`${monitor.url}/api/diffusion/generate`, { prompt: 'What is LLaDA?', stop: ['parallel', 'never'], seed: 7 });
    expect(answer.status).toBe(200);
    const kept = DEFAULT_CHAT_ANSWER.slice(0, DEFAULT_CHAT_ANSWER.indexOf('parallel'));
    expect(answer.json()).toMatchObject({ text: kept, token_count: Math.max(1, Math.floor(kept.length / 4)) });
    expect(fake.requests.at(-1)?.body).toMatchObject({ stop: ['parallel', 'never'], seed: 7 });
    const [event] = eventsOf(monitor, String(answer.headers['x-request-id']));
    expect(event?.metadata).toMatchObject({ token_count: Math.max(1, Math.floor(kept.length / 4)), token_count_source: 'estimate', api: 'diffusion' });

    const stream = await post(`${monitor.url}/api/diffusion/generate/stream`, { prompt: 'What is LLaDA?', stop: 'parallel' });
    const frames = framesOf(stream.text);
    expect(frames.at(-1)).toMatchObject({ type: 'complete', text: kept });
    expect(frames.map((f) => (f.type === 'delta' ? f.text : '')).join('')).toBe(kept);
  });
});

describe('stream liveness', () => {
  it('sends heartbeat comments while the backend is silent, and the stream still completes', async () => {
    const fake = await startFakeDllmServer({ steps: 2, stepMs: 250 });
    const monitor = await startMonitor(['--backend', fake.url], { heartbeatMs: 60 });
    try {
      const answer = await post(`${monitor.url}/api/diffusion/generate/stream`, { prompt: 'x' });
      expect(answer.text).toContain(': heartbeat\n\n');
      expect(framesOf(answer.text).at(-1)).toMatchObject({ type: 'complete' });
    } finally {
      await monitor.close();
      await fake.close();
    }
  });
});

describe('token counts', () => {
  it('falls back to the estimate when the backend reports no usage', async () => {
    const fake = await startFakeOpenAiServer({ chunkMs: 1, usage: false });
    const monitor = await startMonitor(['--backend', fake.url, '--backend-kind', 'openai']);
    try {
      const answer = await post(`${monitor.url}/api/diffusion/generate/stream`, { prompt: 'What is LLaDA?' });
      const estimate = Math.max(1, Math.floor(DEFAULT_CHAT_ANSWER.length / 4));
      expect(framesOf(answer.text).at(-1)).toMatchObject({ type: 'complete', token_count: estimate });
      const [event] = eventsOf(monitor, String(answer.headers['x-request-id']));
      expect(event?.metadata).toMatchObject({ token_count: estimate, token_count_source: 'estimate' });
    } finally {
      await monitor.close();
      await fake.close();
    }
  });
});

describe('errors before and around the backend', () => {
  it('answers network when the backend port is closed', async () => {
    const monitor = await startMonitor(['--backend', `http://127.0.0.1:${await deadPort()}`]);
    try {
      const answer = await post(`${monitor.url}/api/diffusion/infill`, { prefix: 'a', suffix: 'b' });
      expect(answer.status).toBe(502);
      expect(answer.json()).toMatchObject({ error: { type: 'network', retryable: true } });
      const health = (await fetch(`${monitor.url}/api/diffusion/health`).then((r) => r.json())) as { backend: { reachable: boolean } };
      expect(health.backend.reachable).toBe(false);
    } finally {
      await monitor.close();
    }
  });

  it('answers timeout (504) when the backend is slower than --timeout', async () => {
    const fake = await startFakeDllmServer({ fault: 'hang' });
    const monitor = await startMonitor(['--backend', fake.url, '--timeout', '0.3']);
    try {
      const answer = await post(`${monitor.url}/api/diffusion/generate`, { prompt: 'x' });
      expect(answer.status).toBe(504);
      expect(answer.json()).toMatchObject({ error: { type: 'timeout', retryable: true } });
      expect(eventsOf(monitor, String(answer.headers['x-request-id']))[0]?.metadata).toMatchObject({ error_type: 'timeout', status: 504 });
    } finally {
      await monitor.close();
      await fake.close();
    }
  });

  it('answers model_unavailable (503) with --backend none and still records the request', async () => {
    const monitor = await startMonitor(['--backend', 'none']);
    try {
      const answer = await post(`${monitor.url}/api/diffusion/generate/stream`, { prompt: 'x' });
      const frames = framesOf(answer.text);
      expect(frames.at(-1)).toMatchObject({ type: 'error', error_type: 'model_unavailable', retryable: false });
      const plain = await post(`${monitor.url}/api/diffusion/generate`, { prompt: 'x' });
      expect(plain.status).toBe(503);
      expect(monitor.core.store.summary().errors_by_type).toEqual({ model_unavailable: 2 });
    } finally {
      await monitor.close();
    }
  });

  it('answers 429 once the concurrency limit and its queue are full', async () => {
    const fake = await startFakeDllmServer({ fault: 'hang' });
    const monitor = await startMonitor(['--backend', fake.url, '--max-concurrent', '2']);
    // Two running, two waiting.
    const controllers = Array.from({ length: 4 }, () => new AbortController());
    try {
      const open = controllers.map((c) =>
        fetch(`${monitor.url}/api/diffusion/generate/stream`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: '{"prompt":"x"}',
          signal: c.signal,
        }).catch(() => undefined),
      );
      await waitFor(() => monitor.core.server.concurrency().waiting === 2, 10_000);
      const answer = await post(`${monitor.url}/api/diffusion/generate/stream`, { prompt: 'x' });
      expect(answer.status).toBe(429);
      expect(answer.json()).toMatchObject({ error: { type: 'rate_limited', retryable: true } });
      controllers.forEach((c) => c.abort());
      await Promise.all(open);
    } finally {
      controllers.forEach((c) => c.abort());
      await monitor.close();
      await fake.close();
    }
  });
});
