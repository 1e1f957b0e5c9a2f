/**
 * A batch end to end on a self-hosted Temporal Service (PostgreSQL, SQL visibility), with every
 * control of the client: pause and resume, parallelJobs raised, a budget set, tiles added, the
 * failed tile found with a status filter on the search attributes, retry-failed, the records, the
 * CSV and Parquet exports (client and CLI), the dashboard's batch list and snapshot, and another
 * batch cancelled with its jobs. The same calls as the integration tier, on a production setup.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BatchCancelledError } from '../../src/app';
import { createDashboard } from '../../src/app/dashboard';
import type { Snapshot } from '../../src/app/dashboard/feed';
import type { TileFeature } from '../../src/core/batch-spec/tile-types';
import { serveDashboard } from '../harness/dashboard-page';
import type { TemporalService } from '../harness/temporal-service';
import { runCli } from '../support/cli';
import { useTemporalService } from '../support/cluster';
import { eventually } from '../support/eventually';
import { startHarness, type Harness } from '../support/harness';
import { parseCsv, readParquetTable } from '../support/read-exports';

const BATCH = 'steered';
const CANCELLED = 'cancelled';
/** Its first job fails (maxAttempts 1): the tile ends in error until retry-failed runs it again. */
const FLAKY = 'E595000-N5660000';
const GRID = { cols: 4, rows: 3 };
const ADDED = 2;
const TOTAL = GRID.cols * GRID.rows + ADDED;

/** A small square near Antwerp (EPSG:4326), for addTiles. */
function square(id: string, lon: number, lat: number): TileFeature {
  const d = 0.03;
  const ring = [
    [lon, lat],
    [lon + d, lat],
    [lon + d, lat + d],
    [lon, lat + d],
    [lon, lat],
  ];
  return { type: 'Feature', id, geometry: { type: 'Polygon', coordinates: [ring] }, properties: {} } as TileFeature;
}

/** Workflow ids a visibility query finds (SQL visibility: the query runs in PostgreSQL). */
async function listed(h: Harness, query: string): Promise<string[]> {
  const ids: string[] = [];
  for await (const wf of h.temporal.workflow.list({ query })) ids.push(wf.workflowId);
  return ids.sort();
}

/** The first event of the dashboard's event stream of a batch: its snapshot, as a page gets it. */
async function dashboardSnapshot(url: URL): Promise<Snapshot> {
  const response = await fetch(url, { signal: AbortSignal.timeout(60_000) });
  assert.equal(response.status, 200);
  const reader = response.body!.getReader();
  let text = '';
  try {
    for (;;) {
      const match = /event: snapshot\ndata: (.*)\n\n/.exec(text);
      if (match) return JSON.parse(match[1]!) as Snapshot;
      const { value, done } = await reader.read();
      if (done) throw new Error(`the stream ended before a snapshot: ${text}`);
      text += Buffer.from(value).toString();
    }
  } finally {
    await reader.cancel();
  }
}

describe('a batch steered end to end on a Temporal Service', () => {
  let service: TemporalService;
  let h: Harness;
  let outDir: string;
  before(async () => {
    service = await useTemporalService();
    h = await startHarness(
      { maxRunningJobsPerUser: 20, jobDurations: { queuedMs: 200, runningMs: 800 } },
      // Jobs of a minute: the cancelled batch's jobs are surely running when it is cancelled.
      { slow: { maxRunningJobsPerUser: 20, jobDurations: { queuedMs: 200, runningMs: 60_000 } } },
    );
    h.emulator.admin.setFaults({
      jobs: { rules: [{ titleContains: `${BATCH}/${FLAKY} `, failFirst: 1, code: 'Flaky' }] },
    });
    await h.startWorker();
    outDir = await mkdtemp(join(tmpdir(), 'cluster-exports-'));
  });
  after(async () => {
    await h?.teardown();
    await service?.stop();
    if (outDir) await rm(outDir, { recursive: true, force: true });
  });

  it('pauses, resumes, resizes, takes a budget and added tiles while it runs', async () => {
    const spec = h.spec({ batchId: BATCH, ...GRID, maxAttempts: 1 });
    spec.backends = [{ name: 'emulator', url: h.emulator.url, parallelJobs: 2 }];
    await h.client.start(spec);
    await eventually(async () => (await h.client.progress(BATCH)).counts.finished >= 1, 'a tile finished', 180_000);

    await h.client.pause(BATCH);
    // Paused, the tiles in flight end and no other starts, though slots are free.
    await eventually(
      async () => {
        const p = await h.client.progress(BATCH);
        return p.paused && p.inFlight.length === 0;
      },
      'the paused batch has no tile in flight',
      180_000,
    );
    const paused = await h.client.progress(BATCH);
    assert.ok(paused.counts.not_started > 0, `tiles wait while paused: ${JSON.stringify(paused.counts)}`);
    const ended = paused.counts.finished + paused.counts.error;
    assert.equal(h.emulator.admin.stats().jobs.created, ended, 'no job for a tile held back by the pause');

    const backends = await h.client.setParallelJobs(BATCH, 'emulator', 4);
    assert.equal(backends.find((b) => b.name === 'emulator')?.parallelJobs, 4);
    assert.deepEqual(await h.client.setBudget(BATCH, { credits: 1_000_000 }), { credits: 1_000_000 });
    const added = await h.client.addTiles(BATCH, [square('added-1', 4.3, 51.2), square('added-2', 4.35, 51.2)]);
    assert.equal(added.length, ADDED);
    await h.client.resume(BATCH);

    const summary = await h.client.wait(BATCH);
    assert.equal(summary.totalTiles, TOTAL);
    assert.deepEqual([summary.counts.finished, summary.counts.error], [TOTAL - 1, 1], JSON.stringify(summary.counts));
    assert.deepEqual(
      summary.failedTiles.map((tile) => tile.tileId),
      [FLAKY],
    );
    const started = Math.max(0, ...Object.values(h.emulator.admin.stats().startedJobsPerUser).map((g) => g.max));
    assert.ok(started <= 4, `at most 4 jobs at once after the resize, saw ${started}`);
  });

  it('finds tiles by status and backend with visibility queries on the search attributes', async () => {
    const byBatch = `OpenEOBatchId = '${BATCH}' AND WorkflowType = 'tileWorkflow'`;
    const failedId = (await h.client.tiles(BATCH)).find((tile) => tile.tileId === FLAKY)?.workflowId;
    assert.ok(failedId);
    await eventually(
      async () =>
        JSON.stringify(await listed(h, `${byBatch} AND OpenEOTileStatus = 'error'`)) === JSON.stringify([failedId]),
      'the status filter finds the failed tile alone',
      120_000,
    );
    const finishedQuery = `${byBatch} AND OpenEOTileStatus = 'finished' AND OpenEOBackend = 'emulator'`;
    await eventually(
      async () => (await h.temporal.workflow.count(finishedQuery)).count === TOTAL - 1,
      'the finished tiles are counted',
      120_000,
    );
    const job = (await h.client.tiles(BATCH)).find((tile) => tile.status === 'finished')!;
    assert.ok(job.openeoJobId);
    assert.deepEqual(
      await listed(h, `OpenEOJobId = '${job.openeoJobId}'`),
      [job.workflowId],
      'a tile found by its job',
    );

    const status = await runCli(h, ['status', BATCH, '--json']);
    assert.equal(status.code, 0, status.stderr);
    const { progress } = JSON.parse(status.stdout) as { progress: { counts: Record<string, number> } };
    assert.equal(progress.counts.error, 1);
  });

  it('runs the failed tile again with retry-failed, as its second attempt', async () => {
    const retry = await h.client.retryFailed(BATCH);
    assert.equal(retry.tiles, 1);
    const summary = await h.client.wait(BATCH);
    assert.equal(summary.counts.error, 0, JSON.stringify(summary.counts));
    await eventually(
      async () => (await h.client.tiles(BATCH)).every((tile) => tile.status === 'finished'),
      'visibility lists every tile finished',
      120_000,
    );
    const { createdByTitle } = h.emulator.admin.stats().jobs;
    assert.equal(createdByTitle[`${BATCH}/${FLAKY} attempt 2`], 1, JSON.stringify(createdByTitle));
    for (const [title, count] of Object.entries(createdByTitle)) assert.equal(count, 1, `one job for "${title}"`);
  });

  it('gives the records and the CSV and Parquet exports, through the client and the CLI', async () => {
    const records = await h.client.records(BATCH);
    assert.equal(records.tiles.length, TOTAL);
    assert.ok(records.tiles.every((tile) => tile.status === 'finished' && tile.openeoJobId && tile.geometry));
    assert.equal(records.tiles.find((tile) => tile.tileId === FLAKY)?.attempts, 2);

    const csv = parseCsv(Buffer.from((await h.client.exportTiles(BATCH, { format: 'csv' })).bytes).toString('utf8'));
    assert.equal(csv.length, TOTAL);
    assert.ok(csv.every((row) => row.status === 'finished' && row.backend_name === 'emulator' && row.id));

    const parquet = join(outDir, 'jobs.parquet');
    const exported = await runCli(h, ['export', BATCH, '--out', parquet]);
    assert.equal(exported.code, 0, exported.stderr);
    const table = readParquetTable(await readFile(parquet));
    assert.equal(table.numRows, TOTAL);
    assert.deepEqual(new Set(table.getChild('status')?.toArray() as string[]), new Set(['finished']));
  });

  it('serves the dashboard its batch list and the batch’s snapshot', async () => {
    const dashboard = await serveDashboard(createDashboard({ client: h.client, intervalMs: 500 }));
    try {
      const batches = (await (await fetch(new URL('api/batches', dashboard.url))).json()) as {
        batchId: string;
        status: string;
      }[];
      assert.deepEqual(
        batches.filter((b) => b.batchId === BATCH).map((b) => b.status),
        ['Completed'],
      );
      const snapshot = await dashboardSnapshot(new URL(`api/batches/${BATCH}/events`, dashboard.url));
      assert.equal(snapshot.tiles.length, TOTAL);
      assert.ok(snapshot.tiles.every((tile) => tile.mapStatus === 'finished'));
      assert.equal(snapshot.summary.problem, undefined);
      assert.equal(snapshot.summary.tileCount, TOTAL);
    } finally {
      await dashboard.close();
    }
  });

  it('cancels a running batch, and each tile in flight cancels its openEO job', async () => {
    const spec = h.spec({ batchId: CANCELLED, cols: 3, rows: 2 });
    spec.backends = [{ name: 'slow', url: h.backends.slow!.url, parallelJobs: 2 }];
    await h.client.start(spec);
    const ofBatch = () => h.backends.slow!.admin.jobs();
    await eventually(async () => ofBatch().some((job) => job.status === 'running'), 'a job of the batch runs', 180_000);
    await h.client.cancel(CANCELLED);
    await assert.rejects(h.client.wait(CANCELLED), BatchCancelledError);
    await eventually(
      async () => ofBatch().every((job) => job.status !== 'queued' && job.status !== 'running'),
      'no job of the cancelled batch still runs',
      120_000,
    );
    assert.ok(ofBatch().filter((job) => job.status === 'canceled').length >= 1, 'the running jobs were canceled');
    await eventually(
      async () => (await h.client.tiles(CANCELLED)).some((tile) => tile.status === 'canceled'),
      'visibility lists a canceled tile',
      120_000,
    );
  });
});
