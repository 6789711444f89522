import { describe, expect, it } from 'vitest';
import { HEALTH_CACHE_MS, HEALTH_TIMEOUT_MS, HealthProbe } from '../../../src/main/backend/healthProbe';
import { DiffusionError } from '../../../src/shared/errors';

describe('HealthProbe', () => {
  it('probes with a short timeout, shares one probe between callers and caches it', async () => {
    let now = 1_000_000;
    const timeouts: number[] = [];
    const probe = new HealthProbe({
      kind: 'dllm',
      url: 'http://127.0.0.1:8000',
      now: () => now,
      listModels: async (timeoutMs) => {
        timeouts.push(timeoutMs);
        return ['dream'];
      },
    });

    const [a, b] = await Promise.all([probe.check(), probe.check()]);
    expect(a).toEqual({
      configured: true,
      kind: 'dllm',
      url: 'http://127.0.0.1:8000',
      reachable: true,
      models: ['dream'],
      last_error: null,
      checked_at: 1000,
      since: 1000,
    });
    expect(b).toBe(a);
    now += HEALTH_CACHE_MS - 1;
    await probe.check();
    expect(timeouts).toEqual([HEALTH_TIMEOUT_MS]);
    now += 1;
    await probe.check();
    expect(timeouts).toHaveLength(2);
  });

  it('never throws: a failed connection is unreachable, an error answer reachable', async () => {
    const failing = (error: unknown) => new HealthProbe({ kind: 'openai', url: 'http://x', listModels: () => Promise.reject(error) });

    expect(await failing(new DiffusionError('network', 'refused')).check()).toMatchObject({ reachable: false, last_error: 'refused', models: [] });
    expect(await failing(new DiffusionError('timeout', 'slow')).check()).toMatchObject({ reachable: false, last_error: 'slow' });
    expect(await failing(new DiffusionError('backend', 'HTTP 500')).check()).toMatchObject({ reachable: true, last_error: 'HTTP 500' });
    expect(await failing('weird').check()).toMatchObject({ reachable: false, last_error: 'weird' });
  });

  it('says since when the backend is in its state, and names the protocol when the model list is missing', async () => {
    let now = 1_000_000;
    let up = true;
    const probe = new HealthProbe({
      kind: 'openai',
      url: 'http://127.0.0.1:8000',
      now: () => now,
      listModels: async () => {
        if (up) return ['m'];
        throw new DiffusionError('backend', 'backend answered HTTP 404', { details: { upstream_status: 404 } });
      },
    });
    expect(await probe.check()).toMatchObject({ reachable: true, since: 1000 });
    now += HEALTH_CACHE_MS;
    expect(await probe.check()).toMatchObject({ since: 1000 });
    up = false;
    now += HEALTH_CACHE_MS;
    const down = await probe.check();
    expect(down.since).toBe(now / 1000);
    expect(down.last_error).toContain('/v1/models');
    expect(down.last_error).toContain('--backend-kind');
    now += HEALTH_CACHE_MS;
    expect((await probe.check()).since).toBe(down.since);
  });
});
