/**
 * A batch whose results go to object storage: a real Temporal dev server, the emulator, and a
 * real S3-compatible server (SeaweedFS). Every asset, job.json, the quicklook and a post-processor's file land in the
 * bucket at the keys the outputPath template gives, with the sizes the backend promised; the
 * dashboard serves a tile's quicklook from the bucket; a bucket the worker cannot write to
 * refuses the batch before any openEO job; object storage that goes down in the middle of a
 * batch is waited for, and nothing is lost.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import { after, before, describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { resultStore } from '../../activities/store';
import { createDashboard } from '../../src/app/dashboard';
import type { TileRecord } from '../../src/core/records';
import { serveDashboard } from '../harness/dashboard-page';
import { s3Unavailable, startS3Server, type S3Server } from '../harness/s3-server';
import { tilePage, type TileSource } from '../../src/core/batch-spec/tiling';
import { readSavedRecords } from '../../activities/records/saved';
import { downloadsWaitingOn } from '../support/downloads-waiting';
import { eventually } from '../support/eventually';
import { startHarness, type Harness } from '../support/harness';

type JobDocument = { results: { assets: Record<string, { 'file:size': number }> } };
type StacDocument = {
  links: Array<{ rel: string; href: string }>;
  assets: Record<string, { href: string; 'file:size'?: number; 'proj:code'?: string }>;
};

/** The batch's STAC catalogue is in the bucket too, and its hrefs point to the objects. */
async function assertStacInBucket(outputDir: string, records: TileRecord[]): Promise<void> {
  const bucket = resultStore(outputDir);
  const read = async (key: string) => JSON.parse(await text((await bucket.get(key))!.body)) as StacDocument;
  const collection = await read('s3run/collection.json');
  // The batch's records are kept beside the catalogue, so they outlive Temporal's retention.
  const saved = await readSavedRecords(outputDir, 's3run');
  assert.deepEqual(
    saved?.tiles.map((t) => [t.tileId, t.status, t.openeoJobId]),
    records.map((r) => [r.tileId, r.status, r.openeoJobId]),
    "the batch's saved records are in the bucket",
  );
  assert.ok((await bucket.head('s3run/job-database.parquet'))?.size, 'and its GeoParquet');
  assert.equal(collection.links.filter((link) => link.rel === 'item').length, records.length, 'one item link per tile');
  for (const record of records) {
    const item = await read(`s3run/items/${record.tileId}.json`);
    const assets = Object.values(item.assets);
    assert.ok(assets.length > 0);
    for (const asset of assets) {
      assert.ok(asset.href.startsWith(`${record.outputDir}/`), `${asset.href} is an object of the tile`);
      const stored = await bucket.head(asset.href.slice(outputDir.length + 1));
      assert.equal(asset['file:size'], stored?.size, `${asset.href}: file:size is the object's`);
    }
    assert.ok(
      assets.some((asset) => asset['proj:code']?.startsWith('EPSG:')),
      'the GeoTIFF has its projection, read from the staged copy',
    );
    assert.equal(
      item.assets['count.json']?.href,
      `${record.outputDir}/count.json`,
      "the post-processor's file is an asset of the item",
    );
  }
}

describe('a batch with outputDir s3://…', { skip: s3Unavailable() }, () => {
  let s3: S3Server;
  let h: Harness;
  before(async () => {
    s3 = await startS3Server();
    // The worker (in this process) reads the standard AWS variables, as a real one would.
    Object.assign(process.env, s3.env);
    // "slow" runs jobs for 8 s: time to take the storage down between a batch's check and its
    // downloads (its S3 port closes at once; the process is gone within 2 s).
    h = await startHarness({}, { slow: { jobDurations: { queuedMs: 100, runningMs: 8_000 } } });
    // A post-processor's file goes to the bucket too, and into the tile's item.
    await h.startWorker({
      postprocessors: {
        count: async ({ files, writeFile }) =>
          void (await writeFile('count.json', JSON.stringify({ files: files.length }))),
      },
    });
  });
  after(async () => {
    await h?.teardown();
    await s3?.stop();
  });

  it('stores every asset, job.json and the quicklook at the templated keys, and the dashboard shows the quicklook', async () => {
    const outputDir = `s3://${s3.bucket}/batches`;
    const { handle } = await h.client.start(
      h.spec({
        batchId: 's3run',
        cols: 2,
        rows: 1,
        outputDir,
        outputPath: '{backend}/{batchId}/{tileId}/{asset}',
        postprocess: 'count',
      }),
    );
    assert.equal((await handle.result()).counts.postprocessed, 2);

    const records = (await h.client.records('s3run')).tiles as TileRecord[];
    assert.equal(records.length, 2);
    const bucket = resultStore(outputDir);
    for (const record of records) {
      assert.equal(record.outputDir, `${outputDir}/emulator/s3run/${record.tileId}`);
      const files = record.files ?? [];
      for (const name of ['job.json', 'quicklook.png', 'quicklook.json', 'count.json'])
        assert.ok(files.includes(name), `${record.tileId} lists ${name}: ${files}`);
      const job = JSON.parse(
        await text((await bucket.get(`emulator/s3run/${record.tileId}/job.json`))!.body),
      ) as JobDocument;
      const promised = Object.values(job.results.assets).map((asset) => asset['file:size']);
      const assetFiles = files.filter(
        (name) => !['job.json', 'quicklook.png', 'quicklook.json', 'count.json'].includes(name),
      );
      assert.equal(assetFiles.length, promised.length, `${record.tileId}: one file per asset`);
      const sizes = await Promise.all(
        assetFiles.map(async (name) => (await bucket.head(`emulator/s3run/${record.tileId}/${name}`))?.size),
      );
      assert.deepEqual(sizes.sort(), promised.sort(), `${record.tileId}: the sizes the backend promised`);
      assert.deepEqual(
        (await bucket.list(`emulator/s3run/${record.tileId}/`)).length,
        files.length,
        `${record.tileId}: nothing else in the bucket`,
      );
    }
    assert.ok(!existsSync(join(h.workDir, 'output')), 'nothing written to the local output folder');
    await assertStacInBucket(outputDir, records);

    const dashboard = await serveDashboard(createDashboard({ client: h.client, batchId: 's3run', intervalMs: 500 }));
    try {
      const events = await fetch(new URL('api/batches/s3run/events', dashboard.url));
      await events.body?.cancel();
      const image = await fetch(
        new URL(`api/batches/s3run/tiles/${encodeURIComponent(records[0]!.tileId)}/quicklook.png`, dashboard.url),
      );
      assert.equal(image.status, 200);
      const png = Buffer.from(await image.arrayBuffer());
      const stored = await text(
        (await bucket.get(`emulator/s3run/${records[0]!.tileId}/quicklook.png`))!.body.setEncoding('latin1'),
      );
      assert.equal(png.toString('latin1'), stored, 'the quicklook in the bucket');
    } finally {
      await dashboard.close();
    }
  });

  it('waits out an outage of object storage in the middle of a batch: every file arrives once it is back', async () => {
    const slow = h.backends.slow;
    const outputDir = `s3://${s3.bucket}/outage`;
    const spec = h.spec({
      batchId: 's3outage',
      cols: 2,
      rows: 1,
      outputDir,
      backends: [{ name: 'slow', url: slow.url, parallelJobs: 2 }],
      // Short retry pauses, so the test does not wait minutes once the storage is back.
      timeouts: { heartbeatSeconds: 60, activitySeconds: 120, retryMaxIntervalSeconds: 3 },
    });
    const tileIds = tilePage(spec.tiles as TileSource, 0, 10).map((t) => t.id);
    const { handle } = await h.client.start(spec);
    // The batch checked the bucket before its first job; the jobs run for 8 s.
    await eventually(
      async () => slow.admin.jobs().filter((j) => j.title?.startsWith('s3outage/')).length === 2,
      'both jobs created',
    );
    await s3.takeDown();
    try {
      await downloadsWaitingOn(h, 's3outage', tileIds, /could not store .* in outputDir s3:\/\//, 'the storage');
      assert.equal(
        (await h.client.progress('s3outage')).counts.finished ?? 0,
        0,
        'no tile ends while the storage is down',
      );
    } finally {
      await s3.bringBack();
    }

    assert.equal((await handle.result()).counts.finished, 2);
    const records = (await h.client.records('s3outage')).tiles as TileRecord[];
    const bucket = resultStore(outputDir);
    for (const record of records) {
      for (const name of record.files ?? [])
        assert.ok(await bucket.head(`s3outage/${record.tileId}/${name}`), `${record.tileId}/${name} is in the bucket`);
      assert.ok(
        (record.files ?? []).some((name) => name.endsWith('.tif')),
        `${record.tileId} has its GeoTIFF`,
      );
    }
    assert.equal(
      slow.admin.jobs().filter((j) => j.title?.startsWith('s3outage/')).length,
      2,
      'one job per tile: the outage cost no job',
    );
  });

  it('refuses a batch whose bucket the worker cannot write to, naming outputDir, before any openEO job', async () => {
    const jobsBefore = h.emulator.admin.jobs().length;
    const { handle } = await h.client.start(h.spec({ batchId: 's3missing', outputDir: 's3://no-such-bucket/batches' }));
    await assert.rejects(handle.result(), (err: unknown) => {
      assert.ok(err instanceof WorkflowFailedError);
      const cause = err.cause as Error & { type?: string };
      assert.equal(cause.type, 'InvalidBatchSpec');
      assert.match(cause.message, /outputDir: this worker cannot write to s3:\/\/no-such-bucket\/batches/);
      assert.match(cause.message, /AWS_ACCESS_KEY_ID/);
      assert.ok(!cause.message.includes(s3.env.AWS_SECRET_ACCESS_KEY!), 'no secret in the error');
      return true;
    });
    assert.equal(h.emulator.admin.jobs().length, jobsBefore);
  });
});
