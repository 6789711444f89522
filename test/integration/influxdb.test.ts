import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Core } from '../../src/main/core';
import type { InfluxPusherHealth } from '../../src/main/export/influxPusher';
import { InfluxdServer } from '../fixtures/monitoring/influxdServer';
import { hasCommand, sleep, waitFor } from '../fixtures/monitoring/programs';
import { addGenerateRequests, startSeededCore } from '../fixtures/monitoring/seededCore';
import { tempDir } from '../fixtures/tempDir';

for (const command of ['influxd', 'influx', 'curl']) {
  if (!hasCommand(command)) throw new Error(`the integration suite needs ${command}: apt-get install -y influxdb influxdb-client curl`);
}

/** The seed's documented pipeline, character for character apart from the two addresses. */
const SEED_PIPELINE = `curl "http://localhost:7000/api/diffusion/metrics/export?format=influxdb" | \\
  curl -i -XPOST "http://influxdb:8086/write?db=reynard" --data-binary @-`;

/** Runs a program without blocking the event loop (the server under test lives in this process). */
function run(command: string, args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(command, args, { encoding: 'utf8', timeout: 30_000 }, (error, stdout, stderr) => {
      resolve({ status: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr });
    });
  });
}

function pipelineFor(serverPort: number, influxPort: number): string {
  const command = SEED_PIPELINE.replace('http://localhost:7000', `http://127.0.0.1:${serverPort}`).replace(
    'http://influxdb:8086',
    `http://127.0.0.1:${influxPort}`,
  );
  expect(command).not.toContain('localhost:7000');
  expect(command).not.toContain('influxdb:8086');
  return command;
}

/** The last value of `field` among the `diffusion_llm` points with these tags. */
async function last(influx: InfluxdServer, field: string, tags: Record<string, string>): Promise<number | undefined> {
  const where = Object.entries(tags)
    .map(([k, v]) => `"${k}" = '${v}'`)
    .join(' AND ');
  const series = await influx.query(`SELECT last("${field}") FROM "diffusion_llm" WHERE ${where}`, 'reynard');
  const row = series[0]?.values[0];
  return row === undefined ? undefined : Number(row[1]);
}

async function health(core: Core): Promise<InfluxPusherHealth> {
  const response = await fetch(`${core.server.url}/api/diffusion/health`);
  expect(response.status).toBe(200);
  const body = (await response.json()) as { influx_pusher: InfluxPusherHealth };
  return body.influx_pusher;
}

describe("the seed's curl pipeline into InfluxDB 1.x", () => {
  const dir = tempDir('influx-it-');
  let influx: InfluxdServer | undefined;
  let core: Core | undefined;

  beforeAll(async () => {
    influx = await InfluxdServer.start(dir.file('influxdb'));
    await influx.query('CREATE DATABASE "reynard"');
    core = await startSeededCore(dir.file('metrics.db'));
  });

  afterAll(async () => {
    await core?.stop();
    await influx?.stop();
    dir.cleanup();
  });

  it('writes the export (HTTP 204) and InfluxQL returns the seeded values', async () => {
    if (!influx || !core) throw new Error('not started');
    const result = await run('bash', ['-c', pipelineFor(core.server.port, influx.port)]);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout, result.stdout).toMatch(/^HTTP\/1\.1 204 No Content/m);

    expect(await last(influx, 'count', { type: 'requests', endpoint: 'generate' })).toBe(10);
    expect(await last(influx, 'count', { type: 'requests', endpoint: 'infill' })).toBe(5);
    expect(await last(influx, 'count', { type: 'errors', endpoint: 'generate' })).toBe(2);
    expect(await last(influx, 'value', { type: 'latency', event_type: 'diffusion_generate' })).toBe(1.5);
    expect(await last(influx, 'value', { type: 'latency', event_type: 'diffusion_infill' })).toBe(2);
    expect(await last(influx, 'count', { type: 'tokens', event_type: 'diffusion_generate' })).toBe(25);
    expect(await last(influx, 'count', { type: 'tokens', event_type: 'diffusion_infill' })).toBe(30);
    expect(await last(influx, 'requests', { type: 'model', model: 'dream-v0-instruct-7b' })).toBe(10);
  });

  it('the influx CLI reads the same numbers', async () => {
    if (!influx) throw new Error('not started');
    const result = await run('influx', [
      '-host',
      '127.0.0.1',
      '-port',
      String(influx.port),
      '-database',
      'reynard',
      '-format',
      'json',
      '-execute',
      `SELECT last("count") FROM "diffusion_llm" WHERE "type" = 'requests' AND "endpoint" = 'generate'`,
    ]);
    expect(result.status, result.stderr).toBe(0);
    const body = JSON.parse(result.stdout) as { results: Array<{ series: Array<{ values: unknown[][] }> }> };
    expect(body.results[0]?.series[0]?.values[0]?.[1]).toBe(10);
  });
});

describe('the built-in pusher against InfluxDB 1.x', () => {
  const dir = tempDir('influx-push-it-');
  let influx: InfluxdServer | undefined;
  let core: Core | undefined;

  beforeAll(async () => {
    influx = await InfluxdServer.start(dir.file('influxdb'));
    await influx.query('CREATE DATABASE "reynard"');
    core = await startSeededCore(dir.file('metrics.db'), ['--influx-url', influx.url, '--influx-db', 'reynard', '--influx-interval', '0.5']);
  });

  afterAll(async () => {
    await core?.stop();
    await influx?.stop();
    dir.cleanup();
  });

  it('pushes on schedule, shown in /api/diffusion/health', async () => {
    if (!influx || !core) throw new Error('not started');
    const first = await waitFor('a first successful push', async () => ((await health(core as Core)).last_success_at !== null ? true : undefined), 15_000);
    expect(first).toBe(true);
    expect(await last(influx, 'count', { type: 'requests', endpoint: 'generate' })).toBe(10);
    // More points arrive on schedule, one snapshot per interval.
    const count = async (): Promise<number> =>
      Number(
        (await influx!.query(`SELECT count("count") FROM "diffusion_llm" WHERE "type" = 'requests' AND "endpoint" = 'generate'`, 'reynard'))[0]
          ?.values[0]?.[1] ?? 0,
      );
    const before = await count();
    await waitFor('three more scheduled pushes', async () => ((await count()) >= before + 3 ? true : undefined), 15_000);
    expect(await health(core)).toMatchObject({
      enabled: true,
      api: 'v1',
      destination: 'db=reynard',
      status: 'ok',
      consecutive_failures: 0,
      pending_batches: 0,
    });
  });

  it('loses nothing while InfluxDB is down and recovers when it returns', async () => {
    if (!influx || !core) throw new Error('not started');
    await influx.stop();
    const downAt = Date.now() * 1e6;
    const how = await addGenerateRequests(core, 5);
    const failing = await waitFor(
      'the pusher to notice the outage and queue snapshots',
      async () => {
        const h = await health(core as Core);
        return h.status === 'retrying' && h.pending_batches >= 2 ? h : undefined;
      },
      20_000,
    );
    expect(failing.last_error).toBeTruthy();
    expect(failing.consecutive_failures).toBeGreaterThanOrEqual(1);

    // Our store is untouched by the outage: every request is counted and written.
    expect(core.store.summary().endpoints.generate?.requests).toBe(15);
    core.store.flush();
    expect(core.store.events({ limit: 100 }).filter((e) => e.event_type === 'diffusion_generate')).toHaveLength(15);

    await sleep(500);
    const upAt = Date.now() * 1e6;
    await influx.resume();
    const recovered = await waitFor(
      'the pusher to deliver its backlog',
      async () => {
        const h = await health(core as Core);
        return h.status === 'ok' && h.pending_batches === 0 && (h.last_success_at ?? 0) * 1e9 > upAt ? h : undefined;
      },
      60_000,
    );
    expect(recovered.dropped_batches).toBe(0);
    expect(await last(influx, 'count', { type: 'requests', endpoint: 'generate' })).toBe(15);
    // Snapshots taken during the outage landed with their own timestamps.
    const during = await influx.query(
      `SELECT "count" FROM "diffusion_llm" WHERE "type" = 'requests' AND "endpoint" = 'generate' AND time > ${downAt} AND time < ${upAt}`,
      'reynard',
    );
    const values = during[0]?.values ?? [];
    expect(values.length, `requests were added through ${how}`).toBeGreaterThanOrEqual(2);
    expect(values.at(-1)?.[1]).toBe(15);
  });
});

describe('model names the line protocol cannot carry as they are, into a real influxd', () => {
  const dir = tempDir('influx-escape-');
  let influx: InfluxdServer | undefined;
  let core: Core | undefined;

  beforeAll(async () => {
    influx = await InfluxdServer.start(dir.file('influxdb'));
    await influx.query('CREATE DATABASE "reynard"');
    core = await startSeededCore(dir.file('metrics.db'), ['--influx-url', influx.url, '--influx-db', 'reynard', '--influx-interval', '0.3']);
    for (const model of ['my-model\\', 'inner\\slash', 'tab\there', 'comma,space =eq']) {
      core.store.record({
        endpoint: 'generate',
        modelId: model,
        userId: 'u',
        startedAt: Date.now() / 1000,
        duration: 0.5,
        requestId: `r-${model}`,
        status: 200,
        params: {},
        outputText: 'ok',
      });
    }
    await core.store.flush();
  });

  afterAll(async () => {
    await core?.stop();
    await influx?.stop();
    dir.cleanup();
  });

  it('are written without a rejected line, stored as close to the name as the protocol allows, and health stays ok', async () => {
    if (!influx || !core) throw new Error('not started');
    const url = `${core.server.url}/api/diffusion/metrics/export?format=influxdb`;
    const lines = await (await fetch(url)).text();
    const write = await fetch(`${influx.url}/write?db=reynard&precision=ns`, { method: 'POST', body: lines });
    expect(write.status, await write.text()).toBe(204);
    const series = await influx.query('SHOW TAG VALUES FROM "diffusion_llm" WITH KEY = "model"', 'reynard');
    const stored = (series[0]?.values ?? []).map((row) => String(row[1]));
    expect(stored).toEqual(expect.arrayContaining(['my-model', 'inner\\slash', 'tab here', 'comma,space =eq']));
    await sleep(1000);
    const pusher = await health(core);
    expect(pusher.status).toBe('ok');
    expect(pusher.dropped_batches).toBe(0);
  });
});
