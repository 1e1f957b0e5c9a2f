/**
 * `file:checksum` in real batches: a real Temporal dev server and two emulators over HTTP, one
 * publishing MD5 multihashes (`d50110…`), one the malformed `d510…` some catalogues publish. Both
 * tiles finish with their files; the second tile's record says which file's checksum could not
 * be checked, and why.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { TileRecord } from '../../src/core/records';
import { startHarness, type Harness } from '../support/harness';

/** The tile records of a batch, as their workflows returned them. */
async function tileRecords(h: Harness, batchId: string): Promise<TileRecord[]> {
  const tiles = await h.client.tiles(batchId);
  return Promise.all(
    tiles.map(async (tile) => (await h.temporal.workflow.getHandle(tile.workflowId).result()) as TileRecord),
  );
}

/** The `file:checksum` of the result file in the tile's STAC item (`<outputDir>/<batchId>/items/`). */
async function itemChecksum(h: Harness, batchId: string): Promise<string | undefined> {
  const items = join(h.workDir, 'output', batchId, 'items');
  const [name] = await readdir(items);
  const item = JSON.parse(await readFile(join(items, name!), 'utf8')) as {
    assets: Record<string, { 'file:checksum'?: string }>;
  };
  return item.assets['openEO.tif']!['file:checksum'];
}

/** The `file:checksum` the backend published for the tile's result, from the tile's job.json. */
async function publishedChecksum(record: TileRecord): Promise<string> {
  const metadata = JSON.parse(await readFile(join(record.outputDir!, 'job.json'), 'utf8')) as {
    results: { assets: Record<string, { 'file:checksum': string }> };
  };
  return metadata.results.assets['openEO.tif']!['file:checksum'];
}

describe('checksums of a batch', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness(
      { resultChecksum: 'md5' },
      { catalogue: { resultChecksum: 'malformed', jobDurations: { queuedMs: 50, runningMs: 150 } } },
    );
    await h.startWorker();
  });
  after(async () => h?.teardown());

  /** Runs a one-tile batch on `backend` and returns its tile's record. */
  async function oneTile(batchId: string, backend: { name: string; url: string }): Promise<TileRecord> {
    const { handle } = await h.client.start(
      h.spec({ batchId, cols: 1, rows: 1, backends: [{ ...backend, parallelJobs: 1 }] }),
    );
    await handle.result();
    const [record] = await tileRecords(h, batchId);
    assert.ok(record);
    return record;
  }

  it('downloads a result whose file:checksum is an MD5 multihash, verified, with nothing to note', async () => {
    const record = await oneTile('md5-checksums', { name: 'emulator', url: h.emulator.url });
    assert.equal(record.status, 'finished', JSON.stringify(record.error));
    const checksum = await publishedChecksum(record);
    assert.match(checksum, /^d50110[0-9a-f]{32}$/);
    const bytes = await readFile(join(record.outputDir!, 'openEO.tif'));
    assert.equal(`d50110${createHash('md5').update(bytes).digest('hex')}`, checksum);
    assert.equal(record.uncheckedChecksums, undefined);
    assert.equal(await itemChecksum(h, 'md5-checksums'), checksum, 'the STAC item states the verified checksum');
  });

  it('keeps a result whose file:checksum is malformed, and the tile record says it could not be checked', async () => {
    const record = await oneTile('malformed-checksums', { name: 'catalogue', url: h.backends.catalogue!.url });
    assert.equal(record.status, 'finished', JSON.stringify(record.error));
    const checksum = await publishedChecksum(record);
    assert.match(checksum, /^d510[0-9a-f]{64}$/);
    assert.ok(record.files?.includes('openEO.tif'));
    assert.equal(record.uncheckedChecksums?.length, 1, JSON.stringify(record.uncheckedChecksums));
    assert.equal(record.uncheckedChecksums[0]!.file, 'openEO.tif');
    assert.match(record.uncheckedChecksums[0]!.reason, /is not a valid multihash/);
    // The size was checked: the file on disk is as long as the backend said.
    const metadata = JSON.parse(await readFile(join(record.outputDir!, 'job.json'), 'utf8')) as {
      results: { assets: Record<string, { 'file:size': number }> };
    };
    assert.equal(
      (await readFile(join(record.outputDir!, 'openEO.tif'))).length,
      metadata.results.assets['openEO.tif']!['file:size'],
    );
    assert.equal(
      await itemChecksum(h, 'malformed-checksums'),
      undefined,
      'the STAC item states no checksum the file was not verified against',
    );
  });
});
