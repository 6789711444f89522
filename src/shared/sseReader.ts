import { createParser } from 'eventsource-parser';

/**
 * Reads a Server-Sent Events body and calls `onData` with each event's `data` (comments and
 * heartbeats are skipped). Resolves when the body ends. Works on fetch bodies in Node and browsers.
 */
export async function readSseData(body: ReadableStream<Uint8Array>, onData: (data: string) => void): Promise<void> {
  const parser = createParser({ onEvent: (event) => onData(event.data) });
  const reader = body.getReader();
  const decoder = new TextDecoder();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      parser.feed(decoder.decode(value, { stream: true }));
    }
    parser.feed(decoder.decode());
  } finally {
    reader.releaseLock();
  }
}
