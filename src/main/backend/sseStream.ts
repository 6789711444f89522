import { sseDataSplitter } from '../../shared/sseReader';
import type { UpstreamExchange } from './upstreamHttp';

/** What the handler of one SSE `data` payload wants next. */
export type SseVerdict = 'continue' | 'stop';

/**
 * Reads Server-Sent Events from an upstream answer and hands each `data` payload to `onData`, in
 * order. Every event counts as progress for the silence timeout; comments and partial lines do
 * not, so a backend that only sends keep-alive pings still times out. `onData` returns `'stop'` at
 * a terminal frame; the rest of the body is then drained so the connection can be reused. If
 * `onData` throws, the upstream request is aborted and the error propagates.
 *
 * @returns `'stopped'` when `onData` asked to stop, `'ended'` when the body ended first.
 */
export async function readSseData(exchange: UpstreamExchange, onData: (data: string) => SseVerdict): Promise<'stopped' | 'ended'> {
  const splitter = sseDataSplitter();
  const deliver = (payloads: readonly string[]): boolean => {
    for (const data of payloads) {
      exchange.throwIfEnded();
      exchange.touch();
      let verdict: SseVerdict;
      try {
        verdict = onData(data);
      } catch (error) {
        exchange.abort();
        throw error;
      }
      if (verdict === 'stop') {
        exchange.release();
        return true;
      }
    }
    return false;
  };
  for (let chunk = await exchange.nextChunk(); chunk !== null; chunk = await exchange.nextChunk()) {
    if (deliver(splitter.feed(chunk))) return 'stopped';
  }
  // A last event without its blank line still counts.
  if (deliver(splitter.end())) return 'stopped';
  exchange.release();
  return 'ended';
}
