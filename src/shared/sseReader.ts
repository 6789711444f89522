import { createParser, type EventSourceParser } from 'eventsource-parser';

/** The longest line or unfinished event a splitter holds by default (16 Mi characters). */
export const MAX_SSE_EVENT_CHARS = 16 * 1024 * 1024;

/** One SSE event: its `data` (lines joined with `\n`) and its `event:` name, if any. */
export interface SseEvent {
  data: string;
  event: string | undefined;
}

/**
 * Splits decoded text into SSE events, whatever framing the server uses: LF, CRLF or CR line
 * ends, `event:`/`id:`/`retry:` lines, `:` comments, multi-line `data:`, a last event whose blank
 * line never came before the body ended, and bare JSON lines (NDJSON). Pure (no I/O), so every
 * reader splits with it (the backend clients' frame readers, the dashboard's live updates, the
 * playground) and it can be tested on any chunking. A UTF-8 BOM is dropped by the decoder; one
 * that arrives already decoded (U+FEFF) is dropped here.
 */
export class SseEventSplitter {
  private readonly pending: SseEvent[] = [];
  private readonly parser: EventSourceParser;
  private first = true;
  private overflowed = false;

  /**
   * @param maxEventChars the longest line or unfinished event held: past it the parser stops and
   * `overflow` is true, so a line that never ends cannot grow without bound.
   */
  constructor(readonly maxEventChars = MAX_SSE_EVENT_CHARS) {
    this.parser = createParser({
      maxBufferSize: maxEventChars,
      onEvent: (event) => this.pending.push({ data: event.data, event: event.event }),
      // A bare JSON line is no SSE field; servers that stream JSON lines (NDJSON, as Reynard's own
      // docs read its streams) mean it as one event.
      onError: (error) => {
        if (error.type === 'max-buffer-size-exceeded') this.overflowed = true;
        if (error.type === 'unknown-field' && error.line?.trimStart().startsWith('{') === true) this.pending.push({ data: error.line, event: undefined });
      },
    });
  }

  /** True once a line or event passed `maxEventChars`; feed no more. */
  get overflow(): boolean {
    return this.overflowed;
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
 * Reads a Server-Sent Events body and calls `onData` with each event's `data`. Resolves when the
 * body ends. Works on fetch bodies in Node and browsers.
 */
export async function readSseBody(body: ReadableStream<Uint8Array>, onData: (data: string) => void): Promise<void> {
  const splitter = new SseEventSplitter();
  const reader = body.getReader();
  const decoder = new TextDecoder();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      for (const event of splitter.feed(decoder.decode(value, { stream: true }))) onData(event.data);
    }
    for (const event of [...splitter.feed(decoder.decode()), ...splitter.end()]) onData(event.data);
  } finally {
    reader.releaseLock();
  }
}
