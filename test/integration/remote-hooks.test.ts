/**
 * Hooks on another task queue, from the workflow's side: a worker that knows only the contract
 * (test/harness/remote-hook-worker.ts) serves a job factory and a post-processor on its own
 * queue. The batch asks that queue for them before any job, records each plan, skips and fails
 * single tiles, adds the post-processor's files to the record and the STAC item, and runs a
 * failed post-processing again alone. Real Python: test/integration/python-hooks.test.ts.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import { loadCollectionGraph } from '../../src/core/hooks/job-factory';
import type { Tile } from '../../src/core/batch-spec/tile-types';
import { startRemoteHookWorker } from '../harness/remote-hook-worker';
import { featureBatches, squareTile as feature } from '../support/features';
import { startHarness, type Harness } from '../support/harness';

const HOOK_QUEUE = 'remote-hooks-test';

describe('hooks on another task queue', () => {
  let h: Harness;
  let hooks: { worker: Worker; running: Promise<void> };
  let flagFile: string;
  /** A batch whose post-processor's task queue no worker polls. */
  let unpolled: ReturnType<Harness['client']['start']>;
  const calls: Record<string, unknown>[] = [];
  const { tileRecord, jobsOf, spec } = featureBatches(() => h);

  before(async () => {
    h = await startHarness({ maxRunningJobsPerUser: 20 });
    flagFile = join(h.workDir, 'fail-postprocessing');
    await h.startWorker();
    hooks = await startRemoteHookWorker({
      address: h.server.address,
      namespace: h.server.namespace,
      taskQueue: HOOK_QUEUE,
      jobFactories: {
        // Skips tiles without a sensor, fails tiles marked broken, builds an S2 job otherwise.
        async pick(request) {
          calls.push(request);
          const tile = request.tile as Tile;
          if (tile.properties.broken) throw new Error(`no scenes for ${tile.id}`);
          if (!tile.properties.sensor) return { skip: `tile ${tile.id} has no sensor` };
          return {
            processGraph: loadCollectionGraph(tile, { collection: 'SENTINEL2_L2A', bands: ['B04'] }),
            title: `S2 ${tile.id}`,
          };
        },
      },
      postprocessors: {
        // Writes a summary beside the results, unless the flag file says no.
        async summarize(request) {
          if (existsSync(flagFile)) throw new Error('the flag file says no');
          const tileDir = request.tileDir as string;
          const files = request.files as { name: string; location: string }[];
          await writeFile(join(tileDir, 'summary.json'), JSON.stringify({ files: files.map((f) => f.name) }));
          return { written: ['summary.json'], result: { files: files.length } };
        },
      },
    });
    unpolled = h.client.start(
      spec('no-hook-worker', [feature('a', 0, {})], {
        postprocess: { activity: 'stats', taskQueue: 'nobody-polls' },
        timeouts: { heartbeatSeconds: 60, activitySeconds: 120, retryMaxIntervalSeconds: 120, hookWorkerSeconds: 10 },
      }),
    );
    // Its test reads the outcome; until then a failed start is not an unhandled rejection.
    unpolled.catch(() => undefined);
  });
  after(async () => {
    hooks?.worker.shutdown();
    await hooks?.running;
    await h?.teardown();
  });

  it('plans, skips and fails tiles with a factory on another queue, and post-processes there', async () => {
    const hook = { taskQueue: HOOK_QUEUE };
    const features = [
      feature('fields', 0, { sensor: 'S2' }),
      feature('sea', 1, {}),
      feature('broken', 2, { sensor: 'S2', broken: true }),
    ];
    const { handle } = await h.client.start(
      spec('remote', features, {
        jobFactory: { ...hook, activity: 'pick' },
        postprocess: { ...hook, activity: 'summarize' },
      }),
    );
    const summary = await handle.result();
    assert.deepEqual([summary.counts.postprocessed, summary.counts.skipped, summary.counts.error], [1, 1, 1]);
    assert.deepEqual(
      jobsOf('remote').map((j) => j.title),
      ['S2 fields — remote/fields attempt 1'],
      'one job, for the planned tile only',
    );

    // The request follows the contract: the spec's own graph for the tile rides along.
    const request = calls.find((c) => (c.tile as Tile).id === 'fields')!;
    assert.equal(request.contractVersion, 1);
    assert.equal(request.attempt, 1);
    assert.deepEqual(request.backend, { name: 'emulator', url: h.emulator.url });
    assert.equal(Object.values(request.specProcessGraph as object)[0].process_id, 'bap_composite');
    assert.equal(calls.filter((c) => (c.tile as Tile).id === 'broken').length, 3, 'a failing factory gets 3 attempts');

    const sea = await tileRecord('remote', 'sea');
    assert.deepEqual([sea.status, sea.skipReason], ['skipped', 'tile sea has no sensor']);
    const broken = await tileRecord('remote', 'broken');
    assert.equal(broken.error?.code, 'JobFactoryFailed');
    assert.match(
      broken.error?.message ?? '',
      /job factory pick on task queue remote-hooks-test for tile "broken" failed: no scenes for broken/,
    );

    const fields = await tileRecord('remote', 'fields');
    assert.equal(fields.status, 'postprocessed');
    assert.ok(fields.files?.includes('summary.json'), String(fields.files));
    assert.deepEqual(fields.postprocessResult, { files: fields.files!.length - 1 });
    const item = JSON.parse(
      await readFile(join(h.spec().outputDir as string, 'remote', 'items', 'fields.json'), 'utf8'),
    ) as { assets: Record<string, { href: string }> };
    assert.equal(item.assets['summary.json']?.href, '../fields/summary.json', 'the written file joins the STAC item');
  });

  it('refuses a spec naming a hook the queue does not have, before any job', async () => {
    const before = h.emulator.admin.jobs().length;
    const { handle } = await h.client.start(
      spec('unknown-remote', [feature('a', 0, { sensor: 'S2' })], {
        jobFactory: { activity: 'pick2', taskQueue: HOOK_QUEUE },
      }),
    );
    await assert.rejects(handle.result(), (err: unknown) => {
      assert.ok(err instanceof WorkflowFailedError);
      assert.match(
        String(err.cause?.message),
        /jobFactory: the workers of task queue "remote-hooks-test" \(openeo-temporal test hook worker \(TypeScript\)\) have no job factory "pick2" \(registered: "pick"\)/,
      );
      return true;
    });
    assert.equal(h.emulator.admin.jobs().length, before, 'no openEO job was created');
  });

  it('keeps the files when the post-processor fails, and runs it again alone with no new job', async () => {
    await writeFile(flagFile, 'fail');
    const { handle } = await h.client.start(
      spec('remote-picky', [feature('p1', 0, {})], { postprocess: { activity: 'summarize', taskQueue: HOOK_QUEUE } }),
    );
    assert.equal((await handle.result()).counts.error, 1);
    const failed = await tileRecord('remote-picky', 'p1');
    assert.equal(failed.error?.code, 'PostprocessFailed');
    assert.match(failed.error?.message ?? '', /the flag file says no; the downloaded files are kept/);
    const tif = failed.files!.find((f) => f.endsWith('.tif'))!;
    assert.ok(existsSync(join(failed.outputDir!, tif)));

    await rm(flagFile);
    const again = await (await h.client.postprocess('remote-picky', { tiles: ['p1'] })).handle.result();
    assert.deepEqual([again.counts.postprocessed, again.counts.error], [1, 0]);
    assert.equal(jobsOf('remote-picky').length, 1, 'no new openEO job');
    assert.ok((await tileRecord('remote-picky', 'p1')).files?.includes('summary.json'));
  });

  it('refuses a spec naming a task queue no worker polls, after hookWorkerSeconds and before any job', async () => {
    // Started with the harness: its wait for a worker overlaps the tests above.
    await assert.rejects(
      unpolled.then(({ handle }) => handle.result()),
      (err: unknown) => {
        assert.ok(err instanceof WorkflowFailedError);
        assert.match(
          String(err.cause?.message),
          /postprocess: no worker of task queue "nobody-polls" answered within 10 s/,
        );
        assert.match(
          String(err.cause?.message),
          /python -m openeo_temporal worker --hooks my_hooks\.py --task-queue nobody-polls/,
        );
        return true;
      },
    );
    assert.deepEqual(jobsOf('no-hook-worker'), [], 'no openEO job was created');
  });
});
