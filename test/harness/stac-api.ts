/**
 * A real STAC API for the tests: stac-fastapi-pgstac (PyPI) with its Transactions extension on,
 * over a throwaway PostgreSQL cluster with PostGIS (Debian's packages) whose schema pypgstac
 * installs. Everything runs on free loopback ports in a temporary folder that `stop()` removes.
 * PostgreSQL refuses to run as root, so the cluster belongs to the `postgres` system user
 * (`runuser`) when the tests run as root, as they do in CI.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { findFreePorts } from '../../src/tools/devserver/free-port';
import { terminate } from './child-process';

const run = promisify(execFile);
const POSTGRES_ROOT = '/usr/lib/postgresql';

export interface StacApiServer {
  /** The landing page, e.g. `http://127.0.0.1:41234`. */
  url: string;
  /** Stops the API process, keeping its database: an outage, until `bringBack`. */
  takeDown(): Promise<void>;
  /** Serves the API again at the same URL, with what it held. */
  bringBack(): Promise<void>;
  stop(): Promise<void>;
}

/** The bin folder of the newest PostgreSQL that has PostGIS installed, or why there is none. */
export function postgresWithPostgis(): { bin: string } | { missing: string } {
  const versions = existsSync(POSTGRES_ROOT) ? readdirSync(POSTGRES_ROOT) : [];
  for (const version of versions.sort((a, b) => Number(b) - Number(a))) {
    if (existsSync(`/usr/share/postgresql/${version}/extension/postgis.control`))
      return { bin: join(POSTGRES_ROOT, version, 'bin') };
  }
  return {
    missing: `no PostgreSQL with PostGIS under ${POSTGRES_ROOT}: apt-get install postgresql-15-postgis-3 (.ci/run does)`,
  };
}

/** Runs a PostgreSQL tool as the `postgres` user when we are root (it refuses root), else as ourselves. */
function asPostgres(tool: string, args: string[]): Promise<{ stdout: string }> {
  if (userInfo().uid !== 0) return run(tool, args);
  return run('runuser', ['-u', 'postgres', '--', tool, ...args]);
}

async function startCluster(bin: string, dir: string, port: number): Promise<void> {
  if (userInfo().uid === 0) {
    const { stdout } = await run('id', ['-u', 'postgres']);
    const { stdout: gid } = await run('id', ['-g', 'postgres']);
    await chown(dir, Number(stdout.trim()), Number(gid.trim()));
  }
  const data = join(dir, 'data');
  await asPostgres(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8']);
  const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off`;
  await asPostgres(join(bin, 'pg_ctl'), [
    '-D',
    data,
    '-l',
    join(dir, 'postgres.log'),
    '-w',
    '-t',
    '120',
    '-o',
    options,
    'start',
  ]);
}

async function stopCluster(bin: string, dir: string): Promise<void> {
  await asPostgres(join(bin, 'pg_ctl'), ['-D', join(dir, 'data'), '-m', 'fast', '-w', 'stop']).catch(() => undefined);
}

/** Waits until the API's landing page answers, or the process dies, or time runs out. */
async function waitForApi(url: string, api: ChildProcess, output: () => string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (api.exitCode !== null) throw new Error(`stac-fastapi-pgstac exited with ${api.exitCode}:\n${output()}`);
    const ok = await fetch(url, { signal: AbortSignal.timeout(5_000) }).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  throw new Error(`stac-fastapi-pgstac did not answer at ${url} within ${timeoutMs / 1000} s:\n${output()}`);
}

/**
 * Starts PostgreSQL, installs the pgstac schema (`pypgstac migrate`) and serves the API with
 * uvicorn. `python` is the STAC venv's (see `stac-python.ts`).
 */
export async function startStacApi(python: string, options: { startTimeoutMs?: number } = {}): Promise<StacApiServer> {
  const postgres = postgresWithPostgis();
  if ('missing' in postgres) throw new Error(postgres.missing);
  const dir = await mkdtemp(join(tmpdir(), 'stac-api-'));
  const [pgPort] = await findFreePorts(1);
  let api: ChildProcess | undefined;
  const cleanUp = async () => {
    await terminate(api);
    await stopCluster(postgres.bin, dir);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await startCluster(postgres.bin, dir, pgPort);
    const dsn = `postgresql://postgres@127.0.0.1:${pgPort}/postgres`;
    await run(join(dirname(python), 'pypgstac'), ['migrate', '--dsn', dsn], { maxBuffer: 16 * 1024 * 1024 });
    const [apiPort] = await findFreePorts(1);
    const env = {
      ...process.env,
      PGUSER: 'postgres',
      // The cluster trusts loopback connections; the setting is required all the same.
      PGPASSWORD: 'unused',
      PGHOST: '127.0.0.1',
      PGPORT: String(pgPort),
      PGDATABASE: 'postgres',
      ENABLE_TRANSACTIONS_EXTENSIONS: 'true',
    };
    const url = `http://127.0.0.1:${apiPort}`;
    const serve = async () => {
      let output = '';
      api = spawn(
        python,
        [
          '-m',
          'uvicorn',
          '--factory',
          'stac_fastapi.pgstac.app:create_app',
          '--host',
          '127.0.0.1',
          '--port',
          String(apiPort),
          '--log-level',
          'warning',
        ],
        { env, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-8_000));
      api.stdout?.on('data', keep);
      api.stderr?.on('data', keep);
      await waitForApi(url, api, () => output, options.startTimeoutMs ?? 120_000);
    };
    await serve();
    return { url, takeDown: () => terminate(api), bringBack: serve, stop: cleanUp };
  } catch (err) {
    await cleanUp();
    throw err;
  }
}
