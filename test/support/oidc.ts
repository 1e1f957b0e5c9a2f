/**
 * A real OpenID provider (oidc-provider, on a local port) and an emulator that accepts its
 * tokens, plus the user's part of a device login, driven through the provider's own pages.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EmulatorOptions } from '../../tools/emulator';
import { approveDeviceCode, OIDC_SCOPES, startOidcProvider, type OidcProviderOptions, type RunningOidcProvider } from '../../tools/oidc-provider';
import { deviceLogin, type DeviceLoginResult } from '../../core/openeo/oidc/device-login';

/** The provider id the emulator lists, as `oidc/<id>/<token>` bearer tokens name it. */
export const PROVIDER_ID = 'local';

export async function startProvider(options: OidcProviderOptions = {}): Promise<RunningOidcProvider> {
  return startOidcProvider({ accessTokenSeconds: 3, ...options });
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
          { id: provider.publicClientId, grant_types: ['urn:ietf:params:oauth:grant-type:device_code+pkce', 'refresh_token'] },
        ],
      },
    ],
  };
}

/** An environment whose token stores are in a fresh temporary folder (ours and the Python client's). */
export async function tokenEnv(): Promise<NodeJS.ProcessEnv & { OPENEO_TEMPORAL_TOKEN_STORE: string; XDG_DATA_HOME: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'openeo-temporal-tokens-'));
  return { HOME: dir, XDG_DATA_HOME: join(dir, 'data'), OPENEO_TEMPORAL_TOKEN_STORE: join(dir, 'ours', 'refresh-tokens.json') };
}

/** `openeo-temporal login`'s device flow, with this test approving the code as the user would. */
export async function loginAsUser(backendUrl: string, env: NodeJS.ProcessEnv, login = 'alice'): Promise<DeviceLoginResult> {
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
