/**
 * How a connection logs in to its backend and keeps its token valid: HTTP basic, a fixed bearer
 * token, or OpenID Connect with tokens refreshed for as long as the batch runs. One
 * {@link BackendLogins} per worker (inside `OpenEOConnections`): OIDC token sources are shared by
 * every backend that logs in the same way (provider, client, grant and secret), so a rotating
 * refresh token is never used twice, and a service account never stands in for another.
 */
import { createHash } from 'node:crypto';
import type { AuthProvider, Connection } from '@openeo/js-client';
import { envPrefix, type BackendAuth } from './credentials';
import { OidcTokenSource, type OidcGrantSettings } from './oidc/token-source';
import { RefreshTokenStore } from './oidc/token-store';
import { defaultClientFor, listOidcProviders, pickProvider, scopesFor, type OidcProvider } from './oidc/providers';
import { BackendLoginError } from './oidc/errors';

/** What a connection needs from its login. */
export interface BackendLogin {
  /** Logs a new connection in. */
  start(connection: Connection): Promise<void>;
  /** Before each use: brings the connection's token up to date (refreshing it ahead of expiry). */
  refresh(connection: Connection): Promise<void>;
  /**
   * The backend refused the connection's token. True when the next `refresh` gets a new one;
   * false when only a new connection (a new basic login) can.
   */
  refused(connection: Connection): Promise<boolean>;
}

const basicLogin = (username: string, password: string): BackendLogin => ({
  start: async (connection) => void (await connection.authenticateBasic(username, password)),
  refresh: async () => undefined,
  refused: async () => false,
});

const bearerLogin = (token: string): BackendLogin => ({
  start: async (connection) => {
    const [type, provider, ...rest] = token.split('/');
    connection.setAuthToken(type, provider, rest.join('/'));
  },
  refresh: async () => undefined,
  refused: async () => false,
});

/** The part of a js-client auth provider we use: replacing its token without a new provider. */
type TokenHolder = Pick<AuthProvider, 'setToken'> & { token?: string | null };

/** OIDC: the connection's token comes from a shared {@link OidcTokenSource}. */
class OidcLogin implements BackendLogin {
  private source: Promise<{ source: OidcTokenSource; providerId: string }> | undefined;
  private readonly holders = new WeakMap<Connection, TokenHolder>();

  constructor(
    private readonly backendName: string,
    private readonly auth: Extract<BackendAuth, { type: 'oidc' }>,
    private readonly sources: BackendLogins,
  ) {}

  async start(connection: Connection): Promise<void> {
    const { source, providerId } = await this.tokenSource(connection.getBaseUrl());
    const holder = connection.setAuthToken('oidc', providerId, await source.accessToken()) as TokenHolder;
    this.holders.set(connection, holder);
  }

  async refresh(connection: Connection): Promise<void> {
    const holder = this.holders.get(connection);
    if (!holder) return this.start(connection);
    const { source } = await this.tokenSource(connection.getBaseUrl());
    const token = await source.accessToken();
    // setToken on the same provider: the js-client keeps it (no reload of its process cache).
    if (holder.token !== token) holder.setToken(token);
  }

  async refused(connection: Connection): Promise<boolean> {
    const token = this.holders.get(connection)?.token;
    if (!this.source || !token) return false;
    (await this.source).source.invalidate(token);
    return true;
  }

  /** The provider (from the backend's `/credentials/oidc`), client and token source, once. */
  private tokenSource(apiUrl: string): Promise<{ source: OidcTokenSource; providerId: string }> {
    this.source ??= this.resolve(apiUrl).catch((err: unknown) => {
      this.source = undefined;
      throw err;
    });
    return this.source;
  }

  private async resolve(apiUrl: string): Promise<{ source: OidcTokenSource; providerId: string }> {
    const provider: OidcProvider = pickProvider(
      await listOidcProviders(apiUrl),
      this.backendName,
      this.auth.providerId,
    );
    const { clientSecret } = this.auth;
    const clientId = this.auth.clientId ?? defaultClientFor(provider, 'refresh_token')?.id;
    const prefix = envPrefix(this.backendName);
    if (!clientId) {
      throw new BackendLoginError(
        `backend "${this.backendName}": its OIDC provider "${provider.id}" lists no default client for refresh tokens; set ${prefix}OIDC_CLIENT_ID`,
      );
    }
    const loginHint = clientSecret
      ? `check the service account's ${prefix}OIDC_CLIENT_ID and ${prefix}OIDC_CLIENT_SECRET`
      : `run \`openeo-temporal login ${this.backendName}\``;
    const source = this.sources.tokenSource({
      issuer: provider.issuer,
      clientId,
      clientSecret,
      scopes: scopesFor(provider, !clientSecret),
      loginHint,
    });
    return { source, providerId: provider.id };
  }
}

/**
 * What makes an OIDC login, and so who it logs in as: the provider, the client, the grant and,
 * for a service account, its secret. Two backends with the same client id but different secrets
 * are two accounts (or one of them is wrong, and must fail on its own). The secret enters the key
 * only as a digest, so the key may be shown without it. User logins of one worker share its
 * refresh-token store, whose entries are per provider and client.
 */
function loginKey(settings: OidcGrantSettings): string {
  // As the token source decides: a service account has a (non-empty) secret.
  const secret = settings.clientSecret ? createHash('sha256').update(settings.clientSecret).digest('hex') : undefined;
  const grant = secret === undefined ? 'refresh_token' : 'client_credentials';
  return JSON.stringify([settings.issuer, settings.clientId, grant, secret]);
}

/** The logins of one worker, and the OIDC token sources they share. */
export class BackendLogins {
  private readonly sources = new Map<string, OidcTokenSource>();
  readonly store: RefreshTokenStore;

  constructor(env: NodeJS.ProcessEnv = process.env) {
    this.store = new RefreshTokenStore(env);
  }

  /** A new login for one backend's credentials. */
  loginFor(backendName: string, auth: BackendAuth): BackendLogin {
    switch (auth.type) {
      case 'basic':
        return basicLogin(auth.username, auth.password);
      case 'bearer':
        return bearerLogin(auth.token);
      case 'oidc':
        return new OidcLogin(backendName, auth, this);
    }
  }

  /** The token source for one login, shared by every backend that logs in the same way. */
  tokenSource(settings: OidcGrantSettings): OidcTokenSource {
    const key = loginKey(settings);
    let source = this.sources.get(key);
    if (!source) {
      source = new OidcTokenSource(settings, this.store);
      this.sources.set(key, source);
    }
    return source;
  }

  /** Token requests made so far, over all sources (for tests and logs). */
  tokenRequests(): number {
    return [...this.sources.values()].reduce((n, s) => n + s.tokenRequests, 0);
  }
}
