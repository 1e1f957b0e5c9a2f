/**
 * Backend credentials live on the worker, never in a batch spec or in Temporal history.
 * Each set is bound to the backend URL it belongs to, so a spec cannot redirect a worker's
 * credentials to another host by reusing a backend name with a different URL.
 */

/** How the worker authenticates to one backend. */
export type BackendAuth =
  | {
      /** HTTP basic login. */
      type: 'basic';
      /** The backend account's user name. */
      username: string;
      /** Its password. */
      password: string;
    }
  /** A ready bearer token as openEO writes it: `oidc/<provider>/<access token>` or `basic//<token>`. */
  | {
      /** A fixed bearer token. */
      type: 'bearer';
      /** The token, as openEO writes it. */
      token: string;
    }
  /**
   * OpenID Connect, with tokens refreshed for as long as the batch runs. With `clientSecret`, a
   * service account (client-credentials grant); without, the refresh token stored by
   * `openeo-temporal login` (or the openEO Python client's).
   */
  | {
      /** OpenID Connect login. */
      type: 'oidc';
      /** The provider `id` the backend lists at `/credentials/oidc`. @default the backend's first */
      providerId?: string;
      /** @default the provider's default client that supports refresh tokens */
      clientId?: string;
      /** A service account's client secret; with it, the worker logs in with the client-credentials grant. */
      clientSecret?: string;
    };

/** How the worker logs in to one backend, and the URL those credentials are bound to. */
export interface BackendCredentials {
  /** The backend these credentials are for; requests to any other origin never carry them. */
  url: string;
  /** How to log in. */
  auth: BackendAuth;
}

/** Credentials by backend name, the name used in batch specs. */
export type CredentialStore = Record<string, BackendCredentials>;

/** `OPENEO_BACKEND_<NAME>_…`, with the name upper-cased and anything but letters and digits as `_`. */
export function envPrefix(backendName: string): string {
  return `OPENEO_BACKEND_${backendName.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_`;
}

/** A backend's own OIDC variables: `<prefix>OIDC_PROVIDER`, `…_CLIENT_ID`, `…_CLIENT_SECRET`. */
export interface OidcVariables {
  providerId?: string;
  clientId?: string;
  clientSecret?: string;
}

/**
 * The one reader of a backend's `OIDC_*` variables (`prefix` from {@link envPrefix}), for the
 * workers' credentials and for `openeo-temporal login`; unset and empty ones are left out.
 */
export function oidcVariables(prefix: string, env: NodeJS.ProcessEnv = process.env): OidcVariables {
  const read = (name: string) => env[`${prefix}OIDC_${name}`] || undefined;
  return { providerId: read('PROVIDER'), clientId: read('CLIENT_ID'), clientSecret: read('CLIENT_SECRET') };
}

/**
 * Reads credentials from the environment. For a backend named `cdse` (or `CDSE`; `cdse-fed` is
 * `CDSE_FED`):
 *
 *     OPENEO_BACKEND_CDSE_URL=https://openeo.dataspace.copernicus.eu
 *     OPENEO_BACKEND_CDSE_AUTH=oidc                                    (after `openeo-temporal login cdse`)
 *     OPENEO_BACKEND_CDSE_OIDC_CLIENT_ID=…  OPENEO_BACKEND_CDSE_OIDC_CLIENT_SECRET=…   (a service account)
 *     OPENEO_BACKEND_CDSE_USERNAME=…  OPENEO_BACKEND_CDSE_PASSWORD=…   (HTTP basic)
 *     OPENEO_BACKEND_CDSE_TOKEN=oidc/CDSE/…                             (a fixed bearer token)
 *
 * The store's keys are the lower-cased names from the variables; look them up with
 * {@link findCredentials}, which matches `cdse-fed` to `cdse_fed`.
 */
export function credentialsFromEnv(env: NodeJS.ProcessEnv = process.env): CredentialStore {
  const store: CredentialStore = {};
  for (const [key, url] of Object.entries(env)) {
    const match = /^OPENEO_BACKEND_([A-Z0-9_]+)_URL$/.exec(key);
    if (!match || !url) continue;
    store[match[1].toLowerCase()] = { url, auth: authFromEnv(`OPENEO_BACKEND_${match[1]}_`, env) };
  }
  return store;
}

/** One backend's way to log in, from `<prefix>AUTH` or from which variables are set. */
function authFromEnv(prefix: string, env: NodeJS.ProcessEnv): BackendAuth {
  const v = (name: string) => env[`${prefix}${name}`] || undefined;
  const pythonServiceAccount = env.OPENEO_AUTH_METHOD === 'client_credentials';
  const oidc = oidcVariables(prefix, env);
  const method =
    v('AUTH')?.toLowerCase() ??
    (v('TOKEN')
      ? 'token'
      : v('USERNAME') || v('PASSWORD')
        ? 'basic'
        : oidc.providerId || oidc.clientId || pythonServiceAccount
          ? 'oidc'
          : undefined);
  switch (method) {
    case 'token':
      if (!v('TOKEN'))
        throw new Error(
          `${prefix}AUTH is token, but ${prefix}TOKEN is not set: set it to oidc/<provider>/<access token>`,
        );
      return { type: 'bearer', token: v('TOKEN')! };
    case 'basic':
      if (!v('USERNAME') || !v('PASSWORD'))
        throw new Error(`${prefix}USERNAME and ${prefix}PASSWORD must both be set for HTTP basic login`);
      return { type: 'basic', username: v('USERNAME')!, password: v('PASSWORD')! };
    case 'oidc':
      return oidcFromEnv(prefix, env);
    case undefined:
      throw new Error(
        `${prefix}URL is set, but not how to log in: set ${prefix}AUTH=oidc (after \`openeo-temporal login\`), or ${prefix}USERNAME and ${prefix}PASSWORD, or ${prefix}TOKEN`,
      );
    default:
      throw new Error(`${prefix}AUTH is "${method}": use oidc, basic or token`);
  }
}

/**
 * OIDC settings of a backend; the openEO Python client's `OPENEO_AUTH_PROVIDER_ID`,
 * `OPENEO_AUTH_CLIENT_ID` and `OPENEO_AUTH_CLIENT_SECRET` fill in what the backend's own
 * variables leave out when `OPENEO_AUTH_METHOD=client_credentials`.
 */
function oidcFromEnv(prefix: string, env: NodeJS.ProcessEnv): BackendAuth {
  const python = env.OPENEO_AUTH_METHOD === 'client_credentials';
  const own = oidcVariables(prefix, env);
  const providerId = own.providerId || (python ? env.OPENEO_AUTH_PROVIDER_ID : undefined) || undefined;
  const clientId = own.clientId || (python ? env.OPENEO_AUTH_CLIENT_ID : undefined) || undefined;
  const clientSecret = own.clientSecret || (python ? env.OPENEO_AUTH_CLIENT_SECRET : undefined) || undefined;
  if (clientSecret && !clientId)
    throw new Error(
      `${prefix}OIDC_CLIENT_SECRET is set without ${prefix}OIDC_CLIENT_ID: set the service account's client id too`,
    );
  return {
    type: 'oidc',
    ...(providerId ? { providerId } : {}),
    ...(clientId ? { clientId } : {}),
    ...(clientSecret ? { clientSecret } : {}),
  };
}

/**
 * The credentials for a spec's backend name. Names that map to the same variables
 * (`cdse-fed`, `CDSE_FED`, `cdse_fed`) are the same backend: an exact match wins, else the one
 * with the same {@link envPrefix}.
 */
export function findCredentials(store: CredentialStore, backendName: string): BackendCredentials | undefined {
  if (Object.prototype.hasOwnProperty.call(store, backendName)) return store[backendName];
  const prefix = envPrefix(backendName);
  const key = Object.keys(store).find((name) => envPrefix(name) === prefix);
  return key === undefined ? undefined : store[key];
}

/** True when two URLs share scheme, host and port: the only place a token may be sent. */
export function sameOrigin(a: string, b: string): boolean {
  try {
    return new URL(a).origin === new URL(b).origin;
  } catch {
    return false;
  }
}
