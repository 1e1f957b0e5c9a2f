/**
 * Why an OIDC login did not work, reduced to what is safe to show: the provider's error code and
 * description, never a token or a secret.
 */

/**
 * Logging in needs the user: the refresh token is missing, expired or revoked, or the client is
 * refused. Retrying cannot help until someone logs in again (`openeo-temporal login`).
 */
export class BackendLoginError extends Error {
  readonly code = 'BackendLoginFailed';
  constructor(message: string) {
    super(message);
    this.name = 'BackendLoginError';
  }
}

/** The OpenID provider is down or busy: the same request may work later. */
export class OidcProviderUnavailableError extends Error {
  readonly code = 'OidcProviderUnavailable';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'OidcProviderUnavailableError';
  }
}

/**
 * OAuth error codes that mean "the grant or the client is refused", not "try later";
 * `not_allowed` is Keycloak's for a user or client that may not have offline (refresh) tokens.
 */
const REFUSALS = new Set([
  'invalid_grant',
  'invalid_client',
  'unauthorized_client',
  'invalid_scope',
  'unsupported_grant_type',
  'access_denied',
  'invalid_request',
  'not_allowed',
]);

interface OAuthErrorLike {
  error?: unknown;
  error_description?: unknown;
  status?: unknown;
  message?: unknown;
}

/** The provider's own words for a refused request, e.g. `invalid_grant (grant request is invalid)`. */
export function oauthReason(err: unknown): string {
  const e = (typeof err === 'object' && err !== null ? err : {}) as OAuthErrorLike;
  if (typeof e.error === 'string')
    return typeof e.error_description === 'string' ? `${e.error} (${e.error_description})` : e.error;
  return typeof e.message === 'string' ? e.message : String(err);
}

/** True when the provider refused the grant or the client: only a new login helps. */
export function isRefusal(err: unknown): boolean {
  const e = (typeof err === 'object' && err !== null ? err : {}) as OAuthErrorLike;
  return typeof e.error === 'string' && REFUSALS.has(e.error);
}

/** What a user can do when the provider refuses a device login, by its error code. */
const DEVICE_LOGIN_HINTS: Record<string, string> = {
  access_denied: "the sign-in was declined on the provider's page: run `openeo-temporal login` again and approve it",
  // Keycloak's answer when the user or client may not have offline (refresh) tokens.
  not_allowed:
    'the provider gives this user or client no refresh token (scope offline_access), which workers need to renew the login: ask its administrators to allow offline access, or use a service account (OIDC client id and secret)',
  expired_token: 'the code expired before it was approved: run `openeo-temporal login` again and approve it in time',
  invalid_client: 'the provider does not know the client: give the right one with --client-id',
  unauthorized_client: 'the client may not use the device flow: give another with --client-id',
  invalid_scope:
    "the provider refused the scopes the backend lists: check the backend's /credentials/oidc, or ask its administrators",
};

/** The provider's reason for refusing a device login, and what to do, on two lines. */
export function deviceLoginRefusal(issuer: string, err: unknown): string {
  const code = (err as OAuthErrorLike).error;
  const hint =
    (typeof code === 'string' && DEVICE_LOGIN_HINTS[code]) ||
    'run `openeo-temporal login` again; if it keeps failing, the provider says why above';
  return `the OpenID provider ${issuer} refused the login: ${oauthReason(err)}\n  hint: ${hint}`;
}

/** True for an OAuth error answer (an `error` code from the provider), whatever the code. */
export function isOAuthError(err: unknown): boolean {
  return typeof err === 'object' && err !== null && typeof (err as OAuthErrorLike).error === 'string';
}
