/**
 * Fresh OIDC access tokens for a worker, for as long as a batch runs: one source per provider and
 * client, shared by every activity of the worker. It refreshes a token before it expires (from
 * `expires_in`, else the JWT's `exp`) and again when a backend refuses it, never runs two token
 * requests at once (single-flight), keeps a rotated refresh token in the store, and, when the
 * provider refuses the refresh token, looks in the store again: a user who ran
 * `openeo-temporal login` meanwhile is picked up without restarting the worker.
 */
import { discoverProvider, openid, type OpenIdConfiguration } from './openid';
import { BackendLoginError, isRefusal, oauthReason, OidcProviderUnavailableError } from './errors';
import type { RefreshTokenStore } from './token-store';

export interface OidcGrantSettings {
  issuer: string;
  clientId: string;
  /** Set for a service account: the client-credentials grant. Else refresh tokens from the store. */
  clientSecret?: string;
  scopes: string[];
  /** What to tell the user to run when only a new login helps, e.g. `openeo-temporal login cdse`. */
  loginHint: string;
}

interface AccessToken {
  token: string;
  /** When to get the next one: a margin before it expires. */
  renewAt: number;
}

/** Assumed lifetime when the provider says nothing and the token is not a JWT. */
const UNKNOWN_LIFETIME_S = 300;

/** Seconds until a JWT's `exp`, if the token is a JWT with one. Not verified: only a hint. */
function jwtSecondsLeft(token: string, now: number): number | undefined {
  const [, payload] = token.split('.');
  if (!payload) return undefined;
  try {
    const exp = (JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { exp?: unknown }).exp;
    return typeof exp === 'number' ? exp - now / 1000 : undefined;
  } catch {
    return undefined;
  }
}

/** Renew after three quarters of the lifetime, and at least a minute early for long-lived tokens. */
function renewalTime(now: number, lifetimeSeconds: number): number {
  const margin = Math.min(60, lifetimeSeconds / 4);
  return now + Math.max(0, lifetimeSeconds - margin) * 1000;
}

export class OidcTokenSource {
  private current: AccessToken | undefined;
  private inFlight: Promise<AccessToken> | undefined;
  private configuration: Promise<OpenIdConfiguration> | undefined;
  private refreshToken: string | undefined;
  /** A refresh token the provider refused: not tried again until the store has another. */
  private refused: string | undefined;
  /** Token requests that succeeded, for tests and logs. */
  tokenRequests = 0;

  constructor(
    readonly settings: OidcGrantSettings,
    private readonly store: RefreshTokenStore,
    private readonly now: () => number = Date.now,
  ) {}

  /** A valid access token: the current one, or a new one when it is about to expire. */
  async accessToken(): Promise<string> {
    if (this.current && this.now() < this.current.renewAt) return this.current.token;
    if (!this.inFlight) {
      this.inFlight = this.obtain().finally(() => {
        this.inFlight = undefined;
      });
    }
    this.current = await this.inFlight;
    return this.current.token;
  }

  /** A backend refused `token`: the next `accessToken()` fetches another one. */
  invalidate(token: string): void {
    if (this.current?.token === token) this.current = undefined;
  }

  private provider(): Promise<OpenIdConfiguration> {
    const { issuer, clientId, clientSecret } = this.settings;
    this.configuration ??= discoverProvider(issuer, clientId, clientSecret).catch((err: unknown) => {
      this.configuration = undefined;
      throw new OidcProviderUnavailableError(`cannot read the OpenID configuration of ${issuer}: ${oauthReason(err)}`, {
        cause: err,
      });
    });
    return this.configuration;
  }

  private async obtain(): Promise<AccessToken> {
    const config = await this.provider();
    const client = await openid();
    const scope = this.settings.scopes.join(' ');
    const response = await this.request(async () =>
      this.settings.clientSecret ? client.clientCredentialsGrant(config, { scope }) : this.refresh(config),
    );
    this.tokenRequests += 1;
    const now = this.now();
    const lifetime = response.expires_in ?? jwtSecondsLeft(response.access_token, now) ?? UNKNOWN_LIFETIME_S;
    return { token: response.access_token, renewAt: renewalTime(now, lifetime) };
  }

  /** The refresh-token grant, with the store's newest refresh token; a rotated one is saved. */
  private async refresh(config: OpenIdConfiguration) {
    const client = await openid();
    const { issuer, clientId } = this.settings;
    for (;;) {
      const refreshToken = await this.usableRefreshToken();
      try {
        const response = await client.refreshTokenGrant(config, refreshToken);
        this.refreshToken = response.refresh_token ?? refreshToken;
        if (response.refresh_token && response.refresh_token !== refreshToken)
          await this.store.save(issuer, clientId, response.refresh_token);
        return response;
      } catch (err) {
        if (!isRefusal(err)) throw err;
        this.refused = refreshToken;
        this.refreshToken = undefined;
        // A login may have stored a new refresh token meanwhile: the loop tries that one.
        const stored = await this.store.read(issuer, clientId);
        if (!stored || stored.refreshToken === refreshToken) {
          throw new BackendLoginError(
            `the OpenID provider ${issuer} refused the refresh token: ${oauthReason(err)}; log in again: ${this.settings.loginHint}`,
          );
        }
      }
    }
  }

  /** The refresh token to use: the one in hand, else the store's, unless it is the refused one. */
  private async usableRefreshToken(): Promise<string> {
    if (this.refreshToken) return this.refreshToken;
    const { issuer, clientId, loginHint } = this.settings;
    const stored = await this.store.read(issuer, clientId);
    if (!stored)
      throw new BackendLoginError(
        `no refresh token for ${issuer} (client ${clientId}) in ${this.store.path}${this.store.pythonPath ? ` or ${this.store.pythonPath}` : ''}; log in first: ${loginHint}`,
      );
    if (stored.refreshToken === this.refused) {
      throw new BackendLoginError(
        `the OpenID provider ${issuer} refused the stored refresh token (expired or revoked); log in again: ${loginHint}`,
      );
    }
    return stored.refreshToken;
  }

  /** Sorts a token request's failure: a refusal needs a login, anything else may pass. */
  private async request<T>(send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (err) {
      if (err instanceof BackendLoginError) throw err;
      const reason = oauthReason(err);
      if (isRefusal(err))
        throw new BackendLoginError(
          `the OpenID provider ${this.settings.issuer} refused the client ${this.settings.clientId}: ${reason}; ${this.settings.loginHint}`,
        );
      throw new OidcProviderUnavailableError(
        `the OpenID provider ${this.settings.issuer} did not answer the token request: ${reason}`,
        { cause: err },
      );
    }
  }
}
