/**
 * Quicklooks made by the worker in a real batch: a real Temporal dev server, the emulator over
 * HTTP (BAP composite results: 3-band GeoTIFFs in UTM zone 31N), and the download activity
 * making `quicklook.png`/`quicklook.json` next to the results. A result GeoTIFF that cannot be
 * decoded still finishes its tile, without a quicklook.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join, resolve, sep } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PNG } from 'pngjs';
import type { QuicklookInfo } from '../../activities/quicklook';
import type { TileRecord } from '../../src/core/records';
import type { OutgoingResponse, RequestHookContext } from '../../src/tools/emulator';
import { startHarness, type Harness } from '../support/harness';

/** Jobs of batches with this in their id get result files of garbage (with matching checksums). */
const CORRUPT = 'corrupt-tiff';
const GARBAGE = 0x5a;

type ResultsDocument = { assets: Record<string, { 'file:size': number; 'file:checksum': string }> };

/** The results document of a corrupt job promises garbage of the file's size; its files deliver it. */
function corruptResults(context: RequestHookContext, response: OutgoingResponse): void {
  if (context.route.endsWith('/results')) {
    const document = JSON.parse(response.body.toString('utf8')) as ResultsDocument;
    for (const asset of Object.values(document.assets)) {
      asset['file:checksum'] =
        `1220${createHash('sha256').update(Buffer.alloc(asset['file:size'], GARBAGE)).digest('hex')}`;
    }
    response.body = Buffer.from(JSON.stringify(document));
    response.headers['Content-Length'] = response.body.length;
  } else {
    response.body.fill(GARBAGE);
  }
}

/** Jobs of batches with this in their id get results whose asset keys are paths, duplicates or the quicklook's key. */
const HOSTILE_KEYS = 'hostile-keys';

/** One result file under three keys a consumer must not use as file names as they are. */
function hostileKeys(response: OutgoingResponse): void {
  const document = JSON.parse(response.body.toString('utf8')) as ResultsDocument;
  const [asset] = Object.values(document.assets);
  document.assets = { '../../escape.tif': asset, 'other/escape.tif': asset, quicklook: asset };
  response.body = Buffer.from(JSON.stringify(document));
  response.headers['Content-Length'] = response.body.length;
}

/** The tile's record, as its workflow returned it. */
async function tileRecords(h: Harness, batchId: string): Promise<TileRecord[]> {
  const tiles = await h.client.tiles(batchId);
  return Promise.all(
    tiles.map(async (tile) => (await h.temporal.workflow.getHandle(tile.workflowId).result()) as TileRecord),
  );
}

/** The tile geometry the worker sent as the BAP `geometry` argument, from the job metadata. */
async function sentGeometry(tileDir: string): Promise<number[][]> {
  const metadata = JSON.parse(await readFile(join(tileDir, 'job.json'), 'utf8'));
  const nodes = Object.values(metadata.job.process.process_graph) as {
    arguments: { geometry?: { coordinates: number[][][] } };
  }[];
  const geometry = nodes.find((node) => node.arguments.geometry)?.arguments.geometry;
  assert.ok(geometry, 'the job got the tile geometry');
  return geometry.coordinates[0];
}

describe('quicklooks of a batch', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({
      requestHook: {
        beforeRoute(context) {
          const job = context.params.job_id ? h.emulator.admin.job(context.params.job_id) : undefined;
          if (!context.route.startsWith('GET /openeo/1.2/jobs/{job_id}/results')) return;
          if (job?.title?.includes(HOSTILE_KEYS) && context.route.endsWith('/results'))
            return { beforeSend: hostileKeys };
          if (!job?.title?.includes(CORRUPT)) return;
          return { beforeSend: (response) => corruptResults(context, response) };
        },
      },
    });
    await h.startWorker();
  });
  after(async () => h?.teardown());

  it("puts a quicklook.png and its corners in EPSG:4326 next to each tile's results, and lists both in the tile record", async () => {
    const { handle } = await h.client.start(h.spec({ batchId: 'quicklooks', cols: 2, rows: 1 }));
    assert.equal((await handle.result()).counts.finished, 2);

    const records = await tileRecords(h, 'quicklooks');
    assert.equal(records.length, 2);
    for (const record of records) {
      assert.ok(record.outputDir && record.files, `${record.tileId} has its files`);
      assert.ok(
        record.files.includes('quicklook.png') && record.files.includes('quicklook.json'),
        `${record.tileId}: ${record.files}`,
      );
      const png = PNG.sync.read(await readFile(join(record.outputDir, 'quicklook.png')));
      // The emulator's rasters are 64 × 64: small enough to keep their size.
      assert.deepEqual([png.width, png.height], [64, 64]);
      const colours = new Set(Array.from({ length: 64 * 64 }, (_, i) => png.data.readUInt32BE(i * 4)));
      assert.ok(colours.size > 50, `${record.tileId}: a picture, not a flat colour (${colours.size} colours)`);

      const info = JSON.parse(await readFile(join(record.outputDir, 'quicklook.json'), 'utf8')) as QuicklookInfo;
      assert.equal(info.crs, 'EPSG:32631');
      assert.equal(info.mode, 'rgb');
      // The BAP composite's bands are B04, B03, B02: red, green and blue in that order.
      assert.deepEqual(
        info.bands.map((band) => band.name),
        ['B04', 'B03', 'B02'],
      );
      // Each corner of the picture is a corner of the tile geometry the job was sent (to ~1 m).
      const ring = await sentGeometry(record.outputDir);
      for (const corner of info.corners) {
        const nearest = Math.min(...ring.map(([lon, lat]) => Math.hypot(lon - corner[0], lat - corner[1])));
        assert.ok(nearest < 1e-5, `${record.tileId}: corner ${corner} is ${nearest}° from the tile`);
      }
    }
  });

  it('finishes a tile whose GeoTIFF cannot be decoded, without a quicklook', async () => {
    const { handle } = await h.client.start(h.spec({ batchId: CORRUPT, cols: 1, rows: 1 }));
    const summary = await handle.result();
    assert.equal(summary.counts.finished, 1, JSON.stringify(summary));

    const [record] = await tileRecords(h, CORRUPT);
    assert.equal(record.status, 'finished');
    assert.ok(record.outputDir && record.files);
    assert.ok(!record.files.some((file) => file.startsWith('quicklook')), `no quicklook listed: ${record.files}`);
    const onDisk = await readdir(record.outputDir);
    assert.ok(
      onDisk.includes('openEO.tif') && !onDisk.some((file) => file.startsWith('quicklook')),
      `on disk: ${onDisk}`,
    );
    const tiff = await readFile(join(record.outputDir, 'openEO.tif'));
    assert.ok(
      tiff.every((byte) => byte === GARBAGE),
      'the downloaded file is the garbage the backend sent',
    );
  });

  it("names the STAC item's assets as their files: safe, unique, never the quicklook's key", async () => {
    const { handle } = await h.client.start(h.spec({ batchId: HOSTILE_KEYS, cols: 1, rows: 1 }));
    assert.equal((await handle.result()).counts.finished, 1);

    const [record] = await tileRecords(h, HOSTILE_KEYS);
    const itemsDir = join(h.workDir, 'output', HOSTILE_KEYS, 'items');
    const item = JSON.parse(await readFile(join(itemsDir, `${record.tileId}.json`), 'utf8')) as {
      assets: Record<string, { href: string }>;
    };
    // The keys the files got: the last path segment, a prefix for a second file of that name,
    // and a made-up name for one that would take the quicklook's key.
    assert.deepEqual(Object.keys(item.assets).sort(), ['1-escape.tif', 'asset-2', 'escape.tif', 'quicklook']);
    for (const [key, asset] of Object.entries(item.assets)) {
      assert.match(key, /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/, `key ${key} is a plain file name`);
      const file = resolve(itemsDir, asset.href);
      assert.ok(file.startsWith(record.outputDir + sep), `${key}: ${asset.href} stays in the tile's folder`);
      if (key !== 'quicklook') assert.equal(basename(file), key, "an asset's key is its file's name");
      await stat(file);
    }
  });
});
