/**
 * A real STAC API for the tests: stac-fastapi-pgstac (PyPI) with its Transactions extension on,
 * over a throwaway PostgreSQL cluster with PostGIS (Debian's packages) whose schema pypgstac
 * installs (the cluster from postgres.ts). Everything runs on free loopback ports in a temporary
 * folder that `stop()` removes.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { findFreePorts } from '../../src/tools/devserver/free-port';
import { terminate } from './child-process';
import { findPostgres, startPostgres, type PostgresCluster } from './postgres';

const run = promisify(execFile);

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
  return findPostgres({ postgis: true });
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
  let postgres: PostgresCluster | undefined;
  let api: ChildProcess | undefined;
  const cleanUp = async () => {
    await terminate(api);
    await postgres?.stop();
  };
  try {
    postgres = await startPostgres({ postgis: true, name: 'stac-api' });
    const pgPort = postgres.port;
    await run(join(dirname(python), 'pypgstac'), ['migrate', '--dsn', postgres.url()], {
      maxBuffer: 16 * 1024 * 1024,
    });
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
