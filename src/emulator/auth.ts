/**
 * HTTP Basic login and Bearer token checks (openEO `basic//` tokens).
 */
import { randomBytes } from 'node:crypto';
import { ApiError } from './errors';
import type { EmulatorUser } from './options';

/** Response body of `GET /credentials/basic`. */
export interface BasicTokenResponse {
  access_token: string;
  /** Seconds until the token expires (informational; not required by openEO). */
  expires_in: number;
  user_id: string;
}

interface IssuedToken {
  username: string;
  expiresAt: number;
}

const BEARER_PREFIX = 'basic//';

function basicChallenge(): Record<string, string> {
  return { 'WWW-Authenticate': 'Basic realm="openEO emulator"' };
}

function bearerChallenge(): Record<string, string> {
  return { 'WWW-Authenticate': 'Bearer realm="openEO emulator"' };
}

/** Issues and verifies access tokens for the configured users. */
export class AuthService {
  private readonly tokens = new Map<string, IssuedToken>();
  private readonly passwords: Map<string, string>;

  constructor(
    users: readonly EmulatorUser[],
    private readonly tokenLifetimeMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.passwords = new Map(users.map((u) => [u.username, u.password]));
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
    this.tokens.set(token, { username, expiresAt: this.now() + this.tokenLifetimeMs });
    return { access_token: token, expires_in: Math.floor(this.tokenLifetimeMs / 1000), user_id: username };
  }

  /** Returns the user behind an `Authorization: Bearer basic//…` header or throws. */
  authenticate(authorization: string | undefined): string {
    if (!authorization || authorization.trim() === '') {
      throw new ApiError('AuthenticationRequired', 'This endpoint requires a Bearer token.', bearerChallenge());
    }
    const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!match) {
      throw new ApiError('AuthenticationSchemeInvalid', 'Only Bearer tokens are accepted on this endpoint.');
    }
    const bearer = match[1];
    if (!bearer.startsWith(BEARER_PREFIX)) {
      throw new ApiError('TokenInvalid', "Token must be of the form 'basic//<access_token>'.");
    }
    const issued = this.tokens.get(bearer.slice(BEARER_PREFIX.length));
    if (!issued) {
      throw new ApiError('TokenInvalid', 'Access token is unknown; please authenticate again.');
    }
    if (this.now() >= issued.expiresAt) {
      this.tokens.delete(bearer.slice(BEARER_PREFIX.length));
      throw new ApiError('TokenInvalid', 'Access token has expired; please authenticate again.');
    }
    return issued.username;
  }
}
