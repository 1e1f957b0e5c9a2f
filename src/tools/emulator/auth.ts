/**
 * HTTP Basic login and Bearer token checks: `basic//<token>` tokens issued
 * by `GET /credentials/basic`, and `oidc/<provider>/<token>` tokens
 * registered for a configured OpenID Connect provider.
 */
import { randomBytes } from 'node:crypto';
import { ApiError } from './errors';
import type { EmulatorUser, OidcProviderInfo, OidcTokenGrant } from './options';
import type { OidcIssuerVerifier } from './oidc-verify';

/** Response body of `GET /credentials/basic`. */
export interface BasicTokenResponse {
  access_token: string;
  /** Seconds until the token expires (informational; not required by openEO). */
  expires_in: number;
  user_id: string;
}

/** A token the emulator accepts, as kept in the state file. */
export interface IssuedToken {
  /** The full Bearer value, e.g. `basic//abc` or `oidc/egi/xyz`. */
  bearer: string;
  username: string;
  expiresAt: number;
}

const BASIC_PREFIX = 'basic//';

function basicChallenge(): Record<string, string> {
  return { 'WWW-Authenticate': 'Basic realm="openEO emulator"' };
}

function bearerChallenge(): Record<string, string> {
  return { 'WWW-Authenticate': 'Bearer realm="openEO emulator"' };
}

/** Issues and verifies access tokens. */
export class AuthService {
  /** Keyed by the full Bearer value. */
  private readonly tokens = new Map<string, IssuedToken>();
  private readonly passwords: Map<string, string>;
  private readonly listeners: Array<() => void> = [];

  constructor(
    users: readonly EmulatorUser[],
    private readonly tokenLifetimeMs: number,
    private readonly now: () => number = Date.now,
    private readonly oidcProviders: readonly OidcProviderInfo[] = [],
    /** Providers whose tokens are checked against the provider itself (JWKS or userinfo). */
    private readonly oidcIssuers: readonly OidcIssuerVerifier[] = [],
  ) {
    this.passwords = new Map(users.map((u) => [u.username, u.password]));
  }

  /** Notifies `listener` when tokens are issued, registered or expired (for the state file). */
  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  /** Handles the `Authorization: Basic …` header of `GET /credentials/basic`. */
  loginBasic(authorization: string | undefined): BasicTokenResponse {
    const match = /^Basic\s+(\S+)\s*$/i.exec(authorization ?? '');
    if (!match) {
      throw new ApiError('AuthenticationRequired', 'HTTP Basic credentials are required.', basicChallenge());
    }
    const decoded = Buffer.from(match[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const username = colon >= 0 ? decoded.slice(0, colon) : decoded;
    const password = colon >= 0 ? decoded.slice(colon + 1) : '';
    const expected = this.passwords.get(username);
    if (expected === undefined || expected !== password) {
      throw new ApiError('CredentialsInvalid', 'Username or password is wrong.');
    }
    const token = randomBytes(24).toString('base64url');
    this.store({ bearer: `${BASIC_PREFIX}${token}`, username, expiresAt: this.now() + this.tokenLifetimeMs });
    return { access_token: token, expires_in: Math.floor(this.tokenLifetimeMs / 1000), user_id: username };
  }

  /**
   * Accepts `Bearer oidc/<grant.provider>/<grant.token>` from now on.
   * @throws RangeError for a provider that is not configured
   */
  registerOidcToken(grant: OidcTokenGrant): void {
    if (!this.oidcProviders.some((p) => p.id === grant.provider)) {
      throw new RangeError(`OIDC provider '${grant.provider}' is not configured`);
    }
    if (!/^\S+$/.test(grant.token) || grant.user === '')
      throw new RangeError('an OIDC grant needs a token without spaces and a user');
    const lifetime = grant.expiresInMs ?? this.tokenLifetimeMs;
    this.store({
      bearer: `oidc/${grant.provider}/${grant.token}`,
      username: grant.user,
      expiresAt: this.now() + lifetime,
    });
  }

  /** Makes every token expire now, so clients must take their refresh path. */
  expireAll(): void {
    const now = this.now();
    for (const token of this.tokens.values()) token.expiresAt = Math.min(token.expiresAt, now);
    this.changed();
  }

  /** Returns the user behind an `Authorization: Bearer …` header or throws. */
  async authenticate(authorization: string | undefined): Promise<string> {
    if (!authorization || authorization.trim() === '') {
      throw new ApiError('AuthenticationRequired', 'This endpoint requires a Bearer token.', bearerChallenge());
    }
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!match) {
      throw new ApiError('AuthenticationSchemeInvalid', 'Only Bearer tokens are accepted on this endpoint.');
    }
    const bearer = match[1];
    const oidc = /^oidc\/([^/]+)\/./.exec(bearer);
    if (!bearer.startsWith(BASIC_PREFIX) && !oidc) {
      throw new ApiError(
        'TokenInvalid',
        "Token must be of the form 'basic//<access_token>' or 'oidc/<provider>/<access_token>'.",
      );
    }
    const issuer = oidc && this.oidcIssuers.find((v) => v.options.id === oidc[1]);
    if (issuer) return issuer.verify(bearer.slice(`oidc/${oidc[1]}/`.length));
    if (oidc && !this.oidcProviders.some((p) => p.id === oidc[1])) {
      throw new ApiError('TokenInvalid', `Unknown OpenID Connect provider '${oidc[1]}'.`);
    }
    const issued = this.tokens.get(bearer);
    if (!issued) {
      throw new ApiError('TokenInvalid', 'Access token is unknown; please authenticate again.');
    }
    if (this.now() >= issued.expiresAt) {
      this.tokens.delete(bearer);
      this.changed();
      throw new ApiError('TokenInvalid', 'Access token has expired; please authenticate again.');
    }
    return issued.username;
  }

  /** Tokens that are still valid, for the state file. */
  exportTokens(): IssuedToken[] {
    const now = this.now();
    return [...this.tokens.values()].filter((t) => t.expiresAt > now).map((t) => ({ ...t }));
  }

  /** Accepts tokens from a state file again. */
  importTokens(tokens: readonly IssuedToken[]): void {
    for (const token of tokens) this.tokens.set(token.bearer, { ...token });
  }

  private store(token: IssuedToken): void {
    this.tokens.set(token.bearer, token);
    this.changed();
  }

  private changed(): void {
    for (const listener of this.listeners) listener();
  }
}
