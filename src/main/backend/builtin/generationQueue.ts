import { DiffusionError } from '../../../shared/errors';

export interface GenerationQueueOptions {
  /** Generations that run at once (default 1). */
  slots?: number;
  /** Requests that may wait for a slot (default 8); one more is refused with `rate_limited`. */
  limit?: number;
  /** Seconds one generation is expected to take before any has finished (for Retry-After). */
  initialSecondsPerRun?: number;
}

/** A held slot: `index` names it (one worker per slot); `release` frees it exactly once. */
export interface Slot {
  index: number;
  release(): void;
}

interface Waiter {
  resolve: (slot: Slot) => void;
  reject: (error: unknown) => void;
}

/**
 * A bounded FIFO in front of the model: `slots` generations run, up to `limit` wait in arrival
 * order, and the next one is refused with a 429 `rate_limited` carrying a Retry-After estimate
 * from how long recent generations took.
 */
export class GenerationQueue {
  readonly slots: number;
  readonly limit: number;
  private readonly free: number[];
  private readonly waiting: Waiter[] = [];
  private secondsPerRun: number;

  constructor(options: GenerationQueueOptions = {}) {
    this.slots = Math.max(1, options.slots ?? 1);
    this.limit = Math.max(0, options.limit ?? 8);
    this.free = Array.from({ length: this.slots }, (_, i) => i);
    this.secondsPerRun = options.initialSecondsPerRun ?? 1;
  }

  get running(): number {
    return this.slots - this.free.length;
  }

  get waitingCount(): number {
    return this.waiting.length;
  }

  /** Throws the `rate_limited` error a request arriving now would get, if any. */
  check(): void {
    if (this.free.length > 0 || this.waiting.length < this.limit) return;
    const seconds = Math.max(1, Math.ceil(((this.waiting.length + 1) * this.secondsPerRun) / this.slots));
    throw new DiffusionError(
      'rate_limited',
      `the built-in model is busy: ${this.running} running and ${this.waiting.length} waiting (queue limit ${this.limit}); retry in about ${seconds} s`,
      { retryAfterSeconds: seconds },
    );
  }

  /**
   * Waits for a slot, first come first served. Rejects with `rate_limited` when the queue is
   * full, and with whatever `cancel` is given if it is called while still waiting.
   */
  acquire(): { slot: Promise<Slot>; cancel: (reason: unknown) => void; position: number } {
    this.check();
    const index = this.free.shift();
    if (index !== undefined) return { slot: Promise.resolve(this.slotOf(index)), cancel: () => undefined, position: 0 };
    let waiter!: Waiter;
    const slot = new Promise<Slot>((resolve, reject) => {
      waiter = { resolve, reject };
    });
    this.waiting.push(waiter);
    return {
      slot,
      position: this.waiting.length,
      cancel: (reason) => {
        const at = this.waiting.indexOf(waiter);
        if (at === -1) return;
        this.waiting.splice(at, 1);
        waiter.reject(reason);
      },
    };
  }

  /** Feeds the Retry-After estimate: how long a finished generation held its slot. */
  recordRunSeconds(seconds: number): void {
    this.secondsPerRun = this.secondsPerRun * 0.7 + seconds * 0.3;
  }

  private slotOf(index: number): Slot {
    let released = false;
    return {
      index,
      release: () => {
        if (released) return;
        released = true;
        const next = this.waiting.shift();
        if (next) next.resolve(this.slotOf(index));
        else this.free.push(index);
      },
    };
  }
}
