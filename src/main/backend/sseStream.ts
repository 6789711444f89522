import { SseEventSplitter, type SseEvent } from '../../shared/sseReader';
import { malformedError } from './upstreamErrors';
import type { UpstreamExchange } from './upstreamHttp';

export { SseEventSplitter, type SseEvent };

/**
 * What the handler of one SSE `data` payload wants next: `continue`, `stop` at a terminal frame,
 * or `idle` for an event that was no progress (a heartbeat, a frame of an unknown type), which
 * does not restart the silence timer.
 */
export type SseVerdict = 'continue' | 'stop' | 'idle';

/**
 * Reads Server-Sent Events from an upstream answer and hands each `data` payload to `onData`, in
 * order, with the event's `event:` name. Every event counts as progress for the silence timeout
 * unless `onData` calls it `'idle'`; comments and partial lines never do, so a backend that only
 * sends keep-alive pings still times out. `onData` returns `'stop'` at a terminal frame; the rest
 * of the body is then drained so the connection can be reused. If `onData` throws, the upstream
 * request is aborted and the error propagates. A line or event longer than 16 Mi characters is a
 * `backend` error and the connection is dropped.
 *
 * @returns `'stopped'` when `onData` asked to stop, `'ended'` when the body ended first.
 */
export async function readSseData(exchange: UpstreamExchange, onData: (data: string, event: string | undefined) => SseVerdict): Promise<'stopped' | 'ended'> {
  const splitter = new SseEventSplitter();
  const deliver = (events: SseEvent[]): boolean => {
    for (const event of events) {
      exchange.throwIfEnded();
      let verdict: SseVerdict;
      try {
        verdict = onData(event.data, event.event);
      } catch (error) {
        exchange.abort();
        throw error;
      }
      if (verdict !== 'idle') exchange.touch();
      if (verdict === 'stop') {
        exchange.release();
        return true;
      }
    }
    return false;
  };
  for (let chunk = await exchange.nextChunk(); chunk !== null; chunk = await exchange.nextChunk()) {
    if (deliver(splitter.feed(chunk))) return 'stopped';
    if (splitter.overflow) {
      throw exchange.release(malformedError(`an SSE line or event longer than ${splitter.maxEventChars} characters`, exchange.url));
    }
  }
  if (deliver(splitter.end())) return 'stopped';
  exchange.release();
  return 'ended';
}
