import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PerformanceEvent } from '../../src/shared/events';
import type { StreamFrame } from '../../src/shared/frames';
import { DIALECTS, startReplayServer } from '../fixtures/dialects/replayServer';
import type { DialectTranscript, ExpectedOutcome } from '../fixtures/dialects/transcript';
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
