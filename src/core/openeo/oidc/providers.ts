/**
 * The OpenID providers an openEO backend accepts, from `GET /credentials/oidc` (openEO API 1.2):
 * each has an `id` (the middle part of `oidc/<id>/<token>` bearer tokens), an `issuer`, the
 * `scopes` to ask for, and `default_clients` usable without registering one.
 */
import { httpJson, isHttpStatus } from '../../http/request';

/**
 * A client the backend registered at the provider for every user (openEO's `default_clients`).
 *
 * @inline
 */
export interface OidcDefaultClient {
  /** The client id. */
  id: string;
  /** The OAuth grant types the client may use, as openEO names them. */
  grant_types: string[];
  /** Where the provider may send the user back after a login in the browser. */
  redirect_urls?: string[];
}

/**
 * An OpenID Connect provider a backend lists for logging in (openEO's `GET /credentials/oidc`).
 *
 * @inline
 */
export interface OidcProvider {
  /** The backend's id for the provider: the middle part of `oidc/<id>/<token>` bearer tokens. */
  id: string;
  /** The provider's issuer URL. */
  issuer: string;
  /** A name to show users. */
  title?: string;
  /** The scopes to ask the provider for. */
  scopes?: string[];
  /** Clients that anyone can log in with, without registering their own. */
  default_clients?: OidcDefaultClient[];
}

/** Grant types (as openEO names them) that the device-code login needs. */
export const DEVICE_GRANTS = [
  'urn:ietf:params:oauth:grant-type:device_code+pkce',
  'urn:ietf:params:oauth:grant-type:device_code',
];

/** The providers a backend lists; `apiUrl` is its versioned API URL. */
export async function listOidcProviders(apiUrl: string, timeoutMs = 30_000): Promise<OidcProvider[]> {
  const url = `${apiUrl.replace(/\/+$/, '')}/credentials/oidc`;
  let body: { providers?: OidcProvider[] };
  try {
    body = await httpJson(url, { timeoutMs });
  } catch (err) {
    // A backend without OIDC login may not have the endpoint at all.
    if (isHttpStatus(err, 404)) return [];
    throw err;
  }
  return (body.providers ?? []).filter((p) => typeof p.id === 'string' && typeof p.issuer === 'string');
}

/** The provider to use: the one named, else the backend's first (as the Python client does). */
export function pickProvider(providers: OidcProvider[], backendName: string, wanted?: string): OidcProvider {
  if (providers.length === 0)
    throw new Error(
      `backend "${backendName}" lists no OpenID Connect provider at /credentials/oidc: it does not offer OIDC login`,
    );
  if (wanted === undefined) return providers[0];
  const provider = providers.find((p) => p.id === wanted);
  if (!provider)
    throw new Error(
      `backend "${backendName}" has no OIDC provider "${wanted}"; it lists ${providers.map((p) => p.id).join(', ')}`,
    );
  return provider;
}

/** A default client of the provider that supports all of `grants` (any of the device grants). */
export function defaultClientFor(
  provider: OidcProvider,
  grant: 'device' | 'refresh_token',
): OidcDefaultClient | undefined {
  return (provider.default_clients ?? []).find((c) =>
    grant === 'device'
      ? c.grant_types.some((g) => DEVICE_GRANTS.includes(g)) && c.grant_types.includes('refresh_token')
      : c.grant_types.includes('refresh_token'),
  );
}

/** The scopes to ask for: the provider's, with `offline_access` (a refresh token) for user logins. */
export function scopesFor(provider: OidcProvider, withRefreshToken: boolean): string[] {
  const scopes = new Set(provider.scopes ?? ['openid']);
  if (withRefreshToken) scopes.add('offline_access');
  return [...scopes];
}
