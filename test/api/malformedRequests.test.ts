import fc from 'fast-check';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeDllmServer } from '../fixtures/fakeDllmServer';
import type { FakeServer } from '../fixtures/fakeHttp';
import { post, startMonitor } from '../fixtures/monitorHarness';

let fake: FakeServer;
let monitor: Awaited<ReturnType<typeof startMonitor>>;

beforeAll(async () => {
  fake = await startFakeDllmServer({ steps: 2, stepMs: 1 });
  monitor = await startMonitor(['--backend', fake.url]);
});
afterAll(async () => {
  await monitor.close();
  await fake.close();
});

const big = 'x'.repeat(200_001);
const MALFORMED: Array<[string, string, unknown, number, string?]> = [
  ['generate', 'empty object', {}, 400, 'prompt'],
  ['generate', 'null body', 'null', 400],
  ['generate', 'array body', [], 400],
  ['generate', 'string body', '"hello"', 400],
  ['generate', 'number body', '42', 400],
  ['generate', 'truncated JSON', '{"prompt": "x"', 400],
  ['generate', 'trailing garbage', '{"prompt":"x"} junk', 400],
  ['generate', 'empty body', '', 400],
  ['generate', 'empty prompt', { prompt: '' }, 400, 'prompt'],
  ['generate', 'prompt is a number', { prompt: 5 }, 400, 'prompt'],
  ['generate', 'prompt is an object', { prompt: { a: 1 } }, 400, 'prompt'],
  ['generate', 'prompt too long', { prompt: big }, 400, 'prompt'],
  ['generate', 'text alias wrong type', { text: [] }, 400, 'text'],
  ['generate', 'unknown field', { prompt: 'x', temprature: 0.3 }, 400],
  ['generate', 'max_new_tokens zero', { prompt: 'x', max_new_tokens: 0 }, 400, 'max_new_tokens'],
  ['generate', 'max_new_tokens huge', { prompt: 'x', max_new_tokens: 1e9 }, 400, 'max_new_tokens'],
  ['generate', 'max_new_tokens fractional', { prompt: 'x', max_new_tokens: 1.5 }, 400, 'max_new_tokens'],
  ['generate', 'max_new_tokens string', { prompt: 'x', max_new_tokens: '64' }, 400, 'max_new_tokens'],
  ['generate', 'max_length negative', { prompt: 'x', max_length: -1 }, 400, 'max_length'],
  ['generate', 'steps zero', { prompt: 'x', steps: 0 }, 400, 'steps'],
  ['generate', 'steps huge', { prompt: 'x', steps: 100_000 }, 400, 'steps'],
  ['generate', 'temperature negative', { prompt: 'x', temperature: -0.1 }, 400, 'temperature'],
  ['generate', 'temperature too big', { prompt: 'x', temperature: 3 }, 400, 'temperature'],
  ['generate', 'temperature null', { prompt: 'x', temperature: null }, 400, 'temperature'],
  ['generate', 'top_p zero', { prompt: 'x', top_p: 0 }, 400, 'top_p'],
  ['generate', 'top_p above one', { prompt: 'x', top_p: 1.01 }, 400, 'top_p'],
  ['generate', 'top_k negative', { prompt: 'x', top_k: -5 }, 400, 'top_k'],
  ['generate', 'top_k fractional', { prompt: 'x', top_k: 2.5 }, 400, 'top_k'],
  ['generate', 'alg unknown', { prompt: 'x', alg: 'greedy' }, 400, 'alg'],
  ['generate', 'alg_temp negative', { prompt: 'x', alg_temp: -1 }, 400, 'alg_temp'],
  ['generate', 'model_id with spaces', { prompt: 'x', model_id: 'a b' }, 400, 'model_id'],
  ['generate', 'model_id with newline', { prompt: 'x', model_id: 'a\nb' }, 400, 'model_id'],
  ['generate', 'model_id too long', { prompt: 'x', model_id: 'm'.repeat(201) }, 400, 'model_id'],
  ['generate', 'user_id empty', { prompt: 'x', user_id: '' }, 400, 'user_id'],
  ['generate', 'user_id too long', { prompt: 'x', user_id: 'u'.repeat(129) }, 400, 'user_id'],
  ['generate/stream', 'stream without prompt', { steps: 4 }, 400, 'prompt'],
  ['generate/stream', 'stream with bad alg', { prompt: 'x', alg: 1 }, 400, 'alg'],
  ['infill', 'no prefix', { suffix: 'x' }, 400, 'prefix'],
  ['infill', 'no suffix', { prefix: 'x' }, 400, 'suffix'],
  ['infill', 'both empty', { prefix: '', suffix: '' }, 400, 'prefix'],
  ['infill', 'prefix number', { prefix: 1, suffix: 'x' }, 400, 'prefix'],
  ['infill', 'prompt instead of prefix', { prompt: 'x' }, 400],
  ['infill/stream', 'suffix too long', { prefix: 'a', suffix: big }, 400, 'suffix'],
  ['infill/stream', 'bad top_p', { prefix: 'a', suffix: 'b', top_p: 'high' }, 400, 'top_p'],
];

describe('malformed requests', () => {
  it.each(MALFORMED)('%s: %s → %i JSON naming the field', async (route, _name, body, status, field) => {
    const answer = await post(`${monitor.url}/api/diffusion/${route}`, body);
    expect(answer.status).toBe(status);
    const error = (answer.json() as { error: { type: string; message: string; details?: unknown } }).error;
    expect(error.type).toBe('validation');
    expect(error.message.length).toBeGreaterThan(0);
    if (field) expect(JSON.stringify(error.details)).toContain(`"field":"${field}"`);
  });

  it('words the message as a plain sentence naming the field and its bounds', async () => {
    const answer = await post(`${monitor.url}/api/diffusion/generate`, { prompt: 'x', temperature: 5 });
    expect(answer.json()).toMatchObject({
      error: {
        type: 'validation',
        message: 'temperature must be between 0 and 2',
        details: [{ field: 'temperature', message: 'temperature must be between 0 and 2' }],
      },
    });
  });

  it('answers 413 for a body over 1 MiB and 415 for a non-JSON content type', async () => {
    const tooBig = await post(`${monitor.url}/api/diffusion/generate`, JSON.stringify({ prompt: 'x'.repeat(1024 * 1024 + 10) }));
    expect(tooBig.status).toBe(413);
    expect(tooBig.json()).toMatchObject({ error: { type: 'validation' } });
    const wrongType = await post(`${monitor.url}/api/diffusion/generate`, 'prompt=x', { 'content-type': 'application/x-www-form-urlencoded' });
    expect(wrongType.status).toBe(415);
    expect(wrongType.json()).toMatchObject({ error: { type: 'validation' } });
  });

  it('records every malformed request as a validation event, and the server is still up', async () => {
    const before = monitor.core.store.summary().errors_by_type.validation ?? 0;
    await post(`${monitor.url}/api/diffusion/infill`, '{bad');
    await post(`${monitor.url}/api/diffusion/generate`, { prompt: 'x', top_p: 7 });
    expect(monitor.core.store.summary().errors_by_type.validation).toBe(before + 2);
    const ok = await post(`${monitor.url}/api/diffusion/generate`, { prompt: 'still alive?' });
    expect(ok.status).toBe(200);
  });
});

describe('property: random JSON bodies never get a 5xx', () => {
  it('holds for 150 random bodies across the four routes', async () => {
    const fieldValue = fc.oneof(fc.string(), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.array(fc.integer(), { maxLength: 3 }));
    const body = fc.oneof(
      fc.jsonValue(),
      fc.dictionary(
        fc.constantFrom(
          'prompt',
          'text',
          'prefix',
          'suffix',
          'model_id',
          'max_new_tokens',
          'max_length',
          'steps',
          'temperature',
          'top_p',
          'top_k',
          'alg',
          'alg_temp',
          'user_id',
          'extra',
        ),
        fieldValue,
      ),
    );
    const route = fc.constantFrom('generate', 'infill', 'generate/stream', 'infill/stream');
    await fc.assert(
      fc.asyncProperty(route, body, async (r, b) => {
        const response = await request(`${monitor.url}/api/diffusion/${r}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(b) ?? 'null',
        });
        await response.body.text();
        return response.statusCode < 500;
      }),
      { numRuns: 150, seed: 20261128 },
    );
    const health = await request(`${monitor.url}/api/diffusion/health`);
    expect(health.statusCode).toBe(200);
    await health.body.text();
  });
});
