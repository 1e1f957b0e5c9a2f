/**
 * Where refresh tokens live between logins: our own private file, and (read only) the openEO
 * Python client's, so a user already logged in with the Python client needs no second login.
 * Both files have the Python client's layout:
 *
 *     { "<issuer without trailing slash>": { "<client id>": { "date": "…", "refresh_token": "…" } } }
 */
import { existsSync, statSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { writeFileAtomically } from '../../write-atomically';
import { BackendLoginError } from './errors';

type TokenFile = Record<string, Record<string, { date?: string; refresh_token?: string }>>;

/**
 * A refresh token found in a store, and which file it came from (for messages).
 *
 * @inline
 */
export interface StoredRefreshToken {
  /** The refresh token. */
  refreshToken: string;
  /** The token store file it was read from. */
  path: string;
}

/** `https://x/` and `https://x` are the same issuer, as in the Python client. */
function normalizeIssuer(issuer: string): string {
  return issuer.replace(/\/+$/, '') || '/';
}

/**
 * Our store: `$OPENEO_TEMPORAL_TOKEN_STORE`, else `$XDG_DATA_HOME/openeo-temporal/refresh-tokens.json`,
 * else `~/.local/share/openeo-temporal/refresh-tokens.json`.
 */
export function ourTokenStorePath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.OPENEO_TEMPORAL_TOKEN_STORE) return env.OPENEO_TEMPORAL_TOKEN_STORE;
  const dataHome = env.XDG_DATA_HOME || join(env.HOME || homedir(), '.local', 'share');
  return join(dataHome, 'openeo-temporal', 'refresh-tokens.json');
}

/**
 * The Python client's store, found as it finds it (`openeo.config.get_user_data_dir`): the first
 * existing folder of `$OPENEO_CONFIG_HOME`, `$XDG_DATA_HOME/openeo-python-client`,
 * `~/.local/share/openeo-python-client` (and on macOS `~/Library/openeo-python-client`), with
 * `refresh-tokens.json` in it.
 */
export function pythonTokenStorePath(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const home = env.HOME || homedir();
  const candidates = [
    env.OPENEO_CONFIG_HOME,
    env.XDG_DATA_HOME && join(env.XDG_DATA_HOME, 'openeo-python-client'),
    process.platform === 'darwin' ? join(home, 'Library', 'openeo-python-client') : undefined,
    join(home, '.local', 'share', 'openeo-python-client'),
  ].filter((dir): dir is string => Boolean(dir));
  const dir = candidates.find((d) => existsSync(d) && statSync(d).isDirectory());
  return dir === undefined ? undefined : join(dir, 'refresh-tokens.json');
}

/** Refuses a token file others can read, as the Python client does: chmod 600 fixes it. */
function checkPrivate(path: string): void {
  if (process.platform === 'win32') return;
  const mode = statSync(path).mode & 0o777;
  if (mode & 0o077)
    throw new BackendLoginError(`${path} could be read by others (mode ${mode.toString(8)}): run chmod 600 ${path}`);
}

async function readTokenFile(path: string): Promise<TokenFile> {
  if (!existsSync(path)) return {};
  checkPrivate(path);
  try {
    return JSON.parse(await readFile(path, 'utf8')) as TokenFile;
  } catch (err) {
    throw new Error(
      `cannot read the refresh-token store ${path}: ${err instanceof Error ? err.message : String(err)}`,
      { cause: err },
    );
  }
}

/**
 * The OIDC refresh tokens that `openeo-temporal login` saves and workers log in with, by issuer and
 * client: read from our private store, else from the openEO Python client's; new and rotated
 * tokens are saved in ours only.
 */
export class RefreshTokenStore {
  /** Our store's file (see {@link ourTokenStorePath}). */
  readonly path: string;
  /** The Python client's token file, when there is one to read (see {@link pythonTokenStorePath}). */
  readonly pythonPath: string | undefined;
  /** Saves of this process, one after another: each rewrites the whole file. */
  private saving: Promise<void> = Promise.resolve();

  constructor(env: NodeJS.ProcessEnv = process.env) {
    this.path = ourTokenStorePath(env);
    this.pythonPath = pythonTokenStorePath(env);
  }

  /** The refresh token for this issuer and client: ours first, then the Python client's. */
  async read(issuer: string, clientId: string): Promise<StoredRefreshToken | undefined> {
    for (const path of [this.path, this.pythonPath]) {
      if (!path) continue;
      const token = (await readTokenFile(path))[normalizeIssuer(issuer)]?.[clientId]?.refresh_token;
      if (typeof token === 'string' && token) return { refreshToken: token, path };
    }
    return undefined;
  }

  /** Saves a (new or rotated) refresh token in our store: a private file, replaced atomically. */
  save(issuer: string, clientId: string, refreshToken: string): Promise<void> {
    const next = this.saving.then(() => this.write(issuer, clientId, refreshToken));
    this.saving = next.catch(() => undefined);
    return next;
  }

  private async write(issuer: string, clientId: string, refreshToken: string): Promise<void> {
    const data = await readTokenFile(this.path);
    const key = normalizeIssuer(issuer);
    data[key] = { ...data[key], [clientId]: { date: new Date().toISOString(), refresh_token: refreshToken } };
    await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
    await writeFileAtomically(this.path, JSON.stringify(data, null, 2), { mode: 0o600 });
  }
}
