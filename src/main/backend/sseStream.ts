import { createParser, type EventSourceParser } from 'eventsource-parser';
import type { UpstreamExchange } from './upstreamHttp';

/**
 * What the handler of one SSE `data` payload wants next: `continue`, `stop` at a terminal frame,
 * or `idle` for an event that was no progress (a heartbeat, a frame of an unknown type), which
 * does not restart the silence timer.
 */
export type SseVerdict = 'continue' | 'stop' | 'idle';

/** One upstream SSE event: its `data` (lines joined with `\n`) and its `event:` name, if any. */
export interface SseEvent {
  data: string;
  event: string | undefined;
}

/**
 * Splits decoded upstream text into SSE events, whatever framing the server uses: LF, CRLF or
 * CR line ends, `event:`/`id:`/`retry:` lines, `:` comments, multi-line `data:`, a last event
 * whose blank line never came before the body ended, and bare JSON lines (NDJSON). Pure (no I/O), so the frame readers can be
 * tested on any chunking. A UTF-8 BOM is dropped by the exchange's `TextDecoder`; one that
 * arrives already decoded (U+FEFF) is dropped here.
 */
export class SseEventSplitter {
  private readonly pending: SseEvent[] = [];
  private readonly parser: EventSourceParser;
  private first = true;

  constructor() {
    this.parser = createParser({
      onEvent: (event) => this.pending.push({ data: event.data, event: event.event }),
      // A bare JSON line is no SSE field; servers that stream JSON lines (NDJSON, as Reynard's own
      // docs read its streams) mean it as one event.
      onError: (error) => {
        if (error.type === 'unknown-field' && error.line?.trimStart().startsWith('{') === true) this.pending.push({ data: error.line, event: undefined });
      },
    });
  }

  /** Feeds the next piece of the body; returns the events it completed, in order. */
  feed(text: string): SseEvent[] {
    let chunk = text;
    if (this.first && chunk.length > 0) {
      this.first = false;
      if (chunk.charCodeAt(0) === 0xfeff) chunk = chunk.slice(1);
    }
    this.parser.feed(chunk);
    return this.pending.splice(0);
  }

  /** The body ended: a last event without its blank line still counts (some model servers end with a bare `data: …`). */
  end(): SseEvent[] {
    // Two line ends finish a half line and dispatch the event in progress; eventsource-parser's
    // own reset({consume: true}) would parse the half line but then drop the event.
    this.parser.feed('\n\n');
    this.parser.reset();
    return this.pending.splice(0);
  }
}

/**
 * Reads Server-Sent Events from an upstream answer and hands each `data` payload to `onData`, in
 * order, with the event's `event:` name. Every event counts as progress for the silence timeout
 * unless `onData` calls it `'idle'`; comments and partial lines never do, so a backend that only
 * sends keep-alive pings still times out. `onData` returns `'stop'` at a terminal frame; the rest
 * of the body is then drained so the connection can be reused. If `onData` throws, the upstream
 * request is aborted and the error propagates.
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
  }
  if (deliver(splitter.end())) return 'stopped';
  exchange.release();
  return 'ended';
}
