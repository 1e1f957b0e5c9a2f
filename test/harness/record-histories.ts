/**
 * Records the workflow histories that every later build must replay (`test/unit/replay.test.ts`):
 * a finished batch and a tile of it, a batch that continued as new mid-window, a partitioned
 * batch and a partition, a tile waiting for its job, a tile retried after a failed job, a tile
 * whose job a factory built and whose files a post-processor wrote, a batch with periods
 * that took added places, and tiles lined up behind others (one handed its slot, one given it by
 * its window's word after the job ahead failed, one moved to a free slot from behind a stuck job),
 * a tile whose job was deleted on the backend while it waited in the queue, a batch held back
 * by its budget until the budget was raised, and a batch (and its tile) whose job factory and
 * post-processor are activities on another task queue.
 *
 *     npm run record-histories            # writes test/fixtures/histories/<release>/*.json
 *
 * Run it once per release, on the release's code, and commit the files: from then on a change
 * to workflow code that cannot replay them goes behind `patched()` (see docs/operations.md, upgrades).
 */
import './quiet-logs';
import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { OpenEOBatchClient } from '../../src/app/client';
import { createOpenEOWorker } from '../../src/app/worker';
import { tileWorkflowId } from '../../src/core/ids';
import { DEV_SERVER_SEARCH_ATTRIBUTES } from '../../src/core/search-attributes';
import type { BatchSpecInput } from '../../src/core/batch-spec/schema';
import type { Tile } from '../../src/core/batch-spec/tile-types';
import { loadCollectionGraph } from '../../src/core/hooks/job-factory';
import { startDevServer } from '../../src/tools/devserver';
import { BAP_COMPOSITE_NAMESPACE, startEmulator, type RunningEmulator } from '../../src/tools/emulator';
import { writeHistory } from './history-files';
import { startRemoteHookWorker } from './remote-hook-worker';

const USER = { username: 'recorder', password: 'recorder-password' };
const TASK_QUEUE = 'record-histories';

/** A batch of `cols × rows` 5 km tiles near Antwerp against `emulator`. */
function gridSpec(
  emulator: RunningEmulator,
  outputDir: string,
  cols: number,
  rows: number,
  extra: Partial<BatchSpecInput> = {},
): BatchSpecInput {
  return {
    backends: [{ name: 'emulator', url: emulator.url, parallelJobs: 2 }],
    process: { processId: 'bap_composite', namespace: BAP_COMPOSITE_NAMESPACE },
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
    outputDir,
    polling: { initialIntervalSeconds: 0.05, maxIntervalSeconds: 0.2 },
    ...extra,
  };
}

/** A batch with periods that takes a place while it runs (paused meanwhile, so it is still running). */
async function recordPeriodsWithAddedPlaces(client: OpenEOBatchClient, spec: BatchSpecInput): Promise<void> {
  const { handle } = await client.start(spec);
  await client.pause(String(spec.batchId));
  const square = [
    [4.5, 51.05],
    [4.55, 51.05],
    [4.55, 51.1],
    [4.5, 51.1],
    [4.5, 51.05],
  ];
  await client.addTiles(String(spec.batchId), [
    { type: 'Feature', id: 'added', geometry: { type: 'Polygon', coordinates: [square] }, properties: {} },
  ]);
  await client.resume(String(spec.batchId));
  await handle.result();
}

/**
 * A batch whose hooks live on another task queue, served by a worker that knows only the hook
 * contract (as a Python one would): the batch asks that queue for them, the tile calls both.
 */
async function recordRemoteHooks(
  client: OpenEOBatchClient,
  spec: BatchSpecInput,
  temporal: { address: string; namespace: string },
): Promise<void> {
  const taskQueue = 'record-remote-hooks';
  const hooks = await startRemoteHookWorker({
    ...temporal,
    taskQueue,
    jobFactories: {
      june_remote: async (request) => ({
        processGraph: loadCollectionGraph(request.tile as Tile, {
          collection: 'SENTINEL2_L2A',
          bands: ['B04'],
          temporalExtent: ['2024-06-01', '2024-07-01'],
        }),
        title: 'June',
      }),
    },
    postprocessors: {
      count_remote: async (request) => {
        const files = request.files as { name: string }[];
        await writeFile(join(request.tileDir as string, 'count.json'), JSON.stringify({ files: files.length }));
        return { written: ['count.json'], result: { files: files.length } };
      },
    },
  });
  try {
    const remote = {
      jobFactory: { activity: 'june_remote', taskQueue },
      postprocess: { activity: 'count_remote', taskQueue },
    };
    await (await client.start({ ...spec, ...remote })).handle.result();
  } finally {
    hooks.worker.shutdown();
    await hooks.running;
  }
}

export async function recordHistories(outDir: string, log: (line: string) => void = console.log): Promise<string[]> {
  const workDir = await mkdtemp(join(tmpdir(), 'openeo-temporal-record-'));
  const server = await startDevServer({
    dataDir: join(workDir, 'temporal'),
    ui: false,
    searchAttributes: DEV_SERVER_SEARCH_ATTRIBUTES,
  });
  const emulator = await startEmulator({
    users: [USER],
    jobDurations: { queuedMs: 50, runningMs: 200 },
    maxRunningJobsPerUser: 50,
    // The retried batch's first job fails, its second succeeds.
    failure: { failTitlesContaining: ['retried/E590000-N5660000 attempt 1', 'handed/E590000-N5660000'] },
  });
  const slow = await startEmulator({ users: [USER], jobDurations: { queuedMs: 50, runningMs: 600_000 } });
  const connection = await Connection.connect({ address: server.address });
  const temporal = new Client({ connection, namespace: server.namespace });
  const client = new OpenEOBatchClient(temporal, TASK_QUEUE);
  const workerConnection = await NativeConnection.connect({ address: server.address });
  const credentials = Object.fromEntries(
    [['emulator', emulator] as const, ['slow', slow] as const].map(([name, e]) => [
      name,
      { url: e.url, auth: { type: 'basic' as const, ...USER } },
    ]),
  );
  const worker = await createOpenEOWorker({
    temporal: { connectionOptions: { address: server.address }, namespace: server.namespace },
    connection: workerConnection,
    taskQueue: TASK_QUEUE,
    credentials,
    jobFactories: {
      june: (_tile, { helpers }) => ({
        processGraph: helpers.loadCollection({
          collection: 'SENTINEL2_L2A',
          bands: ['B04'],
          temporalExtent: ['2024-06-01', '2024-07-01'],
        }),
      }),
    },
    postprocessors: {
      count: async ({ files, writeFile }) => {
        await writeFile('count.json', JSON.stringify({ files: files.length }));
        return { files: files.length };
      },
    },
  });
  const written: string[] = [];
  const save = async (name: string, workflowId: string, runId?: string) => {
    const history = await temporal.workflow.getHandle(workflowId, runId).fetchHistory();
    const file = join(outDir, `${name}.json`);
    await writeHistory(file, { workflowId, history });
    written.push(file);
    log(`  ${name}: ${history.events?.length ?? 0} events (${workflowId})`);
  };
  const runsOf = async (query: string) => {
    const runs = [];
    for await (const wf of temporal.workflow.list({ query })) runs.push(wf);
    return runs.sort((a, b) => a.startTime.getTime() - b.startTime.getTime());
  };
  const output = join(workDir, 'output');

  try {
    await mkdir(outDir, { recursive: true });
    await worker.runUntil(async () => {
      await (await client.start(gridSpec(emulator, output, 2, 2, { batchId: 'finished' }))).handle.result();
      await save('batch-finished', 'finished');
      await save('tile-finished', (await client.tiles('finished'))[0].workflowId);

      const continued = gridSpec(emulator, output, 6, 5, {
        batchId: 'continued',
        scheduling: {
          maxEventsPerRun: 100,
          partitionAboveTiles: 20_000,
          tilesPerPartition: 5_000,
          pauseBackendAfterErrors: 10,
          // Checkpoints of its records every 3 s: some are under way when a run continues as new.
          saveRecordsEveryMinutes: 0.05,
        },
      });
      continued.backends[0].parallelJobs = 4;
      await (await client.start(continued)).handle.result();
      const runs = await runsOf(`WorkflowId = 'continued'`);
      await save('batch-continued-as-new', 'continued', runs[0].runId);
      await save('batch-after-continue-as-new', 'continued', runs[1].runId);

      const partitioned = gridSpec(emulator, output, 4, 2, {
        batchId: 'partitioned',
        scheduling: {
          maxEventsPerRun: 4_000,
          partitionAboveTiles: 4,
          tilesPerPartition: 4,
          pauseBackendAfterErrors: 10,
        },
      });
      await (await client.start(partitioned)).handle.result();
      await save('batch-partitioned', 'partitioned');
      await save('partition', 'partitioned/partition-0');

      const retried = gridSpec(emulator, output, 1, 1, { batchId: 'retried', maxAttempts: 2 });
      await (await client.start(retried)).handle.result();
      await save('tile-retried-after-error', (await client.tiles('retried'))[0].workflowId);

      const hooked = gridSpec(emulator, output, 1, 1, { batchId: 'hooked', jobFactory: 'june', postprocess: 'count' });
      await (await client.start(hooked)).handle.result();
      await save('tile-with-hooks', (await client.tiles('hooked'))[0].workflowId);

      await recordRemoteHooks(client, gridSpec(emulator, output, 1, 1, { batchId: 'remote-hooked' }), {
        address: server.address,
        namespace: server.namespace,
      });
      await save('batch-with-remote-hooks', 'remote-hooked');
      await save('tile-with-remote-hooks', (await client.tiles('remote-hooked'))[0].workflowId);

      await recordPeriodsWithAddedPlaces(
        client,
        gridSpec(emulator, output, 1, 1, {
          batchId: 'periods',
          parameterDefaults: {},
          parameterMapping: { geometry: 'geometry', temporal_extent: 'temporal_extent' },
          periods: { every: 'month', start: '2024-06-01', end: '2024-08-01' },
        }),
      );
      await save('batch-periods-added-places', 'periods');

      // One slot. The first tile's job fails: the second, lined up behind it, waits for its
      // window's word. The third starts in the freed slot, and the fourth, lined up behind it,
      // is handed the slot by the worker that sees the third's job finish.
      const handed = gridSpec(emulator, output, 4, 1, { batchId: 'handed', scheduling: { lineUpJobs: true } });
      handed.backends[0].parallelJobs = 1;
      await (await client.start(handed)).handle.result();
      await save('batch-lined-up', 'handed');
      await save('tile-lined-up-given-word', tileWorkflowId('handed', 'E595000-N5660000'));
      await save('tile-lined-up-handed-over', tileWorkflowId('handed', 'E605000-N5660000'));

      // Two slots. The first tile's job stays queued for ever: the third tile, lined up behind
      // it, moves to the slot the second and fourth tiles leave, and starts its job there.
      emulator.admin.setFaults({
        ...emulator.admin.faults(),
        jobs: { rules: [{ titleContains: 'moved/E590000-N5660000', stuckIn: 'queued' }] },
      });
      const moved = gridSpec(emulator, output, 4, 1, { batchId: 'moved' });
      moved.backends[0].parallelJobs = 2;
      const movedBatch = (await client.start(moved)).handle;
      const movedTile = tileWorkflowId('moved', 'E600000-N5660000');
      await endOf(temporal, movedTile);
      await save('tile-lined-up-moved', movedTile);
      await save('batch-lined-up-moved', 'moved');
      await movedBatch.terminate('recorded');

      // The first job never leaves the queue and is deleted there, as its user might: the tile
      // makes a second job, which finishes.
      emulator.admin.setFaults({
        ...emulator.admin.faults(),
        jobs: { rules: [{ titleContains: 'vanished/E590000-N5660000 attempt 1', stuckIn: 'queued' }] },
      });
      const vanished = (await client.start(gridSpec(emulator, output, 1, 1, { batchId: 'vanished', maxAttempts: 2 })))
        .handle;
      let stuck: string | undefined;
      while (!(stuck = emulator.admin.jobs().find((job) => job.title?.startsWith('vanished/'))?.id)) await sleep(200);
      await deleteJobAsUser(emulator, stuck);
      await vanished.result();
      await save('tile-job-vanished', tileWorkflowId('vanished', 'E590000-N5660000'));

      // A budget that holds the batch back after its first tiles, then raised: it finishes.
      const budgeted = (
        await client.start(gridSpec(emulator, output, 3, 2, { batchId: 'budgeted', budget: { credits: 1 } }))
      ).handle;
      while (!/^budget: /.test((await client.progress('budgeted')).problem ?? '')) await sleep(200);
      await client.setBudget('budgeted', { credits: 100 });
      await budgeted.result();
      await save('batch-with-budget', 'budgeted');

      const waiting = gridSpec(slow, output, 1, 1, { batchId: 'waiting' });
      waiting.backends = [{ name: 'slow', url: slow.url, parallelJobs: 1 }];
      const { handle } = await client.start(waiting);
      const tileId = async () => (await client.tiles('waiting'))[0]?.workflowId;
      while (!(await tileId()) || slow.admin.stats().jobs.created === 0) await sleep(200);
      await sleep(3_000);
      await save('tile-waiting-for-its-job', (await tileId())!);
      await save('batch-waiting', 'waiting');
      await handle.terminate('recorded');
    });
  } finally {
    await workerConnection.close();
    await connection.close();
    await emulator.close();
    await slow.close();
    await server.stop();
    await rm(workDir, { recursive: true, force: true });
  }
  return written;
}

/** Deletes a job through the backend's API, as its user would. */
async function deleteJobAsUser(emulator: RunningEmulator, jobId: string): Promise<void> {
  const basic = Buffer.from(`${USER.username}:${USER.password}`).toString('base64');
  const login = await fetch(`${emulator.apiUrl}/credentials/basic`, { headers: { Authorization: `Basic ${basic}` } });
  const { access_token: token } = (await login.json()) as { access_token: string };
  const deleted = await fetch(`${emulator.apiUrl}/jobs/${jobId}`, {
    method: 'DELETE',
    headers: { Authorization: `Bearer basic//${token}` },
  });
  if (deleted.status !== 204) throw new Error(`could not delete job ${jobId}: HTTP ${deleted.status}`);
}

/** Waits for a workflow that may not have started yet to close. */
async function endOf(temporal: Client, workflowId: string): Promise<void> {
  for (;;) {
    try {
      await temporal.workflow.getHandle(workflowId).result();
      return;
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
      await sleep(200);
    }
  }
}

if (require.main === module) {
  const release = process.argv[2] ?? 'current';
  const outDir = resolve(__dirname, '..', '..', '..', 'test', 'fixtures', 'histories', release);
  console.log(`recording workflow histories into ${outDir}`);
  recordHistories(outDir).then(
    (files) => {
      console.log(`${files.length} histories written`);
      process.exit(0);
    },
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
