/**
 * The front door, without a server: every offline problem of a spec at once (an unknown CRS
 * beside a bad backend), batches larger than maxTiles, absurd tile sizes, self-intersecting
 * tiles, and the pure parts of the remote-process checks.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { SpecErrorDetails } from '../../src/core/batch-spec/errors';
import { collectionIdsOf, outputFormatsOf } from '../../src/core/batch-spec/graph-contents';
import { checkSpecOffline, inspectSpecOffline } from '../../src/core/batch-spec/prepare';
import { parameterProblems, processFromDocument } from '../../src/core/batch-spec/remote-process';
import { InvalidSpecError } from '../../src/core/batch-spec/validate';

const example = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'examples', 'antwerp-bap.json'), 'utf8'));

/** The offline problems of a spec. */
function problemsOf(input: unknown): SpecErrorDetails[] {
  return inspectSpecOffline(input).problems;
}

const lonLatAoi = (tileSize: number) => ({
  aoi: { west: 4.4, south: 51.2, east: 4.5, north: 51.3, crs: 'EPSG:4326' },
  tileSize,
});
const square = (west: number, south: number, size = 0.01) => [
  [west, south],
  [west + size, south],
  [west + size, south + size],
  [west, south + size],
  [west, south],
];
const bowtie = (west: number, south: number) => [
  [west, south],
  [west + 0.01, south + 0.01],
  [west + 0.01, south],
  [west, south + 0.01],
  [west, south],
];
const feature = (id: string, coordinates: number[][][]) => ({
  type: 'Feature',
  id,
  geometry: { type: 'Polygon', coordinates },
  properties: {},
});

describe('every problem at once', () => {
  it('reports an unknown CRS beside schema problems elsewhere in the spec', () => {
    const input = {
      ...example,
      backends: [{ name: 'emulator', url: 'ftp://nowhere', parallelJobs: 0 }],
      tiles: { ...example.tiles, aoi: { ...example.tiles.aoi, crs: 'EPSG:99999' } },
    };
    const fields = problemsOf(input).map((p) => p.field);
    assert.ok(fields.includes('backends[0].url'), fields.join());
    assert.ok(fields.includes('backends[0].parallelJobs'), fields.join());
    assert.ok(fields.includes('tiles.aoi.crs'), fields.join());
  });

  it('names every bad part of an AOI, not only the first, and not the schema\'s vague "no allowed form"', () => {
    const input = {
      ...example,
      tiles: { aoi: { west: 'a', south: 5660000, east: 610000, north: Number.NaN, crs: 'EPSG:99999' }, tileSize: 5000 },
    };
    const found = problemsOf(input).map((p) => p.field);
    assert.deepEqual(found.sort(), ['tiles.aoi.crs', 'tiles.aoi.north', 'tiles.aoi.west']);
  });

  it('throws them together from checkSpecOffline, as start and the worker do', () => {
    const input = { ...example, maxAttempts: 0, tiles: lonLatAoi(1e9) };
    assert.throws(
      () => checkSpecOffline(input),
      (err: unknown) =>
        err instanceof InvalidSpecError &&
        ['maxAttempts', 'tiles.tileSize'].every((f) => err.issues.some((i) => i.field === f)),
    );
  });
});

describe('batch size: maxTiles', () => {
  it('refuses more tiles than maxTiles (10,000 by default), saying how many and how to confirm', () => {
    const input = {
      ...example,
      tiles: { aoi: { ...example.tiles.aoi, east: 590000 + 101 * 1000, north: 5660000 + 100 * 1000 }, tileSize: 1000 },
    };
    const [problem] = problemsOf(input);
    assert.equal(problem.field, 'maxTiles');
    assert.match(problem.problem, /10,100 tiles, more than maxTiles \(10,000\)/);
    assert.match(problem.fix, /start --yes/);
    assert.match(problem.fix, /"maxTiles": 10100/);
    assert.equal(checkSpecOffline({ ...input, maxTiles: 10_100 }).totalTiles, 10_100);
  });

  it('counts a million-tile grid from the grid, without building its tiles', () => {
    const before = process.memoryUsage().heapUsed;
    const { problems, tiles } = inspectSpecOffline({
      ...example,
      tiles: {
        aoi: { ...example.tiles.aoi, east: 590000 + 1000 * 1000, north: 5660000 + 1000 * 1000 },
        tileSize: 1000,
      },
    });
    assert.equal(tiles?.count, 1_000_000);
    assert.match(problems[0].problem, /1,000,000 tiles, more than maxTiles/);
    // A million reprojected polygons take gigabytes; the count takes nothing worth measuring.
    assert.ok(process.memoryUsage().heapUsed - before < 200 * 1024 * 1024);
  });

  it('refuses a maxTiles above the hard limit', () => {
    assert.ok(
      problemsOf({ ...example, maxTiles: 2_000_000 }).some(
        (p) => p.field === 'maxTiles' && /at most 1,000,000/.test(p.problem),
      ),
    );
  });
});

describe('tile size', () => {
  it('refuses a tile far larger than a small AOI, and than any sane job', () => {
    const found = problemsOf({ ...example, tiles: lonLatAoi(1e9) });
    assert.deepEqual(
      found.map((p) => p.code),
      ['tile_larger_than_aoi', 'tile_too_large'],
    );
    assert.match(found[0].fix, /at most 0.1 \(one tile over the whole AOI\)/);
  });

  it('refuses a projected tile over 1,000 km, and accepts one tile exactly the size of the AOI', () => {
    const huge = {
      aoi: { west: 0, south: 0, east: 3_000_000, north: 3_000_000, crs: 'EPSG:3035' },
      tileSize: 1_500_000,
    };
    assert.deepEqual(
      problemsOf({ ...example, tiles: huge }).map((p) => p.code),
      ['tile_too_large'],
    );
    assert.equal(checkSpecOffline({ ...example, tiles: { ...example.tiles, tileSize: 20_000 } }).totalTiles, 1);
  });
});

describe('self-intersecting tiles', () => {
  it('names each tile whose outline crosses itself, and where', () => {
    const tiles = {
      type: 'FeatureCollection',
      features: [feature('fine', [square(4, 51)]), feature('bow', [bowtie(4.1, 51)])],
    };
    const [problem, ...others] = problemsOf({ ...example, tiles });
    assert.equal(others.length, 0);
    assert.equal(problem.field, 'tiles.features[1].geometry');
    assert.match(
      problem.problem,
      /tile "bow" is not a valid polygon: its outline crosses itself at \[4\.105, 51\.005\]/,
    );
  });

  it('accepts a polygon with a hole, and checks each polygon of a MultiPolygon', () => {
    const holed = feature('holed', [square(4, 51, 0.1), square(4.02, 51.02, 0.01).reverse()]);
    const multi = {
      type: 'Feature',
      id: 'multi',
      geometry: { type: 'MultiPolygon', coordinates: [[square(4.5, 51)], [bowtie(4.6, 51)]] },
      properties: {},
    };
    const found = problemsOf({ ...example, tiles: { type: 'FeatureCollection', features: [holed, multi] } });
    assert.deepEqual(
      found.map((p) => p.field),
      ['tiles.features[1].geometry'],
    );
  });

  it('lists the first ten of many bad tiles and counts the rest', () => {
    const features = Array.from({ length: 25 }, (_, i) => feature(`t${i}`, [bowtie(4 + i * 0.02, 51)]));
    const found = problemsOf({ ...example, tiles: { type: 'FeatureCollection', features } });
    assert.equal(found.length, 11);
    assert.match(found[10].problem, /^15 more tiles have the problem above \(self_intersecting\)/);
  });
});

describe('a remote process and the spec that calls it', () => {
  const call = {
    processId: 'bap',
    namespace: 'https://example.org/bap.json',
    parameterDefaults: { temporal_extent: ['2024-06-01', '2024-09-01'], typo: 1 },
    parameterMapping: { geometry: 'geometry' },
  };
  const definition = {
    id: 'bap',
    parameters: [
      { name: 'geometry' },
      { name: 'temporal_extent' },
      { name: 'bands', optional: true },
      { name: 'max_cloud_cover', default: 75 },
      { name: 'year' },
    ],
  };

  it('finds the process in a single definition or in a list of them', () => {
    assert.ok('definition' in processFromDocument(definition, 'bap', call.namespace));
    assert.ok('definition' in processFromDocument({ processes: [{ id: 'other' }, definition] }, 'bap', call.namespace));
    const wrong = processFromDocument(definition, 'bap_composite', call.namespace);
    assert.ok(
      'problem' in wrong &&
        wrong.problem.field === 'process.processId' &&
        /defines "bap", not "bap_composite"/.test(wrong.problem.problem),
    );
    const page = processFromDocument({ title: 'a web page about it' }, 'bap', call.namespace);
    assert.ok('problem' in page && page.problem.field === 'process.namespace');
  });

  it('names unknown parameters and required ones the spec leaves out', () => {
    const read = processFromDocument(definition, 'bap', call.namespace);
    assert.ok('definition' in read);
    const found = parameterProblems(call, read.definition);
    assert.deepEqual(
      found.map((p) => `${p.field} ${p.code}`),
      ['parameterDefaults.typo unknown_parameter', 'parameterDefaults missing_parameter'],
    );
    assert.match(found[1].problem, /requires the parameter "year"/);
    assert.match(found[0].fix, /geometry, temporal_extent, bands, max_cloud_cover, year/);
  });
});

describe('what a graph needs from a backend', () => {
  it('finds collections and formats, in callbacks and through parameters with known values', () => {
    const graph = {
      load: { process_id: 'load_collection', arguments: { id: { from_parameter: 'collection' } } },
      other: { process_id: 'load_collection', arguments: { id: 'SENTINEL1_GRD' } },
      apply: {
        process_id: 'apply',
        arguments: {
          process: {
            process_graph: {
              inner: { process_id: 'load_collection', arguments: { id: 'COPERNICUS_30' }, result: true },
            },
          },
        },
      },
      udp: {
        process_id: 'load_collection',
        namespace: 'https://example.org/x.json',
        arguments: { id: 'NOT_A_COLLECTION_CALL' },
      },
      save: { process_id: 'save_result', arguments: { format: 'netCDF' }, result: true },
    };
    assert.deepEqual(collectionIdsOf(graph, { collection: 'SENTINEL2_L2A' }).sort(), [
      'COPERNICUS_30',
      'SENTINEL1_GRD',
      'SENTINEL2_L2A',
    ]);
    assert.deepEqual(collectionIdsOf(graph), ['SENTINEL1_GRD', 'COPERNICUS_30']);
    assert.deepEqual(outputFormatsOf(graph), ['netCDF']);
  });
});

describe('defaults of the tiles', () => {
  it('reads an AOI without crs as EPSG:4326, also in a spec that is wrong elsewhere', () => {
    const { crs: _crs, ...aoi } = lonLatAoi(0.05).aoi;
    const found = problemsOf({ ...example, maxAttempts: 0, tiles: { aoi, tileSize: 0.05 } });
    assert.deepEqual(
      found.map((p) => p.field),
      ['maxAttempts'],
    );
  });
});
