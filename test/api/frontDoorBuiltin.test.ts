import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { post, startMonitor } from '../fixtures/monitorHarness';

/**
 * The front door in front of the built-in model, as a new user meets it: no backend configured,
 * the official `openai` client pointed at `/v1`, and llama.cpp's `/infill`. The real model, the
 * real worker thread and sampler; every request is one row with its door's `api`.
 */
type Monitor = Awaited<ReturnType<typeof startMonitor>>;

describe('the front door on the built-in model', () => {
  let monitor: Monitor;
  let client: OpenAI;
  beforeAll(async () => {
    monitor = await startMonitor();
    client = new OpenAI({ baseURL: `${monitor.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  });
  afterAll(async () => {
    await monitor.close();
  });

  const rows = () => monitor.core.store.events({ limit: 100 });

  it('lists the built-in model', async () => {
    const models = await client.models.list();
    expect(models.data.length).toBe(1);
    expect(models.data[0]?.object).toBe('model');
  });

  it('completes a chat, plain and streamed, with usage', async () => {
    const chat = await client.chat.completions.create({ model: 'builtin', messages: [{ role: 'user', content: 'def add(a, b):' }], max_tokens: 24, seed: 1 });
    expect(chat.object).toBe('chat.completion');
    expect(typeof chat.choices[0]?.message.content).toBe('string');
    expect(chat.usage?.completion_tokens).toBeGreaterThanOrEqual(0);

    const stream = await client.chat.completions.create({
      model: 'builtin',
      messages: [{ role: 'user', content: 'import os' }],
      max_tokens: 24,
      seed: 1,
      stream: true,
      stream_options: { include_usage: true },
    });
    let finish: string | null = null;
    let usage: number | undefined;
    for await (const chunk of stream) {
      expect(chunk.object).toBe('chat.completion.chunk');
      finish = chunk.choices[0]?.finish_reason ?? finish;
      if (chunk.usage) usage = chunk.usage.completion_tokens;
    }
    expect(finish === 'stop' || finish === 'length').toBe(true);
    expect(usage).toBeGreaterThanOrEqual(0);
    const chatRows = rows().filter((e) => e.metadata.api === 'openai_chat');
    expect(chatRows.map((e) => e.event_type).sort()).toEqual(['diffusion_generate', 'diffusion_generate_stream']);
    expect(chatRows.every((e) => e.metadata.success === true && e.metadata.backend === 'builtin')).toBe(true);
  });

  it('fills in the middle through /v1/completions with suffix and /v1/fim/completions', async () => {
    const completion = await client.completions.create({ model: 'builtin', prompt: 'def add(a, b):\n    ', suffix: '\n', max_tokens: 16 });
    expect(completion.object).toBe('text_completion');
    expect(typeof completion.choices[0]?.text).toBe('string');

    const fim = await post(`${monitor.url}/v1/fim/completions`, { model: 'builtin', prompt: 'def add(a, b):\n    ', suffix: '\n', max_tokens: 16 });
    expect(fim.status).toBe(200);
    const infills = rows().filter((e) => e.event_type === 'diffusion_infill');
    expect(infills.map((e) => e.metadata.api).sort()).toEqual(['fim', 'openai_completions']);
    expect(infills.every((e) => e.metadata.success === true && (e.metadata.steps as number) > 0)).toBe(true);
  });

  it("answers llama.cpp's /infill with its content shape", async () => {
    const answer = await post(`${monitor.url}/infill`, { input_prefix: 'def add(a, b):\n    ', input_suffix: '\n', n_predict: 16 });
    expect(answer.status).toBe(200);
    expect(typeof (answer.json() as { content: unknown }).content).toBe('string');
    expect(rows().some((e) => e.metadata.api === 'llamacpp_infill' && e.metadata.success === true)).toBe(true);
  });
});
