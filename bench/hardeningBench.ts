import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Pool, request } from 'undici';
import { startFakeDllmServer } from '../test/fixtures/fakeDllmServer';
import { startHostileBackend } from '../test/fixtures/hostileBackend';
import { httpRequest, openSocket } from '../test/fixtures/rawHttp';
import { startServerProcess } from '../test/soak/serverProcess';

export interface HardeningBench {
  randomModelIds: number;
  seriesBefore: number;
  /** After the first tenth of the ids: the labels `invalid` and `other` exist from here on. */
  seriesAfterTenth: number;
  seriesAfter: number;
  scrapeBeforeMs: number;
  scrapeAfterMs: number;
  streamBytes: number;
  idleRssMb: number;
  stalledPeakRssMb: number;
  readingPeakRssMb: number;
  delivered: boolean;
  stalledBackendFrames: number;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;

async function scrape(url: string): Promise<{ series: number; ms: number }> {
  const times: number[] = [];
  let series = 0;
  // The first scrapes of a fresh process pay for compiling the exporter: warm up first.
  for (let i = 0; i < 10; i++) await (await request(`${url}/metrics`)).body.text();
  for (let i = 0; i < 30; i++) {
    const start = performance.now();
    const answer = await request(`${url}/metrics`);
    const text = await answer.body.text();
    times.push(performance.now() - start);
    series = text.split('\n').filter((line) => line !== '' && !line.startsWith('#')).length;
  }
  return { series, ms: median(times) };
}

/**
 * Issue 12's two figures against `npm run serve` in its own process: `/metrics` after 10^4
 * random model ids (half invalid, half unknown to the backend), and the server's RSS while the
 * backend streams 1 GiB of 1 MiB frames to a client that first does not read at all, then reads.
 */
export async function runHardeningBench(log: (line: string) => void, randomIds = 10_000): Promise<HardeningBench> {
  const dir = mkdtempSync(join(tmpdir(), 'hardening-bench-'));
  const fake = await startFakeDllmServer({ steps: 1, stepMs: 0 });
  const server = await startServerProcess(['--db', join(dir, 'labels.db'), '--backend', fake.url]);
  const pool = new Pool(server.url, { connections: 16 });
  const send = async (body: unknown): Promise<void> => {
    const answer = await pool.request({
      method: 'POST',
      path: '/api/diffusion/generate',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    await answer.body.text();
  };
  await send({ prompt: 'warm up' });
  await sleep(200);
  const before = await scrape(server.url);
  log(`hardening: ${randomIds} random model ids…`);
  let next = 0;
  const sendUpTo = (limit: number): Promise<void[]> =>
    Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < limit) {
          const i = next++;
          await send({ prompt: 'x', model_id: i % 2 === 0 ? `random id ${Math.random()}` : `model-${Math.random().toString(36).slice(2)}` });
        }
      }),
    );
  await sendUpTo(randomIds / 10);
  await sleep(200);
  const tenth = await scrape(server.url);
  await sendUpTo(randomIds);
  await sleep(200);
  const after = await scrape(server.url);
  await pool.close();
  await server.stop();
  await fake.close();

  const frames = 1024;
  const hostile = await startHostileBackend({ mode: 'normal', frames, frameBytes: 1024 * 1024 });
  const streaming = await startServerProcess(['--db', join(dir, 'stream.db'), '--backend', hostile.url, '--timeout', '600']);
  // Idle means warm: one ordinary stream has loaded every module the bridge uses.
  const warm = await request(`${streaming.url}/api/diffusion/generate/stream`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"prompt":"x"}',
  });
  await warm.body.text();
  hostile.setMode('hugeFrames');
  await sleep(1000);
  const idleRssMb = streaming.rssMb();
  streaming.resetPeak();
  const socket = await openSocket(streaming.url);
  socket.write(httpRequest('POST', '/api/diffusion/generate/stream', { 'Content-Type': 'application/json' }, '{"prompt":"x"}'));
  socket.pause();
  log('hardening: 1 GiB stream to a client that does not read…');
  await sleep(10_000);
  const stalledPeakRssMb = streaming.peakMb();
  const stalledBackendFrames = hostile.stats.framesWritten;
  let complete = false;
  let tail = '';
  await new Promise<void>((resolve) => {
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      const text = tail + chunk;
      complete ||= text.includes('"type":"complete"');
      tail = text.slice(-32);
      if (complete) resolve();
    });
    socket.on('close', () => resolve());
    socket.resume();
  });
  socket.destroy();
  const readingPeakRssMb = streaming.peakMb();
  await streaming.stop();
  await hostile.close();
  rmSync(dir, { recursive: true, force: true });
  return {
    randomModelIds: randomIds,
    seriesBefore: before.series,
    seriesAfterTenth: tenth.series,
    seriesAfter: after.series,
    scrapeBeforeMs: before.ms,
    scrapeAfterMs: after.ms,
    streamBytes: frames * 1024 * 1024,
    idleRssMb,
    stalledPeakRssMb,
    readingPeakRssMb,
    delivered: complete,
    stalledBackendFrames,
  };
}
