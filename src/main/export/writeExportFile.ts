import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/**
 * Writes chunks to `path` through a temporary file beside it, renamed at the end, so a failed or
 * cancelled export never leaves half a file under the chosen name. Returns the bytes written.
 */
export async function writeExportFile(path: string, chunks: AsyncIterable<string>, signal?: AbortSignal): Promise<number> {
  const temporary = `${path}.partial`;
  const out = createWriteStream(temporary);
  try {
    await pipeline(Readable.from(chunks), out, signal ? { signal } : {});
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
  return out.bytesWritten;
}
