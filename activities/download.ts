/**
 * Streams one result asset to disk and proves it arrived whole: written to `<file>.part`,
 * checked against the asset's `file:size` and `file:checksum`, then renamed into place.
 * A `.part` left by an interrupted attempt, with however few bytes, is resumed with an HTTP
 * `Range` request.
 */
import { open, rename, rm } from 'node:fs/promises';
import { leaseForRequest } from '../src/core/openeo/request-gate';
import { DownloadError, errorFromResponse } from './download-errors';
import { startReading } from './body-reader';
import { checksumHash, fileMatches, hashFile, sizeOf, type AssetExpectation } from './store/checksum';

export { DownloadError } from './download-errors';

export type { AssetExpectation } from './store/checksum';

export interface DownloadOptions extends AssetExpectation {
  headers: Record<string, string>;
  /** Abort when no byte arrives for this long. */
  idleTimeoutMs: number;
  /** Called as bytes arrive, so the activity can heartbeat its progress. */
  onProgress?: (bytes: number) => void;
}

/** True when `path` already holds the expected file (a finished earlier attempt). */
export const isAlreadyDownloaded = fileMatches;

/** The first byte a `206` answer holds, from its `Content-Range` (`bytes 100-199/200`). */
function rangeStart(response: Response): number | undefined {
  const match = /^bytes (\d+)-/.exec(response.headers.get('content-range') ?? '');
  return match ? Number(match[1]) : undefined;
}

/** Downloads `url` to `target`; returns the number of bytes in the verified file. */
export async function downloadAsset(url: string, target: string, options: DownloadOptions): Promise<number> {
  const partPath = `${target}.part`;
  const check = await checksumHash(options.checksum);
  let offset = await sizeOf(partPath);
  // A backend with quotas counts this download as one of its requests until the file is written.
  const lease = await leaseForRequest('GET', url, { transfer: true });
  const abort = new AbortController();
  let idleTimer = setTimeout(() => abort.abort(), options.idleTimeoutMs);
  const touch = () => {
    clearTimeout(idleTimer);
    idleTimer = setTimeout(() => abort.abort(), options.idleTimeoutMs);
  };
  try {
    const headers = { ...options.headers, ...(offset > 0 ? { Range: `bytes=${offset}-` } : {}) };
    let response: Response;
    try {
      response = await fetch(url, { headers, signal: abort.signal, redirect: 'follow' });
    } catch (err) {
      throw DownloadError.network(err);
    }
    if (!response.ok) {
      // The part on disk is not a prefix the server can continue: the next try starts over.
      if (response.status === 416) await rm(partPath, { force: true });
      throw await errorFromResponse(response);
    }
    // Read the body before anything else is awaited: bytes that arrive just before a cut are
    // only kept when a read is already waiting for them (a stream that fails drops its queue).
    const body = startReading(response.body, touch);
    // A 206 that names another first byte than ours cannot continue the part (one without a
    // Content-Range, against the rules, is taken to continue where we asked).
    const start = rangeStart(response);
    if (response.status === 206 && start !== undefined && start !== offset) {
      body.cancel();
      await rm(partPath, { force: true });
      throw new DownloadError('RangeMismatch', `the server resumed at another byte than ${offset}`);
    }
    // A server that ignores Range sends the whole file again: start over.
    if (response.status !== 206) offset = 0;
    if (offset > 0) await hashFile(partPath, check?.hash);
    const file = await open(partPath, offset > 0 ? 'a' : 'w');
    let written = offset;
    try {
      await body.drainTo(async (bytes) => {
        check?.hash.update(bytes);
        await file.write(bytes);
        written += bytes.length;
        options.onProgress?.(written);
      });
    } finally {
      await file.close();
    }
    if (options.size !== undefined && written !== options.size) {
      // A short file is a cut body and is resumed; a long one is garbage.
      if (written > options.size) {
        await rm(partPath, { force: true });
        throw new DownloadError('SizeMismatch', `expected ${options.size} bytes, got ${written}`);
      }
      throw new DownloadError('BodyCut', `the body ended after ${written} of ${options.size} bytes`);
    }
    if (check && check.hash.digest('hex') !== check.expected) {
      await rm(partPath, { force: true });
      throw new DownloadError('ChecksumMismatch', `the file's checksum does not match file:checksum`);
    }
    await rename(partPath, target);
    return written;
  } finally {
    clearTimeout(idleTimer);
    await lease?.release();
  }
}
