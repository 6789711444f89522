import { afterEach, describe, expect, it } from 'vitest';
import type { DiffusionBackend } from '../../../src/main/backend/diffusionBackend';
import { DllmBackend } from '../../../src/main/backend/dllmBackend';
import { OpenAiBackend } from '../../../src/main/backend/openaiBackend';
import { Closer, deadPort, failureOf, frameRecorder, generateRequest, waitFor } from '../../fixtures/backendHarness';
import { startFakeDllmServer } from '../../fixtures/fakeDllmServer';
import { listenFake, startSse, writeSse, type FakeFault, type FakeServer } from '../../fixtures/fakeHttp';
import { startFakeOpenAiServer } from '../../fixtures/fakeOpenAiServer';

const closer = new Closer();
afterEach(() => closer.closeAll());

interface Protocol {
  name: string;
  /** A fake sending a frame every `frameMs`, ten frames in all. */
  startFake(options: { fault?: FakeFault; delayMs?: number; frameMs?: number }): Promise<FakeServer>;
  backend(url: string, timeoutSeconds: number): DiffusionBackend;
  /** A stream that ends cleanly but without its terminal frame. */
  truncatedStream: string[];
}

const TEN_TOKENS = 'one two three four five six seven eight nine ten';

const protocols: Protocol[] = [
  {
    name: 'dllm',
    startFake: ({ frameMs = 2, ...rest }) => startFakeDllmServer({ steps: 10, stepMs: frameMs, ...rest }),
    backend: (url, timeoutSeconds) => new DllmBackend({ url, timeoutSeconds }),
    truncatedStream: ['{"type":"status","message":"warming up"}', '{"type":"step","step":1,"total_steps":4,"text":"<|mask|>","masked":1}'],
  },
  {
    name: 'openai',
    startFake: ({ frameMs = 2, ...rest }) => startFakeOpenAiServer({ answer: TEN_TOKENS, chunkMs: frameMs, ...rest }),
    backend: (url, timeoutSeconds) => new OpenAiBackend({ url, timeoutSeconds, model: 'fake-llada2-mini' }),
    truncatedStream: ['{"choices":[{"index":0,"delta":{"content":"half an"},"finish_reason":null}]}'],
  },
];

describe.each(protocols)('$name backend failures', (protocol) => {
  async function setUp(options: { fault?: FakeFault; delayMs?: number; frameMs?: number } = {}, timeoutSeconds = 5) {
    const fake = closer.add(await protocol.startFake(options));
    const backend = closer.add(protocol.backend(fake.url, timeoutSeconds));
    return { fake, backend };
  }
  const run = (backend: DiffusionBackend, signal = new AbortController().signal) => backend.run(generateRequest(), { signal });

  it('maps a refused connection to network', async () => {
    const url = `http://127.0.0.1:${await deadPort()}`;
    const backend = closer.add(protocol.backend(url, 5));

    const error = await failureOf(run(backend));

    expect(error.type).toBe('network');
    expect(error.message).toContain('ECONNREFUSED');
    expect(error.retryable).toBe(true);
  });

  it('maps HTTP 500 to backend, with the status and a body excerpt', async () => {
    const { backend } = await setUp({ fault: 'http500' });

    const error = await failureOf(run(backend));

    expect(error.type).toBe('backend');
    expect(error.message).toMatch(/HTTP 500: fake/);
    expect(error.details).toMatchObject({ upstream_status: 500 });
  });

  it('maps a socket destroyed mid-stream to network', async () => {
    const { backend } = await setUp({ fault: 'destroyMidStream' });

    expect((await failureOf(run(backend))).type).toBe('network');
  });

  it('times out a backend that never answers, and closes the socket', async () => {
    const { fake, backend } = await setUp({ fault: 'hang' }, 0.3);
    const started = performance.now();

    const error = await failureOf(run(backend));

    expect(error.type).toBe('timeout');
    expect(error.message).toContain('did not answer within 0.3 s');
    // Not before the configured 0.3 s (the message names it; the fake never answers at all).
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    expect(await waitFor(() => fake.openConnections() === 0, 1000)).toBe(true);
  });

  it('times out a stream that goes silent after a frame', async () => {
    const { backend } = await setUp({ fault: 'hangMidStream' }, 0.3);
    const { frames, onFrame } = frameRecorder();

    const error = await failureOf(backend.run(generateRequest(), { signal: new AbortController().signal, onFrame }));

    expect(error.type).toBe('timeout');
    expect(error.message).toContain('silent mid-stream');
    expect(frames.length).toBeGreaterThan(0);
  });

  it('does not cut a stream that keeps sending frames for longer than the timeout', async () => {
    const { backend } = await setUp({ frameMs: 100 }, 0.3);
    const started = performance.now();

    const result = await run(backend);

    expect(performance.now() - started).toBeGreaterThanOrEqual(950);
    expect(result.text.length).toBeGreaterThan(0);
  });

  it('waits out a slow first answer that stays within the timeout', async () => {
    const { backend } = await setUp({ fault: 'delay', delayMs: 150 }, 0.5);

    expect((await run(backend)).text.length).toBeGreaterThan(0);
  });

  it('maps a data line that is not JSON to backend', async () => {
    const { backend } = await setUp({ fault: 'malformedSse' });

    const error = await failureOf(run(backend));

    expect(error.type).toBe('backend');
    expect(error.message).toContain('not JSON');
  });

  it('maps an error frame from the backend to backend', async () => {
    const { backend } = await setUp({ fault: 'errorFrame' });

    const error = await failureOf(run(backend));

    expect(error.type).toBe('backend');
    expect(error.message).toMatch(/CUDA out of memory|engine died/);
  });

  it('maps a stream that ends without its terminal frame to backend', async () => {
    const fake = closer.add(
      await listenFake(({ res }) => {
        startSse(res);
        for (const data of protocol.truncatedStream) writeSse(res, data);
        res.end();
      }, {}),
    );
    const backend = closer.add(protocol.backend(fake.url, 5));

    const error = await failureOf(run(backend));

    expect(error.type).toBe('backend');
    expect(error.message).toMatch(/ended (without|before)/);
  });

  it('aborts the upstream request when our client leaves mid-stream', async () => {
    const { fake, backend } = await setUp({ frameMs: 50 });
    const controller = new AbortController();
    let frames = 0;

    const error = await failureOf(
      backend.run(generateRequest(), {
        signal: controller.signal,
        onFrame: (frame) => {
          frames += 1;
          if (frame.type !== 'status') controller.abort();
        },
      }),
    );

    expect(error.type).toBe('cancelled');
    expect(frames).toBeLessThan(3);
    expect(await waitFor(() => fake.openConnections() === 0, 1000)).toBe(true);
  });

  it('aborts at once while still waiting for the first answer', async () => {
    const { fake, backend } = await setUp({ fault: 'hang' });
    const controller = new AbortController();
    const pending = run(backend, controller.signal);
    await waitFor(() => fake.requests.length > 0, 1000);

    controller.abort();
    const error = await failureOf(pending);

    // The fake never answers and the timeout is 5 s: only the abort can end the run as cancelled.
    expect(error.type).toBe('cancelled');
    expect(await waitFor(() => fake.openConnections() === 0, 1000)).toBe(true);
  });

  it('answers cancelled without sending when the signal is already aborted', async () => {
    const { fake, backend } = await setUp();

    const error = await failureOf(run(backend, AbortSignal.abort()));

    expect(error.type).toBe('cancelled');
    expect(fake.requests.filter((r) => r.method === 'POST')).toHaveLength(0);
  });

  it('reports an unreachable backend in health without throwing', async () => {
    const url = `http://127.0.0.1:${await deadPort()}`;
    const backend = closer.add(protocol.backend(url, 5));

    const health = await backend.health();

    expect(health).toMatchObject({ configured: true, kind: protocol.name, url, reachable: false, models: [] });
    expect(health.last_error).toContain('ECONNREFUSED');
    expect(typeof health.checked_at).toBe('number');
  });

  it('reports a backend that answers 500 as reachable with its last error', async () => {
    const { backend } = await setUp({ fault: 'http500' });

    const health = await backend.health();

    expect(health.reachable).toBe(true);
    expect(health.last_error).toContain('HTTP 500');
  });
});
