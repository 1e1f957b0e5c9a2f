/**
 * HTTP requests with a timeout, and JSON answers, with one vocabulary for what went wrong
 * ({@link HttpError}): no answer, no answer in time, an answer that is not 2xx, or a 2xx whose
 * body is not JSON. Its messages name the request (by default its URL) and what went wrong.
 * Used by the openEO access code (well-known document, OIDC providers, `GET /me`) and by the
 * activities that read a process namespace, a tile URL or a STAC API. Not for workflow code (it
 * does I/O), and not for result downloads, which stream bytes (activities/download.ts).
 */
import { parseRetryAfter } from './retry-after';

/** What went wrong with a request. */
export type HttpProblem = 'unreachable' | 'timeout' | 'status' | 'not-json';

/** An answer's status and headers (names in lower case). */
export interface HttpAnswer {
  status: number;
  headers: Record<string, string>;
}

/** How much of an error answer's body is read for its excerpt. */
const ERROR_BODY_LIMIT = 64 * 1024;
/** How much of it a message shows. */
const EXCERPT_LENGTH = 300;

const PHRASES: Record<HttpProblem, (request: string, reason: string) => string> = {
  unreachable: (request, reason) => `${request} did not answer (${reason})`,
  timeout: (request, reason) => `${request} did not answer (${reason})`,
  status: (request, reason) => `${request} answered ${reason}`,
  'not-json': (request, reason) => `${request} did not answer JSON (${reason})`,
};

/**
 * A request that went wrong. Shaped so that `describeFailure` (src/core/openeo/errors.ts) reads
 * it like any other failed call: `response` holds the status and headers (`Retry-After`), and
 * `code` the network code.
 */
export class HttpError extends Error {
  override name = 'HttpError';
  /** The answer, when one came that was not 2xx. */
  readonly response?: HttpAnswer;
  /** The network error's code (`ECONNREFUSED`), `ETIMEDOUT` for a timeout, `NotJson`. */
  readonly code?: string;

  constructor(
    readonly problem: HttpProblem,
    /** How messages name the request: its URL, or the caller's words. */
    readonly request: string,
    /** What went wrong in a few words: `ECONNREFUSED`, `timed out after 30 s`, `HTTP 503: busy`, a content type. */
    readonly reason: string,
    details: { response?: HttpAnswer; code?: string; cause?: unknown } = {},
  ) {
    super(PHRASES[problem](request, reason), details.cause === undefined ? undefined : { cause: details.cause });
    if (details.response) this.response = details.response;
    if (details.code) this.code = details.code;
  }

  get status(): number | undefined {
    return this.response?.status;
  }

  /** Seconds the server asked us to wait (`Retry-After`). */
  get retryAfterSeconds(): number | undefined {
    return parseRetryAfter(this.response?.headers['retry-after']);
  }

  /** Whether the same request may work later: no answer (in time), or 408, 429, 5xx. */
  get transient(): boolean {
    if (this.problem === 'unreachable' || this.problem === 'timeout') return true;
    const status = this.status;
    return status !== undefined && (status === 408 || status === 429 || status >= 500);
  }

  /** The error for a non-2xx answer: its status, headers, and a short excerpt of its body. */
  static async fromAnswer(response: Response, request: string): Promise<HttpError> {
    const excerpt = await answerExcerpt(response);
    const answer = { status: response.status, headers: Object.fromEntries(response.headers.entries()) };
    const reason = `HTTP ${response.status}${excerpt ? `: ${excerpt}` : ''}`;
    return new HttpError('status', request, reason, { response: answer });
  }
}

/** True when `err` is an answer with this status (e.g. a 404 that means "none"). */
export function isHttpStatus(err: unknown, status: number): err is HttpError {
  return err instanceof HttpError && err.status === status;
}

/**
 * What an error answer says: an openEO-style `code: message`, else the start of its text. A web
 * page (a gateway's 502) says nothing its status does not, so it is left out.
 */
async function answerExcerpt(response: Response): Promise<string | undefined> {
  if (/html/i.test(response.headers.get('content-type') ?? '')) {
    await response.body?.cancel().catch(() => undefined);
    return undefined;
  }
  const text = (await response.text().catch(() => '')).slice(0, ERROR_BODY_LIMIT);
  try {
    const body = JSON.parse(text) as { code?: unknown; message?: unknown };
    if (typeof body.message === 'string') {
      const words = typeof body.code === 'string' && body.code !== '' ? `${body.code}: ${body.message}` : body.message;
      return words.slice(0, EXCERPT_LENGTH);
    }
  } catch {
    // Not JSON: the text itself.
  }
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat === '' ? undefined : flat.slice(0, EXCERPT_LENGTH);
}

export interface HttpRequestOptions {
  method?: 'GET' | 'POST' | 'PUT';
  headers?: Record<string, string>;
  /** A body, sent as JSON. */
  json?: unknown;
  /** For the whole exchange, the body's reading included. */
  timeoutMs: number;
  /** How messages name the request; by default its URL, after the method unless it is GET. */
  label?: string;
}

function labelOf(url: string, options: HttpRequestOptions): string {
  const method = options.method ?? 'GET';
  return options.label ?? (method === 'GET' ? url : `${method} ${url}`);
}

/** What `fetch` throws: a `TimeoutError`, or a `TypeError` whose cause has the network code. */
interface FetchFailure {
  name?: unknown;
  message?: unknown;
  code?: unknown;
  cause?: { code?: unknown; message?: unknown };
}

/** A request that failed below HTTP (or a body cut off), as an {@link HttpError}. */
function noAnswer(err: unknown, label: string, timeoutMs: number): HttpError {
  if (err instanceof HttpError) return err;
  const e = err as FetchFailure | undefined;
  if (e?.name === 'TimeoutError' || e?.name === 'AbortError') {
    return new HttpError('timeout', label, `timed out after ${timeoutMs / 1000} s`, { code: 'ETIMEDOUT', cause: err });
  }
  const code = [e?.cause?.code, e?.code].find((c): c is string => typeof c === 'string');
  const message = [e?.cause?.message, e?.message].find((m): m is string => typeof m === 'string' && m !== '');
  // Without a network code (`bad port`, an invalid URL) there is no code to classify it by: an
  // openEO call calls it permanent (describeFailure), as it did the bare `fetch failed`.
  return new HttpError('unreachable', label, code ?? message ?? String(err), { ...(code ? { code } : {}), cause: err });
}

/**
 * Sends one request and returns the answer, whatever its status, with its body still to read
 * (within the same timeout); an {@link HttpError} when no answer came in time.
 */
export async function httpRequest(url: string, options: HttpRequestOptions): Promise<Response> {
  const { method = 'GET', json, timeoutMs } = options;
  const headers = { ...(json !== undefined ? { 'Content-Type': 'application/json' } : {}), ...options.headers };
  try {
    const body = json === undefined ? undefined : JSON.stringify(json);
    return await fetch(url, { method, headers, body, signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    throw noAnswer(err, labelOf(url, options), timeoutMs);
  }
}

/** The JSON body of a 2xx answer; an {@link HttpError} for anything else. */
export async function httpJson<T = unknown>(url: string, options: HttpRequestOptions): Promise<T> {
  const label = labelOf(url, options);
  const response = await httpRequest(url, { ...options, headers: { Accept: 'application/json', ...options.headers } });
  if (!response.ok) throw await HttpError.fromAnswer(response, label);
  let text: string;
  try {
    text = await response.text();
  } catch (err) {
    throw noAnswer(err, label, options.timeoutMs);
  }
  try {
    return JSON.parse(text) as T;
  } catch {
    const contentType = response.headers.get('content-type') ?? 'no content type';
    throw new HttpError('not-json', label, contentType, { code: 'NotJson' });
  }
}
