import { afterEach, describe, expect, it, vi } from 'vitest';
import { InfluxPusher, influxWriteUrl, type InfluxPushSettings } from '../../../src/main/export/influxPusher';
import { ConfigError, resolveConfig } from '../../../src/main/config';
import { waitFor } from '../../fixtures/monitoring/programs';

interface Call {
  url: string;
  body: string;
  headers: Record<string, string>;
}

/** A scripted InfluxDB: each write gets the next planned answer (status or thrown error), then 204s. */
function fakeInflux(plan: Array<number | Error> = []) {
  const calls: Call[] = [];
  const fetchImpl = (async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    calls.push({ url: String(input), body: String(init?.body ?? ''), headers: { ...(init?.headers as Record<string, string>) } });
    const next = plan.shift() ?? 204;
    if (next instanceof Error) throw next;
    return new Response(next === 204 ? null : JSON.stringify({ error: `status ${next}` }), { status: next });
  }) as typeof fetch;
  return { calls, fetch: fetchImpl };
}

const V1: InfluxPushSettings = { url: 'http://127.0.0.1:8086', target: { version: 1, db: 'reynard' }, token: null, intervalSeconds: 3600 };

let pushers: InfluxPusher[] = [];
afterEach(async () => {
  for (const p of pushers) await p.stop({ flush: false, timeoutMs: 100 });
  pushers = [];
});

function pusher(options: Partial<ConstructorParameters<typeof InfluxPusher>[0]> & { fetch: typeof fetch }): InfluxPusher {
  let n = 0;
  const p = new InfluxPusher({
    settings: V1,
    render: () => {
      n += 1;
      return `diffusion_llm,type=requests,endpoint=generate count=${n} ${n}000000000\n`;
    },
    minBackoffMs: 5,
    maxBackoffMs: 20,
    ...options,
  });
  pushers.push(p);
  return p;
}

describe('influxWriteUrl', () => {
  it('targets /write?db= for 1.x and /api/v2/write for 2.x, nanosecond precision, keeping a path prefix', () => {
    expect(influxWriteUrl(V1)).toBe('http://127.0.0.1:8086/write?db=reynard&precision=ns');
    expect(influxWriteUrl({ url: 'https://metrics.local/influx/', target: { version: 2, org: 'my org', bucket: 'b&c' } })).toBe(
      'https://metrics.local/influx/api/v2/write?org=my+org&bucket=b%26c&precision=ns',
    );
  });
});

describe('InfluxPusher', () => {
  it('writes a snapshot at start and on every tick, and reports success in its health', async () => {
    const influx = fakeInflux();
    const p = pusher({ fetch: influx.fetch });
    expect(p.health().status).toBe('starting');
    p.start();
    await p.idle();
    p.tick();
    await p.idle();
    expect(influx.calls.map((c) => c.body)).toEqual([
      'diffusion_llm,type=requests,endpoint=generate count=1 1000000000\n',
      'diffusion_llm,type=requests,endpoint=generate count=2 2000000000\n',
    ]);
    expect(influx.calls[0]?.url).toBe('http://127.0.0.1:8086/write?db=reynard&precision=ns');
    const health = p.health();
    expect(health).toMatchObject({
      enabled: true,
      api: 'v1',
      destination: 'db=reynard',
      status: 'ok',
      pushed_batches: 2,
      pending_batches: 0,
      failed_attempts: 0,
    });
    expect(health.last_success_at).not.toBeNull();
  });

  it('keeps snapshots while InfluxDB is down, backs off, and delivers them oldest first when it returns', async () => {
    const refused = Object.assign(new TypeError('fetch failed'), { cause: { code: 'ECONNREFUSED' } });
    const influx = fakeInflux([refused, refused, 503]);
    const p = pusher({ fetch: influx.fetch });
    p.start();
    await p.idle();
    expect(p.health()).toMatchObject({ status: 'retrying', consecutive_failures: 1, pending_batches: 1, last_error: 'ECONNREFUSED' });
    // Ticks during the back-off queue snapshots without writing.
    p.tick();
    p.tick();
    expect(influx.calls).toHaveLength(1);
    await waitFor('recovery', async () => (p.health().status === 'ok' ? true : undefined), 5000, 5);
    const health = p.health();
    expect(health).toMatchObject({ pending_batches: 0, consecutive_failures: 0, failed_attempts: 3, pushed_batches: 3, dropped_batches: 0 });
    expect(health.last_error).toContain('HTTP 503');
    const delivered = influx.calls.at(-1)?.body ?? '';
    expect(
      delivered
        .split('\n')
        .filter(Boolean)
        .map((l) => l.split(' ')[1]),
    ).toEqual(['count=1', 'count=2', 'count=3']);
  });

  it('drops a batch InfluxDB rejects as malformed (400) instead of retrying it forever', async () => {
    const influx = fakeInflux([400]);
    const p = pusher({ fetch: influx.fetch });
    p.start();
    await p.idle();
    expect(p.health()).toMatchObject({ status: 'failing', dropped_batches: 1, pending_batches: 0, failed_attempts: 1 });
    expect(p.health().last_error).toMatch(/^HTTP 400/);
    p.tick();
    await p.idle();
    expect(p.health()).toMatchObject({ status: 'ok', pushed_batches: 1 });
  });

  it('bounds the queue, counting what it evicts', async () => {
    const influx = fakeInflux(new Array<Error>(50).fill(new Error('down')));
    const p = pusher({ fetch: influx.fetch, maxPendingBatches: 3, minBackoffMs: 60_000, maxBackoffMs: 60_000 });
    p.start();
    await p.idle();
    for (let i = 0; i < 5; i += 1) p.tick();
    expect(p.health()).toMatchObject({ pending_batches: 3, dropped_batches: 3 });
  });

  it('splits a backlog into writes of at most maxLinesPerWrite lines', async () => {
    const influx = fakeInflux([new Error('down')]);
    const p = pusher({ fetch: influx.fetch, maxLinesPerWrite: 2 });
    p.start();
    await p.idle();
    p.tick();
    p.tick();
    p.tick();
    await waitFor('drained', async () => (p.health().pending_batches === 0 ? true : undefined), 5000, 5);
    expect(influx.calls.slice(1).map((c) => c.body.split('\n').filter(Boolean).length)).toEqual([2, 2]);
  });

  it('sends credentials: Token for 2.x, Basic for a 1.x user:password, never shown in health', async () => {
    const v2 = fakeInflux();
    const p2 = pusher({
      fetch: v2.fetch,
      settings: { url: 'http://127.0.0.1:8086', target: { version: 2, org: 'o', bucket: 'b' }, token: 's3cret', intervalSeconds: 3600 },
    });
    p2.start();
    await p2.idle();
    expect(v2.calls[0]?.headers.Authorization).toBe('Token s3cret');
    expect(v2.calls[0]?.url).toBe('http://127.0.0.1:8086/api/v2/write?org=o&bucket=b&precision=ns');
    expect(JSON.stringify(p2.health())).not.toContain('s3cret');

    const v1 = fakeInflux();
    const p1 = pusher({ fetch: v1.fetch, settings: { ...V1, url: 'http://admin:pw@127.0.0.1:8086', token: 'admin:pw' } });
    p1.start();
    await p1.idle();
    expect(v1.calls[0]?.headers.Authorization).toBe(`Basic ${Buffer.from('admin:pw').toString('base64')}`);
    expect(JSON.stringify(p1.health())).not.toContain('pw');
  });

  it('on stop, pushes a last snapshot and stops its timers', async () => {
    const influx = fakeInflux();
    const p = pusher({ fetch: influx.fetch });
    p.start();
    await p.idle();
    await p.stop();
    expect(influx.calls).toHaveLength(2);
    expect(p.health().status).toBe('stopped');
    p.tick();
    await p.idle();
    expect(influx.calls).toHaveLength(2);
  });

  it('a stop while InfluxDB is down is bounded in time', async () => {
    const hang = (async (_input: string | URL | Request, init?: RequestInit) =>
      new Promise<Response>((_resolve, reject) => init?.signal?.addEventListener('abort', () => reject(new Error('aborted'))))) as typeof fetch;
    vi.useFakeTimers();
    try {
      const p = pusher({ fetch: hang, requestTimeoutMs: 60_000 });
      p.start();
      let stopped = false;
      const stopping = p.stop({ timeoutMs: 200 }).then(() => {
        stopped = true;
      });
      // The write hangs (its own timeout is a minute away); stop gives up at its 200 ms deadline.
      await vi.advanceTimersByTimeAsync(199);
      expect(stopped).toBe(false);
      await vi.advanceTimersByTimeAsync(1);
      await stopping;
      expect(stopped).toBe(true);
      expect(p.health().pending_batches).toBeGreaterThan(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it('survives a render that throws', async () => {
    const influx = fakeInflux();
    const p = pusher({
      fetch: influx.fetch,
      render: () => {
        throw new Error('store closed');
      },
    });
    p.start();
    await p.idle();
    expect(p.health().last_error).toContain('store closed');
    expect(influx.calls).toHaveLength(0);
  });
});

describe('pusher settings (flags, environment, settings file)', () => {
  const resolve = (argv: string[], env: Record<string, string> = {}) => resolveConfig({ argv, env, cwd: '/tmp' }).influx;

  it('is off by default', () => expect(resolve([])).toBeNull());

  it('reads 1.x flags', () =>
    expect(resolve(['--influx-url', 'http://127.0.0.1:8086/', '--influx-db', 'reynard', '--influx-interval', '2.5'])).toEqual({
      url: 'http://127.0.0.1:8086',
      target: { version: 1, db: 'reynard' },
      token: null,
      intervalSeconds: 2.5,
    }));

  it('reads 2.x from the environment, flags winning', () =>
    expect(
      resolve(['--influx-bucket', 'flagged'], {
        DIFFUSION_MONITOR_INFLUX_URL: 'http://127.0.0.1:8086',
        DIFFUSION_MONITOR_INFLUX_ORG: 'org',
        DIFFUSION_MONITOR_INFLUX_BUCKET: 'env',
        DIFFUSION_MONITOR_INFLUX_TOKEN: 'tok',
      }),
    ).toEqual({ url: 'http://127.0.0.1:8086', target: { version: 2, org: 'org', bucket: 'flagged' }, token: 'tok', intervalSeconds: 10 }));

  it.each([
    [['--influx-db', 'x'], /needs --influx-url/],
    [['--influx-url', 'http://h:8086'], /needs --influx-db .* or both --influx-org and --influx-bucket/],
    [['--influx-url', 'http://h:8086', '--influx-org', 'o'], /both --influx-org and --influx-bucket/],
    [['--influx-url', 'http://h:8086', '--influx-db', 'x', '--influx-bucket', 'b'], /not both/],
    [['--influx-url', 'ftp://h', '--influx-db', 'x'], /http or https/],
    [['--influx-url', 'http://h:8086', '--influx-db', 'x', '--influx-interval', '0'], /interval/],
  ])('refuses %j with a one-line reason', (argv, message) => {
    expect(() => resolve(argv)).toThrow(ConfigError);
    expect(() => resolve(argv)).toThrow(message);
  });
});
