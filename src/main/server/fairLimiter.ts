import { DiffusionError } from '../../shared/errors';

interface Waiter {
  key: string;
  seq: number;
  admit: () => void;
}

/**
 * The diffusion requests served at once, across every client. Past `maxActive` a request waits;
 * when a slot frees it goes to the waiter whose key (a `user_id`, or its connection) holds the
 * fewest slots, the earliest among equals — so one script holding every slot cannot keep an
 * editor out: the editor gets the next slot that frees. Past `maxWaiting` waiters a request is
 * refused at once with 429 `rate_limited` (retryable), as the built-in model's queue does when full.
 */
export class FairLimiter {
  private readonly held = new Map<string, number>();
  private readonly waiters: Waiter[] = [];
  private seq = 0;
  private activeCount = 0;

  constructor(
    readonly maxActive: number,
    readonly maxWaiting: number = maxActive,
  ) {}

  get active(): number {
    return this.activeCount;
  }

  get waiting(): number {
    return this.waiters.length;
  }

  /**
   * Resolves with the slot's release function once admitted. Rejects with `rate_limited` when
   * the queue is full, or `cancelled` when `signal` aborts while waiting.
   */
  acquire(key: string, signal: AbortSignal): Promise<() => void> {
    if (signal.aborted) return Promise.reject(new DiffusionError('cancelled', 'the client left while waiting for a slot'));
    if (this.activeCount < this.maxActive && this.waiters.length === 0) return Promise.resolve(this.take(key));
    if (this.waiters.length >= this.maxWaiting) {
      return Promise.reject(
        new DiffusionError('rate_limited', `the server is busy: ${this.activeCount} requests running and ${this.waiters.length} waiting; retry shortly`),
      );
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        key,
        seq: this.seq++,
        admit: () => {
          signal.removeEventListener('abort', onAbort);
          resolve(this.take(key));
        },
      };
      const onAbort = (): void => {
        const index = this.waiters.indexOf(waiter);
        if (index !== -1) this.waiters.splice(index, 1);
        reject(new DiffusionError('cancelled', 'the client left while waiting for a slot'));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  private take(key: string): () => void {
    this.activeCount += 1;
    this.held.set(key, (this.held.get(key) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.activeCount -= 1;
      const left = (this.held.get(key) ?? 1) - 1;
      if (left <= 0) this.held.delete(key);
      else this.held.set(key, left);
      this.admitNext();
    };
  }

  private admitNext(): void {
    while (this.activeCount < this.maxActive && this.waiters.length > 0) {
      let best = 0;
      for (let i = 1; i < this.waiters.length; i++) {
        const a = this.waiters[i] as Waiter;
        const b = this.waiters[best] as Waiter;
        const heldA = this.held.get(a.key) ?? 0;
        const heldB = this.held.get(b.key) ?? 0;
        if (heldA < heldB || (heldA === heldB && a.seq < b.seq)) best = i;
      }
      const [next] = this.waiters.splice(best, 1);
      next?.admit();
    }
  }
}
