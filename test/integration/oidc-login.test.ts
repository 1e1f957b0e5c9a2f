/**
 * OIDC login against a real OpenID provider (oidc-provider on a local port) and the emulator
 * checking its tokens: the `login` command's device flow approved through the provider's pages,
 * the private token store, the Python client's store, refresh (single-flight, rotation, picking
 * up a new login), client credentials, and credentials found for names like `cdse-fed`.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  emulatorOptionsFromFlags,
  startEmulator,
  type EmulatorCliFlags,
  type RunningEmulator,
} from '../../src/tools/emulator';
import { withLocalOidcProvider, type EmulatorOidcFlags } from '../../src/app/cli/emulator-oidc';
import {
  approveDeviceCode,
  denyDeviceCode,
  revokeToken,
  type RunningOidcProvider,
} from '../../src/tools/oidc-provider';
import { OpenEOConnections } from '../../src/core/openeo/connections';
import { credentialsFromEnv, findCredentials, type CredentialStore } from '../../src/core/openeo/credentials';
import { BackendLoginError, deviceLoginRefusal, isRefusal } from '../../src/core/openeo/oidc/errors';
import { RefreshTokenStore } from '../../src/core/openeo/oidc/token-store';
import {
  DEVICE_POLL_SECONDS,
  emulatorOidc,
  loginAsUser,
  PAST_TOKEN_LIFETIME_MS,
  PROVIDER_ID,
  startProvider,
  tokenEnv,
} from '../support/oidc';

const CLI = join(__dirname, '..', '..', 'src', 'app', 'cli', 'main.js');

/** Our store's refresh token for the provider's public client. */
async function storedToken(path: string, provider: RunningOidcProvider): Promise<string | undefined> {
  const data = JSON.parse(await readFile(path, 'utf8')) as Record<string, Record<string, { refresh_token?: string }>>;
  return data[provider.issuer]?.[provider.publicClientId]?.refresh_token;
}

function oidcCredentials(url: string, extra: Record<string, string> = {}): CredentialStore {
  return { emulator: { url, auth: { type: 'oidc', ...extra } } };
}

/** Runs the `login` command, approving (or declining) its code on the provider's pages when it prints it. */
function runLoginCommand(
  url: string,
  env: NodeJS.ProcessEnv,
  answer: 'approve' | 'deny' = 'approve',
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'login', url], { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    let approval: Promise<void> | undefined;
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const prompt = /open (\S+)\s+and enter the code (\S+)/.exec(stdout);
      if (prompt && !approval) {
        const verificationUri = prompt[1].split('?')[0];
        approval =
          answer === 'approve'
            ? approveDeviceCode({ verificationUri, userCode: prompt[2], login: 'carol' })
            : denyDeviceCode({ verificationUri, userCode: prompt[2] });
        approval.catch(reject);
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('OIDC login with a real OpenID provider', () => {
  let provider: RunningOidcProvider;
  let emulator: RunningEmulator;
  before(async () => {
    provider = await startProvider();
    emulator = await startEmulator(emulatorOidc(provider));
  });
  after(async () => {
    await emulator.close();
    await provider.close();
  });

  it('logs in with `openeo-temporal login` (device code, approved on the provider pages) and keeps the refresh token in a private file', async () => {
    const env = await tokenEnv();
    const run = await runLoginCommand(emulator.url, env);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /logged in to 127\.0\.0\.1 as carol/);
    assert.ok(run.stdout.includes(env.OPENEO_TEMPORAL_TOKEN_STORE), 'it says where the token is');
    assert.equal((await stat(env.OPENEO_TEMPORAL_TOKEN_STORE)).mode & 0o777, 0o600);
    const refreshToken = await storedToken(env.OPENEO_TEMPORAL_TOKEN_STORE, provider);
    assert.ok(refreshToken, 'a refresh token is stored');
    assert.ok(!run.stdout.includes(refreshToken!) && !run.stderr.includes(refreshToken!), 'the token is never printed');
  });

  it("says why the provider refused a declined login, in the provider's words, with what to do", async () => {
    const env = await tokenEnv();
    const run = await runLoginCommand(emulator.url, env, 'deny');
    assert.equal(run.code, 1);
    const issuer = provider.issuer.replace(/[.]/g, '\\.');
    assert.match(
      run.stderr,
      new RegExp(
        `^error: the OpenID provider ${issuer} refused the login: access_denied \\(End-User aborted interaction\\)$`,
        'm',
      ),
    );
    assert.match(
      run.stderr,
      /^ {2}hint: the sign-in was declined on the provider's page: run `openeo-temporal login` again and approve it$/m,
    );
    assert.doesNotMatch(run.stderr, /server responded with an error/);
    await assert.rejects(stat(env.OPENEO_TEMPORAL_TOKEN_STORE), 'no token stored');
  });

  it("words Keycloak's refusal of offline tokens with what to ask for", () => {
    // What Keycloak (CDSE's identity server) answers a user whose account may not have refresh tokens.
    const refusal = { error: 'not_allowed', error_description: 'Offline tokens not allowed for the user or client' };
    const text = deviceLoginRefusal('https://identity.example.org/realms/x', refusal);
    assert.equal(
      text.split('\n')[0],
      'the OpenID provider https://identity.example.org/realms/x refused the login: not_allowed (Offline tokens not allowed for the user or client)',
    );
    assert.match(text.split('\n')[1], /^ {2}hint: .*offline_access.*service account/);
    // A worker's refresh that meets it needs a new login, like any refusal: retrying cannot help.
    assert.equal(isRefusal(refusal), true);
  });

  it('lets a worker use the stored login, refreshing the short-lived access token as often as needed', async () => {
    const env = await tokenEnv();
    await loginAsUser(emulator.url, env);
    const connections = new OpenEOConnections(oidcCredentials(emulator.url), { env });
    const backend = { name: 'emulator', url: emulator.url };
    const before = provider.grants().refresh_token ?? 0;
    for (let i = 0; i < 3; i++) {
      // Past the token's lifetime: this request needs a refreshed token.
      if (i > 0) await new Promise((r) => setTimeout(r, PAST_TOKEN_LIFETIME_MS));
      const me = (await (await connections.get(backend)).describeAccount()) as { user_id: string };
      assert.equal(me.user_id, 'alice');
    }
    assert.ok((provider.grants().refresh_token ?? 0) - before >= 2, 'refreshed at least twice');
  });

  it('asks the provider once when many requests need a new token at the same time (single-flight)', async () => {
    const env = await tokenEnv();
    await loginAsUser(emulator.url, env);
    const connections = new OpenEOConnections(oidcCredentials(emulator.url), { env });
    const backend = { name: 'emulator', url: emulator.url };
    await connections.get(backend);
    const before = provider.grants().refresh_token ?? 0;
    await new Promise((r) => setTimeout(r, PAST_TOKEN_LIFETIME_MS));
    await Promise.all(Array.from({ length: 10 }, async () => (await connections.get(backend)).describeAccount()));
    assert.equal((provider.grants().refresh_token ?? 0) - before, 1);
  });

  it('saves a rotated refresh token, and picks up a new login after the old one was revoked, without a new worker', async () => {
    const env = await tokenEnv();
    const first = await loginAsUser(emulator.url, env);
    const initial = await storedToken(first.storePath, provider);
    const connections = new OpenEOConnections(oidcCredentials(emulator.url), { env });
    const backend = { name: 'emulator', url: emulator.url };
    await connections.get(backend);
    const rotated = await storedToken(first.storePath, provider);
    assert.notEqual(rotated, initial, 'the rotated refresh token replaced the first one');

    await revokeToken(provider.issuer, provider.publicClientId, rotated!);
    await new Promise((r) => setTimeout(r, PAST_TOKEN_LIFETIME_MS));
    await assert.rejects(connections.get(backend), (err: unknown) => {
      assert.ok(err instanceof BackendLoginError);
      assert.match(err.message, /refused the refresh token: invalid_grant.*openeo-temporal login emulator/);
      assert.ok(!err.message.includes(rotated!), 'no token in the message');
      return true;
    });
    await loginAsUser(emulator.url, env, 'alice');
    const me = (await (await connections.get(backend)).describeAccount()) as { user_id: string };
    assert.equal(me.user_id, 'alice');
  });

  it("reads the openEO Python client's refresh-token store when ours has none, and refuses one others can read", async () => {
    const source = await tokenEnv();
    await loginAsUser(emulator.url, source);
    const refreshToken = await storedToken(source.OPENEO_TEMPORAL_TOKEN_STORE, provider);
    const env = await tokenEnv();
    const pythonStore = join(env.XDG_DATA_HOME, 'openeo-python-client', 'refresh-tokens.json');
    await mkdir(dirname(pythonStore), { recursive: true });
    // As the Python client writes it: the issuer without a trailing slash, then the client id.
    const layout = {
      [provider.issuer]: { [provider.publicClientId]: { date: '2025-01-01T00:00:00Z', refresh_token: refreshToken } },
    };
    await writeFile(pythonStore, JSON.stringify(layout), { mode: 0o644 });
    assert.equal(new RefreshTokenStore(env).pythonPath, pythonStore);

    const backend = { name: 'emulator', url: emulator.url };
    await assert.rejects(
      new OpenEOConnections(oidcCredentials(emulator.url), { env }).get(backend),
      /could be read by others \(mode 644\): run chmod 600/,
    );
    await chmod(pythonStore, 0o600);
    const me = (await (
      await new OpenEOConnections(oidcCredentials(emulator.url), { env }).get(backend)
    ).describeAccount()) as { user_id: string };
    assert.equal(me.user_id, 'alice');
    assert.ok(await storedToken(env.OPENEO_TEMPORAL_TOKEN_STORE, provider), 'the rotated token went to our store');
  });

  it('logs a service account in with client credentials, and names the fix for a wrong secret', async () => {
    const env = await tokenEnv();
    const backend = { name: 'emulator', url: emulator.url };
    const { clientId, clientSecret } = provider.serviceAccount;
    const good = new OpenEOConnections(oidcCredentials(emulator.url, { clientId, clientSecret }), { env });
    const me = (await (await good.get(backend)).describeAccount()) as { user_id: string };
    assert.equal(me.user_id, clientId);
    const bad = new OpenEOConnections(oidcCredentials(emulator.url, { clientId, clientSecret: 'wrong-secret' }), {
      env,
    });
    await assert.rejects(bad.get(backend), (err: unknown) => {
      assert.ok(err instanceof BackendLoginError);
      assert.match(
        err.message,
        /refused the client service-account: invalid_client.*OPENEO_BACKEND_EMULATOR_OIDC_CLIENT_SECRET/,
      );
      assert.ok(!err.message.includes('wrong-secret'));
      return true;
    });
  });

  it('keeps two service accounts with one client id apart in one worker: each logs in with its own secret, in either order', async () => {
    const { clientId, clientSecret } = provider.serviceAccount;
    const account = (secret: string) => ({
      url: emulator.url,
      auth: { type: 'oidc' as const, clientId, clientSecret: secret },
    });
    const connections = new OpenEOConnections(
      { right: account(clientSecret), wrong: account('wrong-secret') },
      { env: await tokenEnv() },
    );
    const wrongOnItsOwn = (err: unknown) => {
      assert.ok(err instanceof BackendLoginError);
      assert.match(
        err.message,
        /refused the client service-account: invalid_client.*; check the service account's OPENEO_BACKEND_WRONG_OIDC_CLIENT_ID and OPENEO_BACKEND_WRONG_OIDC_CLIENT_SECRET$/,
      );
      return true;
    };
    // The wrong one first, the right one, the wrong one again: neither login stands in for the other.
    await assert.rejects(connections.get({ name: 'wrong', url: emulator.url }), wrongOnItsOwn);
    const me = (await (await connections.get({ name: 'right', url: emulator.url })).describeAccount()) as {
      user_id: string;
    };
    assert.equal(me.user_id, clientId);
    await assert.rejects(connections.get({ name: 'wrong', url: emulator.url }), wrongOnItsOwn);
  });

  it('answers 403 TokenInvalid for an expired or forged token, as a real backend does', async () => {
    const env = await tokenEnv();
    const { clientId, clientSecret } = provider.serviceAccount;
    const connections = new OpenEOConnections(oidcCredentials(emulator.url, { clientId, clientSecret }), { env });
    const token = (await connections.get({ name: 'emulator', url: emulator.url })).getAuthProvider()!.getToken()!;
    const me = (bearer: string) => fetch(`${emulator.apiUrl}/me`, { headers: { Authorization: `Bearer ${bearer}` } });
    assert.equal((await me(token)).status, 200);
    const [header, payload] = token.split('/')[2].split('.');
    const forged = await me(`oidc/${PROVIDER_ID}/${header}.${payload}.bm90LWEtc2lnbmF0dXJl`);
    assert.equal(forged.status, 403);
    assert.equal(((await forged.json()) as { code: string }).code, 'TokenInvalid');
    await new Promise((r) => setTimeout(r, PAST_TOKEN_LIFETIME_MS));
    const expired = await me(token);
    assert.equal(expired.status, 403);
    assert.match(((await expired.json()) as { message: string }).message, /expired/);
  });
});

describe('the emulator with --oidc-provider local', () => {
  it('starts a local provider, lists it at /credentials/oidc with a default client, and accepts its logins', async () => {
    const flags: EmulatorCliFlags & EmulatorOidcFlags = {
      port: 0,
      queuedSeconds: 0,
      runningSeconds: 0,
      maxRunning: 2,
      oidcProvider: 'local',
      oidcTokenLifetimeSeconds: 5,
    };
    const local = await withLocalOidcProvider(flags, { devicePollSeconds: DEVICE_POLL_SECONDS });
    const emulator = await startEmulator(await emulatorOptionsFromFlags(flags));
    try {
      const listing = (await (await fetch(`${emulator.apiUrl}/credentials/oidc`)).json()) as {
        providers: { id: string; issuer: string; default_clients: { id: string; grant_types: string[] }[] }[];
      };
      assert.equal(listing.providers.length, 1);
      assert.equal(listing.providers[0].id, 'local');
      assert.equal(listing.providers[0].issuer, local!.issuer);
      assert.ok(listing.providers[0].default_clients[0].grant_types.includes('refresh_token'));
      const result = await loginAsUser(emulator.url, await tokenEnv(), 'dave');
      assert.equal(result.userId, 'dave');
    } finally {
      await emulator.close();
      await local?.close();
    }
  });

  it('refuses flags that do not fit together', async () => {
    await assert.rejects(
      withLocalOidcProvider({ port: 0, queuedSeconds: 0, runningSeconds: 0, maxRunning: 2, oidcProvider: 'keycloak' }),
      /--oidc-provider must be "local"/,
    );
    await assert.rejects(
      emulatorOptionsFromFlags({ port: 0, queuedSeconds: 0, runningSeconds: 0, maxRunning: 2, oidcClientId: 'x' }),
      /need --oidc-issuer/,
    );
  });
});

describe('credentials for backend names with capitals or dashes', () => {
  const env = {
    OPENEO_BACKEND_CDSE_FED_URL: 'https://openeofed.dataspace.copernicus.eu',
    OPENEO_BACKEND_CDSE_FED_AUTH: 'oidc',
    OPENEO_BACKEND_CDSE_FED_OIDC_PROVIDER: 'CDSE',
    OPENEO_BACKEND_CDSE_URL: 'https://openeo.dataspace.copernicus.eu',
    OPENEO_BACKEND_CDSE_OIDC_CLIENT_ID: 'svc',
    OPENEO_BACKEND_CDSE_OIDC_CLIENT_SECRET: 'svc-secret',
  };

  it('finds `cdse-fed`, `CDSE_FED` and `CDSE` by their variables', () => {
    const store = credentialsFromEnv(env);
    for (const name of ['cdse-fed', 'CDSE_FED', 'Cdse-Fed']) {
      assert.deepEqual(findCredentials(store, name)?.auth, { type: 'oidc', providerId: 'CDSE' }, name);
    }
    assert.deepEqual(findCredentials(store, 'CDSE')?.auth, {
      type: 'oidc',
      clientId: 'svc',
      clientSecret: 'svc-secret',
    });
    assert.equal(findCredentials(store, 'cdse-other'), undefined);
    const connections = new OpenEOConnections(store);
    assert.doesNotThrow(() =>
      connections.checkConfigured({ name: 'cdse-fed', url: 'https://openeofed.dataspace.copernicus.eu' }),
    );
    assert.throws(
      () => connections.checkConfigured({ name: 'cdse-other', url: 'https://x.example' }),
      /OPENEO_BACKEND_CDSE_OTHER_URL and OPENEO_BACKEND_CDSE_OTHER_AUTH=oidc/,
    );
  });

  it("takes the Python client's OPENEO_AUTH_* variables for a service account", () => {
    const store = credentialsFromEnv({
      OPENEO_BACKEND_X_URL: 'https://x.example',
      OPENEO_AUTH_METHOD: 'client_credentials',
      OPENEO_AUTH_PROVIDER_ID: 'CDSE',
      OPENEO_AUTH_CLIENT_ID: 'py-client',
      OPENEO_AUTH_CLIENT_SECRET: 'py-secret',
    });
    assert.deepEqual(store.x.auth, {
      type: 'oidc',
      providerId: 'CDSE',
      clientId: 'py-client',
      clientSecret: 'py-secret',
    });
  });

  it('names the variables to set when a backend has a URL but no way to log in', () => {
    assert.throws(
      () => credentialsFromEnv({ OPENEO_BACKEND_X_URL: 'https://x.example' }),
      /set OPENEO_BACKEND_X_AUTH=oidc/,
    );
    assert.throws(
      () => credentialsFromEnv({ OPENEO_BACKEND_X_URL: 'https://x.example', OPENEO_BACKEND_X_AUTH: 'magic' }),
      /use oidc, basic or token/,
    );
  });
});
