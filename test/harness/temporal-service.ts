/**
 * A self-hosted Temporal Service for the cluster tier, set up as an operator would set up a
 * production one: the Temporal server (not the CLI's dev server) on PostgreSQL, with SQL
 * visibility, its schemas installed by `temporal-sql-tool`, a config file and a dynamic config
 * file (both generated here, and readable: docs/operations.md points to them as the example),
 * namespaces registered with a retention, and the project's search attributes added through the
 * operator service. All four services (frontend, history, matching, worker) run in one process on
 * free loopback ports; `kill()` and `restart()` take the server away and bring it back on the same
 * ports and database, with the batches it held.
 */
import { Connection } from '@temporalio/client';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { DEV_SERVER_SEARCH_ATTRIBUTES, SEARCH_ATTRIBUTES } from '../../src/core/search-attributes';
import { findFreePorts } from '../../src/tools/devserver/free-port';
import { ensureNamespaceSetup, isServerHealthy } from '../../src/tools/devserver/namespace-setup';
import { terminate } from './child-process';
import { startPostgres, type PostgresCluster } from './postgres';
import { ensureTemporalServer, TEMPORAL_SERVER_VERSION, type TemporalServerBuild } from './temporal-server-build';

const run = promisify(execFile);
const HOST = '127.0.0.1';

/** How long a namespace's closed workflows (this project's job records) are kept. */
export const CLUSTER_RETENTION_HOURS = 72;

/** The database role the server connects as, as on a production PostgreSQL. */
const DB_ROLE = { user: 'temporal', password: 'temporal' };

/** A dynamic config key this project sets, with its value and why (written above it in the file). */
export interface DynamicConfigSetting {
  key: string;
  value: unknown;
  why: string;
}

/** Dynamic config this project wants from a Temporal Service; docs/operations.md lists the same. */
export const CLUSTER_DYNAMIC_CONFIG: readonly DynamicConfigSetting[] = [
  {
    key: 'frontend.enableUpdateWorkflowExecution',
    value: true,
    why:
      'Every batch control (pause, resume, parallel jobs, budget, added tiles) and the quota leases are ' +
      'workflow updates. On by default in server 1.29; written here so that it is never turned off unseen.',
  },
  {
    key: 'system.enableActivityEagerExecution',
    value: true,
    why:
      "A tile's submit, wait and download start on the worker that scheduled them when it has a free slot, " +
      'instead of going through the task queue (the dev server of the other tiers has it on too).',
  },
  {
    key: 'frontend.namespaceRPS.visibility',
    value: 100,
    why:
      'Visibility calls per second and namespace (default 10): the map, `status`, exports and retry-failed ' +
      'list tile workflows; the dev server allows 100 too.',
  },
];

export interface TemporalServiceOptions {
  /** Namespaces to register, each with the project's search attributes. @default ['default'] */
  namespaces?: string[];
  /** Retention of each namespace. @default CLUSTER_RETENTION_HOURS */
  retentionHours?: number;
  /** Progress lines (a first build prints many). @default ignore them */
  log?: (line: string) => void;
  /** How long the server may take to answer after a start or restart. @default 180_000 */
  startTimeoutMs?: number;
}

export interface TemporalService {
  /** The frontend's gRPC address, e.g. `127.0.0.1:41234`. */
  address: string;
  namespaces: string[];
  /** The folder holding `config/` (the generated server and dynamic config) and the server's log. */
  dir: string;
  /** The server's log (all services, level warn). */
  logFile: string;
  /** Ends the server with SIGKILL: no graceful shutdown, as when its machine dies. */
  kill(): Promise<void>;
  /** Starts the server again on the same ports and database; resolves once its namespaces answer. */
  restart(): Promise<void>;
  /** Stops the server and PostgreSQL, and removes every file. */
  stop(): Promise<void>;
}

interface Ports {
  frontend: number;
  frontendHttp: number;
  frontendMembership: number;
  history: number;
  historyMembership: number;
  matching: number;
  matchingMembership: number;
  worker: number;
  workerMembership: number;
}

/**
 * Free ports below 32768: the server records its members' ports in PostgreSQL as `smallint`
 * (table cluster_membership), and refuses to start on a higher membership port. Candidates are
 * drawn at random, so that two test processes starting at once rarely try the same ones.
 */
async function lowFreePorts(count: number): Promise<number[]> {
  // get-port is published as an ES module only; from CommonJS it can only be loaded with import().
  const { default: getPort } = await import('get-port');
  const ports: number[] = [];
  while (ports.length < count) {
    const candidates = Array.from({ length: 20 }, () => 20_000 + Math.floor(Math.random() * 12_000));
    const port = await getPort({ host: HOST, port: candidates });
    if (port < 32_768 && !ports.includes(port)) ports.push(port);
  }
  return ports;
}

async function pickPorts(): Promise<Ports> {
  const [frontend, frontendHttp, history, matching, worker] = (await findFreePorts(5, HOST)) as [
    number,
    number,
    number,
    number,
    number,
  ];
  const [frontendMembership, historyMembership, matchingMembership, workerMembership] = (await lowFreePorts(4)) as [
    number,
    number,
    number,
    number,
  ];
  return {
    frontend,
    frontendHttp,
    frontendMembership,
    history,
    historyMembership,
    matching,
    matchingMembership,
    worker,
    workerMembership,
  };
}

function datastore(database: string, postgres: PostgresCluster, maxConns: number): string {
  return `      sql:
        pluginName: postgres12
        databaseName: ${database}
        connectAddr: "${HOST}:${postgres.port}"
        connectProtocol: tcp
        user: ${DB_ROLE.user}
        password: ${DB_ROLE.password}
        maxConns: ${maxConns}
        maxIdleConns: ${maxConns}
        maxConnLifetime: 1h`;
}

function service(grpc: number, membership: number, http?: number): string {
  const lines = [`      grpcPort: ${grpc}`, `      membershipPort: ${membership}`, '      bindOnLocalHost: true'];
  if (http !== undefined) lines.push(`      httpPort: ${http}`);
  return `    rpc:\n${lines.join('\n')}`;
}

/** The server's config: the shape of the server's own `development-postgres12.yaml`, trimmed. */
export function serverConfig(postgres: PostgresCluster, ports: Ports, dynamicConfigFile: string): string {
  return `# Temporal server ${TEMPORAL_SERVER_VERSION}: frontend, history, matching and worker in one process,
# on PostgreSQL (plugin postgres12) for both persistence and visibility (SQL visibility: the
# search attributes of workflows live in the temporal_visibility database, no Elasticsearch).
# Written by test/harness/temporal-service.ts for the cluster tier; see docs/operations.md.
log:
  stdout: true
  level: warn

persistence:
  defaultStore: postgres-default
  visibilityStore: postgres-visibility
  # Fixed for the life of a cluster; 4 is plenty for a test, production sizes it for its load (512+).
  numHistoryShards: 4
  datastores:
    postgres-default:
${datastore('temporal', postgres, 20)}
    postgres-visibility:
${datastore('temporal_visibility', postgres, 10)}

global:
  membership:
    maxJoinDuration: 30s
    broadcastAddress: "${HOST}"

services:
  frontend:
${service(ports.frontend, ports.frontendMembership, ports.frontendHttp)}
  history:
${service(ports.history, ports.historyMembership)}
  matching:
${service(ports.matching, ports.matchingMembership)}
  worker:
${service(ports.worker, ports.workerMembership)}

clusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: active
  currentClusterName: active
  clusterInformation:
    active:
      enabled: true
      initialFailoverVersion: 1
      rpcName: frontend
      rpcAddress: "${HOST}:${ports.frontend}"

dcRedirectionPolicy:
  policy: noop

dynamicConfigClient:
  filepath: "${dynamicConfigFile}"
  pollInterval: 10s
`;
}

/** The dynamic config file: each key with one unconstrained value, and why it is set. */
export function dynamicConfigFile(settings: readonly DynamicConfigSetting[] = CLUSTER_DYNAMIC_CONFIG): string {
  const entries = settings.map(({ key, value, why }) => {
    const comment = wrap(why, 96).map((line) => `# ${line}`);
    return [...comment, `${key}:`, `  - value: ${JSON.stringify(value)}`].join('\n');
  });
  const heading = "# Dynamic config of the cluster tier's Temporal server (test/harness/temporal-service.ts).";
  return `${heading}\n\n${entries.join('\n\n')}\n`;
}

/** Words of `text` in lines of at most `width` characters. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  for (const word of text.split(' ')) {
    const last = lines.at(-1);
    if (last !== undefined && last.length + word.length + 1 <= width) lines[lines.length - 1] = `${last} ${word}`;
    else lines.push(word);
  }
  return lines;
}

/** `temporal-sql-tool` against a database of the cluster, as the `temporal` role. */
function sqlTool(build: TemporalServerBuild, postgres: PostgresCluster, database: string, args: string[]) {
  const connection = ['--plugin', 'postgres12', '--endpoint', HOST, '--port', String(postgres.port)];
  const credentials = ['--user', DB_ROLE.user, '--password', DB_ROLE.password, '--database', database];
  return run(build.sqlTool, [...connection, ...credentials, ...args]);
}

/**
 * The two databases and their schemas, as an operator creates them: create the database, set up
 * the versioning tables (`setup-schema -v 0.0`), then apply every schema version (`update-schema`).
 */
async function createDatabases(build: TemporalServerBuild, postgres: PostgresCluster): Promise<void> {
  await postgres.sql(`CREATE ROLE ${DB_ROLE.user} LOGIN CREATEDB PASSWORD '${DB_ROLE.password}'`);
  for (const [database, schemaDir] of [
    ['temporal', build.schema],
    ['temporal_visibility', build.visibilitySchema],
  ] as const) {
    await sqlTool(build, postgres, database, ['create-database']);
    await sqlTool(build, postgres, database, ['setup-schema', '-v', '0.0']);
    await sqlTool(build, postgres, database, ['update-schema', '-d', schemaDir]);
  }
}

async function logTail(logFile: string): Promise<string> {
  const text = await readFile(logFile, 'utf8').catch(() => '');
  return text.slice(-6_000);
}

/**
 * A visibility query that names every search attribute: it answers only once the frontend maps
 * them to the namespace's columns (SQL visibility keeps them as namespace aliases, which each
 * service's namespace cache picks up within seconds).
 */
async function searchAttributesUsable(connection: Connection, namespace: string): Promise<boolean> {
  const query = SEARCH_ATTRIBUTES.map((key) => `${key.name} = 'probe'`).join(' AND ');
  try {
    await connection.workflowService.listWorkflowExecutions({ namespace, query, pageSize: 1 });
    return true;
  } catch {
    return false;
  }
}

/** Registers the namespaces (retention, search attributes) and waits until they can be used. */
async function setUpNamespaces(address: string, namespaces: string[], retentionHours: number, deadline: number) {
  const connection = await Connection.connect({ address });
  try {
    for (const namespace of namespaces) {
      // Retried: right after start the frontend answers before history and matching have joined.
      for (;;) {
        try {
          await ensureNamespaceSetup(connection, {
            namespace,
            retentionDays: retentionHours / 24,
            searchAttributes: DEV_SERVER_SEARCH_ATTRIBUTES,
          });
          break;
        } catch (err) {
          if (Date.now() > deadline) throw err;
          await sleep(500);
        }
      }
    }
    await untilNamespacesAnswer(connection, namespaces, deadline);
  } finally {
    await connection.close();
  }
}

async function untilNamespacesAnswer(connection: Connection, namespaces: string[], deadline: number) {
  for (const namespace of namespaces) {
    while (!(await searchAttributesUsable(connection, namespace))) {
      if (Date.now() > deadline) throw new Error(`namespace ${namespace} did not answer visibility queries`);
      await sleep(500);
    }
  }
}

/** Starts PostgreSQL, sets up the databases, generates the config and starts the server. */
export async function startTemporalService(options: TemporalServiceOptions = {}): Promise<TemporalService> {
  const log = options.log ?? (() => {});
  const namespaces = options.namespaces ?? ['default'];
  const retentionHours = options.retentionHours ?? CLUSTER_RETENTION_HOURS;
  const startTimeoutMs = options.startTimeoutMs ?? 180_000;
  const build = await ensureTemporalServer({ log });
  const dir = await mkdtemp(join(tmpdir(), 'temporal-service-'));
  const logFile = join(dir, 'temporal-server.log');
  let postgres: PostgresCluster | undefined;
  let server: ChildProcess | undefined;
  const stop = async () => {
    await terminate(server, 15_000);
    await postgres?.stop();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    postgres = await startPostgres({ name: 'temporal-postgres' });
    await createDatabases(build, postgres);
    const ports = await pickPorts();
    const configDir = join(dir, 'config');
    const dynamicFile = join(configDir, 'dynamicconfig.yaml');
    await mkdir(configDir);
    await writeFile(join(configDir, 'cluster.yaml'), serverConfig(postgres, ports, dynamicFile));
    await writeFile(dynamicFile, dynamicConfigFile());
    const address = `${HOST}:${ports.frontend}`;

    const start = async () => {
      const fd = openSync(logFile, 'a');
      try {
        server = spawn(
          build.server,
          ['--root', dir, '--config', 'config', '--env', 'cluster', '--allow-no-auth', 'start'],
          {
            stdio: ['ignore', fd, fd],
          },
        );
      } finally {
        closeSync(fd);
      }
      const deadline = Date.now() + startTimeoutMs;
      while (!(await isServerHealthy(address, 1_000))) {
        if (server.exitCode !== null || server.signalCode !== null)
          throw new Error(
            `temporal-server exited (${server.exitCode ?? server.signalCode}):\n${await logTail(logFile)}`,
          );
        if (Date.now() > deadline)
          throw new Error(`temporal-server not healthy at ${address}:\n${await logTail(logFile)}`);
        await sleep(250);
      }
      return deadline;
    };

    const deadline = await start();
    log(`Temporal server ${TEMPORAL_SERVER_VERSION} answers at ${address} (config: ${configDir})`);
    await setUpNamespaces(address, namespaces, retentionHours, deadline);
    return {
      address,
      namespaces,
      dir,
      logFile,
      kill: async () => {
        const child = server;
        if (!child || child.exitCode !== null || child.signalCode !== null) return;
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGKILL');
        await exited;
      },
      restart: async () => {
        await terminate(server, 15_000);
        const restartDeadline = await start();
        const connection = await Connection.connect({ address });
        try {
          await untilNamespacesAnswer(connection, namespaces, restartDeadline);
        } finally {
          await connection.close();
        }
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
