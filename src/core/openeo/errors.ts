/**
 * What went wrong in a call to openEO, and whether trying again can help. One place decides
 * this for every activity, so that a flaky backend is retried and a bad process graph is not.
 */
import { parseRetryAfter } from '../http/retry-after';

/** A failed openEO call, reduced to what is safe to keep in history (no headers, no tokens). */
export interface OpenEOFailure {
  /** HTTP status, absent for network errors. */
  status?: number;
  /** The openEO error code (`ProcessGraphInvalid`), or a network code (`ECONNRESET`). */
  code: string;
  message: string;
  /** Seconds the backend asked us to wait (a `Retry-After` header). */
  retryAfterSeconds?: number;
}

/** Codes that mean "the backend is busy or broken right now": retried with backoff. */
const TRANSIENT_CODES = new Set([
  'InfrastructureBusy',
  'ServiceUnavailable',
  'Internal',
  'ConcurrentJobLimit',
  'TooManyRequests',
]);

/** Network-level failures: the request may or may not have reached the backend. */
const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ERR_NETWORK',
  'ERR_BAD_RESPONSE',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

interface ErrorLike {
  message?: unknown;
  code?: unknown;
  cause?: unknown;
  response?: { status?: unknown; headers?: Record<string, unknown>; data?: unknown };
}

function asErrorLike(err: unknown): ErrorLike {
  return typeof err === 'object' && err !== null ? (err as ErrorLike) : { message: String(err) };
}

/**
 * Reduces an error thrown by `@openeo/js-client` (axios underneath), by `fetch`, or by our
 * own code to an {@link OpenEOFailure}. Never copies request headers or config.
 */
export function describeFailure(err: unknown): OpenEOFailure {
  const e = asErrorLike(err);
  const status = typeof e.response?.status === 'number' ? e.response.status : undefined;
  const data = e.response?.data;
  const body = typeof data === 'object' && data !== null ? (data as { code?: unknown; message?: unknown }) : {};
  const cause = asErrorLike(e.cause);
  const code =
    (typeof body.code === 'string' && body.code) ||
    (typeof e.code === 'string' && e.code) ||
    (typeof cause.code === 'string' && cause.code) ||
    (status ? `HTTP${status}` : 'Unknown');
  const message =
    (typeof body.message === 'string' && body.message) ||
    (typeof e.message === 'string' && e.message) ||
    'unknown error';
  const retryAfterSeconds = parseRetryAfter(e.response?.headers?.['retry-after']);
  return { status, code, message, ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}) };
}

/**
 * A 5xx that says the request can never work (501, or "unsupported", "not supported",
 * "not implemented"): some backends answer what they cannot do with a 500.
 */
export function isUnsupported(failure: OpenEOFailure): boolean {
  if (failure.status === 501) return true;
  if (failure.status === undefined || failure.status < 500) return false;
  return /unsupported|not supported|not implemented|NotImplemented/i.test(`${failure.code} ${failure.message}`);
}

/** True when the same call may succeed later: network trouble, 5xx, 429, busy backends. */
export function isTransient(failure: OpenEOFailure): boolean {
  if (isUnsupported(failure)) return false;
  if (TRANSIENT_CODES.has(failure.code) || NETWORK_CODES.has(failure.code)) return true;
  if (failure.status === undefined)
    return /socket|network|timeout|timed out|aborted|terminated|closed/i.test(failure.message);
  return failure.status === 429 || failure.status === 408 || failure.status >= 500;
}

/** The token was refused: reconnecting (a fresh token) may help, once. */
export function isAuthFailure(failure: OpenEOFailure): boolean {
  return failure.code === 'TokenInvalid' || failure.code === 'TokenExpired' || failure.status === 401;
}
