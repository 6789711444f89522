import { afterEach, describe, expect, it } from 'vitest';
import { OpenAiBackend, type OpenAiBackendOptions } from '../../../src/main/backend/openaiBackend';
import type { DeltaFrame, StepFrame } from '../../../src/shared/frames';
import { Closer, failureOf, frameRecorder, generateRequest, infillRequest } from '../../fixtures/backendHarness';
import { tokenize } from '../../fixtures/fakeHttp';
import { DEFAULT_CHAT_ANSWER, DEFAULT_FIM_ANSWER, startFakeOpenAiServer } from '../../fixtures/fakeOpenAiServer';

const closer = new Closer();
afterEach(() => closer.closeAll());

async function setUp(fakeOptions: Parameters<typeof startFakeOpenAiServer>[0] = {}, backendOptions: Partial<OpenAiBackendOptions> = {}) {
  const fake = closer.add(await startFakeOpenAiServer({ chunkMs: 1, ...fakeOptions }));
  const backend = closer.add(new OpenAiBackend({ url: fake.url, timeoutSeconds: 5, ...backendOptions }));
  return { fake, backend };
}

const signal = (): AbortSignal => new AbortController().signal;
const posts = (fake: { requests: Array<{ method: string; path: string; body: unknown }> }) => fake.requests.filter((r) => r.method === 'POST');

describe('OpenAiBackend', () => {
  it('streams chat deltas, accumulates the text and stores the usage token count', async () => {
    const { fake, backend } = await setUp();
    const { frames, onFrame } = frameRecorder();

    const result = await backend.run(generateRequest({ prompt: 'Explain LLaDA.' }), { signal: signal(), onFrame });

    const deltas = frames.filter((f): f is DeltaFrame => f.type === 'delta');
    expect(frames).toHaveLength(deltas.length);
    expect(deltas.length).toBe(tokenize(DEFAULT_CHAT_ANSWER).length);
    expect(deltas.map((f) => f.text).join('')).toBe(DEFAULT_CHAT_ANSWER);
    expect(result.text).toBe(DEFAULT_CHAT_ANSWER);
    expect(result.tokenCount).toBe(tokenize(DEFAULT_CHAT_ANSWER).length);
    expect(result.modelUsed).toBe('fake-llada2-mini');
    expect(result.steps).toBeUndefined();
    expect(result.timeToFirstStep).toBeGreaterThan(0);

    // The model came from /v1/models because neither the request nor the config named one.
    expect(fake.requests[0]).toMatchObject({ method: 'GET', path: '/v1/models' });
    const post = posts(fake)[0];
    expect(post?.path).toBe('/v1/chat/completions');
    expect(post?.body).toEqual({
      model: 'fake-llada2-mini',
      messages: [{ role: 'user', content: 'Explain LLaDA.' }],
      max_tokens: 64,
      temperature: 0.2,
      top_p: 0.9,
      stream: true,
      stream_options: { include_usage: true },
    });
  });

  it('uses /v1/completions with a prompt when configured for completions', async () => {
    const { fake, backend } = await setUp({}, { generateApi: 'completions', model: 'fake-llada2-mini' });

    const result = await backend.run(generateRequest({ prompt: 'Once upon', top_k: 40, max_new_tokens: 32 }), { signal: signal() });

    expect(fake.requests.map((r) => r.path)).toEqual(['/v1/completions']);
    expect(fake.requests[0]?.body).toMatchObject({ prompt: 'Once upon', top_k: 40, max_tokens: 32 });
    expect(fake.requests[0]?.body).not.toHaveProperty('messages');
    expect(result.text).toBe(DEFAULT_CHAT_ANSWER);
  });

  it('sends infill as prompt + suffix to /v1/completions by default', async () => {
    const { fake, backend } = await setUp();
    const request = infillRequest();

    const result = await backend.run(request, { signal: signal() });

    const post = posts(fake)[0];
    expect(post?.path).toBe('/v1/completions');
    expect(post?.body).toMatchObject({ prompt: request.prefix, suffix: request.suffix });
    expect(result.text).toBe(DEFAULT_FIM_ANSWER);
  });

  it('sends infill to /v1/fim/completions when configured for fim', async () => {
    const { fake, backend } = await setUp({}, { infillApi: 'fim' });
    const request = infillRequest();

    const result = await backend.run(request, { signal: signal() });

    const post = posts(fake)[0];
    expect(post?.path).toBe('/v1/fim/completions');
    expect(post?.body).toMatchObject({ prompt: request.prefix, suffix: request.suffix });
    expect(result.text).toBe(DEFAULT_FIM_ANSWER);
    expect(result.tokenCount).toBe(tokenize(DEFAULT_FIM_ANSWER).length);
  });

  it('relays Mercury diffusing drafts as step frames and keeps the last draft', async () => {
    const { fake, backend } = await setUp({ drafts: 5 }, { diffusing: true });
    const { frames, onFrame } = frameRecorder();

    const result = await backend.run(generateRequest(), { signal: signal(), onFrame });

    expect(posts(fake)[0]?.body).toMatchObject({ diffusing: true });
    const steps = frames.filter((f): f is StepFrame => f.type === 'step');
    expect(frames).toHaveLength(5);
    expect(steps.map((f) => f.step)).toEqual([1, 2, 3, 4, 5]);
    expect(steps.every((f) => f.total_steps === null && f.masked === null)).toBe(true);
    // Each draft is the whole text: same length, converging on the answer.
    expect(steps.every((f) => f.text.length === DEFAULT_CHAT_ANSWER.length)).toBe(true);
    expect(steps[0]?.text).not.toBe(DEFAULT_CHAT_ANSWER);
    expect(steps.at(-1)?.text).toBe(DEFAULT_CHAT_ANSWER);
    expect(result.text).toBe(DEFAULT_CHAT_ANSWER);
    expect(result.steps).toBe(5);
  });

  it('prefers the request model, then the configured one', async () => {
    const { fake, backend } = await setUp({ models: ['a', 'b', 'c'] }, { model: 'b' });

    expect((await backend.run(generateRequest(), { signal: signal() })).modelUsed).toBe('b');
    expect((await backend.run(generateRequest({ model_id: 'c' }), { signal: signal() })).modelUsed).toBe('c');
    expect(fake.requests.some((r) => r.path === '/v1/models')).toBe(false);
  });

  it('maps an unknown model to model_unavailable', async () => {
    const { backend } = await setUp();

    const error = await failureOf(backend.run(generateRequest({ model_id: 'gpt-9' }), { signal: signal() }));

    expect(error.type).toBe('model_unavailable');
    expect(error.message).toMatch(/HTTP 404.*gpt-9/);
  });

  it('sends the api key as a bearer token, and a rejected key is a backend error', async () => {
    const { backend } = await setUp({ apiKey: 'sk-test' }, { apiKey: 'sk-test' });
    expect((await backend.run(generateRequest(), { signal: signal() })).text).toBe(DEFAULT_CHAT_ANSWER);

    const { backend: withoutKey } = await setUp({ apiKey: 'sk-test' }, { model: 'fake-llada2-mini' });
    const error = await failureOf(withoutKey.run(generateRequest(), { signal: signal() }));
    expect(error.type).toBe('backend');
    expect(error.message).toContain('HTTP 401');
    expect(error.details).toMatchObject({ upstream_status: 401 });
  });

  it('accepts a base URL that already ends in /v1', async () => {
    const fake = closer.add(await startFakeOpenAiServer());
    const backend = closer.add(new OpenAiBackend({ url: `${fake.url}/v1/`, timeoutSeconds: 5 }));

    expect(await backend.listModels()).toEqual(['fake-llada2-mini']);
    expect(fake.requests[0]?.path).toBe('/v1/models');
  });

  it('says model_unavailable when the server lists no models and none is configured', async () => {
    const { backend } = await setUp({ models: [] });

    const error = await failureOf(backend.run(generateRequest(), { signal: signal() }));

    expect(error.type).toBe('model_unavailable');
  });
});
