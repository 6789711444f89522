import { describe, expect, it } from 'vitest';
import { GenerationQueue } from '../../../../src/main/backend/builtin/generationQueue';
import { DiffusionError } from '../../../../src/shared/errors';

describe('GenerationQueue', () => {
  it('runs one at a time and hands slots out first come, first served', async () => {
    const queue = new GenerationQueue({ slots: 1, limit: 3 });
    const order: string[] = [];
    const first = await queue.acquire().slot;
    const waiting = ['b', 'c', 'd'].map((name) => queue.acquire().slot.then((slot) => (order.push(name), slot)));
    expect(queue.running).toBe(1);
    expect(queue.waitingCount).toBe(3);
    first.release();
    // Releasing twice frees only one slot.
    first.release();
    (await waiting[0])?.release();
    (await waiting[1])?.release();
    (await waiting[2])?.release();
    expect(order).toEqual(['b', 'c', 'd']);
    expect(queue.running).toBe(0);
  });

  it('refuses the request after the limit with rate_limited and a Retry-After from recent run times', async () => {
    const queue = new GenerationQueue({ slots: 1, limit: 1, initialSecondsPerRun: 2 });
    await queue.acquire().slot;
    void queue.acquire().slot;
    let refused: unknown;
    try {
      queue.acquire();
    } catch (error) {
      refused = error;
    }
    expect(refused).toBeInstanceOf(DiffusionError);
    expect(refused).toMatchObject({ type: 'rate_limited', status: 429, retryAfterSeconds: 4 });
    expect(() => queue.check()).toThrow(/queue limit 1/);
  });

  it('drops a waiter that is cancelled, rejecting it with the reason', async () => {
    const queue = new GenerationQueue({ slots: 1, limit: 2 });
    const first = await queue.acquire().slot;
    const leaving = queue.acquire();
    const staying = queue.acquire();
    leaving.cancel(new Error('gone'));
    await expect(leaving.slot).rejects.toThrow('gone');
    expect(queue.waitingCount).toBe(1);
    first.release();
    expect((await staying.slot).index).toBe(0);
  });

  it('queues nothing with limit 0: only the free slots serve', async () => {
    const queue = new GenerationQueue({ slots: 2, limit: 0 });
    const a = await queue.acquire().slot;
    await queue.acquire().slot;
    expect(() => queue.acquire()).toThrow(/busy/);
    a.release();
    expect((await queue.acquire().slot).index).toBe(a.index);
  });
});
