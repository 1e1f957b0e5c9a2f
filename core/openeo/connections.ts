/**
 * Authenticated `@openeo/js-client` connections, one per backend, shared by all activities of a
 * worker. Connecting costs a few requests (discovery, capabilities, token), so it happens once
 * and again only after the backend refuses the token.
 */
import { OpenEO, type Connection } from '@openeo/js-client';
import { createRequire } from 'node:module';
import { sameOrigin, type CredentialStore, envPrefix } from './credentials';
import { discoverVersionedUrl } from './discovery';
import { installRequestGating, type GateableAxios } from './request-gate';

/** The backend part of a batch spec: enough to find its connection and credentials. */
export interface BackendRef {
  name: string;
  url: string;
}

/** A problem with the worker's configuration for a backend: retrying cannot fix it. */
export class BackendConfigError extends Error {
  readonly code = 'BackendNotConfigured';
  constructor(message: string) {
    super(message);
    this.name = 'BackendConfigError';
  }
}

export interface ConnectionOptions {
  /**
   * Timeout of every HTTP request the js-client sends to a backend. The js-client itself waits
   * forever for most calls, which would hang an activity until its heartbeat times out.
   * @default 30_000
   */
  requestTimeoutMs?: number;
}

interface AxiosRequestConfigLike {
  baseURL?: string;
  url?: string;
  timeout?: number;
}
interface AxiosLike {
  interceptors: { request: { use(fn: (config: AxiosRequestConfigLike) => AxiosRequestConfigLike): number } };
}

/** Base URLs of connected backends, and the timeout their requests get. */
const timeoutByBaseUrl = new Map<string, number>();
let interceptorInstalled = false;

/**
 * The js-client uses the process-wide axios instance and has no timeout option, so we add one
 * through an axios interceptor, only for requests to backends we connected ourselves.
 */
function installRequestTimeouts(): void {
  if (interceptorInstalled) return;
  // Resolve axios from the js-client's own location: it is the js-client's dependency, not ours.
  const requireFromClient = createRequire(require.resolve('@openeo/js-client'));
  const axios = requireFromClient('axios') as AxiosLike;
  axios.interceptors.request.use((config) => {
    const target = config.baseURL ?? config.url ?? '';
    for (const [base, timeout] of timeoutByBaseUrl) {
      if (target.startsWith(base) && !config.timeout) return { ...config, timeout };
    }
    return config;
  });
  // Backends with quotas: each request waits for a lease (see request-gate.ts).
  installRequestGating(axios as unknown as GateableAxios);
  interceptorInstalled = true;
}

export class OpenEOConnections {
  private readonly connections = new Map<string, Promise<Connection>>();
  private readonly requestTimeoutMs: number;

  constructor(
    private readonly credentials: CredentialStore,
    options: ConnectionOptions = {},
  ) {
    this.requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
    installRequestTimeouts();
  }

  /** Throws {@link BackendConfigError} when the worker has no credentials for this backend and URL. */
  checkConfigured(backend: BackendRef): void {
    const creds = this.credentials[backend.name];
    const prefix = envPrefix(backend.name);
    if (!creds) {
      throw new BackendConfigError(
        `backend "${backend.name}": this worker has no credentials for it; set ${prefix}URL and ${prefix}USERNAME/${prefix}PASSWORD (or ${prefix}TOKEN) in the worker's environment, or pass them in the plugin's credentials option`,
      );
    }
    if (!sameOrigin(creds.url, backend.url)) {
      throw new BackendConfigError(
        `backend "${backend.name}": the spec says ${backend.url}, but this worker's credentials for "${backend.name}" are for ${creds.url}; fix the url in the spec or the worker's ${prefix}URL`,
      );
    }
  }

  /** An authenticated connection; connects on first use. */
  async get(backend: BackendRef): Promise<Connection> {
    this.checkConfigured(backend);
    const key = `${backend.name} ${backend.url}`;
    let connection = this.connections.get(key);
    if (!connection) {
      connection = this.connect(backend);
      this.connections.set(key, connection);
      // A failed connect must not be cached: the next call tries again.
      connection.catch(() => this.connections.delete(key));
    }
    return connection;
  }

  /** Drops a connection whose token was refused, so the next `get` authenticates again. */
  forget(backend: BackendRef): void {
    this.connections.delete(`${backend.name} ${backend.url}`);
  }

  /**
   * Headers for a download from `url`: the token only when `url` is on the backend's own
   * origin. Signed asset links on object storage must never see it.
   */
  async authHeadersFor(backend: BackendRef, url: string): Promise<Record<string, string>> {
    if (!sameOrigin(url, backend.url)) return {};
    const token = (await this.get(backend)).getAuthProvider()?.getToken();
    return token ? { Authorization: `Bearer ${token}` } : {};
  }

  private async connect(backend: BackendRef): Promise<Connection> {
    const creds = this.credentials[backend.name];
    const connection = await OpenEO.connectDirect(await discoverVersionedUrl(backend.url, this.requestTimeoutMs));
    timeoutByBaseUrl.set(connection.getBaseUrl(), this.requestTimeoutMs);
    if (creds.auth.type === 'basic') {
      await connection.authenticateBasic(creds.auth.username, creds.auth.password);
    } else {
      const [type, provider, ...rest] = creds.auth.token.split('/');
      connection.setAuthToken(type, provider, rest.join('/'));
    }
    return connection;
  }
}
