import { Connection } from '@temporalio/client';
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, writeSync } from 'node:fs';
import { mkdir, open, stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { DevServer } from './dev-server-handle';
import { withFileLock } from './file-lock';
import { findFreePorts } from './free-port';
import { type DevSearchAttributes, ensureNamespaceSetup, isServerHealthy } from './namespace-setup';
import {
  type DevServerState,
  devServerFiles,
  isDevServerProcess,
  readDevServerState,
  writeDevServerState,
} from './state-file';
import { ensureTemporalCli } from './temporal-cli';

/** Interface the dev server binds to; loopback only, since the dev server has no authentication. */
const HOST = '127.0.0.1';

/** Options for {@link startDevServer} and {@link startOrReuseDevServer}. */
export interface DevServerOptions {
  /** Holds `temporal.sqlite` (state survives restarts), `temporal.log` and `devserver.json`. Created if missing. */
  dataDir: string;
  /** Namespace to create and configure. @default 'default' */
  namespace?: string;
  /** gRPC frontend port. @default a free port */
  port?: number;
  /** Serve the web UI. @default true */
  ui?: boolean;
  /** Web UI port, when `ui` is on. @default a free port */
  uiPort?: number;
  /** Custom search attributes to register (name → type). @default {} */
  searchAttributes?: DevSearchAttributes;
  /** Retention of closed workflow histories, which are this project's job records. @default 30 */
  retentionDays?: number;
  /**
   * Dynamic config overrides, passed as `--dynamic-config-value KEY=<JSON>`, over
   * {@link DEV_SERVER_DYNAMIC_CONFIG}. @default {}
   */
  dynamicConfig?: Readonly<Record<string, unknown>>;
  /** Further arguments appended to `temporal server start-dev`. @default [] */
  extraArgs?: readonly string[];
  /**
   * Let the server outlive this process (for `openeo-temporal dev` in the background).
   * When false, the server is sent SIGTERM when this process exits.
   * @default false
   */
  detached?: boolean;
  /** Give up when the server is not healthy after this long. @default 60_000 */
  startTimeoutMs?: number;
  /** Time `stop()` waits after SIGTERM before it sends SIGKILL. @default 10_000 */
  stopGraceMs?: number;
  /** `temporal` binary to run. @default the result of ensureTemporalCli() */
  cliPath?: string;
  /** Progress messages (including a first-time CLI build). @default ignore them */
  log?: (line: string) => void;
}

async function readLogTail(logFile: string, fromOffset: number, maxBytes = 4_000): Promise<string> {
  try {
    const { size } = await stat(logFile);
    const start = Math.max(fromOffset, size - maxBytes);
    const handle = await open(logFile, 'r');
    try {
      const buffer = Buffer.alloc(size - start);
      await handle.read(buffer, 0, buffer.length, start);
      return buffer.toString('utf8').trim();
    } finally {
      await handle.close();
    }
  } catch {
    return '';
  }
}

async function pickPorts(options: DevServerOptions): Promise<{ port: number; uiPort?: number }> {
  // Two distinct free ports; the second is the UI's unless a given gRPC port happens to be it.
  const [first, second] = (await findFreePorts(2, HOST)) as [number, number];
  const port = options.port ?? first;
  if (options.ui === false) return { port };
  return { port, uiPort: options.uiPort ?? (second === port ? first : second) };
}

/**
 * What the dev server runs with unless told otherwise. Eager activity execution: an activity a
 * workflow task schedules goes back to that worker in the task's reply, when it has a free slot,
 * instead of through the task queue. A tile's submit, download and waits start at once (10–90 ms
 * sooner each here), and the server matches fewer tasks. Any cluster can turn it on with the same key.
 */
export const DEV_SERVER_DYNAMIC_CONFIG: Readonly<Record<string, unknown>> = {
  'system.enableActivityEagerExecution': true,
};

function startDevArgs(options: DevServerOptions, dbFile: string, namespace: string, port: number, uiPort?: number) {
  const args = ['server', 'start-dev', '--db-filename', dbFile, '--ip', HOST, '--port', String(port)];
  args.push(...(uiPort === undefined ? ['--headless'] : ['--ui-port', String(uiPort)]));
  args.push('--namespace', namespace, '--log-level', 'warn');
  for (const [name, type] of Object.entries(options.searchAttributes ?? {})) {
    args.push('--search-attribute', `${name}=${type}`);
  }
  for (const [key, value] of Object.entries({ ...DEV_SERVER_DYNAMIC_CONFIG, ...options.dynamicConfig })) {
    args.push('--dynamic-config-value', `${key}=${JSON.stringify(value)}`);
  }
  return [...args, ...(options.extraArgs ?? [])];
}

/**
 * Spawns `temporal server start-dev` on a SQLite file in `dataDir`, waits until it is healthy,
 * configures the namespace (retention, search attributes) and records it in `devserver.json`.
 * @throws when a dev server is already running on the same data directory (two servers must
 *   not share one SQLite file), or when the server does not become healthy in time; the error
 *   then contains the end of `temporal.log`.
 */
export async function startDevServer(options: DevServerOptions): Promise<DevServer> {
  const files = devServerFiles(options.dataDir);
  const namespace = options.namespace ?? 'default';
  const startTimeoutMs = options.startTimeoutMs ?? 60_000;
  const log = options.log ?? (() => {});
  await mkdir(files.dataDir, { recursive: true });

  const recorded = await readDevServerState(files.dataDir);
  if (recorded && isDevServerProcess(recorded.pid)) {
    throw new Error(
      `A Temporal dev server (pid ${recorded.pid}, ${recorded.address}) is already running on ${files.dataDir}. ` +
        `Reuse it (startOrReuseDevServer / \`openeo-temporal dev\`) or stop it first (kill ${recorded.pid}).`,
    );
  }

  const cliPath = options.cliPath ?? (await ensureTemporalCli({ log }));
  const { port, uiPort } = await pickPorts(options);
  const args = startDevArgs(options, files.dbFile, namespace, port, uiPort);
  const address = `${HOST}:${port}`;

  // The server writes straight into the log file rather than through pipes, so that a
  // detached server keeps logging after this process is gone.
  const logOffset = await stat(files.logFile).then(
    (s) => s.size,
    () => 0,
  );
  const logFd = openSync(files.logFile, 'a');
  writeSync(logFd, `\n--- ${new Date().toISOString()} ${cliPath} ${args.join(' ')}\n`);
  let child: ChildProcess;
  try {
    child = spawn(cliPath, args, { detached: options.detached ?? false, stdio: ['ignore', logFd, logFd] });
  } finally {
    closeSync(logFd); // the child has its own copy
  }
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
  if (child.pid === undefined) {
    throw new Error(
      `Could not run ${cliPath}: ${(await spawnError).message}. Set TEMPORAL_CLI_PATH to a working binary.`,
    );
  }
  if (options.detached) child.unref();
  else stopWithThisProcess(child);
  log(`starting Temporal dev server on ${address} (log: ${files.logFile})`);

  const uiUrl = uiPort === undefined ? undefined : `http://${HOST}:${uiPort}`;
  const server = new DevServer(
    { address, namespace, pid: child.pid, dataDir: files.dataDir, uiUrl, reused: false },
    options.stopGraceMs,
    child,
  );
  try {
    const failure = await Promise.race([waitUntilHealthy(server, startTimeoutMs), spawnError]);
    if (failure) throw failure;
    await configureNamespace(address, namespace, options);
  } catch (error) {
    const tail = await readLogTail(files.logFile, logOffset);
    if (server.running) await server.stop();
    throw new Error(
      `The Temporal dev server (${cliPath}) did not start on ${address}: ${(error as Error).message}\n` +
        `--- end of ${files.logFile} ---\n${tail || '(empty)'}\n` +
        `Check the log above; a port in use or a corrupt ${files.dbFile} are common causes.`,
      { cause: error },
    );
  }

  const state: DevServerState = {
    pid: server.pid,
    address,
    uiUrl: server.uiUrl,
    namespace,
    dbFile: files.dbFile,
    logFile: files.logFile,
    startedAt: new Date().toISOString(),
  };
  await writeDevServerState(files.dataDir, state);
  return server;
}

/** Resolves to undefined once healthy, or to the reason it never became healthy. */
async function waitUntilHealthy(server: DevServer, timeoutMs: number): Promise<Error | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!server.running) return new Error('the server process exited during startup');
    if (await isServerHealthy(server.address, 1_000)) return undefined;
    if (Date.now() > deadline) return new Error(`not healthy after ${timeoutMs} ms`);
    await sleep(250);
  }
}

async function configureNamespace(address: string, namespace: string, options: DevServerOptions) {
  const connection = await Connection.connect({ address });
  try {
    await ensureNamespaceSetup(connection, {
      namespace,
      retentionDays: options.retentionDays,
      searchAttributes: options.searchAttributes,
    });
  } finally {
    await connection.close();
  }
}

/** An attached server must not outlive us: an orphaned server would keep the SQLite file and ports busy. */
function stopWithThisProcess(child: ChildProcess): void {
  const stopChild = () => child.kill('SIGTERM');
  process.once('exit', stopChild);
  child.once('exit', () => process.removeListener('exit', stopChild));
}

/**
 * The dev server recorded in `<dataDir>/devserver.json`, if its process is alive and its
 * address answers health checks; otherwise undefined (a stale file is left for the next start to replace).
 */
export async function findRunningDevServer(
  dataDir: string,
  options: Pick<DevServerOptions, 'stopGraceMs'> = {},
): Promise<DevServer | undefined> {
  const state = await readDevServerState(dataDir);
  if (!state || !isDevServerProcess(state.pid)) return undefined;
  if (!(await isServerHealthy(state.address))) return undefined;
  const { dataDir: resolvedDir } = devServerFiles(dataDir);
  const { pid, address, namespace, uiUrl } = state;
  return new DevServer({ pid, address, namespace, uiUrl, dataDir: resolvedDir, reused: true }, options.stopGraceMs);
}

/**
 * Reuses the dev server already running on `dataDir` (making sure the wanted namespace,
 * retention and search attributes exist there) or starts one. A lock file in `dataDir`
 * keeps two concurrent callers from starting two servers on the same database.
 */
export async function startOrReuseDevServer(options: DevServerOptions): Promise<DevServer> {
  const files = devServerFiles(options.dataDir);
  await mkdir(files.dataDir, { recursive: true });
  const startTimeoutMs = options.startTimeoutMs ?? 60_000;
  return withFileLock(
    files.lockFile,
    async () => {
      const running = await findRunningDevServer(files.dataDir, options);
      if (!running) return startDevServer(options);
      const namespace = options.namespace ?? running.namespace;
      await configureNamespace(running.address, namespace, options);
      options.log?.(`reusing the Temporal dev server at ${running.address} (pid ${running.pid})`);
      const { address, pid, dataDir, uiUrl } = running;
      return new DevServer({ address, pid, dataDir, uiUrl, namespace, reused: true }, options.stopGraceMs);
    },
    // A first start may include building the CLI, so wait well beyond one server start.
    {
      timeoutMs: startTimeoutMs + 30 * 60_000,
      onWait: () => options.log?.(`waiting for another process, which is starting a dev server on ${files.dataDir}`),
    },
  );
}
