/**
 * Backend credentials live on the worker, never in a batch spec or in Temporal history.
 * Each set is bound to the backend URL it belongs to, so a spec cannot redirect a worker's
 * credentials to another host by reusing a backend name with a different URL.
 */

/** How the worker authenticates to one backend. */
export type BackendAuth =
  | { type: 'basic'; username: string; password: string }
  /** A ready bearer token as openEO writes it: `oidc/<provider>/<access token>` or `basic//<token>`. */
  | { type: 'bearer'; token: string };

export interface BackendCredentials {
  /** The backend these credentials are for; requests to any other origin never carry them. */
  url: string;
  auth: BackendAuth;
}

/** Credentials by backend name, the name used in batch specs. */
export type CredentialStore = Record<string, BackendCredentials>;

/** `OPENEO_BACKEND_<NAME>_…`, with the name upper-cased and anything but letters and digits as `_`. */
export function envPrefix(backendName: string): string {
  return `OPENEO_BACKEND_${backendName.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_`;
}

/**
 * Reads credentials from the environment. For a backend named `cdse`:
 *
 *     OPENEO_BACKEND_CDSE_URL=https://openeo.dataspace.copernicus.eu
 *     OPENEO_BACKEND_CDSE_USERNAME=…  OPENEO_BACKEND_CDSE_PASSWORD=…   (HTTP basic)
 *     OPENEO_BACKEND_CDSE_TOKEN=oidc/CDSE/…                             (or a bearer token)
 */
export function credentialsFromEnv(env: NodeJS.ProcessEnv = process.env): CredentialStore {
  const store: CredentialStore = {};
  for (const [key, url] of Object.entries(env)) {
    const match = /^OPENEO_BACKEND_([A-Z0-9_]+)_URL$/.exec(key);
    if (!match || !url) continue;
    const prefix = `OPENEO_BACKEND_${match[1]}_`;
    const name = match[1].toLowerCase();
    const username = env[`${prefix}USERNAME`];
    const password = env[`${prefix}PASSWORD`];
    const token = env[`${prefix}TOKEN`];
    if (token) {
      store[name] = { url, auth: { type: 'bearer', token } };
    } else if (username && password) {
      store[name] = { url, auth: { type: 'basic', username, password } };
    } else {
      throw new Error(`${key} is set, but neither ${prefix}TOKEN nor ${prefix}USERNAME and ${prefix}PASSWORD: set one of them`);
    }
  }
  return store;
}

/** True when two URLs share scheme, host and port: the only place a token may be sent. */
export function sameOrigin(a: string, b: string): boolean {
  try {
    return new URL(a).origin === new URL(b).origin;
  } catch {
    return false;
  }
}
