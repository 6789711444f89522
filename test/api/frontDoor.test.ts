import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PerformanceEvent } from '../../src/shared/events';
import { deadPort, waitFor } from '../fixtures/backendHarness';
import { DEFAULT_GENERATE_ANSWER, DEFAULT_INFILL_ANSWER, startFakeDllmServer } from '../fixtures/fakeDllmServer';
import type { FakeServer } from '../fixtures/fakeHttp';
import { DEFAULT_CHAT_ANSWER, DEFAULT_FIM_ANSWER, startFakeOpenAiServer } from '../fixtures/fakeOpenAiServer';
import { startMonitor } from '../fixtures/monitorHarness';

type Monitor = Awaited<ReturnType<typeof startMonitor>>;

/** The events the request with this id stored (flushes first). */
function eventsOf(monitor: Monitor, requestId: string | null): PerformanceEvent[] {
  return monitor.core.store.events({ limit: 1000 }).filter((e) => e.metadata.request_id === requestId);
}

/** The official client, pointed at the monitor as an editor would be; no retries so each call is one request. */
function clientOf(monitor: Monitor, apiKey = 'unused'): OpenAI {
  return new OpenAI({ baseURL: `${monitor.url}/v1`, apiKey, maxRetries: 0 });
}

describe('the official openai client against the front door (OpenAI-compatible backend)', () => {
  let fake: FakeServer;
  let monitor: Monitor;
  let client: OpenAI;

  beforeAll(async () => {
    fake = await startFakeOpenAiServer({ chunkMs: 1 });
    monitor = await startMonitor(['--backend', fake.url, '--backend-kind', 'openai']);
    client = clientOf(monitor);
  });
  afterAll(async () => {
    await monitor.close();
    await fake.close();
  });

  it('answers a chat completion with usage, hands the messages to the chat backend unchanged, and records one row', async () => {
    const messages = [
      { role: 'system' as const, content: 'You are terse.' },
      { role: 'user' as const, content: [{ type: 'text' as const, text: 'What is LLaDA?' }], name: 'dev' },
    ];
    const { data, response } = await client.chat.completions.create({ model: 'fake-llada2-mini', messages, max_tokens: 48, user: 'zed-user' }).withResponse();
    expect(data).toMatchObject({ object: 'chat.completion', model: 'fake-llada2-mini' });
    expect(data.choices[0]?.message).toMatchObject({ role: 'assistant', content: DEFAULT_CHAT_ANSWER });
    expect(data.choices[0]?.finish_reason).toBe('stop');
    expect(data.usage?.completion_tokens).toBeGreaterThan(0);
    expect(data.usage?.total_tokens).toBe((data.usage?.prompt_tokens ?? 0) + (data.usage?.completion_tokens ?? 0));
    expect(fake.requests.at(-1)).toMatchObject({ path: '/v1/chat/completions', body: { messages, max_tokens: 48 } });

    const [event, ...more] = eventsOf(monitor, response.headers.get('x-request-id'));
    expect(more).toHaveLength(0);
    expect(event).toMatchObject({ event_type: 'diffusion_generate', user_id: 'zed-user', model_id: 'fake-llada2-mini' });
    expect(event?.metadata).toMatchObject({
      api: 'openai_chat',
      success: true,
      token_count: data.usage?.completion_tokens,
      token_count_source: 'backend',
      max_new_tokens: 48,
    });
  });

  it('streams chat deltas, a finish_reason, the usage chunk when asked for, and records a stream row', async () => {
    const { data: stream, response } = await client.chat.completions
      .create({ model: 'fake-llada2-mini', messages: [{ role: 'user', content: 'What is LLaDA?' }], stream: true, stream_options: { include_usage: true } })
      .withResponse();
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    const content = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
    expect(content).toBe(DEFAULT_CHAT_ANSWER);
    expect(chunks.filter((c) => (c.choices[0]?.delta.content ?? '') !== '').length).toBeGreaterThan(1);
    expect(chunks[0]?.choices[0]?.delta.role).toBe('assistant');
    expect(chunks.at(-2)?.choices[0]?.finish_reason).toBe('stop');
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { completion_tokens: expect.any(Number) as number } });
    const [event] = eventsOf(monitor, response.headers.get('x-request-id'));
    expect(event).toMatchObject({ event_type: 'diffusion_generate_stream' });
    expect(event?.metadata).toMatchObject({ api: 'openai_chat', success: true, token_count: chunks.at(-1)?.usage?.completion_tokens });
  });

  it('completes text without a suffix as a generation and with one as an infill', async () => {
    const plain = await client.completions.create({ model: 'fake-llada2-mini', prompt: 'Diffusion models' }).withResponse();
    expect(plain.data).toMatchObject({ object: 'text_completion', choices: [{ text: DEFAULT_CHAT_ANSWER, finish_reason: 'stop' }] });
    expect(plain.data.usage?.completion_tokens).toBeGreaterThan(0);
    expect(eventsOf(monitor, plain.response.headers.get('x-request-id'))[0]).toMatchObject({
      event_type: 'diffusion_generate',
      metadata: { api: 'openai_completions' },
    });

    const infill = await client.completions.create({ model: 'fake-llada2-mini', prompt: 'def add(a, b):\n', suffix: '\nprint(add(1, 2))' }).withResponse();
    expect(infill.data.choices[0]?.text).toBe(DEFAULT_FIM_ANSWER);
    expect(infill.data.usage).toMatchObject({ completion_tokens: expect.any(Number) as number });
    expect(fake.requests.at(-1)).toMatchObject({ path: '/v1/completions', body: { prompt: 'def add(a, b):\n', suffix: '\nprint(add(1, 2))' } });
    expect(eventsOf(monitor, infill.response.headers.get('x-request-id'))[0]).toMatchObject({
      event_type: 'diffusion_infill',
      metadata: { api: 'openai_completions', success: true },
    });
  });

  it('streams a text completion as choices[].text pieces ending in [DONE]', async () => {
    const stream = await client.completions.create({ model: 'fake-llada2-mini', prompt: 'x = ', suffix: '\n', stream: true });
    const pieces = [];
    for await (const chunk of stream) pieces.push(chunk);
    expect(pieces.map((c) => c.choices[0]?.text ?? '').join('')).toBe(DEFAULT_FIM_ANSWER);
    expect(pieces.every((c) => c.object === 'text_completion')).toBe(true);
    expect(pieces.at(-1)?.choices[0]?.finish_reason).toBe('stop');
  });

  it('answers /v1/fim/completions, plain and streamed, as an infill row of api fim', async () => {
    const body = { model: 'fake-llada2-mini', prompt: 'def add(a, b):\n', suffix: '\nprint(add(1, 2))', max_tokens: 32 };
    const { data, response } = await client.post<OpenAI.ChatCompletion>('/fim/completions', { body }).withResponse();
    expect(data.choices[0]?.message.content).toBe(DEFAULT_FIM_ANSWER);
    expect(data.usage?.completion_tokens).toBeGreaterThan(0);
    expect(eventsOf(monitor, response.headers.get('x-request-id'))[0]).toMatchObject({
      event_type: 'diffusion_infill',
      metadata: { api: 'fim', success: true },
    });

    const stream = await client.post<AsyncIterable<OpenAI.ChatCompletionChunk>>('/fim/completions', {
      body: { ...body, stream: true },
      stream: true,
    });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe(DEFAULT_FIM_ANSWER);
  });

  it('cuts the answer at a stop sequence, in the JSON answer and in the stream', async () => {
    const stop = ['parallel'];
    const expected = DEFAULT_CHAT_ANSWER.slice(0, DEFAULT_CHAT_ANSWER.indexOf('parallel'));
    const once = await client.chat.completions.create({ model: 'fake-llada2-mini', messages: [{ role: 'user', content: 'x' }], stop });
    expect(once.choices[0]?.message.content).toBe(expected);
    expect(once.choices[0]?.finish_reason).toBe('stop');
    const stream = await client.chat.completions.create({ model: 'fake-llada2-mini', messages: [{ role: 'user', content: 'x' }], stop, stream: true });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe(expected);
  });

  it('refuses a bad option with 400 in OpenAI’s error shape naming the field, and records it', async () => {
    const failure = await client.chat.completions
      .create({ model: 'fake-llada2-mini', messages: [{ role: 'user', content: 'x' }], temperature: 5 })
      .then(() => null)
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(OpenAI.BadRequestError);
    const error = failure as InstanceType<typeof OpenAI.BadRequestError>;
    expect(error.status).toBe(400);
    expect(error.error).toMatchObject({
      type: 'invalid_request_error',
      code: 'validation',
      param: 'temperature',
      message: expect.stringContaining('temperature') as string,
    });
    const [event] = eventsOf(monitor, error.headers?.get('x-request-id') ?? null);
    expect(event).toMatchObject({ event_type: 'diffusion_generate', metadata: { api: 'openai_chat', success: false, error_type: 'validation', status: 400 } });
  });

  it('lists the backend’s models in OpenAI’s list shape, and one model by id', async () => {
    const page = await client.models.list();
    expect(page.data.map((m) => m.id)).toEqual(['fake-llada2-mini']);
    expect(page.data[0]).toMatchObject({ object: 'model', owned_by: 'openai' });
    expect(await client.models.retrieve('fake-llada2-mini')).toMatchObject({ id: 'fake-llada2-mini' });
    await expect(client.models.retrieve('no-such-model')).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    // A route we lack answers in OpenAI's shape too, so a tool's probe reads a clear error.
    const missing = await client.embeddings.create({ model: 'fake-llada2-mini', input: 'x' }).catch((error: unknown) => error);
    expect(missing).toBeInstanceOf(OpenAI.NotFoundError);
    expect((missing as InstanceType<typeof OpenAI.APIError>).error).toMatchObject({
      type: 'invalid_request_error',
      message: expect.stringContaining('/v1/embeddings') as string,
    });
  });

  it('counts the front door per API in the summary and the Prometheus export', async () => {
    const summary = monitor.core.store.summary();
    expect(summary.apis.openai_chat?.requests).toBeGreaterThanOrEqual(4);
    expect(summary.apis.fim?.requests).toBe(2);
    expect(summary.apis.diffusion?.requests).toBe(0);
    const metrics = await fetch(`${monitor.url}/metrics`).then((r) => r.text());
    expect(metrics).toContain('# TYPE diffusion_llm_requests_by_api_total counter');
    expect(metrics).toMatch(/^diffusion_llm_requests_by_api_total\{api="fim"\} 2$/m);
    expect(metrics).toMatch(/^diffusion_llm_requests_by_api_total\{api="diffusion"\} 0$/m);
  });
});

describe('the front door before a step-based backend (dllm)', () => {
  it('sends no denoising steps, streams the final text as deltas, and still counts the steps', async () => {
    const fake = await startFakeDllmServer({ steps: 6, stepMs: 2 });
    const monitor = await startMonitor(['--backend', fake.url]);
    try {
      const { data: stream, response } = await clientOf(monitor)
        .chat.completions.create({ model: 'fake-dream-7b', messages: [{ role: 'user', content: 'Explain diffusion' }], stream: true })
        .withResponse();
      let text = '';
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
      expect(text).toBe(DEFAULT_GENERATE_ANSWER);
      const [event] = eventsOf(monitor, response.headers.get('x-request-id'));
      expect(event?.metadata).toMatchObject({ api: 'openai_chat', steps: 6, success: true });
      expect(event?.metadata.time_to_first_step).toBeGreaterThan(0);
      // The chat was rendered into the prompt the dllm contract takes.
      expect(fake.requests.at(-1)?.body).toMatchObject({ prompt: 'Explain diffusion' });

      const fim = await clientOf(monitor).completions.create({ model: 'fake-dream-7b', prompt: 'def add(a, b):\n', suffix: '\n' });
      expect(fim.choices[0]?.text).toBe(DEFAULT_INFILL_ANSWER);
    } finally {
      await monitor.close();
      await fake.close();
    }
  });
});

describe('front-door failures in OpenAI’s shapes', () => {
  it('answers a backend outage with 502 (code network), plain and mid-stream, each recorded', async () => {
    const monitor = await startMonitor(['--backend', `http://127.0.0.1:${await deadPort()}`, '--backend-kind', 'openai', '--model', 'm']);
    try {
      const client = clientOf(monitor);
      const failure = await client.chat.completions
        .create({ model: 'm', messages: [{ role: 'user', content: 'x' }] })
        .then(() => null)
        .catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(OpenAI.InternalServerError);
      const error = failure as InstanceType<typeof OpenAI.APIError>;
      expect(error.status).toBe(502);
      expect(error.error).toMatchObject({ type: 'server_error', code: 'network', param: null });
      expect(eventsOf(monitor, error.headers?.get('x-request-id') ?? null)[0]?.metadata).toMatchObject({
        api: 'openai_chat',
        error_type: 'network',
        status: 502,
      });

      const stream = await client.completions.create({ model: 'm', prompt: 'a', suffix: 'b', stream: true });
      const streamed = await (async () => {
        for await (const chunk of stream) void chunk;
      })()
        .then(() => null)
        .catch((e: unknown) => e);
      expect(streamed).toBeInstanceOf(OpenAI.APIError);
      expect((streamed as InstanceType<typeof OpenAI.APIError>).message).toMatch(/connect|refused|reach/i);
      const last = monitor.core.store.events({ limit: 1 })[0];
      expect(last).toMatchObject({ event_type: 'diffusion_infill_stream', metadata: { api: 'openai_completions', error_type: 'network', status: 502 } });
    } finally {
      await monitor.close();
    }
  });

  it('aborts the upstream request when the editor cancels a stream, and records it as cancelled', async () => {
    const fake = await startFakeOpenAiServer({ fault: 'hang' });
    const monitor = await startMonitor(['--backend', fake.url, '--backend-kind', 'openai']);
    try {
      const controller = new AbortController();
      const stream = clientOf(monitor).chat.completions.create(
        { model: 'fake-llada2-mini', messages: [{ role: 'user', content: 'x' }], stream: true },
        { signal: controller.signal },
      );
      const pending = stream.then(async (s) => {
        for await (const chunk of s) void chunk;
      });
      expect(await waitFor(() => fake.openConnections() > 0 && fake.requests.at(-1)?.path === '/v1/chat/completions', 10_000)).toBe(true);
      controller.abort();
      await pending.catch(() => undefined);
      expect(await waitFor(() => fake.openConnections() === 0, 10_000)).toBe(true);
      expect(await waitFor(() => monitor.core.store.events({ limit: 1 }).length > 0, 10_000)).toBe(true);
      expect(monitor.core.store.events({ limit: 1 })[0]).toMatchObject({
        event_type: 'diffusion_generate_stream',
        metadata: { api: 'openai_chat', success: false, error_type: 'cancelled' },
      });
    } finally {
      await monitor.close();
      await fake.close();
    }
  });

  it('answers model_unavailable (503) without a backend, in OpenAI’s shape', async () => {
    const monitor = await startMonitor();
    try {
      const failure = await clientOf(monitor)
        .chat.completions.create({ model: 'any', messages: [{ role: 'user', content: 'x' }] })
        .catch((error: unknown) => error);
      expect((failure as InstanceType<typeof OpenAI.APIError>).status).toBe(503);
      expect((failure as InstanceType<typeof OpenAI.APIError>).error).toMatchObject({ code: 'model_unavailable', type: 'server_error' });
    } finally {
      await monitor.close();
    }
  });

  it('takes the token as the client’s API key, and answers a wrong one 401 in OpenAI’s shape', async () => {
    const fake = await startFakeOpenAiServer({ chunkMs: 1 });
    const monitor = await startMonitor(['--backend', fake.url, '--backend-kind', 'openai', '--token', 'editor-secret-0123456789']);
    try {
      const ok = await clientOf(monitor, 'editor-secret-0123456789').chat.completions.create({
        model: 'fake-llada2-mini',
        messages: [{ role: 'user', content: 'x' }],
      });
      expect(ok.choices[0]?.message.content).toBe(DEFAULT_CHAT_ANSWER);
      const failure = await clientOf(monitor, 'wrong')
        .models.list()
        .catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(OpenAI.AuthenticationError);
      expect((failure as InstanceType<typeof OpenAI.APIError>).error).toMatchObject({ code: 'invalid_api_key', type: 'invalid_request_error' });
    } finally {
      await monitor.close();
      await fake.close();
    }
  });
});
