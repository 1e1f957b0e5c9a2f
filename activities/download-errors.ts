/**
 * What went wrong in a result download, and what to do about it. Downloads are classified like
 * openEO calls (`isTransient`): trouble that may pass is retried, and everything else fails the
 * tile at once with a reason a user can act on, instead of 30 retries over most of an hour.
 */
import { parseRetryAfter } from '../src/core/http/retry-after';
import { isTransient, type OpenEOFailure } from '../src/core/openeo/errors';

/** An HTTP status, a network failure or an integrity problem met while downloading. */
export class DownloadError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status?: number,
    /** Seconds the server asked us to wait (`Retry-After`). */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'DownloadError';
  }

  /** A failure below HTTP: a reset, a timeout, a cut body. */
  static network(err: unknown): DownloadError {
    if (err instanceof DownloadError) return err;
    const e = err as
      { name?: unknown; message?: unknown; code?: unknown; cause?: { code?: unknown; message?: unknown } } | undefined;
    if (e?.name === 'AbortError') return new DownloadError('IdleTimeout', 'no data arrived in time (timeout)');
    const code = [e?.cause?.code, e?.code].find((c): c is string => typeof c === 'string') ?? 'NetworkError';
    const reason =
      [e?.cause?.message, e?.message].find((m): m is string => typeof m === 'string' && m !== '') ?? String(err);
    return new DownloadError(code, `the connection failed (${reason})`);
  }
}

/** How much of an error body we read for its openEO `code` and `message`. */
const ERROR_BODY_LIMIT = 64 * 1024;

async function errorBody(response: Response): Promise<{ code?: string; message?: string }> {
  try {
    const text = (await response.text()).slice(0, ERROR_BODY_LIMIT);
    const body = JSON.parse(text) as { code?: unknown; message?: unknown };
    return {
      code: typeof body.code === 'string' ? body.code : undefined,
      message: typeof body.message === 'string' ? body.message.slice(0, 300) : undefined,
    };
  } catch {
    // HTML from a gateway, or no body: the status says it all.
    return {};
  }
}

/** The error for a non-2xx answer, with the backend's openEO error code when it sent one. */
export async function errorFromResponse(response: Response): Promise<DownloadError> {
  const body = await errorBody(response);
  const code = body.code ?? `HTTP${response.status}`;
  const message = `answered HTTP ${response.status}${body.code ? ` ${body.code}` : ''}${body.message ? `: ${body.message}` : ''}`;
  return new DownloadError(code, message, response.status, parseRetryAfter(response.headers.get('retry-after')));
}

/**
 * - `retry`: may pass (network, 5xx busy, 429, 408, a cut body): the activity is retried;
 * - `renew-link`: 401/403/410, a signed link that may have expired: fetch the results document
 *   again for a fresh link (and a fresh token), once;
 * - `download-again`: the bytes arrived but are wrong (checksum, size): download in full again,
 *   a few times;
 * - `permanent`: retrying cannot help (404, an unsupported asset, other 4xx).
 */
export type DownloadVerdict = 'retry' | 'renew-link' | 'download-again' | 'permanent';

const INTEGRITY_CODES = new Set(['ChecksumMismatch', 'SizeMismatch']);
/** Our own codes for trouble that a new try (resuming the part, or from scratch) gets past. */
const RETRY_CODES = new Set(['BodyCut', 'RangeMismatch', 'IdleTimeout', 'NetworkError']);

/** The verdict, and the code the tile's error shows when it is final. */
export function classifyDownload(err: unknown): { verdict: DownloadVerdict; code: string } {
  // Not a download problem (e.g. the disk): as before, worth another attempt.
  if (!(err instanceof DownloadError)) return { verdict: 'retry', code: 'DownloadFailed' };
  if (INTEGRITY_CODES.has(err.code)) return { verdict: 'download-again', code: err.code };
  const { status } = err;
  if (RETRY_CODES.has(err.code) || status === 416) return { verdict: 'retry', code: err.code };
  if (status === 401 || status === 403) return { verdict: 'renew-link', code: 'AssetForbidden' };
  if (status === 410) return { verdict: 'renew-link', code: 'AssetExpired' };
  if (status === 404) return { verdict: 'permanent', code: 'AssetNotFound' };
  const failure: OpenEOFailure = { status, code: err.code, message: err.message };
  if (isTransient(failure)) return { verdict: 'retry', code: err.code };
  if (status !== undefined && status >= 500) return { verdict: 'permanent', code: 'AssetUnsupported' };
  return { verdict: 'permanent', code: status !== undefined ? 'AssetDownloadFailed' : err.code };
}
