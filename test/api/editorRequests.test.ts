import { request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { PerformanceEvent } from '../../src/shared/events';
import {
  GAP,
  LLAMA_VSCODE_CHUNKS,
  ZED_FORMATS,
  continueFim,
  llamaVscodeInfill,
  llamaVscodeWarmup,
  zedEditPrediction,
  type EditorRequest,
} from '../fixtures/editors/editorRequests';
import type { FakeServer } from '../fixtures/fakeHttp';
import { DEFAULT_FIM_ANSWER, startFakeOpenAiServer } from '../fixtures/fakeOpenAiServer';
import { startMonitor } from '../fixtures/monitorHarness';

type Monitor = Awaited<ReturnType<typeof startMonitor>>;

const TOKEN = 'editor-token-0123456789';
const MODEL = 'fake-llada2-mini';

/** Sends a replayed request with exactly its own headers. */
async function replay(monitor: Monitor, sent: EditorRequest): Promise<{ status: number; requestId: string; text: string }> {
  const response = await request(`${monitor.url}${sent.path}`, { method: 'POST', headers: sent.headers, body: JSON.stringify(sent.body) });
  return { status: response.statusCode, requestId: String(response.headers['x-request-id']), text: await response.body.text() };
}

/** The `data:` payloads of an SSE answer, in order. */
function dataLines(text: string): string[] {
  return text
    .split('\n')
    .filter((line) => line.startsWith('data: '))
    .map((line) => line.slice(6));
}

function onlyEvent(monitor: Monitor, requestId: string): PerformanceEvent {
  const events = monitor.core.store.events({ limit: 1000 }).filter((e) => e.metadata.request_id === requestId);
  expect(events).toHaveLength(1);
  return events[0] as PerformanceEvent;
}

describe('editors’ own requests, replayed byte for byte', () => {
  let fake: FakeServer;
  let monitor: Monitor;

  beforeAll(async () => {
    fake = await startFakeOpenAiServer({ chunkMs: 1 });
    monitor = await startMonitor(['--backend', fake.url, '--backend-kind', 'openai', '--token', TOKEN]);
  });
  afterAll(async () => {
    await monitor.close();
    await fake.close();
  });
  afterEach(() => fake.setFault('none'));

  it('Continue’s FIM path: a stream whose every chunk carries choices[0].delta.content', async () => {
    const answer = await replay(monitor, continueFim(TOKEN, MODEL));
    expect(answer.status).toBe(200);
    const lines = dataLines(answer.text);
    expect(lines.at(-1)).toBe('[DONE]');
    const chunks = lines.slice(0, -1).map((line) => JSON.parse(line) as { choices: Array<{ delta: { content?: unknown } }> });
    expect(chunks.length).toBeGreaterThan(2);
    for (const chunk of chunks) expect(typeof chunk.choices[0]?.delta.content).toBe('string');
    expect(chunks.map((c) => c.choices[0]?.delta.content).join('')).toBe(DEFAULT_FIM_ANSWER);
    expect(fake.requests.at(-1)).toMatchObject({ path: '/v1/completions', body: { prompt: GAP.prefix, suffix: GAP.suffix, max_tokens: 256 } });
    expect(onlyEvent(monitor, answer.requestId)).toMatchObject({ event_type: 'diffusion_infill_stream', metadata: { api: 'fim', success: true } });
  });

  it.each(Object.keys(ZED_FORMATS) as Array<keyof typeof ZED_FORMATS>)(
    'Zed’s edit prediction with the %s template: turned into prefix and suffix, answered as RawCompletionResponse',
    async (format) => {
      const answer = await replay(monitor, zedEditPrediction(format, TOKEN, MODEL));
      expect(answer.status).toBe(200);
      const body = JSON.parse(answer.text) as Record<string, unknown>;
      // Every field Zed's RawCompletionResponse requires.
      expect(body).toMatchObject({
        id: expect.any(String) as string,
        object: 'text_completion',
        created: expect.any(Number) as number,
        model: MODEL,
        choices: [{ text: DEFAULT_FIM_ANSWER }],
        usage: { prompt_tokens: expect.any(Number) as number, completion_tokens: expect.any(Number) as number, total_tokens: expect.any(Number) as number },
      });
      expect(fake.requests.at(-1)?.body).toMatchObject({ prompt: GAP.prefix, suffix: GAP.suffix, max_tokens: 256 });
      expect(onlyEvent(monitor, answer.requestId)).toMatchObject({ event_type: 'diffusion_infill', metadata: { api: 'openai_completions', success: true } });
    },
  );

  it('llama.vscode’s /infill: extra context, prefix and typed text before the gap, answered as llama-server does', async () => {
    const answer = await replay(monitor, llamaVscodeInfill(TOKEN));
    expect(answer.status).toBe(200);
    const body = JSON.parse(answer.text) as Record<string, unknown>;
    expect(body).toMatchObject({ content: DEFAULT_FIM_ANSWER, stop: true, truncated: false, tokens_cached: 0, stop_type: 'eos' });
    expect(body.timings).toMatchObject({
      predicted_n: expect.any(Number) as number,
      predicted_ms: expect.any(Number) as number,
      prompt_n: expect.any(Number) as number,
    });
    const upstream = fake.requests.at(-1)?.body as { prompt: string; suffix: string; max_tokens: number; top_k: number };
    expect(upstream.prompt.startsWith(`--- ${LLAMA_VSCODE_CHUNKS[0]?.filename} ---\n${LLAMA_VSCODE_CHUNKS[0]?.text}`)).toBe(true);
    expect(upstream.prompt.endsWith('def add(a, b):\n    ')).toBe(true);
    expect(upstream).toMatchObject({ suffix: GAP.suffix, max_tokens: 128, top_k: 40 });
    expect(onlyEvent(monitor, answer.requestId)).toMatchObject({
      event_type: 'diffusion_infill',
      metadata: { api: 'llamacpp_infill', success: true, max_new_tokens: 128 },
    });
  });

  it('llama.vscode’s cache warm-up (n_predict 0): an empty answer without a backend call, still one row', async () => {
    const before = fake.requests.length;
    const answer = await replay(monitor, llamaVscodeWarmup(TOKEN));
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.text)).toMatchObject({ content: '', stop: true, tokens_predicted: 0 });
    expect(fake.requests.length).toBe(before);
    expect(onlyEvent(monitor, answer.requestId)).toMatchObject({
      event_type: 'diffusion_infill',
      metadata: { api: 'llamacpp_infill', success: true, token_count: 0 },
    });
  });

  it('llama.cpp’s /infill stream: data lines of content with stop false, the last with stop true, no [DONE]', async () => {
    const sent = llamaVscodeInfill(TOKEN);
    const answer = await replay(monitor, { ...sent, body: { ...sent.body, stream: true } });
    const lines = dataLines(answer.text).map((line) => JSON.parse(line) as { content: string; stop: boolean });
    expect(lines.length).toBeGreaterThan(2);
    expect(lines.slice(0, -1).every((l) => l.stop === false)).toBe(true);
    expect(lines.at(-1)).toMatchObject({ stop: true, timings: expect.any(Object) as object });
    expect(lines.map((l) => l.content).join('')).toBe(DEFAULT_FIM_ANSWER);
    expect(answer.text).not.toContain('[DONE]');
    expect(onlyEvent(monitor, answer.requestId)).toMatchObject({ event_type: 'diffusion_infill_stream', metadata: { api: 'llamacpp_infill' } });
  });

  it('llama.cpp’s error shape for a bad /infill and for a backend failure, each recorded', async () => {
    const sent = llamaVscodeInfill(TOKEN);
    const bad = await replay(monitor, { ...sent, body: { ...sent.body, n_predict: 'many' } });
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.text)).toMatchObject({
      error: { code: 400, type: 'invalid_request_error', message: expect.stringContaining('n_predict') as string },
    });
    expect(onlyEvent(monitor, bad.requestId).metadata).toMatchObject({ api: 'llamacpp_infill', error_type: 'validation' });

    fake.setFault('http500');
    const failed = await replay(monitor, sent);
    expect(failed.status).toBe(502);
    expect(JSON.parse(failed.text)).toMatchObject({ error: { code: 502, type: 'server_error' } });
    expect(onlyEvent(monitor, failed.requestId).metadata).toMatchObject({ api: 'llamacpp_infill', error_type: 'backend' });
  });

  it('refuses an editor without the token in its API’s own shape', async () => {
    const sent = zedEditPrediction('Qwen', 'wrong-token', MODEL);
    const answer = await replay(monitor, sent);
    expect(answer.status).toBe(401);
    expect(JSON.parse(answer.text)).toMatchObject({ error: { code: 'invalid_api_key', type: 'invalid_request_error' } });
    const infill = await replay(monitor, llamaVscodeInfill('wrong'));
    expect(JSON.parse(infill.text)).toMatchObject({ error: { code: 401, type: 'authentication_error' } });
  });
});
