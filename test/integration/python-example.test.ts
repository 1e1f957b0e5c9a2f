/**
 * The Python package's batch client (`python -m openeo_temporal run|tiles|read-export`, from
 * `python/src`) as a real Python process, with Temporal's Python SDK from PyPI, against the dev
 * server, the emulator and a worker: it starts a batch, follows its progress, and reads the tile
 * records into a GeoDataFrame that matches the batch.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { TileRecord } from '../../src/core/records';
import type { TileWorkflowInput } from '../../workflows/tile';
import { startHarness, type Harness } from '../support/harness';
import { packageEnv, packagePython } from '../support/python';

interface SavedTile {
  properties: { tileId: string; status: string; openeoJobId: string | null; attempts: number };
  geometry: { type: string; coordinates: number[][][] };
}

describe('the Python batch client', () => {
  let h: Harness;
  let python: string;

  /** Runs `python -m openeo_temporal <args>` against the harness; resolves with its exit code and output. */
  const cli = (args: string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
    new Promise((resolve) => {
      const env = packageEnv({ TEMPORAL_ADDRESS: h.server.address, TEMPORAL_NAMESPACE: h.server.namespace });
      const command = ['-m', 'openeo_temporal', ...args];
      execFile(python, command, { env, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
      });
    });

  before(async () => {
    python = await packagePython((line) => console.log(line));
    h = await startHarness({ maxRunningJobsPerUser: 10 });
    await h.startWorker();
  });
  after(async () => h?.teardown());

  it('starts a batch, follows its progress and reads its tiles into a GeoDataFrame', async () => {
    const specFile = join(h.workDir, 'py-batch.json');
    await writeFile(specFile, JSON.stringify(h.spec({ batchId: 'py-batch', cols: 3, rows: 2 })));
    const saved = join(h.workDir, 'py-tiles.geojson');
    const run = await cli(['run', specFile, '--task-queue', h.taskQueue, '--every', '0.5', '--save', saved]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^started batch py-batch on task queue /m);
    assert.match(run.stdout, /^progress: \d+\/6 done · finished \d+/m, 'it printed the batchProgress query');

    // What it printed is what the batch says.
    const summary = await h.client.progress('py-batch');
    assert.match(
      run.stdout,
      new RegExp(
        `^batch py-batch ended: 6/6 done · finished ${summary.counts.finished} · error ${summary.counts.error}`,
        'm',
      ),
    );
    const listed = await h.client.tiles('py-batch');
    assert.match(run.stdout, new RegExp(`^tile records: ${listed.length}$`, 'm'));
    const statuses = new Map<string, number>();
    for (const t of listed) statuses.set(t.status, (statuses.get(t.status) ?? 0) + 1);
    const printed = [...run.stdout.matchAll(/^ {2}(\w+): (\d+)$/gm)].map((m) => [m[1], Number(m[2])]);
    assert.deepEqual(new Map(printed as [string, number][]), statuses);

    // The GeoDataFrame it saved: each tile's record and the geometry its job ran on.
    const features = (JSON.parse(await readFile(saved, 'utf8')) as { features: SavedTile[] }).features;
    assert.equal(features.length, 6);
    for (const tile of listed) {
      const handle = h.temporal.workflow.getHandle(tile.workflowId);
      const record = (await handle.result()) as TileRecord;
      const history = await handle.fetchHistory();
      const payload = history.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads?.[0];
      const input = h.temporal.options.loadedDataConverter.payloadConverter.fromPayload<TileWorkflowInput>(payload!);
      const row = features.find((f) => f.properties.tileId === tile.tileId);
      assert.ok(row, `tile ${tile.tileId} is in the GeoDataFrame`);
      assert.deepEqual(
        [row.properties.status, row.properties.openeoJobId, row.properties.attempts],
        [record.status, record.openeoJobId, record.attempts],
      );
      assert.equal(row.geometry.type, 'Polygon');
      const expected = (input.tile.geometry.coordinates as number[][][])[0];
      row.geometry.coordinates[0].forEach(([x, y], i) => {
        assert.ok(
          Math.abs(x - expected[i][0]) < 1e-9 && Math.abs(y - expected[i][1]) < 1e-9,
          `tile ${tile.tileId}: vertex ${i} is the tile's`,
        );
      });
    }

    // The same, read back as an export file would be, with geopandas.
    const reread = await cli(['read-export', saved]);
    assert.equal(reread.code, 0, reread.stderr);
    assert.match(reread.stdout, /^tile records: 6$/m);
  });

  it('says why a batch the worker refuses failed', async () => {
    const specFile = join(h.workDir, 'py-refused.json');
    await writeFile(
      specFile,
      JSON.stringify(h.spec({ batchId: 'py-refused', tiles: { file: join(h.workDir, 'missing.geojson') } })),
    );
    const run = await cli(['run', specFile, '--task-queue', h.taskQueue]);
    assert.equal(run.code, 1, run.stdout);
    assert.match(
      run.stderr,
      /^batch py-refused failed: InvalidBatchSpec: tiles\.file: cannot read .*missing\.geojson/m,
    );
  });
});
