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

/** OAuth error codes that mean "the grant or the client is refused", not "try later". */
const REFUSALS = new Set(['invalid_grant', 'invalid_client', 'unauthorized_client', 'invalid_scope', 'unsupported_grant_type', 'access_denied', 'invalid_request']);

interface OAuthErrorLike {
  error?: unknown;
  error_description?: unknown;
  status?: unknown;
  message?: unknown;
}

/** The provider's own words for a refused request, e.g. `invalid_grant (grant request is invalid)`. */
export function oauthReason(err: unknown): string {
  const e = (typeof err === 'object' && err !== null ? err : {}) as OAuthErrorLike;
  if (typeof e.error === 'string') return typeof e.error_description === 'string' ? `${e.error} (${e.error_description})` : e.error;
  return typeof e.message === 'string' ? e.message : String(err);
}

/** True when the provider refused the grant or the client: only a new login helps. */
export function isRefusal(err: unknown): boolean {
  const e = (typeof err === 'object' && err !== null ? err : {}) as OAuthErrorLike;
  return typeof e.error === 'string' && REFUSALS.has(e.error);
}
