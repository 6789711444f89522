import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PerformanceEvent } from '../../src/shared/events';
import { request } from 'undici';
import { StreamFrameSchema, type StreamFrame } from '../../src/shared/frames';
import { reynard, REYNARD_MODEL_NOT_AVAILABLE } from '../fixtures/dialects/reynard';
import { DIALECTS, startReplayServer } from '../fixtures/dialects/replayServer';
import { sse, type DialectTranscript, type ExpectedOutcome } from '../fixtures/dialects/transcript';
import type { FakeServer } from '../fixtures/fakeHttp';
import { framesOf, post, startMonitor, type Answer } from '../fixtures/monitorHarness';

type Monitor = Awaited<ReturnType<typeof startMonitor>>;

const ROUTES = [
  { route: 'generate', kind: 'generate', eventType: 'diffusion_generate', body: { prompt: 'Once upon', user_id: 'dialect-test' } },
  {
    route: 'infill',
    kind: 'infill',
    eventType: 'diffusion_infill',
    body: { prefix: 'def add(a, b):\n', suffix: '\n\nprint(add(1, 2))', user_id: 'dialect-test' },
  },
  { route: 'generate/stream', kind: 'generate', eventType: 'diffusion_generate_stream', body: { prompt: 'Once upon', user_id: 'dialect-test' } },
  {
    route: 'infill/stream',
    kind: 'infill',
    eventType: 'diffusion_infill_stream',
    body: { prefix: 'def add(a, b):\n', suffix: '\n\nprint(add(1, 2))', user_id: 'dialect-test' },
  },
] as const;

/** The one row the request with this answer's id stored (the store flushes first). */
function rowOf(monitor: Monitor, answer: Answer): PerformanceEvent {
  const rows = monitor.core.store.events({ limit: 1000 }).filter((e) => e.metadata.request_id === answer.headers['x-request-id']);
  expect(rows).toHaveLength(1);
  return rows[0] as PerformanceEvent;
}

function expectRow(row: PerformanceEvent, eventType: string, expected: Omit<ExpectedOutcome, 'relayed'>, backend: string): void {
  expect(row).toMatchObject({ event_type: eventType, model_id: expected.model, user_id: 'dialect-test' });
  expect(row.metadata).toMatchObject({
    success: true,
    error_type: null,
    status: 200,
    backend,
    token_count: expected.tokenCount,
    token_count_source: expected.tokenCountSource,
    steps: expected.steps,
  });
  if (expected.generationTime !== undefined) expect(row.metadata.generation_time).toBe(expected.generationTime);
  else expect(row.metadata.generation_time).toBeGreaterThan(0);
  if (expected.upstreamRequestId !== undefined) expect(row.metadata.upstream_request_id).toBe(expected.upstreamRequestId);
  if (expected.chunks === undefined) {
    expect(row.metadata).not.toHaveProperty('chunks');
  } else {
    expect(row.metadata.chunks).toBe(expected.chunks);
    expect(row.metadata.time_to_first_chunk).toBeGreaterThan(0);
    expect(row.metadata.time_to_first_chunk).toBeLessThanOrEqual(row.duration);
  }
}

function dialectSuite(key: string, transcript: DialectTranscript): void {
  describe(`${transcript.name} (${key})`, () => {
    let fake: FakeServer;
    let monitor: Monitor;

    beforeAll(async () => {
      fake = await startReplayServer(transcript);
      monitor = await startMonitor(['--backend', fake.url, '--backend-kind', transcript.kind, ...(transcript.args ?? [])]);
    });
    afterAll(async () => {
      await monitor.close();
      await fake.close();
    });

    for (const { route, kind, eventType, body } of ROUTES) {
      it(`bridges ${route}: text, token count and its source, relayed frames, the row`, async () => {
        const expected = transcript[kind];
        const answer = await post(`${monitor.url}/api/diffusion/${route}`, body);
        expect(answer.status).toBe(200);
        if (route.endsWith('/stream')) {
          const frames = framesOf(answer.text);
          // Liberal upstream, strict downstream: every frame we send is the complete contract.
          for (const frame of frames) expect(StreamFrameSchema.safeParse(frame).success).toBe(true);
          expect(frames[0]).toMatchObject({ type: 'status', request_id: answer.headers['x-request-id'] });
          expect(frames.slice(1, -1)).toEqual(expected.relayed);
          expect(frames.at(-1)).toEqual<StreamFrame>({
            type: 'complete',
            text: expected.text,
            generation_time: expected.generationTime ?? (frames.at(-1) as { generation_time: number }).generation_time,
            model_used: expected.model,
            token_count: expected.tokenCount,
          });
        } else {
          expect(answer.json()).toMatchObject({ text: expected.text, model_id: expected.model, token_count: expected.tokenCount, steps: expected.steps });
        }
        expectRow(rowOf(monitor, answer), eventType, expected, transcript.kind);
      });
    }

    it('lists the models the backend reports', async () => {
      const response = await request(`${monitor.url}/api/diffusion/models`);
      expect(response.statusCode).toBe(200);
      expect(await response.body.json()).toMatchObject({ models: transcript.models });
    });

    if (transcript.kind === 'dllm') {
      it('sends both spellings of the prompt and the length, so seed and Reynard backends both understand', () => {
        const generate = fake.requests.find((r) => r.path === '/api/diffusion/generate/stream');
        expect(generate?.body).toMatchObject({ prompt: 'Once upon', text: 'Once upon', max_new_tokens: 64, max_length: 64 });
        const infill = fake.requests.find((r) => r.path === '/api/diffusion/infill/stream');
        expect(infill?.body).toMatchObject({ prefix: 'def add(a, b):\n', suffix: '\n\nprint(add(1, 2))', max_new_tokens: 64, max_length: 64 });
      });
    }
  });

  const plain = transcript.plain;
  if (plain === undefined) return;
  describe(`${transcript.name} (${key}) without stream routes`, () => {
    let fake: FakeServer;
    let monitor: Monitor;

    beforeAll(async () => {
      fake = await startReplayServer(transcript, { streamRoutes: false });
      monitor = await startMonitor(['--backend', fake.url, '--backend-kind', transcript.kind, ...(transcript.args ?? [])]);
    });
    afterAll(async () => {
      await monitor.close();
      await fake.close();
    });

    for (const { route, kind, eventType, body } of ROUTES) {
      it(`bridges ${route} through the plain upstream route`, async () => {
        const expected = plain[kind];
        const answer = await post(`${monitor.url}/api/diffusion/${route}`, body);
        expect(answer.status).toBe(200);
        if (route.endsWith('/stream')) {
          const frames = framesOf(answer.text);
          expect(frames.map((f) => f.type)).toEqual(['status', 'complete']);
          expect(frames.at(-1)).toMatchObject({ type: 'complete', text: expected.text, model_used: expected.model, token_count: expected.tokenCount });
        } else {
          expect(answer.json()).toMatchObject({ text: expected.text, model_id: expected.model, token_count: expected.tokenCount });
        }
        expectRow(rowOf(monitor, answer), eventType, expected, transcript.kind);
        expect(fake.requests.at(-1)?.path).toBe(`/api/diffusion/${kind}`);
      });
    }
  });
}

for (const [key, transcript] of Object.entries(DIALECTS)) dialectSuite(key, transcript);

/** Error answers of the two seed-family dialects, on every route: the taxonomy type, the body or frame, the row. */
const FAILURES = [
  {
    name: "Reynard's error event for a model that is not loaded",
    stream: [REYNARD_MODEL_NOT_AVAILABLE],
    plain: { status: 500, body: { detail: 'Text generation error: Model dreamon not available' } },
    type: 'model_unavailable',
    message: 'Model dreamon not available',
  },
  {
    name: "Reynard's error event for a failed generation",
    stream: [
      sse(JSON.stringify({ type: 'token', data: 'Once', timestamp: 1, metadata: {} }), '\r\n'),
      sse(JSON.stringify({ type: 'error', data: 'CUDA out of memory', timestamp: 2 }), '\r\n'),
    ],
    plain: { status: 500, body: { detail: 'Text generation error: CUDA out of memory' } },
    type: 'backend',
    message: 'CUDA out of memory',
  },
  {
    name: "YipYap's model_loading error frame",
    stream: [
      sse('{"type":"status","message":"Starting text generation..."}'),
      sse('{"type":"error","error_type":"model_loading","message":"LLaDA is still loading","retryable":true}'),
    ],
    plain: { status: 503, body: { error_type: 'model_loading', message: 'LLaDA is still loading', retryable: true } },
    type: 'model_unavailable',
    message: 'LLaDA is still loading',
  },
] as const;

describe.each(FAILURES.flatMap((failure) => [true, false].map((streamRoutes) => ({ ...failure, streamRoutes }))))(
  '$name (stream routes: $streamRoutes)',
  (failure) => {
    let fake: FakeServer;
    let monitor: Monitor;
    const json = { 'content-type': 'application/json' };
    const failing: DialectTranscript = {
      ...reynard,
      replies: {
        ...reynard.replies,
        'POST /api/diffusion/generate/stream': { headers: { 'content-type': 'text/event-stream' }, body: [...failure.stream] },
        'POST /api/diffusion/infill/stream': { headers: { 'content-type': 'text/event-stream' }, body: [...failure.stream] },
        'POST /api/diffusion/generate': { status: failure.plain.status, headers: json, body: [JSON.stringify(failure.plain.body)] },
        'POST /api/diffusion/infill': { status: failure.plain.status, headers: json, body: [JSON.stringify(failure.plain.body)] },
      },
    };

    beforeAll(async () => {
      fake = await startReplayServer(failing, { streamRoutes: failure.streamRoutes });
      monitor = await startMonitor(['--backend', fake.url, '--backend-kind', 'dllm']);
    });
    afterAll(async () => {
      await monitor.close();
      await fake.close();
    });

    it.each(ROUTES.map((r) => [r.route, r] as const))('answers %s with the taxonomy error and records it', async (_route, { route, body }) => {
      const answer = await post(`${monitor.url}/api/diffusion/${route}`, body);
      const status = failure.type === 'model_unavailable' ? 503 : 502;
      if (route.endsWith('/stream')) {
        expect(answer.status).toBe(200);
        expect(framesOf(answer.text).at(-1)).toMatchObject({ type: 'error', error_type: failure.type, retryable: false });
        expect((framesOf(answer.text).at(-1) as { message: string }).message).toContain(failure.message);
      } else {
        expect(answer.status).toBe(status);
        expect(answer.json()).toMatchObject({ error: { type: failure.type, request_id: answer.headers['x-request-id'] } });
        expect((answer.json() as { error: { message: string } }).error.message).toContain(failure.message);
      }
      expect(rowOf(monitor, answer).metadata).toMatchObject({ success: false, error_type: failure.type, status });
    });
  },
);
