/**
 * A local OpenID provider (the `oidc-provider` package) for tests and offline tries of
 * `openeo-temporal login`, with what a test needs to play the user: approve or decline a device
 * code on the provider's own pages, and revoke a refresh token at its revocation endpoint.
 *
 * @module openeo-temporal/oidc-provider
 */
export {
  startOidcProvider,
  OIDC_SCOPES,
  type GrantCounts,
  type OidcClientConfig,
  type OidcProviderOptions,
  type RunningOidcProvider,
} from './provider';
export { approveDeviceCode, denyDeviceCode, type DeviceApproval } from './browser';

/**
 * Revokes a token at the provider's revocation endpoint (RFC 7009), as the public client that
 * holds it. The provider revokes the whole grant with it, so every token of that login stops
 * working.
 */
export async function revokeToken(
  issuer: string,
  clientId: string,
  token: string,
  tokenTypeHint = 'refresh_token',
): Promise<void> {
  const discovery = (await (await fetch(`${issuer}/.well-known/openid-configuration`)).json()) as {
    revocation_endpoint?: string;
  };
  if (!discovery.revocation_endpoint) throw new Error(`${issuer} has no revocation endpoint`);
  const response = await fetch(discovery.revocation_endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token, token_type_hint: tokenTypeHint, client_id: clientId }).toString(),
  });
  if (!response.ok) throw new Error(`revoking the token failed: HTTP ${response.status} ${await response.text()}`);
}
