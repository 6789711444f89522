import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createBackend } from '../../../src/main/backend/createBackend';
import { backendOptionsFromConfig } from '../../../src/main/runtime';
import { DllmBackend } from '../../../src/main/backend/dllmBackend';
import { OpenAiBackend } from '../../../src/main/backend/openaiBackend';
import { UnconfiguredBackend } from '../../../src/main/backend/unconfiguredBackend';
import { ConfigError, USAGE, resolveConfig } from '../../../src/main/config';
import { Closer, failureOf, generateRequest } from '../../fixtures/backendHarness';
import { DEFAULT_CHAT_ANSWER, startFakeOpenAiServer } from '../../fixtures/fakeOpenAiServer';

const closer = new Closer();
afterEach(() => closer.closeAll());

describe('createBackend', () => {
  it('gives an UnconfiguredBackend without a URL, answering model_unavailable', async () => {
    const backend = createBackend({ kind: 'openai', url: null, model: null, timeoutSeconds: 120 });

    expect(backend).toBeInstanceOf(UnconfiguredBackend);
    const run = await failureOf(backend.run(generateRequest(), { signal: new AbortController().signal }));
    expect(run.type).toBe('model_unavailable');
    expect(run.message).toContain('--backend URL');
    expect((await failureOf(backend.listModels())).type).toBe('model_unavailable');
    expect(await backend.health()).toEqual({ configured: false, kind: 'openai', url: null, reachable: null, models: [], last_error: null, checked_at: null });
    await backend.close();
  });

  it('builds the client of each protocol', async () => {
    const dllm = closer.add(createBackend({ kind: 'dllm', url: 'http://127.0.0.1:8000', model: null, timeoutSeconds: 5 }));
    const openai = closer.add(createBackend({ kind: 'openai', url: 'http://127.0.0.1:30000/v1', model: 'm', timeoutSeconds: 5 }));

    expect(dllm).toBeInstanceOf(DllmBackend);
    expect(dllm.url).toBe('http://127.0.0.1:8000');
    expect(openai).toBeInstanceOf(OpenAiBackend);
    expect(openai.kind).toBe('openai');
    expect(openai.url).toBe('http://127.0.0.1:30000');
  });

  it('passes the OpenAI options from the configuration through to the requests', async () => {
    const fake = closer.add(await startFakeOpenAiServer({ apiKey: 'sk-1', chunkMs: 1 }));
    const config = resolveConfig({
      argv: ['--backend', fake.url, '--backend-kind', 'openai', '--api-key', 'sk-1', '--openai-generate', 'completions', '--openai-diffusing'],
      env: {},
      cwd: tmpdir(),
    });
    const backend = closer.add(createBackend(backendOptionsFromConfig(config)));

    const result = await backend.run(generateRequest(), { signal: new AbortController().signal });

    expect(result.text).toBe(DEFAULT_CHAT_ANSWER);
    const post = fake.requests.find((r) => r.method === 'POST');
    expect(post?.path).toBe('/v1/completions');
    expect(post?.headers.authorization).toBe('Bearer sk-1');
    expect(post?.body).toMatchObject({ diffusing: true });
  });
});

describe('backend settings in the configuration', () => {
  const resolve = (argv: string[], env: Record<string, string> = {}, settings?: object) => {
    let cwd = tmpdir();
    if (settings !== undefined) {
      cwd = mkdtempSync(join(tmpdir(), 'dm-config-'));
      writeFileSync(join(cwd, 'settings.json'), JSON.stringify(settings));
      argv = [...argv, '--settings', 'settings.json'];
    }
    return resolveConfig({ argv, env, cwd });
  };

  it('defaults to chat, completions infill, no diffusing and no key', () => {
    expect(resolve([])).toMatchObject({ apiKey: null, openaiGenerateApi: 'chat', openaiInfillApi: 'completions', openaiDiffusing: false });
  });

  it('takes flag over environment over settings file', () => {
    const settings = { apiKey: 'file', openaiGenerateApi: 'completions', openaiInfillApi: 'fim', openaiDiffusing: true };
    expect(resolve([], {}, settings)).toMatchObject(settings);
    const env = {
      DIFFUSION_LLM_API_KEY: 'env',
      DIFFUSION_LLM_OPENAI_GENERATE: 'chat',
      DIFFUSION_LLM_OPENAI_INFILL: 'completions',
      DIFFUSION_LLM_OPENAI_DIFFUSING: '0',
    };
    expect(resolve([], env, settings)).toMatchObject({ apiKey: 'env', openaiGenerateApi: 'chat', openaiInfillApi: 'completions', openaiDiffusing: false });
    const flags = ['--api-key', 'flag', '--openai-generate', 'completions', '--openai-infill', 'fim', '--openai-diffusing'];
    expect(resolve(flags, env, settings)).toMatchObject({ apiKey: 'flag', openaiGenerateApi: 'completions', openaiInfillApi: 'fim', openaiDiffusing: true });
    expect(resolve([], { DIFFUSION_LLM_OPENAI_DIFFUSING: '1' })).toMatchObject({ openaiDiffusing: true });
  });

  it('rejects unknown values with one line naming the choices', () => {
    expect(() => resolve(['--openai-generate', 'edits'])).toThrow(ConfigError);
    expect(() => resolve(['--openai-infill', 'chat'])).toThrow(/completions, fim/);
    expect(() => resolve([], { DIFFUSION_LLM_OPENAI_DIFFUSING: 'maybe' })).toThrow(/1 or 0/);
  });

  it('documents the flags in the usage text', () => {
    for (const flag of ['--api-key', '--openai-generate', '--openai-infill', '--openai-diffusing']) expect(USAGE).toContain(flag);
  });
});
