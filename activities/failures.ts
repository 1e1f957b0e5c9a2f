/**
 * The single way activities call openEO: get the connection, make the call, and turn any
 * failure into an `ApplicationFailure` that says whether Temporal should retry it.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { Connection } from '@openeo/js-client';
import { BackendConfigError, type BackendRef, type OpenEOConnections } from '../src/core/openeo/connections';
import { describeFailure, isAuthFailure, isTransient, type OpenEOFailure } from '../src/core/openeo/errors';
import { BackendLoginError } from '../src/core/openeo/oidc/errors';
import { loginReporterOf } from './login-failures';

/** What an activity failed with, and whether a later attempt may get past it. */
export interface ClassifiedFailure {
  message: string;
  /** The failure's `type`: an openEO error code, or our own (`AssetNotFound`). */
  type: string;
  details: unknown[];
  retryable: boolean;
  /** Seconds the server asked us to wait (`Retry-After`), for a retryable failure. */
  retryAfterSeconds?: number;
}

/**
 * The `ApplicationFailure` an activity ends with: non-retryable when retrying cannot help, else
 * retried by Temporal, after the server's `Retry-After` (at least 1 s) instead of our own backoff
 * when it gave one.
 */
export function classifiedFailure(failure: ClassifiedFailure): ApplicationFailure {
  const { message, type, details, retryAfterSeconds } = failure;
  if (!failure.retryable) return ApplicationFailure.nonRetryable(message, type, ...details);
  return ApplicationFailure.create({
    message,
    type,
    details,
    ...(retryAfterSeconds !== undefined ? { nextRetryDelay: Math.max(1, retryAfterSeconds) * 1000 } : {}),
  });
}

/**
 * The failure's `type` is the openEO error code, so workflows (and users reading history)
 * see `ProcessParameterRequired`, not a stack trace. Details carry the HTTP status.
 */
export function toActivityFailure(backend: BackendRef, what: string, failure: OpenEOFailure): ApplicationFailure {
  return classifiedFailure({
    message: `could not ${what} on backend "${backend.name}": ${failure.code}: ${failure.message}`,
    type: failure.code,
    details: [{ status: failure.status ?? null, code: failure.code }],
    retryable: isTransient(failure),
    retryAfterSeconds: failure.retryAfterSeconds,
  });
}

/**
 * Runs `call` with the backend's connection. A refused token gets one fresh token (or a fresh
 * login) and one more try within the same activity attempt; a login that needs the user (a
 * revoked refresh token) pauses the backend, see `LoginFailureReporter`; everything else is
 * classified and rethrown.
 */
export async function callOpenEO<T>(
  connections: OpenEOConnections,
  backend: BackendRef,
  what: string,
  call: (connection: Connection) => Promise<T>,
): Promise<T> {
  const reporter = loginReporterOf(connections);
  for (let authRetry = 0; ; authRetry++) {
    try {
      const result = await call(await connections.get(backend));
      reporter.loginWorks(backend);
      return result;
    } catch (err) {
      if (err instanceof ApplicationFailure) throw err;
      if (err instanceof BackendConfigError) throw ApplicationFailure.nonRetryable(err.message, err.code);
      if (err instanceof BackendLoginError) throw await reporter.failed(backend, err);
      const failure = describeFailure(err);
      if (isAuthFailure(failure) && authRetry === 0) {
        await connections.forget(backend);
        continue;
      }
      throw toActivityFailure(backend, what, failure);
    }
  }
}
