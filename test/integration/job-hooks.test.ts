/**
 * Users' hooks end to end, through a real worker on the emulator: a job factory choosing
 * Sentinel-1 or Sentinel-2 per tile, skipping a tile, failing one tile; a spec naming a factory
 * no worker registered; the statistics post-processor; a post-processor that fails, then runs
 * again alone with no new openEO job.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import type { JobFactory, Postprocessor } from '../../src/app';
import type { TileRecord } from '../../src/core/records';
import type { BatchSpecInput } from '../../src/core/batch-spec/schema';
import { s1s2 } from '../../examples/hooks/s1s2-factory';
import { tileStatistics, type BandStatistics } from '../../examples/hooks/tile-statistics';
import { api, login } from '../support/emulator-api';
import { eventually } from '../support/eventually';
import { squareTile as feature } from '../support/features';
import { EMULATOR_USER, startHarness, type Harness } from '../support/harness';

/** Throws for the tile whose property `broken` is set; an S2 job otherwise. */
const flaky: JobFactory = (tile, { helpers }) => {
  if (tile.properties.broken) throw new Error(`no scene list for ${tile.id}`);
  return {
    processGraph: helpers.loadCollection({
      collection: 'SENTINEL2_L2A',
      bands: ['B04'],
      temporalExtent: ['2024-06-01', '2024-07-01'],
    }),
  };
};

describe('job factories and post-processors', () => {
  let h: Harness;
  let flagFile: string;
  let token: string;
  const tileRecord = (batchId: string, tileId: string): Promise<TileRecord> =>
    h.temporal.workflow.getHandle(`${batchId}/tile-${tileId}`).result();
  const jobsOf = (batchId: string) => h.emulator.admin.jobs().filter((j) => j.title?.includes(`${batchId}/`));
  const spec = (
    batchId: string,
    features: ReturnType<typeof feature>[],
    extra: Partial<BatchSpecInput>,
  ): BatchSpecInput => ({
    ...h.spec({ batchId }),
    tiles: { type: 'FeatureCollection', features },
    ...extra,
  });

  before(async () => {
    h = await startHarness({ maxRunningJobsPerUser: 20 });
    flagFile = join(h.workDir, 'fail-postprocessing');
    /** Fails while the flag file exists; otherwise writes a marker and returns a count. */
    const picky: Postprocessor = async ({ files, writeFile: write }) => {
      if (existsSync(flagFile)) throw new Error('the flag file says no');
      await write('picky.txt', 'done\n');
      return { files: files.length };
    };
    await h.startWorker({ jobFactories: { s1s2, flaky }, postprocessors: { stats: tileStatistics, picky } });
    token = await login(h.emulator, EMULATOR_USER.username, EMULATOR_USER.password);
  });
  after(async () => h?.teardown());

  it('builds a Sentinel-1 or Sentinel-2 job per tile, skips a tile with its reason, and post-processes with statistics', async () => {
    const features = [
      feature('coast', 0, { sensor: 'S1' }),
      feature('fields', 1, { sensor: 'S2' }),
      feature('sea', 2, { sensor: 'none' }),
    ];
    // No process of its own: the factory builds every job.
    const { handle } = await h.client.start(
      spec('s1s2', features, {
        process: undefined,
        jobFactory: 's1s2',
        postprocess: 'stats',
        jobOptions: { 'driver-memory': '2g' },
      }),
    );
    const summary = await handle.result();
    assert.deepEqual([summary.counts.postprocessed, summary.counts.skipped, summary.counts.error], [2, 1, 0]);

    const jobs = jobsOf('s1s2');
    assert.equal(jobs.length, 2, 'no job for the skipped tile');
    const s1 = jobs.find((j) => j.title?.endsWith('s1s2/coast attempt 1'))!;
    const s2 = jobs.find((j) => j.title?.endsWith('s1s2/fields attempt 1'))!;
    assert.equal(s1.title, 'S1 backscatter coast — s1s2/coast attempt 1');
    // The factory's job options over the batch's.
    assert.deepEqual(
      [
        s1.options['executor-memory'],
        s1.options['driver-memory'],
        s2.options['executor-memory'],
        s2.options['driver-memory'],
      ],
      ['4g', '2g', undefined, '2g'],
    );
    const graphOf = async (id: string) =>
      (await api(h.emulator, `/jobs/${id}`, { token })).body.process.process_graph as Record<
        string,
        { process_id: string; arguments: Record<string, unknown> }
      >;
    const s1Graph = await graphOf(s1.id);
    assert.equal(s1Graph.load1.arguments.id, 'SENTINEL1_GRD');
    assert.ok(Object.values(s1Graph).some((n) => n.process_id === 'sar_backscatter'));
    // As a real backend listing SENTINEL1_GRD would, the emulator knows sar_backscatter and its arguments.
    const validation = await api(h.emulator, '/validation', {
      method: 'POST',
      token,
      body: { process_graph: s1Graph },
    });
    assert.deepEqual(validation.body.errors, [], validation.text);
    assert.equal((await graphOf(s2.id)).load1.arguments.id, 'SENTINEL2_L2A');

    const skipped = await tileRecord('s1s2', 'sea');
    assert.equal(skipped.status, 'skipped');
    assert.match(skipped.skipReason ?? '', /sensor "none"/);
    assert.equal(skipped.attempts, 0);

    const coast = await tileRecord('s1s2', 'coast');
    assert.equal(coast.status, 'postprocessed');
    assert.ok(coast.files?.includes('stats.json'), String(coast.files));
    const stats = JSON.parse(await readFile(join(coast.outputDir!, 'stats.json'), 'utf8')) as Record<
      string,
      BandStatistics[]
    >;
    const [tif, bands] = Object.entries(stats)[0];
    assert.match(tif, /\.tif$/);
    assert.equal(bands.length, 2, 'one entry per band: VV and VH');
    for (const band of bands) {
      assert.ok(band.validPixels > 0, JSON.stringify(band));
      assert.ok(band.min! <= band.mean! && band.mean! <= band.max!, JSON.stringify(band));
    }
    assert.deepEqual(coast.postprocessResult, stats, 'the small result is kept in the record');

    // The statistics join the tile's STAC item, beside its results.
    const item = JSON.parse(
      await readFile(join(h.spec().outputDir as string, 's1s2', 'items', 'coast.json'), 'utf8'),
    ) as { assets: Record<string, Record<string, unknown>> };
    const asset = item.assets['stats.json'];
    assert.ok(asset, `assets: ${Object.keys(item.assets).join(', ')}`);
    assert.equal(asset.href, '../coast/stats.json');
    assert.equal(asset.type, 'application/json');
    assert.deepEqual(asset.roles, ['metadata']);
    assert.equal(asset['file:size'], (await readFile(join(coast.outputDir!, 'stats.json'))).length);
    assert.ok(item.assets[tif], 'the downloaded result stays in the item');
  });

  it('fails only the tile whose factory throws, with the message, and finishes the others', async () => {
    const features = [feature('good', 0, {}), feature('bad', 1, { broken: true })];
    const summary = await (await h.client.start(spec('flaky', features, { jobFactory: 'flaky' }))).handle.result();
    assert.deepEqual([summary.counts.finished, summary.counts.error], [1, 1]);
    assert.equal(summary.failedTiles[0].tileId, 'bad');
    assert.equal(summary.failedTiles[0].error.code, 'JobFactoryFailed');
    assert.match(
      summary.failedTiles[0].error.message,
      /job factory "flaky" for tile "bad" failed: no scene list for bad/,
    );
    assert.deepEqual(
      jobsOf('flaky').map((j) => j.title),
      ['flaky/good attempt 1'],
    );
  });

  it('refuses a spec naming a factory no worker registered, before any job', async () => {
    const before = h.emulator.admin.jobs().length;
    const { handle } = await h.client.start(spec('unknown-factory', [feature('a', 0, {})], { jobFactory: 's1s3' }));
    await assert.rejects(handle.result(), (err: unknown) => {
      assert.ok(err instanceof WorkflowFailedError);
      assert.match(
        String(err.cause?.message),
        /jobFactory: no job factory "s1s3" is registered on the worker \(registered: "s1s2", "flaky"\)/,
      );
      return true;
    });
    assert.equal(h.emulator.admin.jobs().length, before, 'no openEO job was created');
  });

  it('keeps the files of a tile whose post-processing failed, and runs it again alone with no new job', async () => {
    await writeFile(flagFile, 'fail');
    const features = [feature('p1', 0, {}), feature('p2', 1, {})];
    const summary = await (await h.client.start(spec('picky', features, { postprocess: 'picky' }))).handle.result();
    assert.deepEqual([summary.counts.error, summary.counts.postprocessed], [2, 0]);
    const failed = await tileRecord('picky', 'p1');
    assert.equal(failed.error?.code, 'PostprocessFailed');
    assert.match(failed.error?.message ?? '', /the flag file says no/);
    assert.equal(failed.backendStatus, 'finished');
    const tif = failed.files!.find((f) => f.endsWith('.tif'))!;
    assert.ok(existsSync(join(failed.outputDir!, tif)), 'the downloaded result is kept');
    const jobsBefore = jobsOf('picky').length;
    assert.equal(jobsBefore, 2);

    await rm(flagFile);
    const { handle, tiles } = await h.client.postprocess('picky', { tiles: ['p1'] });
    assert.equal(tiles, 1);
    const again = await handle.result();
    assert.deepEqual([again.counts.postprocessed, again.counts.error], [1, 0]);
    const record = await tileRecord('picky', 'p1');
    assert.equal(record.status, 'postprocessed');
    assert.equal(record.openeoJobId, failed.openeoJobId);
    assert.deepEqual(record.postprocessResult, { files: failed.files!.length });
    assert.ok(record.files!.includes('picky.txt') && record.files!.includes(tif));
    const item = JSON.parse(
      await readFile(join(h.spec().outputDir as string, 'picky', 'items', 'p1.json'), 'utf8'),
    ) as { assets: Record<string, { type?: string }> };
    assert.equal(item.assets['picky.txt']?.type, 'text/plain', 'a re-run adds its files to the item too');
    assert.equal(jobsOf('picky').length, jobsBefore, 'no new openEO job');
    // The map and the exports read the tile's new record.
    const listing = async () => JSON.stringify((await h.client.tiles('picky')).map((t) => [t.tileId, t.status]).sort());
    await eventually(
      async () =>
        (await listing()) ===
        JSON.stringify([
          ['p1', 'postprocessed'],
          ['p2', 'error'],
        ]),
      'the listing shows p1 postprocessed',
    );

    // The default picks the tiles whose post-processing failed: p2.
    const rest = await h.client.postprocess('picky');
    assert.equal(rest.tiles, 1);
    assert.equal((await rest.handle.result()).counts.postprocessed, 1);
    assert.equal((await tileRecord('picky', 'p2')).status, 'postprocessed');
    await assert.rejects(h.client.postprocess('picky'), /no tiles whose post-processing failed/);
  });
});
