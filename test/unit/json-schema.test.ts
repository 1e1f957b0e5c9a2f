/**
 * The batch spec's JSON Schema: the committed file is what the zod schema generates now, and an
 * independent validator (Ajv, JSON Schema 2020-12) agrees with our own validation on real specs.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import {
  BATCH_SPEC_SCHEMA_FILE,
  batchSpecJsonSchema,
  batchSpecJsonSchemaText,
} from '../../src/core/batch-spec/json-schema';
import { parseBatchSpec } from '../../src/core/batch-spec/validate';

const ROOT = join(__dirname, '..', '..', '..');

function committed(): string {
  return readFileSync(join(ROOT, BATCH_SPEC_SCHEMA_FILE), 'utf8');
}

function validator() {
  const ajv = new Ajv2020({ allErrors: true, strict: true });
  addFormats(ajv);
  return ajv.compile(JSON.parse(committed()) as object);
}

const backends = [{ name: 'emulator', url: 'http://127.0.0.1:8123', parallelJobs: 2 }];
const square = {
  type: 'Polygon',
  coordinates: [
    [
      [4.3, 51.1],
      [4.4, 51.1],
      [4.4, 51.2],
      [4.3, 51.2],
      [4.3, 51.1],
    ],
  ],
};
const valid: Record<string, object> = {
  'a process graph over inline tiles': {
    backends,
    process: {
      processGraph: { load: { process_id: 'load_collection', arguments: { id: 'SENTINEL2_L2A' }, result: true } },
    },
    tiles: {
      type: 'FeatureCollection',
      features: [{ type: 'Feature', id: 'a', geometry: square, properties: { year: 2024 } }],
    },
  },
  'tiles from a file': {
    batchId: 'from-file',
    backends,
    process: { processId: 'ndvi' },
    tiles: { file: 'tiles.geojsonl', format: 'geojsonl' },
  },
  'tiles from a URL, with every section': {
    backends: [
      { ...backends[0], maxQueued: 1, maxConcurrentRequests: 2, maxRequestsPerSecond: 0.5, maxJobStartsPerMinute: 12 },
    ],
    process: { processId: 'ndvi', namespace: 'https://example.org/ndvi.json' },
    tiles: { url: 'https://example.org/tiles.geojson' },
    polling: { initialIntervalSeconds: 1, maxIntervalSeconds: 10 },
    timeouts: { maxQueuedSeconds: 600, cancelRunningJobAfterSeconds: 3600 },
    scheduling: { maxEventsPerRun: 2000 },
    maxAttempts: 3,
    retryOnOtherBackend: true,
    jobOptions: { 'executor-memory': '4G' },
  },
  'monthly periods over an outline, clipped': JSON.parse(
    readFileSync(join(ROOT, 'examples', 'monthly-polygon.json'), 'utf8'),
  ) as object,
  'listed periods and per-tile job options': {
    backends,
    process: { processId: 'ndvi' },
    parameterMapping: { geometry: 'geometry', temporal_extent: 'temporal_extent' },
    periods: {
      ranges: [
        ['2024-01-01', '2024-04-01'],
        { id: 'winter', start: '2024-12-01T00:00:00Z', end: '2025-03-01T00:00:00Z' },
      ],
    },
    jobOptionsProperty: 'jobOptions',
    tiles: { file: 'tiles.geojson' },
  },
  'a job factory instead of a process': { backends, jobFactory: 's1s2', tiles: { file: 'tiles.geojson' } },
};
const invalid: Record<string, object> = {
  'no backends': { backends: [], process: { processId: 'ndvi' }, tiles: { file: 'x' } },
  'parallelJobs 0': {
    backends: [{ ...backends[0], parallelJobs: 0 }],
    process: { processId: 'ndvi' },
    tiles: { file: 'x' },
  },
  'a misspelt field': { backend: backends, process: { processId: 'ndvi' }, tiles: { file: 'x' } },
  'a batch id with a slash': { batchId: 'a/b', backends, process: { processId: 'ndvi' }, tiles: { file: 'x' } },
  'tiles both from a file and an AOI': {
    backends,
    process: { processId: 'ndvi' },
    tiles: { file: 'x', aoi: { west: 0, south: 0, east: 1, north: 1 }, tileSize: 1 },
  },
  'a period step that is no step': {
    backends,
    process: { processId: 'ndvi' },
    tiles: { file: 'x' },
    periods: { every: 'week', start: '2024-01-01', end: '2024-02-01' },
  },
  'a period id with "_"': {
    backends,
    process: { processId: 'ndvi' },
    tiles: { file: 'x' },
    periods: { ranges: [{ id: 'a_b', start: '2024-01-01', end: '2024-02-01' }] },
  },
  'an outline that is a line': {
    backends,
    process: { processId: 'ndvi' },
    tiles: {
      aoi: {
        type: 'LineString',
        coordinates: [
          [4, 51],
          [5, 52],
        ],
      },
      tileSize: 0.1,
    },
  },
  'neither a process nor a job factory': { backends, tiles: { file: 'x' } },
  'a URL that is no URL': {
    backends: [{ name: 'b', url: 'openeo backend' }],
    process: { processId: 'ndvi' },
    tiles: { file: 'x' },
  },
};

describe('the batch spec as JSON Schema', () => {
  it('is committed as the zod schema generates it now (run `npm run schema` after changing the spec)', () => {
    assert.equal(committed(), batchSpecJsonSchemaText());
    assert.equal(batchSpecJsonSchema().$schema, 'https://json-schema.org/draft/2020-12/schema');
  });

  it('accepts the example spec', () => {
    const validate = validator();
    const example = JSON.parse(readFileSync(join(ROOT, 'examples', 'antwerp-bap.json'), 'utf8')) as unknown;
    assert.equal(validate(example), true, JSON.stringify(validate.errors));
  });

  it('agrees with our own validation', () => {
    const validate = validator();
    for (const [name, spec] of Object.entries(valid)) {
      assert.doesNotThrow(() => parseBatchSpec(spec), name);
      assert.equal(validate(spec), true, `${name}: ${JSON.stringify(validate.errors)}`);
    }
    for (const [name, spec] of Object.entries(invalid)) {
      assert.throws(() => parseBatchSpec(spec), name);
      assert.equal(validate(spec), false, `the JSON Schema accepts ${name}`);
    }
  });
});
