/**
 * The STAC documents a finished tile leaves behind, built from real files (GeoTIFFs written by
 * the emulator's encoder, read back by geotiff.js) and validated offline by pystac (core, and
 * the projection and file extensions; see test/harness/stac_validate.py for what checks what).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { stacSettings } from '../../src/core/batch-spec/stac-settings';
import { publishTileStac, type TileStacInput } from '../../activities/stac/publish';
import { FILE_EXTENSION, PROJECTION_EXTENSION, type ItemTile } from '../../activities/stac/item';
import { findFreePorts } from '../../src/tools/devserver/free-port';
import { encodeGeoTiff, syntheticPixels } from '../../src/tools/emulator/geotiff';
import { installedStacPython, stacPython } from '../harness/stac-python';
import { validateStac } from '../harness/stac-validator';

const GEOTIFF = 'image/tiff; application=geotiff';
/** A 5 km tile in UTM 31N near Antwerp, 40 × 50 pixels of 125 × 100 m. */
const UTM_BOX = { west: 590000, south: 5660000, east: 595000, north: 5665000 };
const square = (west: number, south: number, size = 0.07): number[][][] => [
  [
    [west, south],
    [west + size, south],
    [west + size, south + size],
    [west, south + size],
    [west, south],
  ],
];

function tile(id: string, period?: { id: string; start: string; end: string }): ItemTile {
  return {
    id,
    geometry: { type: 'Polygon', coordinates: square(4.3, 51.1) },
    properties: { index: 0, ...(period ? { period } : {}) },
  };
}

/** Where the venv with pystac is: installed by `.ci/run`; outside CI a missing one is installed here. */
async function validatorPython(): Promise<string> {
  return (await installedStacPython()) ?? stacPython((line) => console.log(line));
}

describe('STAC documents of finished tiles', () => {
  let dir: string;
  let python: string;
  let tiff: Buffer;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'stac-documents-'));
    tiff = encodeGeoTiff({
      width: 40,
      height: 50,
      pixels: [syntheticPixels(40, 50, 'job/B04')],
      bandNames: ['B04'],
      bbox: UTM_BOX,
      epsg: 32631,
    });
    python = await validatorPython();
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** A tile folder with the GeoTIFF and a JSON file, as the download leaves it. */
  async function tileInput(batchDir: string, t: ItemTile): Promise<TileStacInput> {
    const tileDir = join(batchDir, t.id);
    await mkdir(tileDir, { recursive: true });
    await writeFile(join(tileDir, 'openEO.tif'), tiff);
    await writeFile(join(tileDir, 'notes.json'), '{"a":1}\n');
    return {
      batchId: 'b1',
      batchDir,
      tileDir,
      tile: t,
      settings: stacSettings('b1', { license: 'CC-BY-4.0', title: 'Test batch' }),
      job: { id: `job-${t.id}`, backend: 'emulator', backendUrl: 'http://127.0.0.1:1/openeo' },
      resultTime: '2024-05-02T10:00:00Z',
      files: [
        {
          key: 'openEO.tif',
          file: 'openEO.tif',
          type: GEOTIFF,
          roles: ['data'],
          title: 'Result raster',
          checksum: `1220${createHash('sha256').update(tiff).digest('hex')}`,
        },
        { key: 'notes', file: 'notes.json', type: 'application/json', roles: ['metadata'] },
      ],
    };
  }

  it('describes a tile without a period by its result time, with proj and file fields read from the GeoTIFF', async () => {
    const batchDir = join(dir, 'no-period');
    const { item, collection, itemFile } = await publishTileStac(await tileInput(batchDir, tile('t-0')));
    assert.equal(itemFile, 'items/t-0.json');
    assert.deepEqual(JSON.parse(await readFile(join(batchDir, itemFile), 'utf8')), item);
    assert.equal(item.properties.datetime, '2024-05-02T10:00:00.000Z');
    assert.equal(item.properties['openeo:job_id'], 'job-t-0');
    [4.3, 51.1, 4.37, 51.17].forEach((v, i) =>
      assert.ok(Math.abs(item.bbox[i] - v) < 1e-9, `bbox[${i}] is ${item.bbox[i]}, not ${v}`),
    );
    assert.deepEqual(item.geometry, tile('t-0').geometry);
    const raster = item.assets['openEO.tif'];
    assert.equal(raster.href, '../t-0/openEO.tif');
    assert.equal(raster['proj:code'], 'EPSG:32631');
    assert.deepEqual(raster['proj:shape'], [50, 40]);
    assert.deepEqual(raster['proj:bbox'], [590000, 5660000, 595000, 5665000]);
    assert.deepEqual(raster['proj:transform'], [125, 0, 590000, 0, -100, 5665000]);
    assert.equal(raster['file:size'], tiff.length);
    assert.match(String(raster['file:checksum']), /^1220[0-9a-f]{64}$/);
    const notes = item.assets.notes;
    assert.equal(notes.href, '../t-0/notes.json');
    assert.equal(notes['file:size'], (await stat(join(batchDir, 't-0', 'notes.json'))).size);
    assert.equal(notes['proj:code'], undefined, 'a JSON file has no projection');
    assert.deepEqual(item.stac_extensions.sort(), [FILE_EXTENSION, PROJECTION_EXTENSION].sort());
    assert.equal(collection.license, 'CC-BY-4.0');
    assert.deepEqual(collection.extent.temporal.interval, [['2024-05-02T10:00:00.000Z', '2024-05-02T10:00:00.000Z']]);

    const results = await validateStac(python, [item, collection]);
    for (const result of results) assert.deepEqual(result.errors, [], `${result.type} ${result.id}`);
    assert.ok(
      results[0].extensions.includes(PROJECTION_EXTENSION) && results[0].extensions.includes(FILE_EXTENSION),
      'the extensions were validated too',
    );
  });

  it('gives a tile with a period its interval (end exclusive becomes the last instant) and a null datetime', async () => {
    const batchDir = join(dir, 'periods');
    const march = await publishTileStac(
      await tileInput(batchDir, tile('t-0_2024-03', { id: '2024-03', start: '2024-03-01', end: '2024-04-01' })),
    );
    const april = await publishTileStac(
      await tileInput(batchDir, tile('t-0_2024-04', { id: '2024-04', start: '2024-04-01', end: '2024-05-01' })),
    );
    assert.equal(march.item.properties.datetime, null);
    assert.equal(march.item.properties.start_datetime, '2024-03-01T00:00:00.000Z');
    assert.equal(march.item.properties.end_datetime, '2024-03-31T23:59:59.999Z');
    assert.equal(march.item.assets['openEO.tif'].href, '../t-0_2024-03/openEO.tif');
    // The collection written last spans both periods and links both items.
    const collection = april.collection;
    assert.deepEqual(collection.extent.temporal.interval, [['2024-03-01T00:00:00.000Z', '2024-04-30T23:59:59.999Z']]);
    assert.deepEqual(
      collection.links.filter((l) => l.rel === 'item').map((l) => l.href),
      ['./items/t-0_2024-03.json', './items/t-0_2024-04.json'],
    );
    const onDisk = JSON.parse(await readFile(join(batchDir, 'collection.json'), 'utf8'));
    assert.deepEqual(onDisk, collection);
    const results = await validateStac(python, [march.item, april.item, onDisk]);
    for (const result of results) assert.deepEqual(result.errors, [], `${result.type} ${result.id}`);
  });

  it('takes the hrefs of a store that gives URLs (object storage) as they are', async () => {
    const input = await tileInput(join(dir, 'urls'), tile('t-7'));
    input.hrefFor = (file) => `https://objects.example.org/bucket/b1/t-7/${file.file}`;
    const { item } = await publishTileStac(input);
    assert.equal(item.assets['openEO.tif'].href, 'https://objects.example.org/bucket/b1/t-7/openEO.tif');
    assert.equal(item.assets['openEO.tif']['proj:code'], 'EPSG:32631');
    const [result] = await validateStac(python, [item]);
    assert.deepEqual(result.errors, []);
  });

  it('a STAC API that does not answer fails the push for a retry, with the item and collection already on disk', async () => {
    const [port] = await findFreePorts(1);
    const batchDir = join(dir, 'api-down');
    const input = await tileInput(batchDir, tile('t-5'));
    input.settings = stacSettings('b1', { api: { url: `http://127.0.0.1:${port}/stac` } });
    await assert.rejects(publishTileStac(input), (err: unknown) => {
      assert.ok(err instanceof ApplicationFailure);
      assert.equal(err.type, 'StacApiUnavailable');
      assert.equal(err.nonRetryable, false, 'the activity retries until the API is back');
      assert.match(err.message, /POST \/collections did not answer/);
      return true;
    });
    assert.equal(JSON.parse(await readFile(join(batchDir, 'items', 't-5.json'), 'utf8')).id, 't-5');
    assert.equal(
      JSON.parse(await readFile(join(batchDir, 'collection.json'), 'utf8')).links.filter(
        (l: { rel: string }) => l.rel === 'item',
      ).length,
      1,
    );
  });

  it('the validator rejects broken core and extension fields (it really checks them)', async () => {
    const { item } = await publishTileStac(await tileInput(join(dir, 'broken'), tile('t-9')));
    const noTime = structuredClone(item);
    delete noTime.properties.datetime;
    const badShape = structuredClone(item);
    badShape.assets['openEO.tif']['proj:shape'] = [50];
    const badChecksum = structuredClone(item);
    badChecksum.assets['openEO.tif']['file:checksum'] = 'not hex';
    const results = await validateStac(python, [noTime, badShape, badChecksum]);
    assert.match(results[0].errors.join('\n'), /datetime/);
    assert.match(results[1].errors.join('\n'), /projection\/v2\.0\.0/);
    assert.match(results[2].errors.join('\n'), /file\/v2\.1\.0/);
  });
});
