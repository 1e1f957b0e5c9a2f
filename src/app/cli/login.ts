/**
 * `openeo-temporal login <backend>`: a device-code login whose refresh token the workers on this
 * machine (same user, same token store) use from then on.
 */
import type { Command } from 'commander';
import { envPrefix, oidcVariables } from '../../core/openeo/credentials';
import { deviceLogin } from '../../core/openeo/oidc/device-login';

/** A backend name (its URL from `OPENEO_BACKEND_<NAME>_URL`) or a URL. */
export function resolveBackend(target: string, env: NodeJS.ProcessEnv = process.env): { name: string; url: string } {
  if (/^https?:\/\//i.test(target)) return { name: new URL(target).hostname, url: target };
  const prefix = envPrefix(target);
  const url = env[`${prefix}URL`];
  if (!url)
    throw new Error(
      `backend "${target}": set ${prefix}URL to its URL, or give the URL itself: openeo-temporal login https://…`,
    );
  return { name: target, url };
}

export function registerLoginCommand(program: Command): void {
  program
    .command('login')
    .description('log in to a backend with OpenID Connect (device code); workers then renew the login by themselves')
    .argument('<backend>', 'a backend name (URL from OPENEO_BACKEND_<NAME>_URL) or a backend URL')
    .option(
      '--provider <id>',
      'OIDC provider id the backend lists (default: OPENEO_BACKEND_<NAME>_OIDC_PROVIDER, else its first)',
    )
    .option(
      '--client-id <id>',
      'OIDC client id (default: OPENEO_BACKEND_<NAME>_OIDC_CLIENT_ID, else the provider default client)',
    )
    .action(async (target: string, opts: { provider?: string; clientId?: string }) => {
      const { name, url } = resolveBackend(target);
      const prefix = envPrefix(name);
      const fromEnv = oidcVariables(prefix);
      const result = await deviceLogin({
        backendName: name,
        backendUrl: url,
        providerId: opts.provider ?? fromEnv.providerId,
        clientId: opts.clientId ?? fromEnv.clientId,
        onPrompt: (p) => {
          console.log(`To log in to ${name}, open ${p.verificationUriComplete ?? p.verificationUri}`);
          console.log(
            `  and enter the code ${p.userCode} (valid for ${Math.round(p.expiresInSeconds / 60)} minutes). Waiting…`,
          );
        },
      });
      console.log(
        `logged in to ${name}${result.userId ? ` as ${result.userId}` : ''} (provider ${result.provider.id}, client ${result.clientId})`,
      );
      console.log(`  refresh token saved in ${result.storePath}`);
      console.log(`  workers use it with ${prefix}URL=${url} and ${prefix}AUTH=oidc`);
    });
}
