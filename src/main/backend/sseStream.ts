import { createParser } from 'eventsource-parser';
import { malformedError } from './upstreamErrors';
import { MAX_BODY_BYTES, type UpstreamExchange } from './upstreamHttp';

/** What the handler of one SSE `data` payload wants next. */
export type SseVerdict = 'continue' | 'stop';

/**
 * Reads Server-Sent Events from an upstream answer and hands each `data` payload to `onData`, in
 * order. Every event counts as progress for the silence timeout; comments and partial lines do
 * not, so a backend that only sends keep-alive pings still times out. `onData` returns `'stop'` at
 * a terminal frame; the rest of the body is then drained so the connection can be reused. If
 * `onData` throws, the upstream request is aborted and the error propagates. A line or event
 * longer than `maxEventChars` (16 Mi) is a `backend` error: the parser would otherwise buffer it
 * without end.
 *
 * @returns `'stopped'` when `onData` asked to stop, `'ended'` when the body ended first.
 */
export async function readSseData(
  exchange: UpstreamExchange,
  onData: (data: string) => SseVerdict,
  maxEventChars = MAX_BODY_BYTES,
): Promise<'stopped' | 'ended'> {
  const pending: string[] = [];
  let overflow = false;
  // The parser calls back synchronously inside feed(); queueing keeps our errors out of its stack.
  // Its buffer cap bounds both a partial line and a multi-line event without its blank line.
  const parser = createParser({
    maxBufferSize: maxEventChars,
    onEvent: (event) => pending.push(event.data),
    onError: (error) => {
      if (error.type === 'max-buffer-size-exceeded') overflow = true;
    },
  });
  const deliver = (): boolean => {
    for (let i = 0; i < pending.length; i++) {
      exchange.throwIfEnded();
      exchange.touch();
      let verdict: SseVerdict;
      try {
        verdict = onData(pending[i] as string);
      } catch (error) {
        exchange.abort();
        throw error;
      }
      if (verdict === 'stop') {
        exchange.release();
        return true;
      }
    }
    pending.length = 0;
    return false;
  };
  for (let chunk = await exchange.nextChunk(); chunk !== null; chunk = await exchange.nextChunk()) {
    parser.feed(chunk);
    if (deliver()) return 'stopped';
    if (overflow) {
      throw exchange.release(malformedError(`an SSE line or event longer than ${maxEventChars} characters`, exchange.url));
    }
  }
  // A last event without its blank line still counts (a browser's EventSource would drop it):
  // some model servers end with a bare `data: …\n`.
  parser.reset({ consume: true });
  if (deliver()) return 'stopped';
  exchange.release();
  return 'ended';
}
