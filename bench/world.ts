/**
 * The benchmark's world: one Temporal dev server (headless, temporary SQLite file), and per
 * scenario an openEO emulator with its own worker child process and task queue, so scenarios
 * with different emulator settings never share a worker. Given a state directory, the SQLite
 * file and the emulators' state files live there and outlast the bench (see long-run.ts).
 */
import { Client, Connection } from '@temporalio/client';
import { fork, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OpenEOBatchClient } from '../src/app/client';
import { startDevServer, type DevServer } from '../src/tools/devserver';
import { findFreePorts } from '../src/tools/devserver/free-port';
import { startEmulator, type EmulatorOptions, type RunningEmulator } from '../src/tools/emulator';
import { DEV_SERVER_SEARCH_ATTRIBUTES } from '../src/core/search-attributes';
import { WORKER_CONFIG_ENV, type FromWorker, type ToWorker, type WorkerChildConfig } from './protocol';

const USER = { username: 'bench', password: 'bench-password' };

/** One request the emulator answered, as far as the benchmark cares. */
export interface LoggedRequest {
  at: number;
  route: string;
  jobId?: string;
}

/** The worker child process, seen from the benchmark. */
export interface WorkerChild {
  readonly pid: number;
  /** Peak RSS while the worker was bundling workflows and connecting. */
  readonly startupPeakRss: number;
  resetPeak(): void;
  memory(): Promise<{ rss: number; peakRss: number }>;
  /** Activity slots the worker holds now. */
  slotsInUse(): Promise<number>;
  /** Kills the process at once (SIGKILL), as a crash would. */
  kill(): void;
}

/** An emulator, a worker for it, and a client on the worker's task queue. */
export interface BenchBackend {
  /** The backend name used in specs (the worker's credentials are stored under it). */
  readonly name: string;
  readonly emulator: RunningEmulator;
  readonly client: OpenEOBatchClient;
  /** The first (or only) worker. */
  readonly worker: WorkerChild;
  /** Every worker process on the backend's task queue. */
  readonly workers: WorkerChild[];
  readonly outputDir: string;
  /** Requests in arrival order; only recorded when asked for (it grows with every request). */
  readonly requests: LoggedRequest[];
  close(): Promise<void>;
}

/** How a backend's workers run, and what the bench records of its emulator. */
export interface BackendOptions {
  /** Record every request the emulator answers (see {@link BenchBackend.requests}). */
  logRequests?: boolean;
  /** Worker processes on the backend's task queue. @default 1 */
  workers?: number;
  /** Activities each worker runs at once. @default the worker's default */
  activitySlots?: number;
}

export interface BenchWorld {
  readonly server: DevServer;
  readonly temporal: Client;
  readonly workDir: string;
  /** The dev server's Prometheus page (`start-dev --metrics-port`): its `action` counter is the Cloud's Actions. */
  readonly metricsUrl: string;
  /** Whether the work directory is kept for a later bench to carry on (`--state-dir`). */
  readonly kept: boolean;
  startBackend(name: string, options: EmulatorOptions, opts?: BackendOptions): Promise<BenchBackend>;
  close(): Promise<void>;
}

/** Waits for the child's first message of `type`, or fails on exit, failure or timeout. */
function nextMessage<T extends FromWorker['type']>(
  child: ChildProcess,
  type: T,
  timeoutMs: number,
): Promise<Extract<FromWorker, { type: T }>> {
  return new Promise((resolve, reject) => {
    const done = () => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    const onMessage = (message: FromWorker) => {
      if (message.type === type) {
        done();
        resolve(message as Extract<FromWorker, { type: T }>);
      } else if (message.type === 'failed') {
        done();
        reject(new Error(`the worker process failed: ${message.message}`));
      }
    };
    const onExit = (code: number | null) => {
      done();
      reject(new Error(`the worker process exited (code ${code}) while the benchmark waited for "${type}"`));
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`no "${type}" from the worker process within ${timeoutMs} ms`));
    }, timeoutMs);
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

/** How the worker processes are launched: Node's heap limit, a preloaded library. */
export interface WorkerLaunch {
  maxHeapMiB?: number;
  preload?: string;
}

async function startWorkerChild(
  config: WorkerChildConfig,
  launch: WorkerLaunch,
): Promise<{ child: ChildProcess; handle: WorkerChild }> {
  const child = fork(require.resolve('./worker-process'), [], {
    execArgv: launch.maxHeapMiB ? [`--max-old-space-size=${launch.maxHeapMiB}`] : [],
    env: {
      ...process.env,
      [WORKER_CONFIG_ENV]: JSON.stringify(config),
      ...(launch.preload ? { LD_PRELOAD: launch.preload } : {}),
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  // A worker that died (killed on purpose, or crashed) must not take the bench down with it: a
  // message to it would raise an unhandled 'error' on the child; its answers just never come.
  child.on('error', () => undefined);
  const send = (message: ToWorker) => {
    if (child.connected) child.send(message);
  };
  // Bundling the workflows takes a while on a busy 2-core machine.
  const ready = await nextMessage(child, 'ready', 180_000).catch((err: unknown) => {
    child.kill('SIGKILL');
    throw err;
  });
  return {
    child,
    handle: {
      pid: child.pid ?? -1,
      startupPeakRss: ready.startupPeakRss,
      resetPeak: () => send({ type: 'reset-peak' }),
      memory: async () => {
        const answer = nextMessage(child, 'memory', 10_000);
        send({ type: 'memory' });
        const { rss, peakRss } = await answer;
        return { rss, peakRss };
      },
      slotsInUse: async () => {
        const answer = nextMessage(child, 'slots', 10_000);
        send({ type: 'slots' });
        return (await answer).activitiesInFlight;
      },
      kill: () => child.kill('SIGKILL'),
    },
  };
}

/** Asks the child to shut down gracefully; kills it (this one child, by its handle) if it hangs. */
async function stopWorkerChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.send({ type: 'shutdown' } satisfies ToWorker);
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  await exited;
  clearTimeout(timer);
}

export interface WorldOptions {
  /** Parent of the temporary work directory (SQLite file, outputs). @default os.tmpdir() */
  baseDir?: string;
  /** `PRAGMA=VALUE` for the dev server's SQLite, e.g. `synchronous=OFF`. @default none */
  sqlitePragmas?: string[];
  /** How every scenario's worker processes are launched. @default Node's defaults */
  workerLaunch?: WorkerLaunch;
  /**
   * A directory that keeps the dev server's data and the emulators' jobs after the bench, so the
   * next bench given it carries on the batches left running. @default a temporary directory, removed
   */
  stateDir?: string;
}

/**
 * How often a kept emulator writes its state file while it runs (it also writes when closed).
 * Each write serialises every job: 100,000 of them take seconds.
 */
const KEPT_EMULATOR_SAVE_DELAY_MS = 15 * 60_000;

const keptPortFile = (workDir: string, name: string) => join(workDir, `emulator-${name}.port`);

/**
 * A kept emulator's settings: its state file, and the port it had before, since the batches
 * left running name its URL in their specs and the worker's credentials must match it.
 */
async function keptEmulator(workDir: string, name: string): Promise<EmulatorOptions> {
  const port = await readFile(keptPortFile(workDir, name), 'utf8').then(
    (text) => Number(text.trim()),
    () => undefined,
  );
  return {
    stateFile: join(workDir, `emulator-${name}.json`),
    stateSaveDelayMs: KEPT_EMULATOR_SAVE_DELAY_MS,
    ...(port ? { port } : {}),
  };
}

/** A temporary work directory, or the kept one. */
async function workDirectory(options: WorldOptions): Promise<string> {
  if (!options.stateDir) return mkdtemp(join(options.baseDir ?? tmpdir(), 'openeo-temporal-bench-'));
  await mkdir(options.stateDir, { recursive: true });
  return options.stateDir;
}

/** Starts the dev server; scenarios then add backends. */
export async function startWorld(log: (line: string) => void, options: WorldOptions = {}): Promise<BenchWorld> {
  const workDir = await workDirectory(options);
  const kept = options.stateDir !== undefined;
  const pragmas = options.sqlitePragmas ?? [];
  const workerLaunch = options.workerLaunch ?? {};
  log(`starting a Temporal dev server (data in ${workDir}${pragmas.length ? `, SQLite ${pragmas.join(' ')}` : ''})`);
  const [metricsPort] = await findFreePorts(1);
  const server = await startDevServer({
    dataDir: join(workDir, 'temporal'),
    ui: false,
    searchAttributes: DEV_SERVER_SEARCH_ATTRIBUTES,
    extraArgs: [...pragmas.flatMap((pragma) => ['--sqlite-pragma', pragma]), '--metrics-port', String(metricsPort)],
  });
  const connection = await Connection.connect({ address: server.address });
  const temporal = new Client({ connection, namespace: server.namespace });
  const backends = new Set<BenchBackend>();

  return {
    server,
    temporal,
    workDir,
    metricsUrl: `http://127.0.0.1:${metricsPort}/metrics`,
    kept,
    async startBackend(name, options, opts = {}) {
      const requests: LoggedRequest[] = [];
      const emulator = await startEmulator({
        users: [USER],
        ...options,
        ...(kept ? await keptEmulator(workDir, name) : {}),
        ...(opts.logRequests
          ? {
              requestHook: {
                beforeRoute: ({ route, params }) => {
                  requests.push({ at: Date.now(), route, ...(params.job_id ? { jobId: params.job_id } : {}) });
                },
              },
            }
          : {}),
      });
      // A kept batch is carried on by the next bench's worker, so its queue's name must not change.
      const taskQueue = kept ? `bench-${name}` : `bench-${name}-${process.pid}`;
      const config = {
        address: server.address,
        namespace: server.namespace,
        taskQueue,
        credentials: { [name]: { url: emulator.url, auth: { type: 'basic' as const, ...USER } } },
        ...(opts.activitySlots ? { activitySlots: opts.activitySlots } : {}),
      };
      const started: { child: ChildProcess; handle: WorkerChild }[] = [];
      try {
        for (let i = 0; i < (opts.workers ?? 1); i++) started.push(await startWorkerChild(config, workerLaunch));
      } catch (err) {
        await Promise.all(started.map(({ child }) => stopWorkerChild(child)));
        await emulator.close();
        throw err;
      }
      if (kept) await writeFile(keptPortFile(workDir, name), `${emulator.port}\n`);
      const backend: BenchBackend = {
        name,
        emulator,
        client: new OpenEOBatchClient(temporal, taskQueue),
        worker: started[0].handle,
        workers: started.map((w) => w.handle),
        outputDir: join(workDir, 'output', name),
        requests,
        close: async () => {
          backends.delete(backend);
          await Promise.all(started.map(({ child }) => stopWorkerChild(child)));
          await emulator.close();
        },
      };
      backends.add(backend);
      return backend;
    },
    async close() {
      await Promise.allSettled([...backends].map((b) => b.close()));
      await connection.close();
      await server.stop();
      if (!kept) await rm(workDir, { recursive: true, force: true });
    },
  };
}
