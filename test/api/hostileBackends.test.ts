import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Closer, waitFor } from '../fixtures/backendHarness';
import { startHostileBackend, type HostileOptions } from '../fixtures/hostileBackend';
import { framesOf, post, startMonitor } from '../fixtures/monitorHarness';

const closer = new Closer();
afterEach(() => closer.closeAll());

async function setUp(options: HostileOptions, args: string[] = []): Promise<{ hostile: Awaited<ReturnType<typeof startHostileBackend>>; url: string }> {
  const hostile = closer.add(await startHostileBackend(options));
  const monitor = closer.add(await startMonitor(['--backend', hostile.url, ...args]));
  return { hostile, url: monitor.url };
}

function errorOf(answer: { json(): unknown }): { type: string; message: string } {
  return (answer.json() as { error: { type: string; message: string } }).error;
}

describe('a backend that never ends a line', () => {
  it('ends the stream with a backend error once the line passes 16 MiB, and drops the connection', async () => {
    const { hostile, url } = await setUp({ mode: 'endlessLine', lineBytes: 40 * 1024 * 1024 });
    const answer = await post(`${url}/api/diffusion/generate/stream`, { prompt: 'x' });
    const last = framesOf(answer.text).at(-1);
    expect(last).toMatchObject({ type: 'error', error_type: 'backend' });
    expect(last?.type === 'error' ? last.message : '').toMatch(/longer than/);
    expect(await waitFor(() => hostile.stats.readerLeft === 1, 10_000)).toBe(true);
    expect(hostile.stats.bytesWritten).toBeLessThan(40 * 1024 * 1024);
  });

  it('answers 502 on the JSON route', async () => {
    const { url } = await setUp({ mode: 'endlessLine', lineBytes: 40 * 1024 * 1024 });
    const answer = await post(`${url}/api/diffusion/generate`, { prompt: 'x' });
    expect(answer.status).toBe(502);
    expect(errorOf(answer).type).toBe('backend');
  });
});

describe('a JSON answer dripped one byte at a time', () => {
  it('is cut by the timeout, which bounds the whole answer and not only silences', async () => {
    // ~140 bytes at 20 ms each take ~3 s; every byte is within the 0.5 s silence bound.
    const { hostile, url } = await setUp({ mode: 'dripJson', dripMs: 20 }, ['--timeout', '0.5']);
    const answer = await post(`${url}/api/diffusion/generate`, { prompt: 'x' });
    expect(answer.status).toBe(504);
    expect(errorOf(answer)).toMatchObject({ type: 'timeout' });
    expect(errorOf(answer).message).toMatch(/did not finish sending its answer/);
    expect(hostile.stats.finished).toBe(0);
  });
});

describe('a client that does not read a fast stream', () => {
  it('makes the bridge stop reading the backend (backpressure), and loses nothing once it reads', async () => {
    const frames = 120;
    const { hostile, url } = await setUp({ mode: 'hugeFrames', frames, frameBytes: 1024 * 1024 });
    const { port } = new URL(url);
    const socket = connect(Number(port), '127.0.0.1');
    const body = JSON.stringify({ prompt: 'x' });
    socket.write(
      `POST /api/diffusion/generate/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
    );
    socket.pause();
    // Without backpressure the bridge buffers every frame and the backend finishes; with it the
    // backend's writes stall while most frames are still unsent.
    await waitFor(() => hostile.stats.stalled || hostile.stats.finished > 0, 60_000);
    expect(hostile.stats.finished).toBe(0);
    expect(hostile.stats.stalled).toBe(true);
    expect(hostile.stats.framesWritten).toBeLessThan(frames);

    let steps = 0;
    let tail = '';
    let complete = false;
    await new Promise<void>((resolve, reject) => {
      socket.setEncoding('latin1');
      socket.on('data', (chunk: string) => {
        const text = tail + chunk;
        // The carried-over tail is counted once: in the chunk it arrived with.
        steps += text.split('"type":"step"').length - tail.split('"type":"step"').length;
        complete ||= text.includes('"type":"complete"');
        tail = text.slice(-32);
        if (complete) {
          socket.destroy();
          resolve();
        }
      });
      socket.on('error', reject);
      socket.resume();
    });
    expect(steps).toBe(frames);
    expect(hostile.stats.finished).toBe(1);
  });
});

describe('backend answers no client should take', () => {
  it('classifies oversized response headers as backend, not network', async () => {
    const { url } = await setUp({ mode: 'hugeHeaders' });
    const answer = await post(`${url}/api/diffusion/generate`, { prompt: 'x' });
    expect(answer.status).toBe(502);
    expect(errorOf(answer).type).toBe('backend');
    expect(errorOf(answer).message).toMatch(/headers too large/);
  });

  it('reports a 500 with a 100 MB body by an excerpt of it, not as an empty body', async () => {
    const { hostile, url } = await setUp({ mode: 'hugeErrorBody' });
    const answer = await post(`${url}/api/diffusion/generate`, { prompt: 'x' });
    expect(answer.status).toBe(502);
    expect(errorOf(answer).message).toMatch(/HTTP 500: .*CUDA out of memory/);
    expect(errorOf(answer).message).not.toMatch(/empty body/);
    expect(await waitFor(() => hostile.stats.readerLeft === 1, 10_000)).toBe(true);
  });
});
