import { createParser } from 'eventsource-parser';

/** Splits Server-Sent Events text into its events' `data` payloads (comments and heartbeats skipped). */
export interface SseDataSplitter {
  /** Feeds the next piece of text; returns the payloads it completed, in order. */
  feed(text: string): string[];
  /**
   * Ends the stream; returns a last event that lacked its blank line (a browser's EventSource
   * would drop it, but some model servers end with a bare `data: …\n`).
   */
  end(): string[];
}

/** One parser setup for every SSE reader: the dashboard's, the playground's and the backend clients'. */
export function sseDataSplitter(): SseDataSplitter {
  let pending: string[] = [];
  // The parser calls back synchronously inside feed(); returning the payloads keeps the callers' errors out of its stack.
  const parser = createParser({ onEvent: (event) => pending.push(event.data) });
  const take = (): string[] => {
    const done = pending;
    pending = [];
    return done;
  };
  return {
    feed: (text) => {
      parser.feed(text);
      return take();
    },
    end: () => {
      parser.reset({ consume: true });
      return take();
    },
  };
}

/**
 * Reads a Server-Sent Events body and calls `onData` with each event's `data`. Resolves when the
 * body ends. Works on fetch bodies in Node and browsers.
 */
export async function readSseBody(body: ReadableStream<Uint8Array>, onData: (data: string) => void): Promise<void> {
  const splitter = sseDataSplitter();
  const reader = body.getReader();
  const decoder = new TextDecoder();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      for (const data of splitter.feed(decoder.decode(value, { stream: true }))) onData(data);
    }
    for (const data of [...splitter.feed(decoder.decode()), ...splitter.end()]) onData(data);
  } finally {
    reader.releaseLock();
  }
}
