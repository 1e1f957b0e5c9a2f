/**
 * `openeo-temporal emulator --oidc-provider local`: a real OpenID provider on this machine next to
 * the emulator, so `openeo-temporal login` and a worker with `…_AUTH=oidc` can be tried offline.
 */
import type { EmulatorCliFlags } from '../../tools/emulator';
import {
  OIDC_SCOPES,
  startOidcProvider,
  type OidcProviderOptions,
  type RunningOidcProvider,
} from '../../tools/oidc-provider';

export interface EmulatorOidcFlags {
  oidcProvider?: string;
  oidcTokenLifetimeSeconds?: number;
  oidcPort?: number;
}

/** The local provider's service account, as documented (a throwaway provider, like the demo user). */
export const LOCAL_SERVICE_ACCOUNT = { clientId: 'service-account', clientSecret: 'service-secret' };

/**
 * Starts the local provider when asked, and points the emulator flags at it. Returns the
 * provider (to close it), or undefined without `--oidc-provider local`. `tuning` is for tests
 * that approve logins at once (e.g. `devicePollSeconds`); the flags decide everything else.
 */
export async function withLocalOidcProvider(
  flags: EmulatorCliFlags & EmulatorOidcFlags,
  tuning: Pick<OidcProviderOptions, 'devicePollSeconds'> = {},
): Promise<RunningOidcProvider | undefined> {
  if (flags.oidcProvider === undefined) return undefined;
  if (flags.oidcProvider !== 'local')
    throw new Error(
      `--oidc-provider must be "local", got '${flags.oidcProvider}'; for another provider use --oidc-issuer <url>`,
    );
  if (flags.oidcIssuer !== undefined)
    throw new Error('--oidc-provider local and --oidc-issuer exclude each other: pick one');
  const provider = await startOidcProvider({
    ...tuning,
    host: flags.host,
    port: flags.oidcPort ?? 0,
    accessTokenSeconds: flags.oidcTokenLifetimeSeconds ?? 300,
    serviceAccount: LOCAL_SERVICE_ACCOUNT,
  });
  flags.oidcIssuer = provider.issuer;
  flags.oidcProviderId ??= 'local';
  flags.oidcClientId ??= provider.publicClientId;
  flags.oidcAudience ??= provider.audience;
  flags.oidcScopes ??= OIDC_SCOPES.join(' ');
  return provider;
}
