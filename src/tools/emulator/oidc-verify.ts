/**
 * Checking `Bearer oidc/<provider>/<access token>` against a real OpenID provider, as a real
 * backend does: a JWT access token is verified with the provider's JWKS (signature, issuer,
 * expiry and, when configured, audience); an opaque one is sent to the provider's userinfo
 * endpoint. A bad or expired token is 403 `TokenInvalid`.
 */
import { ApiError } from './errors';

/** An OpenID provider whose tokens the emulator checks for real. */
export interface OidcIssuerOptions {
  /** The provider id in `GET /credentials/oidc` and in bearer tokens `oidc/<id>/…`. */
  id: string;
  /** Issuer URL, as in its discovery document. */
  issuer: string;
  /** @default "Local OpenID provider" */
  title?: string;
  /** Scopes openEO clients should ask for. @default ["openid"] */
  scopes?: string[];
  /** Clients usable without a secret, listed to openEO clients (e.g. one for the device flow). */
  default_clients?: Array<{
    /** The client id. */
    id: string;
    /** The OAuth grant types it may use, as openEO names them. */
    grant_types: string[];
    /** Where the provider may send the user back after a login in the browser. */
    redirect_urls?: string[];
  }>;
  /** Expected `aud` of JWT access tokens. @default not checked */
  audience?: string;
}

interface Discovery {
  jwks_uri?: string;
  userinfo_endpoint?: string;
}

type JoseModule = typeof import('jose', { with: { 'resolution-mode': 'import' } });

function tokenInvalid(message: string): ApiError {
  return new ApiError('TokenInvalid', message);
}

export class OidcIssuerVerifier {
  private discovery:
    Promise<{ doc: Discovery; jose: JoseModule; jwks?: ReturnType<JoseModule['createRemoteJWKSet']> }> | undefined;

  constructor(readonly options: OidcIssuerOptions) {}

  /** The user (`sub`) behind a valid access token; throws `TokenInvalid` otherwise. */
  async verify(accessToken: string): Promise<string> {
    const { doc, jose, jwks } = await this.discover();
    if (accessToken.split('.').length === 3 && jwks) return this.verifyJwt(jose, jwks, accessToken);
    if (!doc.userinfo_endpoint)
      throw tokenInvalid('The access token is not a JWT and the provider has no userinfo endpoint.');
    const response = await fetch(doc.userinfo_endpoint, { headers: { Authorization: `Bearer ${accessToken}` } });
    if (!response.ok)
      throw tokenInvalid(
        `The OpenID provider refused the access token (HTTP ${response.status}); please authenticate again.`,
      );
    const sub = ((await response.json()) as { sub?: unknown }).sub;
    if (typeof sub !== 'string') throw tokenInvalid('The OpenID provider gave no subject for this token.');
    return sub;
  }

  private async verifyJwt(
    jose: JoseModule,
    jwks: ReturnType<JoseModule['createRemoteJWKSet']>,
    token: string,
  ): Promise<string> {
    try {
      const { payload } = await jose.jwtVerify(token, jwks, {
        issuer: this.options.issuer,
        ...(this.options.audience ? { audience: this.options.audience } : {}),
      });
      // A client-credentials token has no user: its client is the user.
      const user = payload.sub ?? (payload as { client_id?: unknown }).client_id;
      if (typeof user !== 'string') throw tokenInvalid('The access token names no subject.');
      return user;
    } catch (error) {
      if (error instanceof ApiError) throw error;
      const code = (error as { code?: unknown }).code;
      if (code === 'ERR_JWT_EXPIRED') throw tokenInvalid('Access token has expired; please authenticate again.');
      throw tokenInvalid(`Access token is not valid for this backend: ${(error as Error).message}`);
    }
  }

  private discover() {
    this.discovery ??= (async () => {
      const jose = await import('jose');
      const response = await fetch(`${this.options.issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`);
      if (!response.ok)
        throw new Error(
          `the OpenID provider ${this.options.issuer} answered HTTP ${response.status} for its configuration`,
        );
      const doc = (await response.json()) as Discovery;
      return { doc, jose, jwks: doc.jwks_uri ? jose.createRemoteJWKSet(new URL(doc.jwks_uri)) : undefined };
    })().catch((error: unknown) => {
      this.discovery = undefined;
      throw new ApiError('Internal', `Cannot reach the OpenID provider: ${(error as Error).message}`);
    });
    return this.discovery;
  }
}
