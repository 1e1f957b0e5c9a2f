/**
 * A tiled batch end to end: real Temporal dev server, the openEO emulator over HTTP, a worker
 * with the openEO plugin. Each test reads what the user would see: files on disk, the batch
 * summary, and the emulator's own counters.
 */
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { fromArrayBuffer } from 'geotiff';
import type { EmulatorStats } from '../../src/tools/emulator/stats';
import { WORKFLOWS_PATH } from '../../src/app/plugin';
import { InvalidSpecError } from '../../src/core/batch-spec/validate';
import { BATCH_FILES, tileFoldersIn } from '../support/batch-folder';
import { startHarness, type Harness } from '../support/harness';

async function emulatorStats(h: Harness): Promise<EmulatorStats> {
  const response = await fetch(`${h.emulator.url}/_emulator/stats`);
  assert.equal(response.status, 200);
  return (await response.json()) as EmulatorStats;
}

describe('a tiled batch on a real dev server and the emulator', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({
      maxRunningJobsPerUser: 10,
      failure: { failTitlesContaining: ['broken-batch/E595000-N5660000'] },
    });
    await h.startWorker();
  });
  after(async () => h?.teardown());

  it('finishes a 4-tile batch with a readable GeoTIFF and job metadata in every tile folder', async () => {
    const spec = h.spec({ batchId: 'four-tiles' });
    const { handle } = await h.client.start(spec);
    const summary = await handle.result();

    assert.equal(summary.totalTiles, 4);
    assert.equal(summary.counts.finished, 4);
    // Beside the tile folders: the batch's STAC collection and its items, one per tile, and its saved records.
    const entries = await readdir(join(h.workDir, 'output', 'four-tiles'));
    const tileDirs = tileFoldersIn(entries);
    assert.equal(tileDirs.length, 4);
    assert.deepEqual(entries.filter((name) => !tileDirs.includes(name)).sort(), [...BATCH_FILES].sort());
    assert.deepEqual(
      (await readdir(join(h.workDir, 'output', 'four-tiles', 'items'))).sort(),
      tileDirs.map((id) => `${id}.json`),
    );
    for (const tileId of tileDirs) {
      const dir = join(h.workDir, 'output', 'four-tiles', tileId);
      const files = await readdir(dir);
      const tif = files.find((f) => f.endsWith('.tif'));
      assert.ok(tif, `${tileId} has a GeoTIFF (files: ${files.join(', ')})`);
      const data = await readFile(join(dir, tif));
      const image = await (await fromArrayBuffer(new Uint8Array(data).buffer)).getImage();
      assert.ok(image.getWidth() > 0 && image.getHeight() > 0);
      // The raster is this tile's 5 km square in UTM zone 31N, as the tile id names its lower-left corner.
      assert.equal(image.getGeoKeys()?.ProjectedCSTypeGeoKey, 32631);
      const [tileWest, tileSouth] = tileId.match(/\d+/g)!.map(Number);
      const expected = [tileWest, tileSouth, tileWest + 5000, tileSouth + 5000];
      const bbox = image.getBoundingBox();
      assert.ok(
        bbox.every((value, i) => Math.abs(value - expected[i]) < 1),
        `${tileId} bbox ${bbox}`,
      );
      const metadata = JSON.parse(await readFile(join(dir, 'job.json'), 'utf8'));
      assert.equal(metadata.job.status, 'finished');
      assert.match(metadata.job.title, new RegExp(`four-tiles/${tileId} `));
      assert.ok(Object.keys(metadata.results.assets).length > 0);
    }
  });

  it('ends a tile whose job fails as error with its logs saved, and still ends the batch', async () => {
    const spec = h.spec({ batchId: 'broken-batch' });
    const { handle } = await h.client.start(spec);
    const summary = await handle.result();

    assert.equal(summary.counts.error, 1);
    assert.equal(summary.counts.finished, 3);
    assert.deepEqual(
      summary.failedTiles.map((t) => t.tileId),
      ['E595000-N5660000'],
    );
    const dir = join(h.workDir, 'output', 'broken-batch', 'E595000-N5660000');
    const logs = JSON.parse(await readFile(join(dir, 'error-logs.json'), 'utf8')) as {
      level: string;
      message: string;
    }[];
    const errorEntry = logs.find((entry) => entry.level === 'error');
    assert.ok(errorEntry, 'the error log has an error entry');
    assert.equal(summary.failedTiles[0].error.message, errorEntry.message);
    const tiles = await h.client.tiles('broken-batch');
    assert.equal(tiles.length, 4);
    assert.deepEqual(
      tiles.filter((t) => t.status === 'error').map((t) => t.tileId),
      ['E595000-N5660000'],
    );
    assert.ok(
      tiles.every((t) => t.openeoJobId),
      'every tile lists its openEO job id',
    );
  });

  it('never has more than parallelJobs jobs of a backend queued or running at once, and at most one more lined up per slot', async () => {
    await fetch(`${h.emulator.url}/_emulator/reset-stats`, { method: 'POST' });
    const spec = h.spec({ batchId: 'window', cols: 3, rows: 3, scheduling: { lineUpJobs: true } });
    spec.backends[0].parallelJobs = 3;
    const { handle } = await h.client.start(spec);
    const summary = await handle.result();

    assert.equal(summary.counts.finished, 9);
    const stats = await emulatorStats(h);
    assert.equal(stats.jobs.created, 9);
    // The emulator runs up to 10 jobs at once here: only the window keeps it to 3.
    const started = Object.values(stats.startedJobsPerUser)[0];
    assert.ok(started.max <= 3, `at most 3 jobs queued or running at once, saw ${started.max}`);
    const active = Object.values(stats.activeJobsPerUser)[0];
    assert.ok(active.max <= 6, `at most 3 jobs running and 3 created ahead, saw ${active.max} at once`);
    assert.ok(active.max >= 2, `the window is used, saw at most ${active.max} at once`);
  });

  it('rejects a bad spec in the client, naming the field, before anything starts', async () => {
    const spec = h.spec({ batchId: 'bad-client' });
    spec.backends[0].parallelJobs = 0;
    await assert.rejects(h.client.start(spec), (err: unknown) => {
      assert.ok(err instanceof InvalidSpecError);
      assert.match(err.message, /backends\[0\]\.parallelJobs/);
      return true;
    });
  });

  it('fails a bad spec started without the client, naming the field, and creates no openEO job', async () => {
    await fetch(`${h.emulator.url}/_emulator/reset-stats`, { method: 'POST' });
    const spec = h.spec();
    (spec.tiles as { tileSize: number }).tileSize = -5;
    const handle = await h.temporal.workflow.start('batchWorkflow', {
      taskQueue: h.taskQueue,
      workflowId: 'bad-direct',
      args: [spec],
    });
    await assert.rejects(handle.result(), (err: unknown) => {
      assert.ok(err instanceof WorkflowFailedError);
      const cause = err.cause as Error & { type?: string };
      assert.equal(cause.type, 'InvalidBatchSpec');
      assert.match(cause.message, /tiles\.tileSize/);
      return true;
    });
    assert.equal((await emulatorStats(h)).jobs.created, 0);
  });

  it('names itself on its page when started without the client: summary and details from the client, the same in its current details from the worker', async () => {
    const spec = h.spec({ batchId: 'plain-start', cols: 1, rows: 1, title: 'Plain start' });
    const plain = await h.temporal.workflow.start('batchWorkflow', {
      taskQueue: h.taskQueue,
      workflowId: 'plain-start',
      args: [spec],
    });
    await plain.result();
    const description = await plain.describe();
    assert.equal(await description.staticSummary(), undefined, 'the plain Temporal client gave no summary');
    const metadata = await plain.query<{ currentDetails?: string }>('__temporal_workflow_metadata');
    assert.match(metadata.currentDetails ?? '', /\*\*1 \/ 1 tiles done\*\*/);
    assert.match(
      metadata.currentDetails ?? '',
      /\*\*Batch\*\* plain-start: Plain start\n\n\*\*Process\*\*: `bap_composite`/,
    );
    assert.match(metadata.currentDetails ?? '', /\*\*Backends\*\*: emulator \(2 at once\)/);

    const viaClient = await h.client.start({ ...spec, batchId: 'client-start' });
    await viaClient.handle.result();
    const started = await viaClient.handle.describe();
    assert.equal(
      await started.staticSummary(),
      'openEO batch Plain start: `bap_composite` from https://github.com/ESA-APEx/apex_algorithms/raw/refs/heads/main/algorithm_catalog/vito/bap_composite/openeo_udp/bap_composite.json on emulator',
    );
    assert.match(
      (await started.staticDetails()) ?? '',
      /\*\*Tiles\*\*: a grid of 5000 \(EPSG:32631 units\) tiles over the area/,
    );
  });

  it('replays the recorded histories of a batch and its tiles deterministically', async () => {
    const workflowIds = ['four-tiles', ...(await h.client.tiles('four-tiles')).map((t) => t.workflowId)];
    const histories = await Promise.all(
      workflowIds.map(async (workflowId) => ({
        workflowId,
        history: await h.temporal.workflow.getHandle(workflowId).fetchHistory(),
      })),
    );
    const results = [];
    for await (const result of Worker.runReplayHistories({ workflowsPath: WORKFLOWS_PATH }, histories))
      results.push(result);
    assert.deepEqual(
      results.map((r) => r.error),
      histories.map(() => undefined),
    );
    assert.equal(histories.length, 5);
  });
});
