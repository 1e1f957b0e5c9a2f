/**
 * Reads a response body eagerly, so no byte that reached us is lost when the connection is cut.
 *
 * A web `ReadableStream` that errors throws away the chunks queued in it. A download that waits
 * for anything (opening the `.part` file, hashing what is already on disk, a slow write) while
 * its body sits in that queue loses those bytes on a cut, and a connection that is cut soon
 * after every start never makes progress. Here a read is always pending, so each chunk is handed
 * over as it arrives and kept in our own queue until it is written.
 */
import { DownloadError } from './download-errors';

/** Bytes read ahead of the writer at most; beyond this, reading waits for the disk. */
const MAX_BUFFERED_BYTES = 32 * 1024 * 1024;

export interface BodyReader {
  /**
   * Hands every chunk to `write`, in order, until the body ends. When the connection failed,
   * every chunk that arrived is written first, then a {@link DownloadError} is thrown.
   */
  drainTo(write: (bytes: Uint8Array) => Promise<void>): Promise<void>;
  /** Stops reading (the body is not wanted). */
  cancel(): void;
}

export function startReading(body: ReadableStream<Uint8Array> | null, onChunk: () => void): BodyReader {
  const reader = body?.getReader();
  const queue: Uint8Array[] = [];
  let buffered = 0;
  let ended = !reader;
  let failure: unknown;
  let wakeWriter: (() => void) | undefined;
  let wakeReader: (() => void) | undefined;
  const wake = (which: 'writer' | 'reader') => {
    const resume = which === 'writer' ? wakeWriter : wakeReader;
    if (which === 'writer') wakeWriter = undefined;
    else wakeReader = undefined;
    resume?.();
  };

  const pump = async (source: ReadableStreamDefaultReader<Uint8Array>) => {
    try {
      for (;;) {
        if (buffered > MAX_BUFFERED_BYTES) await new Promise<void>((resume) => (wakeReader = resume));
        const { done, value } = await source.read();
        if (done) break;
        onChunk();
        queue.push(value);
        buffered += value.length;
        wake('writer');
      }
    } catch (err) {
      failure = err ?? new Error('the response body failed');
    }
    ended = true;
    wake('writer');
  };
  if (reader) void pump(reader);

  return {
    async drainTo(write) {
      for (;;) {
        const chunk = queue.shift();
        if (chunk) {
          buffered -= chunk.length;
          wake('reader');
          await write(chunk);
          continue;
        }
        if (ended) {
          if (failure !== undefined) throw DownloadError.network(failure);
          return;
        }
        await new Promise<void>((resume) => (wakeWriter = resume));
      }
    },
    cancel() {
      reader?.cancel().catch(() => undefined);
    },
  };
}
