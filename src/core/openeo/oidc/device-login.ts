/**
 * `openeo-temporal login`: the OAuth device-code flow with PKCE against the provider a backend
 * lists. The user opens a URL, types a code and signs in; the refresh token lands in the
 * private token store, where workers find it.
 */
import { HttpError, httpJson } from '../../http/request';
import { discoverVersionedUrl } from '../discovery';
import { discoverProvider, openid } from './openid';
import { defaultClientFor, listOidcProviders, pickProvider, scopesFor, type OidcProvider } from './providers';
import { RefreshTokenStore } from './token-store';
import { BackendLoginError, deviceLoginRefusal, isOAuthError, oauthReason } from './errors';

/** What the user must see to approve the login. */
export interface DeviceLoginPrompt {
  /** The URL where the user types the code. */
  verificationUri: string;
  /** The URL with the code filled in, when the provider offers one. */
  verificationUriComplete?: string;
  /** The code to type there. */
  userCode: string;
  /** How long the code stays valid, in seconds. */
  expiresInSeconds: number;
}

/** Options of {@link deviceLogin}: which backend, provider and client to log in with. */
export interface DeviceLoginOptions {
  /** For messages: the backend's name in batch specs. */
  backendName: string;
  /** The backend's openEO API URL. */
  backendUrl: string;
  /** @default the backend's first provider */
  providerId?: string;
  /** @default the provider's default client for the device flow */
  clientId?: string;
  /** Where the token store lives (`OPENEO_TEMPORAL_TOKEN_STORE`, `XDG_DATA_HOME`, `HOME`). @default process.env */
  env?: NodeJS.ProcessEnv;
  /** Shows the user where to go and what to type. */
  onPrompt(prompt: DeviceLoginPrompt): void;
}

/** A finished device login: which provider and client it used, and where the refresh token went. */
export interface DeviceLoginResult {
  /** The OpenID provider the user logged in with. */
  provider: OidcProvider;
  /** The client the login used; refreshing its token needs the same one. */
  clientId: string;
  /** The token store the refresh token was saved in. */
  storePath: string;
  /** The openEO user id (`GET /me`) the new login stands for. */
  userId?: string;
}

/** `GET /me` with the new token: proves the backend accepts it, and names the user. */
async function whoAmI(apiUrl: string, providerId: string, accessToken: string): Promise<string | undefined> {
  const url = `${apiUrl.replace(/\/+$/, '')}/me`;
  try {
    const me = await httpJson<{ user_id?: string }>(url, {
      timeoutMs: 30_000,
      headers: { Authorization: `Bearer oidc/${providerId}/${accessToken}` },
    });
    return me.user_id;
  } catch (err) {
    if (!(err instanceof HttpError)) throw err;
    if (err.problem === 'status') throw new Error(`the backend refused the new login: ${err.reason}`, { cause: err });
    // An answer we cannot read still accepted the token: only the user's name is unknown.
    if (err.problem === 'not-json') return undefined;
    throw err;
  }
}

/**
 * A provider's refusal (`access_denied`, Keycloak's `not_allowed`, …) with its code, its
 * description and what to do; openid-client's own message says only that there was an error.
 */
async function inProviderWords<T>(issuer: string, request: () => Promise<T>): Promise<T> {
  try {
    return await request();
  } catch (err) {
    if (isOAuthError(err)) throw new BackendLoginError(deviceLoginRefusal(issuer, err));
    throw err;
  }
}

/** Runs the device-code flow; resolves once the user approved it and the refresh token is stored. */
export async function deviceLogin(options: DeviceLoginOptions): Promise<DeviceLoginResult> {
  const client = await openid();
  const apiUrl = await discoverVersionedUrl(options.backendUrl, 30_000);
  const provider = pickProvider(await listOidcProviders(apiUrl), options.backendName, options.providerId);
  const clientId = options.clientId ?? defaultClientFor(provider, 'device')?.id;
  // The title says what the provider is (the emulator's stand-in says it is none).
  const named = `provider "${provider.id}"${provider.title ? ` (${provider.title})` : ''}`;
  if (!clientId)
    throw new Error(
      `backend "${options.backendName}": ${named} lists no default client for the device flow; give a client id (--client-id)`,
    );
  const config = await discoverProvider(provider.issuer, clientId).catch((err: unknown) => {
    throw new Error(`cannot read the OpenID configuration of ${provider.issuer}: ${oauthReason(err)}`, { cause: err });
  });
  const verifier = client.randomPKCECodeVerifier();
  const challenge = await client.calculatePKCECodeChallenge(verifier);
  const authorization = await inProviderWords(provider.issuer, () =>
    client.initiateDeviceAuthorization(config, {
      scope: scopesFor(provider, true).join(' '),
      code_challenge: challenge,
      code_challenge_method: 'S256',
    }),
  );
  options.onPrompt({
    verificationUri: authorization.verification_uri,
    verificationUriComplete: authorization.verification_uri_complete,
    userCode: authorization.user_code,
    expiresInSeconds: authorization.expires_in,
  });
  const tokens = await inProviderWords(provider.issuer, () =>
    client.pollDeviceAuthorizationGrant(config, authorization, { code_verifier: verifier }),
  );
  if (!tokens.refresh_token) {
    throw new Error(
      `provider "${provider.id}" gave no refresh token (scopes ${scopesFor(provider, true).join(' ')}): the worker could not renew the login`,
    );
  }
  const store = new RefreshTokenStore(options.env);
  await store.save(provider.issuer, clientId, tokens.refresh_token);
  const userId = await whoAmI(apiUrl, provider.id, tokens.access_token);
  return { provider, clientId, storePath: store.path, userId };
}
