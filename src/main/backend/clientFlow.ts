/**
 * Backpressure from our client to the backend. A stream route ties the writable it answers on to
 * the abort signal it already hands the backend; the upstream exchange opened with that signal
 * waits before reading the next chunk while the client's buffer is full. The backend's socket is
 * then left unread, TCP flow control slows the backend down, and a client that does not read
 * costs a bounded amount of memory instead of the whole stream.
 *
 * The signal is the carrier because every backend already passes it to the exchange (for the
 * upstream abort), so the frame readers need no change to honour it.
 */

/** What we need of the client's side: Node's `http.ServerResponse` satisfies it. */
export interface FlowWritable {
  readonly writableNeedDrain: boolean;
  readonly destroyed: boolean;
  once(event: 'drain' | 'close', listener: () => void): unknown;
  off(event: 'drain' | 'close', listener: () => void): unknown;
}

const writables = new WeakMap<AbortSignal, FlowWritable>();

/** Ties `writable` to `signal`: upstream reads under that signal wait while it needs draining. */
export function attachClientFlow(signal: AbortSignal, writable: FlowWritable): void {
  writables.set(signal, writable);
}

/**
 * Resolves when the client tied to `signal` can take more (at once when none is tied, or it has
 * room), when it closes, or when `signal` or `stop` aborts; the caller then reads on and finds out which.
 */
export function clientReady(signal: AbortSignal | undefined, stop?: AbortSignal): Promise<void> | null {
  if (signal === undefined) return null;
  const writable = writables.get(signal);
  if (writable === undefined || !writable.writableNeedDrain || writable.destroyed || signal.aborted || stop?.aborted === true) return null;
  return new Promise<void>((resolve) => {
    const done = (): void => {
      writable.off('drain', done);
      writable.off('close', done);
      signal.removeEventListener('abort', done);
      stop?.removeEventListener('abort', done);
      resolve();
    };
    writable.once('drain', done);
    writable.once('close', done);
    signal.addEventListener('abort', done, { once: true });
    stop?.addEventListener('abort', done, { once: true });
  });
}
