import { afterEach, describe, expect, it } from 'vitest';
import { DllmBackend } from '../../../src/main/backend/dllmBackend';
import type { StepFrame } from '../../../src/shared/frames';
import { Closer, failureOf, frameRecorder, generateRequest, infillRequest, waitFor } from '../../fixtures/backendHarness';
import { DEFAULT_GENERATE_ANSWER, DEFAULT_INFILL_ANSWER, MASK, startFakeDllmServer } from '../../fixtures/fakeDllmServer';
import { listenFake, sendJson, startSse, tokenize } from '../../fixtures/fakeHttp';

const closer = new Closer();
afterEach(() => closer.closeAll());

async function setUp(fakeOptions: Parameters<typeof startFakeDllmServer>[0] = {}, backendOptions: { model?: string; apiKey?: string } = {}) {
  const fake = closer.add(await startFakeDllmServer({ stepMs: 2, ...fakeOptions }));
  const backend = closer.add(new DllmBackend({ url: fake.url, timeoutSeconds: 5, ...backendOptions }));
  return { fake, backend };
}

describe('DllmBackend', () => {
  it('relays status and step frames in order and resolves with the complete frame', async () => {
    const { fake, backend } = await setUp({ steps: 5, stepMs: 20 });
    const { frames, onFrame: record } = frameRecorder();
    // When the test saw the first and the last step: the measured time to first step must fall
    // before the first one (it is taken as the frame arrives), whatever the machine's load.
    const started = performance.now();
    let firstStepSeen: number | null = null;
    let lastStepSeen = 0;
    const onFrame: typeof record = (frame) => {
      if (frame.type === 'step') {
        firstStepSeen ??= performance.now();
        lastStepSeen = performance.now();
      }
      record(frame);
    };

    const result = await backend.run(generateRequest(), { signal: new AbortController().signal, onFrame });

    expect(frames[0]?.type).toBe('status');
    const steps = frames.filter((f): f is StepFrame => f.type === 'step');
    expect(steps.map((f) => f.step)).toEqual([1, 2, 3, 4, 5]);
    expect(steps.every((f) => f.total_steps === 5)).toBe(true);
    // The canvas starts masked and is denoised step by step.
    expect(steps[0]?.text).toContain(MASK);
    const masked = steps.map((f) => f.masked ?? -1);
    expect(masked).toEqual([...masked].sort((a, b) => b - a));
    expect(masked.at(-1)).toBe(0);
    expect(steps.at(-1)?.text).toBe(DEFAULT_GENERATE_ANSWER);

    expect(result.text).toBe(DEFAULT_GENERATE_ANSWER);
    expect(result.modelUsed).toBe('fake-dream-7b');
    expect(result.tokenCount).toBe(tokenize(DEFAULT_GENERATE_ANSWER).length);
    expect(result.steps).toBe(5);
    expect(result.generationTime).toBeGreaterThan(0);
    expect(result.timeToFirstStep).toBeGreaterThan(0);
    expect((result.timeToFirstStep ?? Infinity) * 1000).toBeLessThanOrEqual((firstStepSeen ?? 0) - started);
    expect(firstStepSeen).toBeLessThan(lastStepSeen);
    expect(fake.requests.map((r) => r.path)).toEqual(['/api/diffusion/generate/stream']);
  });

  it('sends the options under both spellings (seed and Reynard), leaving out nulls and the user id', async () => {
    const { fake, backend } = await setUp();

    await backend.run(generateRequest({ prompt: 'p', temperature: 0.7, top_k: 20, user_id: 'alice' }), { signal: new AbortController().signal });

    expect(fake.requests[0]?.body).toEqual({
      prompt: 'p',
      text: 'p',
      max_new_tokens: 64,
      max_length: 64,
      temperature: 0.7,
      top_p: 0.9,
      top_k: 20,
      alg: 'entropy',
    });
    expect(fake.requests[0]?.headers.accept).toBe('text/event-stream');
  });

  it('sends the configured model and api key when the request names no model', async () => {
    const { fake, backend } = await setUp({ models: ['fake-dream-7b', 'diffucoder'] }, { model: 'diffucoder', apiKey: 'sekret' });

    const result = await backend.run(generateRequest({ steps: 3 }), { signal: new AbortController().signal });

    expect(fake.requests[0]?.body).toMatchObject({ model_id: 'diffucoder', steps: 3 });
    expect(fake.requests[0]?.headers.authorization).toBe('Bearer sekret');
    expect(result.modelUsed).toBe('diffucoder');
    expect(result.steps).toBe(3);
  });

  it('sends prefix and suffix of an infill to the infill stream route', async () => {
    const { fake, backend } = await setUp();
    const request = infillRequest();

    const result = await backend.run(request, { signal: new AbortController().signal });

    expect(fake.requests[0]?.path).toBe('/api/diffusion/infill/stream');
    expect(fake.requests[0]?.body).toMatchObject({ prefix: request.prefix, suffix: request.suffix });
    expect(fake.requests[0]?.body).not.toHaveProperty('prompt');
    expect(result.text).toBe(DEFAULT_INFILL_ANSWER);
  });

  it('falls back to the plain route when the stream route answers 404', async () => {
    const { fake, backend } = await setUp({ streamRoutes: false, steps: 4 });
    const { frames, onFrame } = frameRecorder();

    const result = await backend.run(generateRequest(), { signal: new AbortController().signal, onFrame });

    expect(fake.requests.map((r) => r.path)).toEqual(['/api/diffusion/generate/stream', '/api/diffusion/generate']);
    expect(fake.requests[1]?.body).toEqual(fake.requests[0]?.body);
    expect(frames).toEqual([]);
    expect(result).toMatchObject({ text: DEFAULT_GENERATE_ANSWER, modelUsed: 'fake-dream-7b', tokenCount: tokenize(DEFAULT_GENERATE_ANSWER).length, steps: 4 });
    expect(result.timeToFirstStep).toBeUndefined();
  });

  it('does not fall back when the 404 says the model is unavailable', async () => {
    const { fake, backend } = await setUp();

    const error = await failureOf(backend.run(generateRequest({ model_id: 'no-such-model' }), { signal: new AbortController().signal }));

    expect(error.type).toBe('model_unavailable');
    expect(error.message).toContain('404');
    expect(fake.requests).toHaveLength(1);
  });

  it('reuses one keep-alive connection across runs', async () => {
    const { fake, backend } = await setUp();
    for (let i = 0; i < 3; i++) {
      await backend.run(generateRequest(), { signal: new AbortController().signal });
      // Let the drained connection go back to the pool before the next run.
      await waitFor(() => false, 20);
    }
    expect(fake.requests).toHaveLength(3);
    expect(fake.openConnections()).toBe(1);
  });

  it('lists the models of the backend', async () => {
    const { backend } = await setUp({ models: ['dream-7b', 'llada-8b'], model: 'dream-7b' });

    expect(await backend.listModels()).toEqual(['dream-7b', 'llada-8b']);
  });

  it('reports health with the models, cached between calls', async () => {
    const { fake, backend } = await setUp();

    const first = await backend.health();
    const second = await backend.health();

    expect(first).toMatchObject({ configured: true, kind: 'dllm', url: fake.url, reachable: true, models: ['fake-dream-7b'], last_error: null });
    expect(first.checked_at).toBeCloseTo(Date.now() / 1000, -1);
    expect(second).toEqual(first);
    expect(fake.requests.filter((r) => r.path === '/api/diffusion/models')).toHaveLength(1);
  });

  it('reads frames split across writes, multi-byte characters included', async () => {
    const text = 'naïve → 拡散 🚀';
    const wire = [
      `data: ${JSON.stringify({ type: 'step', step: 1, total_steps: 1, text, masked: 0 })}\n\n`,
      `data: ${JSON.stringify({ type: 'complete', text, generation_time: 0.1, model_used: 'm', token_count: 4 })}\n\n`,
    ].join('');
    const fake = closer.add(
      await listenFake(async ({ res }) => {
        startSse(res);
        const bytes = Buffer.from(wire);
        // Three bytes at a time splits the JSON, the blank lines and the UTF-8 sequences.
        for (let i = 0; i < bytes.length; i += 3) {
          res.write(bytes.subarray(i, i + 3));
          await new Promise((resolve) => setImmediate(resolve));
        }
        res.end();
      }, {}),
    );
    const backend = closer.add(new DllmBackend({ url: fake.url, timeoutSeconds: 5 }));
    const { frames, onFrame } = frameRecorder();

    const result = await backend.run(generateRequest(), { signal: new AbortController().signal, onFrame });

    expect(frames).toEqual([{ type: 'step', step: 1, total_steps: 1, text, masked: 0 }]);
    expect(result).toMatchObject({ text, modelUsed: 'm', tokenCount: 4, steps: 1 });
  });

  it('relays fields a newer backend adds to step frames unchanged', async () => {
    const fake = closer.add(
      await listenFake(({ res }) => {
        startSse(res);
        res.write(`data: ${JSON.stringify({ type: 'step', step: 0, total_steps: 2, text: 'x', masked: 1, confidence: [0.5] })}\n\n`);
        res.end(`data: ${JSON.stringify({ type: 'complete', text: 'xy', generation_time: 0.1, model_used: 'm', token_count: 2 })}\n\n`);
      }, {}),
    );
    const backend = closer.add(new DllmBackend({ url: fake.url, timeoutSeconds: 5 }));
    const { frames, onFrame } = frameRecorder();

    const result = await backend.run(generateRequest(), { signal: new AbortController().signal, onFrame });

    expect(frames).toEqual([{ type: 'step', step: 0, total_steps: 2, text: 'x', masked: 1, confidence: [0.5] }]);
    // One step frame numbered 0 still counts as one step.
    expect(result.steps).toBe(1);
  });

  it('maps a stream whose only step cannot be used to backend, naming the missing field', async () => {
    const fake = closer.add(
      await listenFake(({ res }) => {
        startSse(res);
        res.end(`data: ${JSON.stringify({ type: 'step', step: 'three' })}\n\n`);
      }, {}),
    );
    const backend = closer.add(new DllmBackend({ url: fake.url, timeoutSeconds: 5 }));

    const error = await failureOf(backend.run(generateRequest(), { signal: new AbortController().signal }));

    expect(error.type).toBe('backend');
    expect(error.message).toContain('ended without a complete frame');
    expect(error.message).toContain('step frame whose field `text` is missing');
    expect(error.message).toContain('{"type":"step","step":"three"}');
  });

  it('times out a stream that only sends heartbeat frames: they are no progress', async () => {
    const fake = closer.add(
      await listenFake(async ({ res }) => {
        startSse(res);
        res.write(`data: ${JSON.stringify({ type: 'status', message: 'warming up' })}\n\n`);
        for (let i = 0; i < 40 && !res.destroyed; i++) {
          res.write(`data: ${JSON.stringify({ type: 'heartbeat', n: i })}\n\nevent: ping\ndata: {}\n\n`);
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        res.end();
      }, {}),
    );
    const backend = closer.add(new DllmBackend({ url: fake.url, timeoutSeconds: 0.3 }));
    const { frames, onFrame } = frameRecorder();

    const error = await failureOf(backend.run(generateRequest(), { signal: new AbortController().signal, onFrame }));

    expect(error.type).toBe('timeout');
    expect(frames).toEqual([{ type: 'status', message: 'warming up' }]);
  });

  it.each([
    [429, { detail: 'Too many concurrent streams' }, 'rate_limited'],
    [503, { detail: 'LLaDA is loading' }, 'model_unavailable'],
    [500, { detail: 'Text generation error: Model dreamon not available' }, 'model_unavailable'],
    [500, { detail: 'Text generation error: CUDA out of memory' }, 'backend'],
  ] as const)('classifies an HTTP %i with %j as %s', async (status, body, type) => {
    const fake = closer.add(await listenFake(({ res }) => sendJson(res, status, body), {}));
    const backend = closer.add(new DllmBackend({ url: fake.url, timeoutSeconds: 5 }));

    const error = await failureOf(backend.run(generateRequest(), { signal: new AbortController().signal }));

    expect(error.type).toBe(type);
    expect(error.message).toContain(body.detail);
  });

  it('maps unparseable JSON from the plain route to backend', async () => {
    const { backend } = await setUp({ streamRoutes: false, fault: 'malformedSse' });

    const error = await failureOf(backend.run(generateRequest(), { signal: new AbortController().signal }));

    expect(error.type).toBe('backend');
    expect(error.message).toContain('not JSON');
  });
});
