/**
 * Authenticated `@openeo/js-client` connections, one per backend, shared by all activities of a
 * worker. Connecting costs a few requests (discovery, capabilities, token), so it happens once
 * and again only after the backend refuses the token.
 */
import { OpenEO, type Connection } from '@openeo/js-client';
import { createRequire } from 'node:module';
import {
  findCredentials,
  sameOrigin,
  type BackendAuth,
  type BackendCredentials,
  type CredentialStore,
  envPrefix,
} from './credentials';
import { discoverVersionedUrl } from './discovery';
import { BackendLogins, type BackendLogin } from './backend-login';
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

/**
 * How the worker's openEO connections behave: request timeouts, and where login state is read.
 *
 * @inline
 */
export interface ConnectionOptions {
  /**
   * Timeout of every HTTP request the js-client sends to a backend. The js-client itself waits
   * forever for most calls, which would hang an activity until its heartbeat times out.
   * @default 30_000
   */
  requestTimeoutMs?: number;
  /**
   * Where OIDC refresh tokens are read and rotated ones saved: `OPENEO_TEMPORAL_TOKEN_STORE`,
   * `XDG_DATA_HOME`, `HOME` and the Python client's `OPENEO_CONFIG_HOME` are read from here.
   * @default process.env
   */
  env?: NodeJS.ProcessEnv;
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
  /** One login per backend and worker: OIDC token sources live as long as the worker. */
  private readonly loginsByBackend = new Map<string, BackendLogin>();
  readonly logins: BackendLogins;

  constructor(
    private readonly credentials: CredentialStore,
    options: ConnectionOptions = {},
  ) {
    this.requestTimeoutMs = options.requestTimeoutMs ?? 30_000;
    this.logins = new BackendLogins(options.env);
    installRequestTimeouts();
  }

  /** Throws {@link BackendConfigError} when the worker has no credentials for this backend and URL. */
  checkConfigured(backend: BackendRef): void {
    const creds = findCredentials(this.credentials, backend.name);
    const prefix = envPrefix(backend.name);
    if (!creds) {
      throw new BackendConfigError(
        `backend "${backend.name}": this worker has no credentials for it; set ${prefix}URL and ${prefix}AUTH=oidc (or ${prefix}USERNAME/${prefix}PASSWORD, or ${prefix}TOKEN) in the worker's environment, or pass them in the plugin's credentials option`,
      );
    }
    if (!sameOrigin(creds.url, backend.url)) {
      throw new BackendConfigError(
        `backend "${backend.name}": the spec says ${backend.url}, but this worker's credentials for "${backend.name}" are for ${creds.url}; fix the url in the spec or the worker's ${prefix}URL`,
      );
    }
  }

  /** How the worker logs in to this backend (for messages that say what to fix). */
  authType(backend: BackendRef): BackendAuth['type'] | undefined {
    return findCredentials(this.credentials, backend.name)?.auth.type;
  }

  /** An authenticated connection with a valid token; connects on first use. */
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
    const ready = await connection;
    // An OIDC token is renewed here, before it expires, so every request carries a valid one.
    await this.loginOf(backend).refresh(ready);
    return ready;
  }

  /**
   * The backend refused the token: an OIDC login fetches a new one on the next `get`; any other
   * login gets a new connection (and so logs in again).
   */
  async forget(backend: BackendRef): Promise<void> {
    const key = `${backend.name} ${backend.url}`;
    const connection = this.connections.get(key);
    const ready = connection ? await connection.catch(() => undefined) : undefined;
    if (ready && (await this.loginOf(backend).refused(ready))) return;
    if (this.connections.get(key) === connection) this.connections.delete(key);
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

  /** The backend's login, one per backend and worker. */
  private loginOf(backend: BackendRef): BackendLogin {
    const key = `${backend.name} ${backend.url}`;
    let login = this.loginsByBackend.get(key);
    if (!login) {
      const creds = findCredentials(this.credentials, backend.name) as BackendCredentials;
      login = this.logins.loginFor(backend.name, creds.auth);
      this.loginsByBackend.set(key, login);
    }
    return login;
  }

  private async connect(backend: BackendRef): Promise<Connection> {
    const connection = await OpenEO.connectDirect(await discoverVersionedUrl(backend.url, this.requestTimeoutMs));
    timeoutByBaseUrl.set(connection.getBaseUrl(), this.requestTimeoutMs);
    await this.loginOf(backend).start(connection);
    return connection;
  }
}
