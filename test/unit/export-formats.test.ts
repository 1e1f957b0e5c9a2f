/**
 * The export formats, written and read back with other readers (see support/read-exports):
 * CSV quoting and WKT, GeoJSON features, GeoParquet's types, nulls, lists, `geo` metadata and
 * WKB. No server.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Geometry } from 'wkx';
import { jobDatabaseCsv } from '../../src/core/job-database/csv';
import { jobDatabaseGeoJson } from '../../src/core/job-database/geojson';
import { flatOutline, outlineWkb, outlineWkt } from '../../src/core/job-database/geometry';
import { geoMetadata, jobDatabaseGeoParquet } from '../../src/core/job-database/geoparquet';
import { encodeJobDatabase, formatOfPath, parseExportFormat } from '../../src/core/job-database';
import { JOB_DATABASE_COLUMNS, jobDatabaseRow, type JobDatabaseRow } from '../../src/core/job-database/job-database';
import { arrowRow, parseCsv, readGeoParquetObjects, readParquetTable } from '../support/read-exports';

const SQUARE = {
  type: 'Polygon' as const,
  coordinates: [
    [
      [4.1, 51.1],
      [4.2, 51.1],
      [4.2, 51.2],
      [4.1, 51.2],
      [4.1, 51.1],
    ],
  ],
};
const TWO_SQUARES = {
  type: 'MultiPolygon' as const,
  coordinates: [
    SQUARE.coordinates,
    [
      [
        [5, 52],
        [5.5, 52],
        [5.5, 52.5],
        [5, 52.5],
        [5, 52],
      ],
    ],
  ],
};
/** A message with every character CSV must quote. */
const NASTY = 'band "B04", not found\nsee logs; then retry';

const ROWS: JobDatabaseRow[] = [
  jobDatabaseRow({
    batchId: 'b',
    tileId: 'a',
    status: 'finished',
    backend: 'emulator',
    openeoJobId: 'j-1',
    backendStatus: 'finished',
    attempts: 1,
    createdAt: '2024-11-05T14:22:06.000Z',
    costs: 1.7,
    usage: { cpu: { value: 24, unit: 'cpu-seconds' } },
    outputDir: '/out/b/a',
    files: ['openEO.tif', 'job.json'],
    geometry: SQUARE,
  }),
  jobDatabaseRow({
    batchId: 'b',
    tileId: 'b,"2"',
    status: 'error',
    backend: 'emulator',
    openeoJobId: 'j-2',
    backendStatus: 'error',
    attempts: 2,
    error: { code: 'TileBroken', message: NASTY },
    geometry: TWO_SQUARES,
  }),
  jobDatabaseRow({ batchId: 'b', tileId: 'c', status: 'not_started', attempts: 0, geometry: null }),
];

describe('export formats', () => {
  it('encodes outlines as WKT and ISO WKB, in lon/lat only', () => {
    assert.equal(outlineWkt(SQUARE), 'POLYGON((4.1 51.1,4.2 51.1,4.2 51.2,4.1 51.2,4.1 51.1))');
    const withHeight = {
      type: 'Polygon' as const,
      coordinates: SQUARE.coordinates.map((ring) => ring.map(([x, y]) => [x!, y!, 12])),
    };
    assert.deepEqual(flatOutline(withHeight), SQUARE);
    const wkb = outlineWkb(withHeight);
    // Little-endian, type 3 (Polygon, 2D), one ring of five points of two doubles.
    assert.deepEqual([...wkb.subarray(0, 5)], [1, 3, 0, 0, 0]);
    assert.equal(wkb.byteLength, 1 + 4 + 4 + 4 + 5 * 16);
    assert.equal(new DataView(wkb.buffer, wkb.byteOffset).getFloat64(13, true), 4.1);
    assert.equal(outlineWkt(TWO_SQUARES).slice(0, 15), 'MULTIPOLYGON(((');
  });

  it('writes CSV that a CSV parser reads back field for field', () => {
    const text = jobDatabaseCsv(ROWS);
    const parsed = parseCsv(text);
    assert.equal(parsed.length, 3);
    assert.deepEqual(
      Object.keys(parsed[0]!),
      JOB_DATABASE_COLUMNS.map((c) => c.name),
    );
    assert.equal(parsed[1]!.tile_id, 'b,"2"');
    assert.equal(parsed[1]!.error_message, NASTY, 'quotes, commas and line breaks survive');
    assert.equal(parsed[1]!.status, 'error');
    assert.equal(parsed[0]!.costs, '1.7');
    assert.equal(parsed[0]!.cpu, '24 cpu-seconds');
    assert.deepEqual(JSON.parse(parsed[0]!.files!), ['openEO.tif', 'job.json']);
    assert.equal(parsed[2]!.id, '', 'missing values are empty, as pandas writes NaN');
    assert.equal(parsed[2]!.geometry, '');
    assert.deepEqual(Geometry.parse(parsed[0]!.geometry!).toGeoJSON(), SQUARE);
    assert.deepEqual(Geometry.parse(parsed[1]!.geometry!).toGeoJSON(), TWO_SQUARES);
  });

  it('writes a GeoJSON FeatureCollection with the columns as properties', () => {
    const collection = JSON.parse(jobDatabaseGeoJson(ROWS)) as {
      type: string;
      features: { id: string; geometry: unknown; properties: Record<string, unknown> }[];
    };
    assert.equal(collection.type, 'FeatureCollection');
    assert.deepEqual(
      collection.features.map((f) => f.id),
      ['a', 'b,"2"', 'c'],
    );
    assert.deepEqual(
      collection.features.map((f) => f.geometry),
      [SQUARE, TWO_SQUARES, null],
    );
    const { geometry: _geometry, ...properties } = ROWS[1]!;
    assert.deepEqual(collection.features[1]!.properties, properties);
  });

  it('writes GeoParquet that another Parquet implementation reads: types, nulls, lists, geo metadata', async () => {
    const bytes = await jobDatabaseGeoParquet(ROWS);
    const table = readParquetTable(bytes);
    assert.equal(table.numRows, 3);
    const types = Object.fromEntries(table.schema.fields.map((f) => [f.name, String(f.type)]));
    assert.deepEqual(types, {
      id: 'Utf8',
      backend_name: 'Utf8',
      status: 'Utf8',
      start_time: 'Utf8',
      running_start_time: 'Utf8',
      cpu: 'Utf8',
      memory: 'Utf8',
      duration: 'Utf8',
      costs: 'Float64',
      tile_id: 'Utf8',
      backend_status: 'Utf8',
      attempts: 'Int32',
      error_code: 'Utf8',
      error_message: 'Utf8',
      output_dir: 'Utf8',
      files: 'List<Utf8>',
      notes: 'List<Utf8>',
      unchecked_checksums: 'List<Utf8>',
      geometry: 'Binary',
    });
    const first = arrowRow(table, 0);
    assert.equal(first.costs, 1.7);
    assert.deepEqual(first.files, ['openEO.tif', 'job.json']);
    assert.equal(first.start_time, '2024-11-05T14:22:06Z');
    const failed = arrowRow(table, 1);
    assert.equal(failed.error_message, NASTY);
    assert.equal(failed.attempts, 2);
    const notStarted = arrowRow(table, 2);
    assert.equal(notStarted.id, null);
    assert.equal(notStarted.costs, null);
    assert.equal(notStarted.geometry, null);
    assert.deepEqual(notStarted.files, []);

    const geo = JSON.parse(table.schema.metadata.get('geo') ?? '{}') as ReturnType<typeof geoMetadata>;
    assert.deepEqual(geo, {
      version: '1.1.0',
      primary_column: 'geometry',
      columns: { geometry: { encoding: 'WKB', geometry_types: ['MultiPolygon', 'Polygon'] } },
    });

    const objects = await readGeoParquetObjects(bytes);
    assert.deepEqual(
      objects.map((o) => o.geometry),
      [SQUARE, TWO_SQUARES, null],
      'a GeoParquet reader decodes the WKB to the outlines',
    );
  });

  it('names the formats, accepts geoparquet for parquet, and refuses others with the choices', async () => {
    assert.equal(parseExportFormat('CSV'), 'csv');
    assert.equal(parseExportFormat('geoparquet'), 'parquet');
    assert.throws(
      () => parseExportFormat('xlsx', '--format'),
      /--format: unknown export format "xlsx": use csv, geojson, parquet/,
    );
    assert.equal(formatOfPath('out/jobs.CSV'), 'csv');
    assert.equal(formatOfPath('tiles.geojson'), 'geojson');
    assert.equal(formatOfPath('db.geoparquet'), 'parquet');
    assert.equal(formatOfPath('db'), undefined);
    const csv = Buffer.from(await encodeJobDatabase(ROWS, 'csv')).toString('utf8');
    assert.equal(csv, jobDatabaseCsv(ROWS));
  });

  it('writes an empty batch in every format', async () => {
    assert.deepEqual(parseCsv(jobDatabaseCsv([])), []);
    assert.equal(jobDatabaseCsv([]).split('\n')[0], JOB_DATABASE_COLUMNS.map((c) => c.name).join(','));
    assert.deepEqual((JSON.parse(jobDatabaseGeoJson([])) as { features: unknown[] }).features, []);
    // No tiles, no row group: pyarrow and geopandas read that, parquet-wasm refuses a list column
    // without row groups, so hyparquet reads this one.
    const bytes = await jobDatabaseGeoParquet([]);
    const { parquetMetadata } = await import('hyparquet');
    const metadata = parquetMetadata(
      bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer,
    );
    assert.equal(Number(metadata.num_rows), 0);
    assert.deepEqual(
      metadata.schema
        .filter((e) => e.name !== 'list' && e.name !== 'element')
        .slice(1)
        .map((e) => e.name),
      JOB_DATABASE_COLUMNS.map((c) => c.name),
    );
    assert.ok(
      metadata.key_value_metadata?.some((kv) => kv.key === 'geo'),
      'the geo metadata is there',
    );
  });
});
