import { writeFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { ConfigError, resolveConfig, type AppConfig, type ResolveInput } from '../../src/main/config';
import { MetricsStore } from '../../src/main/metrics/metricsStore';
import { createMonitorService, loopbackUrl, toFailure, type MonitorService } from '../../src/main/monitorService';
import { applyLiveSettings, SettingsService } from '../../src/main/settingsService';
import type { LiveUpdate } from '../../src/shared/api';
import { DiffusionError } from '../../src/shared/errors';
import { silentLogger } from '../../src/shared/logger';
import { VERSION } from '../../src/shared/version';
import { tempDir } from '../fixtures/tempDir';

// Counts resolutions, so a test can hold a settings save to one.
const resolutions = vi.hoisted(() => ({ count: 0 }));
vi.mock('../../src/main/config', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../src/main/config')>();
  return {
    ...original,
    resolveConfig: (...args: Parameters<typeof original.resolveConfig>) => {
      resolutions.count += 1;
      return original.resolveConfig(...args);
    },
  };
});

let dir: ReturnType<typeof tempDir>;
let store: MetricsStore;
let service: MonitorService;
let running: AppConfig;
let applied: AppConfig[];
let probed: Array<{ url: string; timeout: number }>;

function setUp(argv: string[] = []): void {
  const input: ResolveInput = { argv, env: {}, cwd: dir.path, defaultSettingsFile: dir.file('settings.json') };
  running = resolveConfig(input);
  applied = [];
  probed = [];
  store = MetricsStore.open({ path: dir.file('m.db'), flushIntervalMs: 60_000 });
  service = createMonitorService({
    store,
    settings: new SettingsService({ input, file: dir.file('settings.json') }),
    runtime: {
      config: () => running,
      apply: (next) => {
        applied.push(next);
        running = applyLiveSettings(running, next);
      },
    },
    serverUrl: () => null,
    probeBackend: async (target, timeoutSeconds) => {
      probed.push({ url: target.url, timeout: timeoutSeconds });
      return ['dream-v0'];
    },
    log: silentLogger,
    liveCoalesceMs: 50,
  });
}

function record(modelId: string, errorType?: 'timeout'): void {
  store.record({
    endpoint: 'generate',
    modelId,
    userId: 'u',
    startedAt: store.now(),
    duration: 0.5,
    requestId: `r-${modelId}`,
    status: errorType ? 504 : 200,
    ...(errorType ? { errorType } : { outputText: 'some text here' }),
    params: {},
  });
}

beforeEach(() => {
  dir = tempDir();
});
afterEach(() => {
  service.close();
  store.close();
  dir.cleanup();
  vi.useRealTimers();
});

describe('MonitorService', () => {
  it('names the transport that asks, with the version from package.json', async () => {
    setUp(['--db', dir.file('m.db')]);
    expect(await service.appInfo('http')).toMatchObject({
      ok: true,
      value: { transport: 'http', version: VERSION, serverUrl: null, dbPath: dir.file('m.db') },
    });
    expect(await service.appInfo('ipc')).toMatchObject({ ok: true, value: { transport: 'ipc' } });
  });

  it('applies saved live settings once, and leaves port changes and overridden fields for the next start', async () => {
    setUp(['--model', 'from-flag']);
    const outcome = await service.saveSettings({ backend: 'http://127.0.0.1:8200', model: 'from-file', port: 7400 });
    expect(outcome).toMatchObject({ ok: true, value: { applied: ['backend'], restartRequired: ['port'] } });
    expect(applied).toHaveLength(1);
    expect(applied[0]).toMatchObject({ backendUrl: 'http://127.0.0.1:8200', model: 'from-flag', port: 7400 });
    expect(running).toMatchObject({ backendUrl: 'http://127.0.0.1:8200', port: 7000 });
    if (outcome.ok) expect(outcome.value.settings).toMatchObject({ saved: { model: 'from-file', port: 7400 }, overridden: ['model'] });
  });

  it('resolves the configuration once per save', async () => {
    setUp(['--port', '0']);
    resolutions.count = 0;
    expect(await service.saveSettings({ backend: 'http://127.0.0.1:8201', timeout: 12 })).toMatchObject({ ok: true });
    expect(resolutions.count).toBe(1);
    resolutions.count = 0;
    await service.getSettings();
    expect(resolutions.count).toBe(0);
  });

  it('does not touch the runtime when nothing live changed', async () => {
    setUp();
    writeFileSync(dir.file('settings.json'), JSON.stringify({ timeout: 30 }));
    expect(await service.saveSettings({ timeout: 30, port: 7100 })).toMatchObject({ ok: true, value: { applied: [], restartRequired: ['port'] } });
    expect(applied).toEqual([]);
  });

  it('refuses an invalid save with a sentence naming the field, and writes nothing', async () => {
    setUp();
    expect(await service.saveSettings({ timeout: -1 })).toEqual({
      ok: false,
      error: { type: 'validation', message: 'timeout must be above 0 and at most 3600' },
    });
    expect(applied).toEqual([]);
  });

  it('pages events newest first and says where the next page starts', async () => {
    setUp();
    for (const model of ['a', 'b', 'c']) record(model);
    const first = await service.events({ limit: 2 });
    expect(first).toMatchObject({ ok: true, value: { events: [{ model_id: 'c' }, { model_id: 'b' }] } });
    const nextBefore = first.ok ? first.value.nextBefore : null;
    expect(nextBefore).not.toBeNull();
    const second = await service.events({ limit: 2, before: nextBefore ?? undefined });
    expect(second).toMatchObject({ ok: true, value: { events: [{ model_id: 'a' }], nextBefore: null } });
    expect(await service.events({ limit: 0 })).toMatchObject({ ok: false, error: { type: 'validation', message: expect.stringMatching(/^limit must be/) } });
  });

  it('answers summary and series from the store', async () => {
    setUp();
    record('a');
    record('a', 'timeout');
    expect(await service.summary('all')).toMatchObject({ ok: true, value: { overall: { total_requests: 2, total_errors: 1 } } });
    const series = await service.series('1h');
    expect(series.ok && series.value.requests.reduce((sum, n) => sum + n, 0)).toBe(2);
  });

  it('probes a backend with the running timeout and reports its models', async () => {
    setUp(['--timeout', '7']);
    expect(await service.testConnection({ kind: 'dllm', url: 'http://127.0.0.1:8300' })).toMatchObject({ ok: true, value: { models: ['dream-v0'] } });
    expect(probed).toEqual([{ url: 'http://127.0.0.1:8300', timeout: 7 }]);
  });

  it('answers model_unavailable for the playground and the model list while the server is not running', async () => {
    setUp();
    expect(await service.models()).toMatchObject({ ok: false, error: { type: 'model_unavailable' } });
    const handle = service.run({ mode: 'generate', body: { prompt: 'x' } }, () => {});
    expect(await handle.result).toMatchObject({ ok: false, error: { type: 'model_unavailable' } });
  });

  it('coalesces written batches into one live update, newest first', async () => {
    vi.useFakeTimers();
    setUp();
    const updates: LiveUpdate[] = [];
    const unsubscribe = service.liveUpdates((update) => updates.push(update));
    record('a');
    store.flush();
    record('b');
    store.flush();
    expect(updates).toEqual([]);
    await vi.advanceTimersByTimeAsync(50);
    expect(updates).toHaveLength(1);
    expect(updates[0]?.count).toBe(2);
    expect(updates[0]?.events.map((e) => e.model_id)).toEqual(['b', 'a']);
    unsubscribe();
    record('c');
    store.flush();
    await vi.advanceTimersByTimeAsync(100);
    expect(updates).toHaveLength(1);
  });
});

describe('toFailure', () => {
  it('keeps taxonomy types, words failed parses and configuration errors, and calls the rest internal', () => {
    expect(toFailure(new DiffusionError('timeout', 'slow'))).toEqual({ ok: false, error: { type: 'timeout', message: 'slow' } });
    expect(toFailure(new ConfigError('port must be an integer'))).toEqual({ ok: false, error: { type: 'validation', message: 'port must be an integer' } });
    const zod = z.object({ steps: z.number().int() }).safeParse({ steps: 'many' });
    expect(toFailure(zod.error)).toEqual({ ok: false, error: { type: 'validation', message: 'steps must be a number' } });
    expect(toFailure(new Error('boom'))).toEqual({ ok: false, error: { type: 'internal', message: 'boom' } });
  });
});

describe('loopbackUrl', () => {
  it('reaches a wildcard listener through loopback', () => {
    expect(loopbackUrl('http://0.0.0.0:7000')).toBe('http://127.0.0.1:7000');
    expect(loopbackUrl('http://[::]:7000')).toBe('http://[::1]:7000');
    expect(loopbackUrl('http://127.0.0.1:7000')).toBe('http://127.0.0.1:7000');
  });
});
