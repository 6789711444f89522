import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHECKOUT_MODEL_DIR } from '../../src/main/config';
import type { StreamFrame } from '../../src/shared/frames';
import { framesOf, post, startMonitor } from '../fixtures/monitorHarness';

/**
 * The built-in model through the really listening server: the shipped model file, the real
 * worker thread, the real sampler. Nothing here is a fake.
 */
const manifest = JSON.parse(readFileSync(`${CHECKOUT_MODEL_DIR}/model.json`, 'utf8')) as { name: string; parameters: number; context_length: number };
const MASK = /<\|mask\|>/g;

type Monitor = Awaited<ReturnType<typeof startMonitor>>;

/** Opens a stream and hands back its frames as they arrive, and a way to leave. */
async function openStream(url: string, body: object): Promise<{ frames: StreamFrame[]; next(): Promise<StreamFrame | null>; leave(): void; status: number }> {
  const abort = new AbortController();
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: abort.signal });
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  const frames: StreamFrame[] = [];
  let buffer = '';
  return {
    frames,
    status: response.status,
    next: async () => {
      for (;;) {
        const end = buffer.indexOf('\n\n');
        if (end >= 0) {
          const event = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (!event.startsWith('data: ')) continue;
          const frame = JSON.parse(event.slice(6)) as StreamFrame;
          frames.push(frame);
          return frame;
        }
        const chunk = await reader.read();
        if (chunk.done) return null;
        buffer += decoder.decode(chunk.value, { stream: true });
      }
    },
    leave: () => abort.abort(),
  };
}

async function nextStep(stream: Awaited<ReturnType<typeof openStream>>): Promise<StreamFrame & { type: 'step' }> {
  for (;;) {
    const frame = await stream.next();
    if (frame === null) throw new Error(`the stream ended before a step: ${JSON.stringify(stream.frames)}`);
    if (frame.type === 'step') return frame;
  }
}

function eventsOf(monitor: Monitor, requestId: string) {
  return monitor.core.store.events({ limit: 100 }).filter((e) => e.metadata.request_id === requestId);
}

/** A generation long enough to still be running while the test does other things. */
const LONG = { prompt: 'class ', max_new_tokens: 64, steps: 4096, temperature: 0 };

describe('the built-in model behind the diffusion routes', () => {
  let monitor: Monitor;
  beforeAll(async () => {
    monitor = await startMonitor();
  });
  afterAll(async () => {
    await monitor.close();
  });

  it('answers the first-run infill with text from the model, and records the real token count', async () => {
    const answer = await post(`${monitor.url}/api/diffusion/infill`, { prefix: 'def add(a, b):\n    ', suffix: '\n' });
    expect(answer.status).toBe(200);
    const body = answer.json() as { text: string; model_id: string; token_count: number; steps: number; request_id: string };
    expect(body).toMatchObject({ model_id: manifest.name, steps: 64, request_id: answer.headers['x-request-id'] });
    expect(typeof body.text).toBe('string');
    expect(body.token_count).toBeLessThanOrEqual(64);
    const [event] = eventsOf(monitor, body.request_id);
    expect(event?.metadata).toMatchObject({ success: true, backend: 'builtin', token_count: body.token_count, token_count_source: 'backend', steps: 64 });
  });

  it('generates, and the same seed gives the same answer', async () => {
    const request = { prompt: 'import os\n', temperature: 0.9, top_p: 0.95, alg: 'origin', max_new_tokens: 24, seed: 1234 };
    const first = await post(`${monitor.url}/api/diffusion/generate`, request);
    const second = await post(`${monitor.url}/api/diffusion/generate`, request);
    expect(first.status).toBe(200);
    expect((first.json() as { text: string }).text).toBe((second.json() as { text: string }).text);
    expect(first.json()).toMatchObject({ model_id: manifest.name, steps: 24 });
  });

  for (const [route, body] of [
    ['generate/stream', { prompt: 'def main():\n', max_new_tokens: 32, steps: 16, alg: 'maskgit_plus' }],
    ['infill/stream', { prefix: 'for i in range(10):\n', suffix: '\nprint(i)\n', max_new_tokens: 20, steps: 10, alg: 'entropy' }],
  ] as const) {
    it(`${route}: one step frame per step, the canvas denoising to no mask, then complete`, async () => {
      const answer = await post(`${monitor.url}/api/diffusion/${route}`, body);
      expect(answer.status).toBe(200);
      const frames = framesOf(answer.text);
      expect(frames[0]).toMatchObject({ type: 'status' });
      const steps = frames.filter((f): f is StreamFrame & { type: 'step' } => f.type === 'step');
      expect(steps.map((s) => s.step)).toEqual(Array.from({ length: body.steps }, (_, i) => i + 1));
      expect(steps.every((s) => s.total_steps === body.steps)).toBe(true);
      const masked = steps.map((s) => s.masked as number);
      for (let i = 1; i < masked.length; i += 1) expect(masked[i]).toBeLessThanOrEqual(masked[i - 1] as number);
      expect(masked.at(-1)).toBe(0);
      // The canvas carries one mask token per masked position.
      for (const step of steps) expect(step.text.match(MASK)?.length ?? 0).toBe(step.masked);
      if ('prefix' in body) {
        for (const step of steps) {
          expect(step.text.startsWith(body.prefix)).toBe(true);
          expect(step.text.endsWith(body.suffix)).toBe(true);
        }
      }
      const complete = frames.at(-1);
      expect(complete).toMatchObject({ type: 'complete', model_used: manifest.name });
      expect((complete as { token_count: number }).token_count).toBeLessThanOrEqual(body.max_new_tokens);
    });
  }

  it('says in the status frame when the prompt was left-truncated to fit', async () => {
    const answer = await post(`${monitor.url}/api/diffusion/generate/stream`, { prompt: 'x = 1\n'.repeat(100), max_new_tokens: 8 });
    const statuses = framesOf(answer.text).filter((f) => f.type === 'status');
    expect(statuses.map((s) => (s as { message: string }).message).join('\n')).toMatch(new RegExp(`left-truncated .* context of ${manifest.context_length}`));
    expect(framesOf(answer.text).at(-1)).toMatchObject({ type: 'complete' });
  });

  it('refuses a request that cannot fit with a 400 naming the limit, streamed or not', async () => {
    const limit = manifest.context_length - 1;
    for (const route of ['generate', 'generate/stream']) {
      const answer = await post(`${monitor.url}/api/diffusion/${route}`, { prompt: 'x', max_new_tokens: manifest.context_length });
      expect(answer.status).toBe(400);
      expect(answer.json()).toMatchObject({ error: { type: 'validation' } });
      expect((answer.json() as { error: { message: string } }).error.message).toContain(`at most ${limit}`);
    }
  });

  it('reports the model in health and lists it as the one model', async () => {
    const health = (await (await fetch(`${monitor.url}/api/diffusion/health`)).json()) as { backend: Record<string, unknown> };
    expect(health.backend).toMatchObject({
      configured: true,
      kind: 'builtin',
      reachable: true,
      models: [manifest.name],
      builtin: { name: manifest.name, parameters: manifest.parameters, context_length: manifest.context_length, loaded: true },
    });
    const models = (await (await fetch(`${monitor.url}/api/diffusion/models`)).json()) as { models: string[]; backend: string };
    expect(models).toMatchObject({ models: [manifest.name], backend: 'builtin' });
  });

  it('stops a generation at the next step when its client leaves, freeing the slot for the next request', async () => {
    const leaving = await openStream(`${monitor.url}/api/diffusion/generate/stream`, LONG);
    const requestId = ((await leaving.next()) as { request_id: string }).request_id;
    const seen = (await nextStep(leaving)).step;
    leaving.leave();
    // One slot: this request can only run once the one above has stopped.
    const next = await post(`${monitor.url}/api/diffusion/generate`, { prompt: 'x', max_new_tokens: 4 });
    expect(next.status).toBe(200);
    const [event] = eventsOf(monitor, requestId);
    expect(event?.metadata).toMatchObject({ success: false, error_type: 'cancelled' });
    // It stopped long before its last step (the route counts the steps it relayed).
    expect(event?.metadata.steps).toBeGreaterThanOrEqual(seen);
    expect(event?.metadata.steps).toBeLessThan(LONG.steps);
  });
});

describe('the built-in model under load', () => {
  it('answers 429 rate_limited with Retry-After once the queue is full, streamed or not', async () => {
    const monitor = await startMonitor(['--builtin-queue', '1']);
    try {
      const running = await openStream(`${monitor.url}/api/diffusion/generate/stream`, LONG);
      await nextStep(running);
      const waiting = await openStream(`${monitor.url}/api/diffusion/generate/stream`, LONG);
      // The waiting request is told where it stands.
      await waiting.next();
      expect(((await waiting.next()) as { message: string }).message).toMatch(/1 ahead in the queue/);
      for (const route of ['generate', 'generate/stream']) {
        const refused = await post(`${monitor.url}/api/diffusion/${route}`, { prompt: 'x' });
        expect(refused.status).toBe(429);
        expect(refused.json()).toMatchObject({ error: { type: 'rate_limited', retryable: true } });
        expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      }
      const health = (await (await fetch(`${monitor.url}/api/diffusion/health`)).json()) as { backend: { builtin: { queue: object } } };
      expect(health.backend.builtin.queue).toEqual({ running: 1, waiting: 1, limit: 1, slots: 1 });
      running.leave();
      waiting.leave();
    } finally {
      await monitor.close();
    }
  });

  it('times out a request that waits longer than --timeout for the model', async () => {
    const monitor = await startMonitor(['--timeout', '2']);
    try {
      const running = await openStream(`${monitor.url}/api/diffusion/generate/stream`, LONG);
      await nextStep(running);
      const waited = await post(`${monitor.url}/api/diffusion/generate`, { prompt: 'x' });
      expect(waited.status).toBe(504);
      expect(waited.json()).toMatchObject({ error: { type: 'timeout' } });
      // The running generation keeps sending steps, so its own timeout never fires.
      expect((await nextStep(running)).type).toBe('step');
      running.leave();
    } finally {
      await monitor.close();
    }
  });
});
