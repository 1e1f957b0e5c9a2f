/**
 * A throwaway PostgreSQL cluster for the tests (Debian's packages): `initdb` in a temporary
 * folder, served on a free loopback port with durability switched off (a test's data need not
 * survive a power cut), trusting every local connection. `stop()` stops it and removes the folder.
 * PostgreSQL refuses to run as root, so the cluster belongs to the `postgres` system user
 * (`runuser`) when the tests run as root, as they do in CI. Used by the STAC API (with PostGIS)
 * and the self-hosted Temporal Service.
 */
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { findFreePorts } from '../../src/tools/devserver/free-port';

const run = promisify(execFile);
const POSTGRES_ROOT = '/usr/lib/postgresql';

export interface PostgresCluster {
  host: '127.0.0.1';
  port: number;
  /** The cluster's folder (data, log, socket). */
  dir: string;
  /** The superuser, `postgres`, who may connect without a password. */
  user: 'postgres';
  /** A connection URL for a database of the cluster. */
  url(database?: string): string;
  /** Runs SQL with psql as the superuser; resolves with what it printed. */
  sql(statement: string, database?: string): Promise<string>;
  /** Stops the server and removes its folder. */
  stop(): Promise<void>;
}

/**
 * The bin folder of the newest PostgreSQL installed (with PostGIS, when asked for), or why
 * there is none.
 */
export function findPostgres(options: { postgis?: boolean } = {}): { bin: string } | { missing: string } {
  const versions = existsSync(POSTGRES_ROOT) ? readdirSync(POSTGRES_ROOT) : [];
  for (const version of versions.sort((a, b) => Number(b) - Number(a))) {
    const bin = join(POSTGRES_ROOT, version, 'bin');
    if (!existsSync(join(bin, 'initdb'))) continue;
    if (options.postgis && !existsSync(`/usr/share/postgresql/${version}/extension/postgis.control`)) continue;
    return { bin };
  }
  return {
    missing: options.postgis
      ? `no PostgreSQL with PostGIS under ${POSTGRES_ROOT}: apt-get install postgresql-15-postgis-3 (.ci/run does)`
      : `no PostgreSQL under ${POSTGRES_ROOT}: apt-get install postgresql (.ci/run installs postgresql-15-postgis-3)`,
  };
}

/** Runs a PostgreSQL tool as the `postgres` user when we are root (it refuses root), else as ourselves. */
function asPostgres(tool: string, args: string[]): Promise<{ stdout: string }> {
  if (userInfo().uid !== 0) return run(tool, args);
  return run('runuser', ['-u', 'postgres', '--', tool, ...args]);
}

/** Hands the folder to the `postgres` user when we are root, so that initdb may write into it. */
async function giveToPostgres(dir: string): Promise<void> {
  if (userInfo().uid !== 0) return;
  const { stdout: uid } = await run('id', ['-u', 'postgres']);
  const { stdout: gid } = await run('id', ['-g', 'postgres']);
  await chown(dir, Number(uid.trim()), Number(gid.trim()));
}

/** Creates and starts a cluster of its own, in a new temporary folder named after `name`. */
export async function startPostgres(options: { postgis?: boolean; name?: string } = {}): Promise<PostgresCluster> {
  const found = findPostgres(options);
  if ('missing' in found) throw new Error(found.missing);
  const { bin } = found;
  const dir = await mkdtemp(join(tmpdir(), `${options.name ?? 'postgres'}-`));
  const data = join(dir, 'data');
  const [port] = (await findFreePorts(1)) as [number];
  const stop = async () => {
    await asPostgres(join(bin, 'pg_ctl'), ['-D', data, '-m', 'fast', '-w', 'stop']).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await giveToPostgres(dir);
    await asPostgres(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8']);
    // Durability off: a test's database never outlives the test, and fsyncs are slow on a busy disk.
    const settings = [
      `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1`,
      '-c fsync=off -c synchronous_commit=off -c full_page_writes=off',
    ].join(' ');
    const log = join(dir, 'postgres.log');
    await asPostgres(join(bin, 'pg_ctl'), ['-D', data, '-l', log, '-w', '-t', '120', '-o', settings, 'start']);
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    host: '127.0.0.1',
    port,
    dir,
    user: 'postgres',
    url: (database = 'postgres') => `postgresql://postgres@127.0.0.1:${port}/${database}`,
    sql: async (statement, database = 'postgres') => {
      const args = ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-d', database, '-v', 'ON_ERROR_STOP=1'];
      return (await run(join(bin, 'psql'), [...args, '-Atc', statement])).stdout;
    },
    stop,
  };
}
