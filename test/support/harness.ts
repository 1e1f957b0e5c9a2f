/**
 * The world an integration test runs in: a real Temporal dev server (from the built CLI), the
 * openEO emulator over real HTTP, and a worker with the openEO plugin.
 */
import '../harness/quiet-logs';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, type Worker } from '@temporalio/worker';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OpenEOBatchClient } from '../../src/app/client';
import { startDevServer } from '../../src/tools/devserver';
import { claimSharedNamespace } from '../harness/shared-temporal';
import { startEmulator, type EmulatorOptions, type RunningEmulator } from '../../src/tools/emulator';
import { DEV_SERVER_SEARCH_ATTRIBUTES } from '../../src/core/search-attributes';
import type { BatchSpecInput } from '../../src/core/batch-spec/schema';
import { createOpenEOWorker, type OpenEOWorkerOptions } from '../../src/app/worker';
import { sharedWorkflowBundle } from './workflow-bundle';

export const EMULATOR_USER = { username: 'tester', password: 'test-password' };

/** The Temporal service a harness's workflows run on: a namespace of the run's shared server, or a dev server of its own. */
export interface TestTemporal {
  address: string;
  namespace: string;
  /** The Temporal UI, when asked for (`ui: true` always gets a server of its own). */
  uiUrl?: string;
  stop(): Promise<void>;
}

export interface Harness {
  server: TestTemporal;
  /** The backend named "emulator" in specs. */
  emulator: RunningEmulator;
  /** Further backends, by the name specs give them; the worker has credentials for all. */
  backends: Record<string, RunningEmulator>;
  client: OpenEOBatchClient;
  temporal: Client;
  workDir: string;
  taskQueue: string;
  /** Starts a worker (several may run); all stop at teardown. */
  startWorker(options?: Partial<OpenEOWorkerOptions>): Promise<Worker>;
  /** A small batch spec against the emulator: `cols × rows` tiles of 5 km near Antwerp. */
  spec(overrides?: Partial<BatchSpecInput> & { cols?: number; rows?: number }): BatchSpecInput;
  teardown(): Promise<void>;
}

let queueCounter = 0;

/**
 * Starts the world; `extraBackends` are more emulators (e.g. a failing or CDSE-like backend),
 * each with the test user, reachable under their name.
 */
export async function startHarness(
  emulatorOptions: EmulatorOptions = {},
  extraBackends: Record<string, EmulatorOptions> = {},
  /** `ui: true` serves the Temporal UI too (its URL in `server.uiUrl`). */
  serverOptions: { ui?: boolean } = {},
): Promise<Harness> {
  const workDir = await mkdtemp(join(tmpdir(), 'openeo-temporal-test-'));
  const server = await temporalFor(workDir, serverOptions.ui ?? false);
  const emulator = await startEmulator({
    users: [EMULATOR_USER],
    jobDurations: { queuedMs: 50, runningMs: 150 },
    ...emulatorOptions,
  });
  const backends: Record<string, RunningEmulator> = {};
  for (const [name, options] of Object.entries(extraBackends))
    backends[name] = await startEmulator({ users: [EMULATOR_USER], ...options });
  const credentials = Object.fromEntries(
    [['emulator', emulator] as const, ...Object.entries(backends)].map(([name, e]) => [
      name,
      { url: e.url, auth: { type: 'basic' as const, ...EMULATOR_USER } },
    ]),
  );
  const taskQueue = `test-${process.pid}-${++queueCounter}`;
  const temporalTarget = { connectionOptions: { address: server.address }, namespace: server.namespace };
  const connection = await Connection.connect({ address: server.address });
  const temporal = new Client({ connection, namespace: server.namespace });
  const client = new OpenEOBatchClient(temporal, taskQueue);
  const workerConnection = await NativeConnection.connect({ address: server.address });
  const running: { worker: Worker; done: Promise<void> }[] = [];
  // One connection hosts one worker per task queue (SDK 1.24 refuses a second): more workers get their own.
  const extraConnections: NativeConnection[] = [];

  return {
    server,
    emulator,
    backends,
    client,
    temporal,
    workDir,
    taskQueue,
    async startWorker(options = {}) {
      let connection = workerConnection;
      if (running.length > 0 && !options.connection) {
        connection = await NativeConnection.connect({ address: server.address });
        extraConnections.push(connection);
      }
      const worker = await createOpenEOWorker({
        temporal: temporalTarget,
        connection,
        taskQueue,
        credentials,
        ...options,
        plugins: [...(options.plugins ?? []), sharedWorkflowBundle],
      });
      running.push({ worker, done: worker.run() });
      return worker;
    },
    spec({ cols = 2, rows = 2, ...overrides } = {}) {
      return {
        backends: [{ name: 'emulator', url: emulator.url, parallelJobs: 2 }],
        process: {
          processId: 'bap_composite',
          namespace:
            'https://github.com/ESA-APEx/apex_algorithms/raw/refs/heads/main/algorithm_catalog/vito/bap_composite/openeo_udp/bap_composite.json',
        },
        parameterDefaults: { temporal_extent: ['2024-06-01', '2024-09-01'] },
        tiles: {
          aoi: {
            west: 590000,
            south: 5660000,
            east: 590000 + cols * 5000,
            north: 5660000 + rows * 5000,
            crs: 'EPSG:32631',
          },
          tileSize: 5000,
        },
        outputDir: join(workDir, 'output'),
        polling: { initialIntervalSeconds: 0.05, maxIntervalSeconds: 0.2 },
        ...overrides,
      };
    },
    async teardown() {
      for (const { worker } of running) if (worker.getState() === 'RUNNING') worker.shutdown();
      await Promise.allSettled(running.map((r) => r.done));
      await workerConnection.close();
      for (const extra of extraConnections) await extra.close();
      if (server.shared) await endLeftoverWorkflows(temporal);
      await connection.close();
      await emulator.close();
      for (const extra of Object.values(backends)) await extra.close();
      await server.stop();
      await rm(workDir, { recursive: true, force: true });
    },
  };
}

/**
 * A namespace on the test run's shared server when there is one (see test/harness/shared-temporal.ts),
 * else a dev server of the harness's own, as when a test file runs alone.
 */
async function temporalFor(workDir: string, ui: boolean): Promise<TestTemporal & { shared: boolean }> {
  const shared = ui ? undefined : await claimSharedNamespace();
  if (shared) return { ...shared, shared: true, stop: async () => {} };
  const server = await startDevServer({
    dataDir: join(workDir, 'temporal'),
    ui,
    searchAttributes: DEV_SERVER_SEARCH_ATTRIBUTES,
  });
  return Object.assign(server, { shared: false });
}

/**
 * A server of the harness's own ends with it, and so do its workflows; on the shared server,
 * workflows a test left running (a quota workflow, a batch it stopped watching) are ended, so
 * their timers do not keep the server busy for the rest of the run.
 */
async function endLeftoverWorkflows(temporal: Client): Promise<void> {
  try {
    for await (const workflow of temporal.workflow.list({ query: 'ExecutionStatus="Running"' })) {
      await temporal.workflow
        .getHandle(workflow.workflowId, workflow.runId)
        .terminate('test harness torn down')
        .catch(() => undefined);
    }
  } catch {
    // Best effort: a leftover workflow only costs the shared server a little time.
  }
}
