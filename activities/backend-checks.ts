/**
 * Before the first job: one authenticated request (`GET /me`) per backend, so a wrong password,
 * a refused token or an expired refresh token fails the batch at once, with the backend's code
 * and message and what to do, before any job exists.
 */
import { ApplicationFailure } from '@temporalio/common';
import { Context } from '@temporalio/activity';
import { BackendConfigError, type BackendRef, type OpenEOConnections } from '../src/core/openeo/connections';
import { envPrefix } from '../src/core/openeo/credentials';
import { isLastAttemptOfRound } from '../src/core/batch-call-rounds';
import { describeFailure, isAuthFailure, isTransient, type OpenEOFailure } from '../src/core/openeo/errors';
import { BackendLoginError } from '../src/core/openeo/oidc/errors';
import type { SpecErrorDetails } from '../src/core/batch-spec/errors';
import { InvalidSpecError } from '../src/core/batch-spec/validate';

/** Network answers that mean "no backend here" rather than "busy". */
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN']);
/** Codes backends answer for a refused login. */
const LOGIN_REFUSED_CODES = new Set([
  'CredentialsInvalid',
  'AuthenticationRequired',
  'AuthenticationSchemeInvalid',
  'TokenInvalid',
  'TokenExpired',
]);

/** What to change on the worker when the backend refuses its login. */
function loginFix(connections: OpenEOConnections, backend: BackendRef): string {
  const prefix = envPrefix(backend.name);
  switch (connections.authType(backend)) {
    case 'basic':
      return `check ${prefix}USERNAME and ${prefix}PASSWORD on the worker`;
    case 'bearer':
      return `the token in ${prefix}TOKEN is refused (expired?): set a fresh one, or use ${prefix}AUTH=oidc after \`openeo-temporal login ${backend.name}\``;
    default:
      return `run \`openeo-temporal login ${backend.name}\`, or check the worker's ${prefix}OIDC_* settings`;
  }
}

/** Connects and asks `GET /me`; a refused token gets one fresh token and one more try. */
async function whoAmI(connections: OpenEOConnections, backend: BackendRef): Promise<void> {
  for (let retry = 0; ; retry++) {
    try {
      await (await connections.get(backend)).describeAccount();
      return;
    } catch (err) {
      if (
        retry === 0 &&
        !(err instanceof BackendLoginError) &&
        !(err instanceof BackendConfigError) &&
        isAuthFailure(describeFailure(err))
      ) {
        await connections.forget(backend);
        continue;
      }
      throw err;
    }
  }
}

function refusedLogin(failure: OpenEOFailure): boolean {
  return LOGIN_REFUSED_CODES.has(failure.code) || failure.status === 401 || failure.status === 403;
}

/**
 * Why this process cannot use the backend, or undefined when it can: reached, and the login
 * accepted. Needs no Temporal context, so `plan` asks it from the client too.
 */
export interface BackendAccessFailure {
  type: 'InvalidBatchSpec' | 'BackendLoginFailed' | 'BackendUnreachable';
  /** The spec field it concerns: `backends[0]` or `backends[0].url`. */
  field: string;
  /** What is wrong and what to do, without the field. */
  problem: string;
  /** The whole story in one line, as a failed batch reports it. */
  message: string;
  /** For a backend this process has no credentials for: the spec problem, with its field. */
  issues?: SpecErrorDetails[];
  /** Trying again may help: the backend is busy, or its host did not answer. */
  transient: boolean;
  /** The host refused the connection or does not exist: worth a few tries, not more. */
  unreachable: boolean;
}

function definite(
  type: BackendAccessFailure['type'],
  field: string,
  problem: string,
  message = `${field}: ${problem}`,
  issues?: SpecErrorDetails[],
): BackendAccessFailure {
  return { type, field, problem, message, transient: false, unreachable: false, ...(issues ? { issues } : {}) };
}

/** Connects and logs in to the backend (`GET /me`); classifies what went wrong, if anything. */
export async function backendAccessFailure(
  connections: OpenEOConnections,
  backend: BackendRef,
  i: number,
): Promise<BackendAccessFailure | undefined> {
  try {
    await whoAmI(connections, backend);
    return undefined;
  } catch (err) {
    if (err instanceof BackendConfigError) {
      const invalid = new InvalidSpecError([
        { field: `backends[${i}]`, problem: err.message, fix: 'configure the worker for this backend', code: err.code },
      ]);
      return definite('InvalidBatchSpec', `backends[${i}]`, err.message, invalid.message, invalid.issues);
    }
    const loginFailed = (reason: string) =>
      definite('BackendLoginFailed', `backends[${i}]`, `cannot log in to backend "${backend.name}": ${reason}`);
    if (err instanceof BackendLoginError) return loginFailed(err.message);
    const failure = describeFailure(err);
    if (refusedLogin(failure))
      return loginFailed(`${failure.code}: ${failure.message}; ${loginFix(connections, backend)}`);
    const problem = `cannot connect to backend "${backend.name}" at ${backend.url}: ${failure.code}: ${failure.message}; check the URL and that the backend is up`;
    return {
      type: 'BackendUnreachable',
      field: `backends[${i}].url`,
      problem,
      message: `backends[${i}].url: ${problem}`,
      transient: isTransient(failure),
      unreachable: UNREACHABLE_CODES.has(failure.code),
    };
  }
}

/**
 * Checks that this worker can reach and log in to the backend. Fails without retry on anything
 * the user must fix; a busy backend gets the activity's retries.
 */
export async function checkBackendLogin(connections: OpenEOConnections, backend: BackendRef, i: number): Promise<void> {
  const failure = await backendAccessFailure(connections, backend, i);
  if (!failure) return;
  // A busy backend (5xx, 429, a reset) is worth the full retry policy; a host that refuses
  // or does not exist fails the batch at the last attempt of the spec check's first round.
  const giveUp = !failure.transient || (failure.unreachable && isLastAttemptOfRound(Context.current().info.attempt));
  throw ApplicationFailure.create({
    message: failure.message,
    type: failure.type,
    nonRetryable: giveUp,
    ...(failure.issues ? { details: [{ issues: failure.issues }] } : {}),
  });
}
