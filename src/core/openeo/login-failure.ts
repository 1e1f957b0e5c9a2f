/**
 * The message a worker sends a batch when it can no longer log in to a backend (its refresh token
 * was revoked or expired): the batch pauses that backend with the reason, until the user logs in
 * again and resumes it. Shared by the activity that sends it and the workflow that takes it.
 */

/** Signal name; the workflow side defines it with `defineSignal` under this name. */
export const BACKEND_LOGIN_FAILED_SIGNAL = 'backendLoginFailed';

export interface BackendLoginFailure {
  backend: string;
  /** What the provider said and what to do, never a token. */
  reason: string;
}

/** The pause reason shown in `status` and the Temporal UI. */
export function loginPauseReason(failure: BackendLoginFailure): string {
  return `the worker cannot log in to this backend: ${failure.reason}; then resume it with \`openeo-temporal resume <batch> --backend ${failure.backend}\``;
}
