import { describe, expect, it } from 'vitest';
import { FairLimiter } from '../../../src/main/server/fairLimiter';
import { DiffusionError } from '../../../src/shared/errors';

const signal = (): AbortSignal => new AbortController().signal;

describe('FairLimiter', () => {
  it('hands a freed slot to the key holding fewest, even when it arrived last', async () => {
    const limiter = new FairLimiter(2, 4);
    const scriptA = await limiter.acquire('script', signal());
    await limiter.acquire('script', signal());
    const order: string[] = [];
    const scriptWaits = limiter.acquire('script', signal()).then(() => order.push('script'));
    const editorWaits = limiter.acquire('editor', signal()).then(() => order.push('editor'));
    expect(limiter.waiting).toBe(2);
    scriptA();
    await editorWaits;
    expect(order).toEqual(['editor']);
    expect(limiter.waiting).toBe(1);
    void scriptWaits;
  });

  it('refuses with rate_limited when the queue is full, and drops a waiter whose client left', async () => {
    const limiter = new FairLimiter(1, 1);
    await limiter.acquire('a', signal());
    const leaving = new AbortController();
    const waiting = limiter.acquire('b', leaving.signal);
    await expect(limiter.acquire('c', signal())).rejects.toMatchObject({ type: 'rate_limited', status: 429 });
    leaving.abort();
    await expect(waiting).rejects.toBeInstanceOf(DiffusionError);
    expect(limiter.waiting).toBe(0);
  });
});
