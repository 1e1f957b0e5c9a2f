/**
 * A batch's job database outlives Temporal's retention: the batch saves its records beside its
 * results (at checkpoints while tiles end, and when it ends), and once its closed tile workflows
 * are deleted (`temporal workflow delete`, as retention would), the records, the export, the
 * map's data and the saved GeoParquet still show every tile as it ended.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { latestTileExecutions } from '../../activities/records/lookup';
import { createDashboard } from '../../src/app/dashboard';
import type { TileRow } from '../../src/core/records';
import { findTemporalCli } from '../../src/tools/devserver/temporal-cli';
import { serveDashboard } from '../harness/dashboard-page';
import { eventually } from '../support/eventually';
import { startHarness, type Harness } from '../support/harness';
import { parseCsv, readGeoParquetObjects } from '../support/read-exports';

const run = promisify(execFile);
const BATCH = 'kept';
const MAIN = join(__dirname, '..', '..', 'src', 'app', 'cli', 'main.js');

/** What a view shows of a tile: enough to see that nothing of its record was lost. */
const essentials = (row: TileRow) => ({
  tileId: row.tileId,
  status: row.status,
  openeoJobId: row.openeoJobId,
  attempts: row.attempts,
  files: row.files,
  outputDir: row.outputDir,
  hasOutline: row.geometry !== null,
});

/** The first `snapshot` event of the map page's feed. */
async function mapSnapshot(url: string): Promise<{ tiles: { tileId: string; status: string; geometry?: unknown }[] }> {
  const response = await fetch(new URL(`api/batches/${BATCH}/events`, url));
  const reader = response.body!.getReader();
  let text = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error('the feed ended before its snapshot');
    text += Buffer.from(value).toString('utf8');
    const event = /event: snapshot\ndata: (.*)\n\n/.exec(text);
    if (event) {
      await reader.cancel();
      return JSON.parse(event[1]!) as { tiles: { tileId: string; status: string; geometry?: unknown }[] };
    }
  }
}

describe('records that outlive retention', () => {
  let h: Harness;
  let outputDir: string;
  before(async () => {
    h = await startHarness({ jobDurations: { queuedMs: 50, runningMs: 2_500 } });
    await h.startWorker();
    outputDir = join(h.workDir, 'output');
  });
  after(async () => h?.teardown());

  it('saves the records at a checkpoint while the batch runs, then in full at its end', async () => {
    const spec = h.spec({ batchId: BATCH, cols: 2, rows: 2, scheduling: { saveRecordsEveryMinutes: 0.05 } });
    spec.backends = [{ name: 'emulator', url: h.emulator.url, parallelJobs: 1 }];
    const { handle } = await h.client.start(spec);
    const file = join(outputDir, BATCH, 'job-database.json.gz');
    const saved = async () =>
      JSON.parse(gunzipSync(await readFile(file)).toString('utf8')) as { complete: boolean; tiles: TileRow[] };
    let checkpoint: { complete: boolean; tiles: TileRow[] } | undefined;
    await eventually(
      async () => {
        checkpoint = await saved().catch(() => undefined);
        return checkpoint !== undefined;
      },
      'a checkpoint while tiles still run',
      120_000,
    );
    assert.equal(checkpoint!.complete, false, 'the first save is a checkpoint, before the batch ended');
    assert.ok(
      checkpoint!.tiles.some((t) => t.status === 'finished'),
      'a tile that ended is in it',
    );
    assert.ok(
      checkpoint!.tiles.some((t) => t.status !== 'finished'),
      'tiles still running or waiting are in it too',
    );
    const summary = await handle.result();
    assert.equal(summary.counts.finished, 4);
    const final = await saved();
    assert.equal(final.complete, true);
    assert.deepEqual(
      final.tiles.map((t) => t.status),
      ['finished', 'finished', 'finished', 'finished'],
    );
  });

  it('shows every tile as it ended after its workflow was deleted, from the saved records', async () => {
    const before = (await h.client.records(BATCH)).tiles.map(essentials);
    assert.equal(before.length, 4);
    assert.ok(before.every((t) => t.status === 'finished' && t.openeoJobId && t.files && t.files.length > 0));

    const tiles = await latestTileExecutions(h.temporal, BATCH);
    assert.equal(tiles.length, 4);
    for (const tile of tiles) await deleteWorkflow(h, tile.workflowId);
    await eventually(
      async () => (await latestTileExecutions(h.temporal, BATCH)).length === 0,
      'the tile workflows are gone',
    );

    const records = await h.client.records(BATCH);
    assert.equal(records.problem, undefined);
    assert.deepEqual(records.tiles.map(essentials), before, 'records as they were');

    const csv = parseCsv(Buffer.from((await h.client.exportTiles(BATCH, { format: 'csv' })).bytes).toString('utf8'));
    assert.deepEqual(
      csv.map((row) => [row.tile_id, row.status, row.id]),
      before.map((t) => [t.tileId, 'finished', t.openeoJobId]),
      'the export lists every tile finished, with its job',
    );

    const dashboard = await serveDashboard(createDashboard({ client: h.client, batchId: BATCH, intervalMs: 500 }));
    try {
      const map = await mapSnapshot(dashboard.url);
      assert.deepEqual(
        map.tiles.map((t) => [t.tileId, t.status, t.geometry !== undefined]).sort(),
        before.map((t) => [t.tileId, 'finished', true]).sort(),
        'the map draws every tile, finished, with its outline',
      );
    } finally {
      await dashboard.close();
    }

    const parquet = await readGeoParquetObjects(await readFile(join(outputDir, BATCH, 'job-database.parquet')));
    assert.deepEqual(
      parquet.map((row) => [row.tile_id, row.status, row.id]),
      before.map((t) => [t.tileId, 'finished', t.openeoJobId]),
      'the saved GeoParquet is the export',
    );
  });

  it('is what the views fall back on: without the saved file, deleted tiles read as never started', async () => {
    const file = join(outputDir, BATCH, 'job-database.json.gz');
    await rename(file, `${file}.away`);
    try {
      const rows = (await h.client.records(BATCH)).tiles;
      assert.deepEqual(
        rows.map((t) => t.status),
        ['not_started', 'not_started', 'not_started', 'not_started'],
      );
    } finally {
      await rename(`${file}.away`, file);
    }
    assert.ok((await h.client.records(BATCH)).tiles.every((t) => t.status === 'finished'));
  });

  it('exports a batch whose own workflow is gone too, from its outputDir', async () => {
    const expected = (await h.client.records(BATCH)).tiles.map(essentials);
    await deleteWorkflow(h, BATCH);
    await eventually(
      async () =>
        h.temporal.workflow
          .getHandle(BATCH)
          .describe()
          .then(
            () => false,
            () => true,
          ),
      'the batch workflow is gone',
    );
    const env = { ...process.env, TEMPORAL_ADDRESS: h.server.address, TEMPORAL_NAMESPACE: h.server.namespace };
    const cli = (args: string[]) =>
      run(process.execPath, [MAIN, 'export', BATCH, '--format', 'csv', ...args], { env }).then(
        ({ stdout }) => ({ code: 0, stdout, stderr: '' }),
        (err: { code: number; stdout: string; stderr: string }) => err,
      );
    const without = await cli([]);
    assert.notEqual(without.code, 0);
    assert.match(without.stderr, /not in Temporal .*--output-dir/, 'the error says what to give');
    const exported = await cli(['--output-dir', outputDir]);
    assert.equal(exported.code, 0, exported.stderr);
    assert.deepEqual(
      parseCsv(exported.stdout).map((row) => [row.tile_id, row.status, row.id]),
      expected.map((t) => [t.tileId, 'finished', t.openeoJobId]),
    );
    const records = await h.client.records(BATCH, { savedIn: outputDir });
    assert.deepEqual(records.tiles.map(essentials), expected);
    assert.equal(records.spec.outputDir, outputDir, 'the spec comes with the records');
  });
});

/** Deletes a workflow as retention would, with the Temporal CLI. */
async function deleteWorkflow(h: Harness, workflowId: string): Promise<void> {
  const cli = findTemporalCli();
  assert.ok(cli, 'the Temporal CLI is built');
  await run(cli, [
    'workflow',
    'delete',
    '--workflow-id',
    workflowId,
    '--address',
    h.server.address,
    '--namespace',
    h.server.namespace,
  ]);
}
