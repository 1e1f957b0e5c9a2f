/**
 * Exports of a known batch on the emulator (six tiles, one failed by a job fault), read back:
 * CSV with a CSV parser and WKT, GeoJSON as geometries, GeoParquet with other Parquet readers
 * (parquet-wasm for the columns and `geo` metadata, hyparquet for the WKB), through the client
 * API and the command line. With OPENEO_TEMPORAL_TEST_PYTHON set to a Python that has
 * geopandas, also `geopandas.read_parquet`, as the job manager reads its Parquet database.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { Geometry } from 'wkx';
import type { TileRow } from '../../src/core/records';
import { JOB_DATABASE_COLUMNS } from '../../src/core/job-database';
import { batchProgress } from '../../workflows/messages';
import { eventually } from '../support/eventually';
import { startHarness, type Harness } from '../support/harness';
import { arrowRow, parseCsv, readGeoParquetObjects, readParquetTable } from '../support/read-exports';

const run = promisify(execFile);
const CLI = join(__dirname, '..', '..', 'src', 'app', 'cli', 'main.js');
const BATCH = 'exported';
const FAILED = 'E595000-N5660000';
const FINISHED = 'E590000-N5660000';
const PYTHON = process.env.OPENEO_TEMPORAL_TEST_PYTHON;

async function cli(h: Harness, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], {
      env: { ...process.env, TEMPORAL_ADDRESS: h.server.address, TEMPORAL_NAMESPACE: h.server.namespace },
      maxBuffer: 64 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('exports of a batch', () => {
  let h: Harness;
  let tiles: Map<string, TileRow>;
  before(async () => {
    h = await startHarness({ jobDurations: { queuedMs: 300, runningMs: 1_500 } });
    h.emulator.admin.setFaults({ jobs: { rules: [{ titleContains: FAILED, failFirst: 99, code: 'TileBroken' }] } });
    await h.startWorker();
  });
  after(async () => h?.teardown());

  it('exports a running batch with the job manager’s statuses: waiting tiles not_started, the one in flight as the backend says', async () => {
    const spec = h.spec({ batchId: BATCH, cols: 3, rows: 2 });
    spec.backends = [{ name: 'emulator', url: h.emulator.url, parallelJobs: 1 }];
    spec.maxAttempts = 1;
    const { handle } = await h.client.start(spec);
    await eventually(async () => (await handle.query(batchProgress)).counts.running === 1, 'a tile runs');
    await eventually(async () => {
      const rows = parseCsv(Buffer.from((await h.client.exportTiles(BATCH, { format: 'csv' })).bytes).toString('utf8'));
      const active = rows.filter((r) => ['created', 'queued', 'running'].includes(r.status!));
      return (
        rows.length === 6 &&
        active.length === 1 &&
        active[0]!.id !== '' &&
        rows.some((r) => r.status === 'not_started' && r.id === '')
      );
    }, 'an export shows one job in flight and tiles not started');
    await handle.result();
    tiles = new Map((await h.client.records(BATCH)).tiles.map((t) => [t.tileId, t]));
    assert.equal(tiles.get(FAILED)?.error?.code, 'TileBroken');
  });

  it('exports CSV: one row per tile, the failed tile’s error, outlines as WKT', async () => {
    const out = join(h.workDir, 'jobs.csv');
    const result = await h.client.exportTiles(BATCH, { format: 'csv', out });
    assert.equal(result.path, out);
    assert.equal(result.rows, 6);
    const rows = parseCsv(await readFile(out, 'utf8'));
    assert.equal(rows.length, 6);
    assert.deepEqual(
      Object.keys(rows[0]!),
      JOB_DATABASE_COLUMNS.map((c) => c.name),
    );
    const byTile = new Map(rows.map((r) => [r.tile_id, r]));
    const failed = byTile.get(FAILED)!;
    assert.equal(failed.status, 'error');
    assert.equal(failed.backend_status, 'error');
    assert.equal(failed.error_code, 'TileBroken');
    assert.ok(failed.error_message, 'with its message');
    const finished = byTile.get(FINISHED)!;
    const record = tiles.get(FINISHED)!;
    assert.equal(finished.status, 'finished');
    assert.equal(finished.id, record.openeoJobId);
    assert.equal(finished.backend_name, 'emulator');
    assert.match(finished.start_time!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.match(finished.duration!, /^[\d.]+ seconds$/);
    assert.ok(Number(finished.costs) > 0 && Number(finished.costs) === record.costs, `costs ${finished.costs}`);
    assert.deepEqual(JSON.parse(finished.files!), record.files);
    for (const row of rows)
      assert.deepEqual(
        Geometry.parse(row.geometry!).toGeoJSON(),
        tiles.get(row.tile_id!)!.geometry,
        `the WKT of ${row.tile_id} is its outline`,
      );
  });

  it('exports GeoJSON whose geometries are the tiles’ outlines', async () => {
    const result = await h.client.exportTiles(BATCH, { format: 'geojson' });
    assert.equal(result.path, undefined, 'nothing written without out');
    const collection = JSON.parse(Buffer.from(result.bytes).toString('utf8')) as {
      type: string;
      features: { id: string; geometry: unknown; properties: Record<string, unknown> }[];
    };
    assert.equal(collection.type, 'FeatureCollection');
    assert.equal(collection.features.length, 6);
    for (const feature of collection.features) {
      assert.deepEqual(feature.geometry, tiles.get(feature.id)!.geometry, feature.id);
      assert.equal(feature.properties.tile_id, feature.id);
    }
    const failed = collection.features.find((f) => f.id === FAILED)!;
    assert.deepEqual([failed.properties.status, failed.properties.error_code], ['error', 'TileBroken']);
  });

  it('exports GeoParquet that other readers read: columns, geo metadata, WKB outlines', async () => {
    const out = join(h.workDir, 'jobs.parquet');
    await h.client.exportTiles(BATCH, { format: 'parquet', out });
    const bytes = new Uint8Array(await readFile(out));
    const table = readParquetTable(bytes);
    assert.equal(table.numRows, 6);
    assert.deepEqual(
      table.schema.fields.map((f) => f.name),
      JOB_DATABASE_COLUMNS.map((c) => c.name),
    );
    const rows = Array.from({ length: table.numRows }, (_, i) => arrowRow(table, i));
    const failed = rows.find((r) => r.tile_id === FAILED)!;
    assert.deepEqual([failed.status, failed.error_code, failed.attempts], ['error', 'TileBroken', 1]);
    const finished = rows.find((r) => r.tile_id === FINISHED)!;
    assert.equal(finished.id, tiles.get(FINISHED)!.openeoJobId);
    assert.equal(finished.costs, tiles.get(FINISHED)!.costs);

    const geo = JSON.parse(table.schema.metadata.get('geo') ?? 'null') as {
      primary_column: string;
      columns: Record<string, { encoding: string; geometry_types: string[] }>;
    };
    assert.equal(geo.primary_column, 'geometry');
    assert.deepEqual(geo.columns.geometry, { encoding: 'WKB', geometry_types: ['Polygon'] });

    const objects = await readGeoParquetObjects(bytes);
    const decoded = objects.find((o) => o.tile_id === FINISHED)!;
    assert.deepEqual(decoded.geometry, tiles.get(FINISHED)!.geometry, 'the WKB decodes to the tile’s outline');
  });

  it('exports from the command line: CSV to standard output, Parquet only to a file', async () => {
    const csv = await cli(h, ['export', BATCH, '--format', 'csv']);
    assert.equal(csv.code, 0, csv.stderr);
    assert.equal(csv.stdout, await readFile(join(h.workDir, 'jobs.csv'), 'utf8'), 'the same export as the API’s');

    const refused = await cli(h, ['export', BATCH, '--format', 'parquet']);
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      /--out: a Parquet export is a binary file: give the file to write, e\.g\. --out jobs\.parquet/,
    );
    assert.equal(refused.stdout, '');

    const unknown = await cli(h, ['export', BATCH, '--format', 'xlsx']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /--format: unknown export format "xlsx": use csv, geojson, parquet/);

    const file = join(h.workDir, 'from-cli.parquet');
    const written = await cli(h, ['export', BATCH, '--out', file]);
    assert.equal(written.code, 0, written.stderr);
    assert.match(written.stderr, /exported 6 tiles of batch exported to .*from-cli\.parquet \(parquet\)/);
    assert.equal(readParquetTable(new Uint8Array(await readFile(file))).numRows, 6);
  });

  it(
    'is read by geopandas.read_parquet as a GeoDataFrame',
    { skip: PYTHON ? false : 'set OPENEO_TEMPORAL_TEST_PYTHON to a Python with geopandas' },
    async () => {
      const script = [
        'import json, sys, geopandas',
        'df = geopandas.read_parquet(sys.argv[1])',
        'row = df[df.tile_id == sys.argv[2]].iloc[0]',
        'print(json.dumps({"kind": type(df).__name__, "crs": str(df.crs), "rows": len(df), "status": row.status, "code": row.error_code, "geometry": row.geometry.__geo_interface__}))',
      ].join('\n');
      const { stdout } = await run(PYTHON!, ['-c', script, join(h.workDir, 'jobs.parquet'), FAILED]);
      const seen = JSON.parse(stdout) as {
        kind: string;
        crs: string;
        rows: number;
        status: string;
        code: string;
        geometry: { coordinates: number[][][] };
      };
      assert.deepEqual(
        [seen.kind, seen.crs, seen.rows, seen.status, seen.code],
        ['GeoDataFrame', 'OGC:CRS84', 6, 'error', 'TileBroken'],
      );
      const outline = tiles.get(FAILED)!.geometry as { coordinates: number[][][] };
      assert.deepEqual(seen.geometry.coordinates, outline.coordinates);
    },
  );
});
