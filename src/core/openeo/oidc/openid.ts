/**
 * `openid-client` (OpenID Certified) behind a small seam: it is ESM-only, so this CommonJS
 * project loads it with a dynamic `import()`, once.
 */
import type * as OpenIdClient from 'openid-client' with { 'resolution-mode': 'import' };

export type OpenIdConfiguration = OpenIdClient.Configuration;
export type OpenIdModule = typeof OpenIdClient;

let loading: Promise<OpenIdModule> | undefined;

/** The `openid-client` module. */
export function openid(): Promise<OpenIdModule> {
  loading ??= import('openid-client');
  return loading;
}

/** Plain HTTP is allowed for a provider on this machine only (a local test provider). */
function isLoopback(url: URL): boolean {
  return ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
}

/**
 * The provider's configuration for one client, from its discovery document. A client secret
 * makes it a confidential client (client-credentials grant); without one it is public.
 */
export async function discoverProvider(
  issuer: string,
  clientId: string,
  clientSecret?: string,
): Promise<OpenIdConfiguration> {
  const client = await openid();
  const url = new URL(issuer);
  if (url.protocol !== 'https:' && !isLoopback(url)) {
    throw new Error(`the OpenID provider ${issuer} is not https: only a provider on this machine may use plain http`);
  }
  const auth = clientSecret ? client.ClientSecretPost(clientSecret) : client.None();
  return client.discovery(
    url,
    clientId,
    undefined,
    auth,
    url.protocol === 'http:' ? { execute: [client.allowInsecureRequests] } : undefined,
  );
}
