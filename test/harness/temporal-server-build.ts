/**
 * The Temporal server itself (not the CLI's dev server) for the cluster tier: `temporal-server`
 * and its schema tool `temporal-sql-tool`, built from Go modules once into the tool cache beside
 * the CLI, with the PostgreSQL schema files of the same release. The version is the one the
 * pinned CLI embeds, so the cluster tier runs the server the integration tier runs, on PostgreSQL.
 *
 *   ~/.cache/openeo-temporal/temporal-server/v1.29.1/bin/temporal-server
 *   ~/.cache/openeo-temporal/temporal-server/v1.29.1/bin/temporal-sql-tool
 *   ~/.cache/openeo-temporal/temporal-server/v1.29.1/schema/postgresql/v12/{temporal,visibility}/versioned
 *
 * `node dist/test/harness/temporal-server-build.js` builds it ahead (`npm run test:cluster` does).
 */
import { accessSync, constants as fsConstants, existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { withFileLock } from '../../src/tools/devserver/file-lock';
import { runStreaming, temporalCacheDir } from '../../src/tools/devserver/temporal-cli';

/** The server release that Temporal CLI v1.5.1 (the dev server of the other tiers) embeds. */
export const TEMPORAL_SERVER_VERSION = 'v1.29.1';
export const TEMPORAL_SERVER_MODULE = 'go.temporal.io/server';

/** Where the schema files sit inside the server module (and inside the cache folder). */
const SCHEMA_PATH = join('schema', 'postgresql', 'v12');

export interface TemporalServerBuild {
  /** `temporal-server` (the module's `cmd/server`). */
  server: string;
  /** `temporal-sql-tool` (the module's `cmd/tools/sql`). */
  sqlTool: string;
  /** `schema/postgresql/v12/temporal/versioned`: the history database's schema versions. */
  schema: string;
  /** `schema/postgresql/v12/visibility/versioned`: the SQL visibility database's schema versions. */
  visibilitySchema: string;
}

/** The build's folder in the tool cache: one folder per version, so a new version builds anew. */
export function temporalServerDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(temporalCacheDir(env), 'temporal-server', TEMPORAL_SERVER_VERSION);
}

function buildIn(dir: string): TemporalServerBuild {
  return {
    server: join(dir, 'bin', 'temporal-server'),
    sqlTool: join(dir, 'bin', 'temporal-sql-tool'),
    schema: join(dir, SCHEMA_PATH, 'temporal', 'versioned'),
    visibilitySchema: join(dir, SCHEMA_PATH, 'visibility', 'versioned'),
  };
}

function isComplete(build: TemporalServerBuild): boolean {
  try {
    accessSync(build.server, fsConstants.X_OK);
    accessSync(build.sqlTool, fsConstants.X_OK);
  } catch {
    return false;
  }
  return existsSync(build.schema) && existsSync(build.visibilitySchema);
}

/** The cached build, or undefined when there is none yet. */
export function findTemporalServer(env: NodeJS.ProcessEnv = process.env): TemporalServerBuild | undefined {
  const build = buildIn(temporalServerDir(env));
  return isComplete(build) ? build : undefined;
}

/**
 * The cached build, made first when missing (`go install` of both commands: 6 minutes cold on
 * two busy cores; prebuilt binaries are never downloaded). Concurrent callers build once.
 */
export async function ensureTemporalServer(
  options: { log?: (line: string) => void; env?: NodeJS.ProcessEnv } = {},
): Promise<TemporalServerBuild> {
  const env = options.env ?? process.env;
  const log = options.log ?? (() => {});
  const found = findTemporalServer(env);
  if (found) return found;
  const dir = temporalServerDir(env);
  await mkdir(dirname(dir), { recursive: true });
  // The lock sits beside the version's folder, which the build replaces whole.
  return withFileLock(`${dir}.build.lock`, async () => findTemporalServer(env) ?? buildTemporalServer(dir, env, log), {
    onWait: () => log('another process is building the Temporal server; waiting for it'),
  });
}

async function mustSucceed(
  what: string,
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  log: (line: string) => void,
) {
  log(`$ ${command} ${args.join(' ')}`);
  const { exitCode, tail } = await runStreaming(command, args, env, log);
  if (exitCode !== 0) throw new Error(`${what} failed (exit ${exitCode}):\n${tail.join('\n')}`);
}

/** The module's folder in Go's module cache (downloaded through the module proxy when missing). */
async function moduleDir(env: NodeJS.ProcessEnv): Promise<string> {
  let json = '';
  const { exitCode, tail } = await runStreaming(
    'go',
    ['mod', 'download', '-json', `${TEMPORAL_SERVER_MODULE}@${TEMPORAL_SERVER_VERSION}`],
    env,
    (line) => (json += `${line}\n`),
  );
  if (exitCode !== 0) throw new Error(`go mod download ${TEMPORAL_SERVER_MODULE} failed:\n${tail.join('\n')}`);
  return (JSON.parse(json) as { Dir: string }).Dir;
}

async function buildTemporalServer(
  dir: string,
  env: NodeJS.ProcessEnv,
  log: (line: string) => void,
): Promise<TemporalServerBuild> {
  log(`building the Temporal server ${TEMPORAL_SERVER_VERSION} from Go modules, a few minutes, once`);
  const startedAt = Date.now();
  // Built into a scratch folder and renamed at the end: an interrupted build leaves nothing half made.
  const staging = await mkdtemp(join(tmpdir(), 'temporal-server-build-'));
  try {
    const module = await moduleDir(env);
    await cp(join(module, SCHEMA_PATH), join(staging, SCHEMA_PATH), { recursive: true });
    // Go's module cache is read-only; the copy must not be, or a later rebuild could not replace it.
    await mustSucceed('chmod of the schema files', 'chmod', ['-R', 'u+w', staging], env, log);
    const packages = ['cmd/server', 'cmd/tools/sql'].map(
      (p) => `${TEMPORAL_SERVER_MODULE}/${p}@${TEMPORAL_SERVER_VERSION}`,
    );
    await mustSucceed(
      'go install of the Temporal server',
      'go',
      ['install', ...packages],
      {
        ...env,
        GOBIN: join(staging, 'bin'),
      },
      log,
    );
    await rename(join(staging, 'bin', 'server'), join(staging, 'bin', 'temporal-server'));
    await rename(join(staging, 'bin', 'sql'), join(staging, 'bin', 'temporal-sql-tool'));
    // The cache may sit on another file system than the scratch folder: copy beside it, then swap in.
    await rm(`${dir}.new`, { recursive: true, force: true });
    await cp(staging, `${dir}.new`, { recursive: true });
    await rm(dir, { recursive: true, force: true });
    await rename(`${dir}.new`, dir);
    log(`built the Temporal server into ${dir} in ${Math.round((Date.now() - startedAt) / 1000)} s`);
    return buildIn(dir);
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

if (require.main === module) {
  ensureTemporalServer({ log: (line) => console.log(line) }).then(
    (build) => console.log(`Temporal server ${TEMPORAL_SERVER_VERSION}: ${build.server}`),
    (err: unknown) => {
      console.error(err instanceof Error ? err.message : err);
      process.exitCode = 1;
    },
  );
}
