/**
 * A real OpenID provider (oidc-provider, on a local port) and an emulator that accepts its
 * tokens, plus the user's part of a device login, driven through the provider's own pages.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EmulatorOptions } from '../../src/tools/emulator';
import {
  approveDeviceCode,
  OIDC_SCOPES,
  startOidcProvider,
  type OidcProviderOptions,
  type RunningOidcProvider,
} from '../../src/tools/oidc-provider';
import { deviceLogin, type DeviceLoginResult } from '../../src/core/openeo/oidc/device-login';

/** The provider id the emulator lists, as `oidc/<id>/<token>` bearer tokens name it. */
export const PROVIDER_ID = 'local';

/**
 * How long the test provider's access tokens live. Not 1 s: a JWT's `iat` and `exp` are whole
 * seconds, so a 1 s token may be expired the moment it is handed out; a 2 s one holds at least 1 s.
 */
export const ACCESS_TOKEN_SECONDS = 2;

/** A wait that takes a token just handed out past its lifetime (and so past its renewal time). */
export const PAST_TOKEN_LIFETIME_MS = ACCESS_TOKEN_SECONDS * 1000 + 300;

/** Device logins poll this often: the test approves the code at once. */
export const DEVICE_POLL_SECONDS = 0.1;

export async function startProvider(options: OidcProviderOptions = {}): Promise<RunningOidcProvider> {
  return startOidcProvider({
    accessTokenSeconds: ACCESS_TOKEN_SECONDS,
    devicePollSeconds: DEVICE_POLL_SECONDS,
    ...options,
  });
}

/** Emulator options that list the provider (with its device-flow default client) and check its tokens. */
export function emulatorOidc(provider: RunningOidcProvider): EmulatorOptions {
  return {
    oidcIssuers: [
      {
        id: PROVIDER_ID,
        issuer: provider.issuer,
        title: 'Local test provider',
        scopes: OIDC_SCOPES,
        audience: provider.audience,
        default_clients: [
          {
            id: provider.publicClientId,
            grant_types: ['urn:ietf:params:oauth:grant-type:device_code+pkce', 'refresh_token'],
          },
        ],
      },
    ],
  };
}

/** An environment whose token stores are in a fresh temporary folder (ours and the Python client's). */
export async function tokenEnv(): Promise<
  NodeJS.ProcessEnv & { OPENEO_TEMPORAL_TOKEN_STORE: string; XDG_DATA_HOME: string }
> {
  const dir = await mkdtemp(join(tmpdir(), 'openeo-temporal-tokens-'));
  return {
    HOME: dir,
    XDG_DATA_HOME: join(dir, 'data'),
    OPENEO_TEMPORAL_TOKEN_STORE: join(dir, 'ours', 'refresh-tokens.json'),
  };
}

/** `openeo-temporal login`'s device flow, with this test approving the code as the user would. */
export async function loginAsUser(
  backendUrl: string,
  env: NodeJS.ProcessEnv,
  login = 'alice',
): Promise<DeviceLoginResult> {
  let approval: Promise<void> | undefined;
  const result = await deviceLogin({
    backendName: 'emulator',
    backendUrl,
    env,
    onPrompt: (p) => {
      approval = approveDeviceCode({ verificationUri: p.verificationUri, userCode: p.userCode, login });
    },
  });
  await approval;
  return result;
}
