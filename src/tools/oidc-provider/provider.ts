/**
 * A real OpenID provider on a local port, for tests and for trying `openeo-temporal login`
 * offline: the `oidc-provider` package (OpenID Certified), configured like the providers openEO
 * backends use. Users log in with the device-code flow (with PKCE) and get refresh tokens that
 * rotate; service accounts use client credentials; access tokens are JWTs that live only a few
 * seconds, so a client's refresh path is exercised all the time.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { KoaContextWithOIDC } from 'oidc-provider' with { 'resolution-mode': 'import' };

/** A client registered at the local provider. */
export interface OidcClientConfig {
  /** The client's id. */
  clientId: string;
  /** A confidential client (service account): it uses the client-credentials grant. */
  clientSecret?: string;
}

/** Options of {@link startOidcProvider}; every one has a default that suits a test. */
export interface OidcProviderOptions {
  /** The port to listen on. @default 0 (a free port) */
  port?: number;
  /** The address to listen on. @default "127.0.0.1" */
  host?: string;
  /**
   * Lifetime of access tokens (device-flow and client-credentials tokens alike).
   * @default 3
   */
  accessTokenSeconds?: number;
  /** Lifetime of refresh tokens, in seconds. @default 86_400 (a day) */
  refreshTokenSeconds?: number;
  /**
   * The `interval` a device login is told to poll at (RFC 8628), in seconds: tests approve the
   * code at once, so they need not wait the 5 s a client assumes when the provider names none.
   * @default none named (clients wait 5 s between polls)
   */
  devicePollSeconds?: number;
  /**
   * The public client openEO clients use for the device flow.
   * @default "openeo-temporal"
   */
  publicClientId?: string;
  /**
   * A service account for the client-credentials grant.
   * @default { clientId: "service-account", clientSecret: <random> }
   */
  serviceAccount?: OidcClientConfig;
  /** Receives a line per noteworthy event (never a token). @default silent */
  log?: (line: string) => void;
}

/** How many tokens the provider handed out, by grant type. */
export type GrantCounts = Record<string, number>;

/** A local provider that is running: its issuer, its clients, what it handed out, and `close()`. */
export interface RunningOidcProvider {
  /** The issuer URL, e.g. `http://127.0.0.1:41234` (no trailing slash). */
  readonly issuer: string;
  /** The public client's id, for the device flow. */
  readonly publicClientId: string;
  /** The service account's id and secret, for the client-credentials grant. */
  readonly serviceAccount: Required<OidcClientConfig>;
  /** The audience (`aud`) of its access tokens: a backend checks it. */
  readonly audience: string;
  /** Successful token requests by grant type (`refresh_token`, `client_credentials`, device code). */
  grants(): GrantCounts;
  /** Failed token requests by grant type, e.g. a revoked refresh token. */
  failedGrants(): GrantCounts;
  /** Stops the provider's server. */
  close(): Promise<void>;
}

/** The scopes openEO clients ask for; `offline_access` brings a refresh token. */
export const OIDC_SCOPES = ['openid', 'offline_access', 'openeo'];
const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';

function count(counts: GrantCounts, ctx: KoaContextWithOIDC): void {
  const grant = String(ctx.oidc.params?.grant_type ?? 'unknown');
  counts[grant] = (counts[grant] ?? 0) + 1;
}

function listenOn(server: Server, port: number, host: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server.address() as AddressInfo); // TCP, so never a pipe name
    });
  });
}

/** Starts the provider; its issuer URL is known only once the port is bound. */
export async function startOidcProvider(options: OidcProviderOptions = {}): Promise<RunningOidcProvider> {
  // oidc-provider and jose are ESM-only; a dynamic import keeps this CommonJS module loadable.
  const { default: Provider } = await import('oidc-provider');
  const { exportJWK, generateKeyPair } = await import('jose');
  const host = options.host ?? '127.0.0.1';
  const log = options.log ?? (() => undefined);
  const accessTokenSeconds = options.accessTokenSeconds ?? 3;
  const publicClientId = options.publicClientId ?? 'openeo-temporal';
  const serviceAccount = {
    clientId: 'service-account',
    clientSecret: randomBytes(18).toString('base64url'),
    ...options.serviceAccount,
  };
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const signingKey = { ...(await exportJWK(privateKey)), kid: 'local-1', use: 'sig', alg: 'RS256' };

  // The issuer must be known before the provider exists, so the port is bound first.
  const server = createServer();
  const address = await listenOn(server, options.port ?? 0, host);
  const issuer = `http://${host}:${address.port}`;
  const audience = `${issuer}/openeo`;

  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: publicClientId,
        token_endpoint_auth_method: 'none',
        grant_types: [DEVICE_CODE_GRANT, 'refresh_token'],
        response_types: [],
        redirect_uris: [],
      },
      {
        client_id: serviceAccount.clientId,
        client_secret: serviceAccount.clientSecret,
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
      },
    ],
    jwks: { keys: [signingKey] },
    scopes: OIDC_SCOPES,
    // The dev login pages accept any user name; the account id is the name typed in.
    findAccount: (_ctx, sub) => ({ accountId: sub, claims: () => ({ sub }) }),
    features: {
      devInteractions: { enabled: true },
      deviceFlow: { enabled: true },
      clientCredentials: { enabled: true },
      revocation: { enabled: true },
      introspection: { enabled: true },
      // Access tokens as JWTs for one resource server (the backend), checked against the JWKS.
      resourceIndicators: {
        enabled: true,
        defaultResource: () => audience,
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({
          scope: 'openeo',
          audience,
          accessTokenTTL: accessTokenSeconds,
          accessTokenFormat: 'jwt',
        }),
      },
    },
    // Every refresh hands out a new refresh token and consumes the old one.
    rotateRefreshToken: true,
    issueRefreshToken: async (_ctx, client, code) =>
      client.grantTypeAllowed('refresh_token') && code.scopes.has('offline_access'),
    // A device login is approved once, so the consent page is shown once and never again.
    loadExistingGrant: async (ctx) => {
      const grantId = ctx.oidc.result?.consent?.grantId ?? ctx.oidc.session?.grantIdFor(ctx.oidc.client!.clientId);
      return grantId ? ctx.oidc.provider.Grant.find(grantId) : undefined;
    },
    ttl: {
      AccessToken: accessTokenSeconds,
      ClientCredentials: accessTokenSeconds,
      RefreshToken: options.refreshTokenSeconds ?? 86_400,
      DeviceCode: 600,
      Grant: 86_400 * 14,
      Interaction: 600,
      Session: 86_400,
    },
    pkce: { required: () => false },
  });

  const grants: GrantCounts = {};
  const failedGrants: GrantCounts = {};
  provider.on('grant.success', (ctx: KoaContextWithOIDC) => count(grants, ctx));
  provider.on('grant.error', (ctx: KoaContextWithOIDC, error: Error) => {
    count(failedGrants, ctx);
    log(`token request refused: ${error.message}`);
  });
  const devicePollSeconds = options.devicePollSeconds;
  if (devicePollSeconds !== undefined) {
    provider.use(async (ctx, next) => {
      await next();
      if (ctx.oidc?.route === 'device_authorization' && ctx.status === 200)
        (ctx.body as { interval?: number }).interval = devicePollSeconds;
    });
  }
  server.on('request', provider.callback());

  return {
    issuer,
    publicClientId,
    serviceAccount,
    audience,
    grants: () => ({ ...grants }),
    failedGrants: () => ({ ...failedGrants }),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
