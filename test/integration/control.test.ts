/**
 * Changing a running batch, and batches over several backends: resize, pause and resume, added
 * tiles, pinned tiles, a failing backend paused while the others go on, tiles from a file.
 * Jobs run a few hundred milliseconds, so a batch stays in flight long enough to steer it.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import type { RunningEmulator } from '../../src/tools/emulator';
import type { EmulatorStats } from '../../src/tools/emulator/stats';
import type { TileFeature } from '../../src/core/batch-spec/tile-types';
import { addTiles, pauseBatch, resumeBatch, setParallelJobs, tileCompleted } from '../../workflows/messages';
import { eventually } from '../support/eventually';
import { startHarness, type Harness } from '../support/harness';

async function stats(emulator: RunningEmulator): Promise<EmulatorStats> {
  return (await (await fetch(`${emulator.url}/_emulator/stats`)).json()) as EmulatorStats;
}

/** The largest number of one user's jobs that were created, queued or running at once. */
/** The most jobs queued or running at once (what `parallelJobs` limits; lined-up jobs are only created). */
async function maxStarted(emulator: RunningEmulator): Promise<number> {
  return Math.max(0, ...Object.values((await stats(emulator)).startedJobsPerUser).map((g) => g.max));
}

function square(id: string, lon: number, lat: number, properties: Record<string, unknown> = {}): TileFeature {
  const d = 0.05;
  return {
    type: 'Feature',
    id,
    geometry: {
      type: 'Polygon',
      coordinates: [
        [
          [lon, lat],
          [lon + d, lat],
          [lon + d, lat + d],
          [lon, lat + d],
          [lon, lat],
        ],
      ],
    },
    properties,
  } as TileFeature;
}

describe('steering a running batch', () => {
  let h: Harness;
  let second: RunningEmulator;
  before(async () => {
    const jobDurations = { queuedMs: 50, runningMs: 400 };
    h = await startHarness(
      { maxRunningJobsPerUser: 20, jobDurations },
      {
        second: { maxRunningJobsPerUser: 20, jobDurations, failure: { failTitlesContaining: ['flaky-backend/'] } },
        single: { maxRunningJobsPerUser: 1, jobDurations },
        // Jobs long enough that four started together overlap however loaded the machine.
        steady: { maxRunningJobsPerUser: 20, jobDurations: { queuedMs: 50, runningMs: 1_500 } },
      },
    );
    second = h.backends.second;
    await h.startWorker();
  });
  after(async () => h?.teardown());

  it('keeps parallelJobs exact, also after it is raised while the batch runs', async () => {
    const steady = h.backends.steady;
    const spec = h.spec({ batchId: 'resize', cols: 4, rows: 6 });
    spec.backends = [{ name: 'steady', url: steady.url, parallelJobs: 2 }];
    const { handle } = await h.client.start(spec);
    await eventually(async () => (await h.client.progress('resize')).counts.finished >= 2, 'two tiles finished');
    // Paused while the resize lands, so tiles are left to use the raised limit however loaded the machine.
    await handle.executeUpdate(pauseBatch);
    assert.ok((await maxStarted(steady)) <= 2, 'at most 2 jobs before the resize');
    // A duplicate report of a tile that already ended must not count twice.
    const finished = (await h.client.tiles('resize')).find((t) => t.status === 'finished');
    assert.ok(finished);
    await handle.signal(tileCompleted, { batchId: 'resize', tileId: finished.tileId, status: 'error', attempts: 1 });

    // A change that makes no sense fails the update, with the reason, and the batch goes on.
    await assert.rejects(
      handle.executeUpdate(setParallelJobs, { args: [{ backend: 'nowhere', parallelJobs: 4 }] }),
      (err: Error) => {
        assert.match(
          String((err.cause as Error | undefined)?.message ?? err.message),
          /backend "nowhere" is not part of this batch/,
        );
        return true;
      },
    );
    const backends = await handle.executeUpdate(setParallelJobs, { args: [{ backend: 'steady', parallelJobs: 4 }] });
    assert.equal(backends[0].parallelJobs, 4);
    const waiting = (await h.client.progress('resize')).counts.not_started;
    assert.ok(waiting >= 4, `tiles wait for the raised limit: ${waiting}`);
    await handle.executeUpdate(resumeBatch);
    const summary = await handle.result();

    assert.deepEqual(summary.counts, {
      not_started: 0,
      running: 0,
      finished: 24,
      error: 0,
      canceled: 0,
      skipped: 0,
      postprocessed: 0,
    });
    const max = await maxStarted(steady);
    assert.ok(max <= 4, `never more than 4 jobs at once, saw ${max}`);
    assert.ok(max >= 3, `the raised limit is used, saw at most ${max}`);
  });

  it('starts nothing while paused, and finishes after resume', async () => {
    const { handle } = await h.client.start(h.spec({ batchId: 'pause', cols: 3, rows: 3 }));
    await eventually(
      async () => (await stats(h.emulator)).jobs.createdByTitle['pause/E590000-N5660000 attempt 1'] === 1,
      'the first job exists',
    );
    await handle.executeUpdate(pauseBatch);
    await eventually(async () => (await h.client.progress('pause')).counts.running === 0, 'running tiles ended');
    const createdWhilePaused = jobsOf(await stats(h.emulator), 'pause/');
    await sleep(1_500);
    assert.equal(jobsOf(await stats(h.emulator), 'pause/'), createdWhilePaused, 'no job created while paused');
    assert.ok(createdWhilePaused < 9);
    await handle.executeUpdate(resumeBatch);
    const summary = await handle.result();
    assert.equal(summary.counts.finished, 9);
    assert.equal(jobsOf(await stats(h.emulator), 'pause/'), 9);
  });

  it('runs tiles added to a running batch', async () => {
    const { handle } = await h.client.start(h.spec({ batchId: 'grow', cols: 2, rows: 1 }));
    const ids = await handle.executeUpdate(addTiles, {
      args: [{ features: [square('extra-1', 4.5, 51.1), square('extra-2', 4.6, 51.1)] }],
    });
    assert.deepEqual(ids, ['extra-1', 'extra-2']);
    const summary = await handle.result();
    assert.equal(summary.totalTiles, 4);
    assert.equal(summary.counts.finished, 4);
    assert.deepEqual((await h.client.tiles('grow')).map((t) => t.tileId).sort(), [
      'E590000-N5660000',
      'E595000-N5660000',
      'extra-1',
      'extra-2',
    ]);
  });

  it('sends pinned tiles to their backend and spreads the others over both', async () => {
    const tilesFile = join(h.workDir, 'pinned.geojsonl');
    const features = [
      square('on-second-1', 4.4, 51.1, { backend: 'second' }),
      square('on-second-2', 4.45, 51.1, { backend: 'second' }),
      square('on-first', 4.5, 51.1, { backends: ['emulator'] }),
      ...[0, 1, 2, 3, 4].map((i) => square(`free-${i}`, 4.3 + i * 0.05, 51.2)),
    ];
    await writeFile(tilesFile, features.map((f) => JSON.stringify(f)).join('\n'));
    const spec = h.spec({ batchId: 'pinned', tiles: { file: tilesFile } });
    spec.backends = [
      { name: 'emulator', url: h.emulator.url, parallelJobs: 2 },
      { name: 'second', url: second.url, parallelJobs: 2 },
    ];
    const { handle } = await h.client.start(spec);
    const summary = await handle.result();

    assert.equal(summary.totalTiles, 8);
    assert.equal(summary.counts.finished, 8);
    const byTile = new Map((await h.client.tiles('pinned')).map((t) => [t.tileId, t.backend]));
    assert.equal(byTile.get('on-second-1'), 'second');
    assert.equal(byTile.get('on-second-2'), 'second');
    assert.equal(byTile.get('on-first'), 'emulator');
    const free = [0, 1, 2, 3, 4].map((i) => byTile.get(`free-${i}`));
    assert.ok(free.includes('emulator') && free.includes('second'), `free tiles use both backends: ${free.join(', ')}`);
  });

  it('resubmits a failed job on another backend when retryOnOtherBackend is set', async () => {
    const saved = second.admin.faults();
    second.admin.setFaults({ jobs: { rules: [{ titleContains: 'moved/', failFirst: 99 }] } });
    try {
      const spec = h.spec({ batchId: 'moved', cols: 1, rows: 1, maxAttempts: 2, retryOnOtherBackend: true });
      spec.backends = [
        { name: 'second', url: second.url, parallelJobs: 1 },
        { name: 'emulator', url: h.emulator.url, parallelJobs: 1 },
      ];
      const summary = await (await h.client.start(spec)).handle.result();
      assert.deepEqual(summary.counts, {
        not_started: 0,
        running: 0,
        finished: 1,
        error: 0,
        canceled: 0,
        skipped: 0,
        postprocessed: 0,
      });
      const titles = (e: RunningEmulator) =>
        e.admin
          .jobs()
          .filter((j) => j.title?.startsWith('moved/'))
          .map((j) => [j.title, j.status]);
      assert.deepEqual(titles(second), [['moved/E590000-N5660000 attempt 1', 'error']]);
      assert.deepEqual(titles(h.emulator), [['moved/E590000-N5660000 attempt 2', 'finished']]);
      assert.deepEqual(
        (await h.client.tiles('moved')).map((t) => [t.tileId, t.backend, t.status]),
        [['E590000-N5660000', 'emulator', 'finished']],
      );
    } finally {
      second.admin.setFaults(saved);
    }
  });

  it('reads tiles from a URL, a page at a time', async () => {
    const collection = {
      type: 'FeatureCollection',
      features: [0, 1, 2].map((i) => square(`url-${i}`, 4.3 + i * 0.05, 51.3)),
    };
    const server = createServer((_req, res) => res.end(JSON.stringify(collection)));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const { port } = server.address() as { port: number };
      const summary = await (
        await h.client.start(h.spec({ batchId: 'from-url', tiles: { url: `http://127.0.0.1:${port}/tiles.geojson` } }))
      ).handle.result();
      assert.equal(summary.totalTiles, 3);
      assert.equal(summary.counts.finished, 3);
      assert.deepEqual(
        (await h.client.tiles('from-url')).map((t) => t.tileId),
        ['url-0', 'url-1', 'url-2'],
      );
    } finally {
      server.close();
    }
  });

  it('keeps at most maxQueued jobs waiting in the backend queue', async () => {
    const spec = h.spec({ batchId: 'short-queue', cols: 3, rows: 2 });
    // One job runs at a time there; without maxQueued, three more would wait in its queue.
    spec.backends = [{ name: 'single', url: h.backends.single.url, parallelJobs: 4, maxQueued: 1 }];
    const summary = await (await h.client.start(spec)).handle.result();
    assert.equal(summary.counts.finished, 6);
    const stats = h.backends.single.admin.stats();
    const active = Math.max(...Object.values(stats.activeJobsPerUser).map((g) => g.max));
    assert.ok(active <= 2, `one running and at most one waiting, saw ${active} active`);
  });

  it('pauses a backend that keeps failing, with a reason, while the other finishes the batch', async () => {
    // One attempt per tile: the failing backend's two failures come before the other backend
    // can take every tile left (with two attempts each, under load, it sometimes did).
    const spec = h.spec({
      batchId: 'flaky-backend',
      cols: 4,
      rows: 2,
      maxAttempts: 1,
      scheduling: { pauseBackendAfterErrors: 2 },
    });
    spec.backends = [
      { name: 'second', url: second.url, parallelJobs: 1 },
      { name: 'emulator', url: h.emulator.url, parallelJobs: 1 },
    ];
    const { handle } = await h.client.start(spec);
    let pausedBackends: Record<string, string> = {};
    await eventually(async () => {
      pausedBackends = (await h.client.progress('flaky-backend')).pausedBackends;
      return Object.keys(pausedBackends).length > 0;
    }, 'a backend is paused');
    assert.deepEqual(Object.keys(pausedBackends), ['second']);
    assert.match(pausedBackends.second, /2 tiles in a row failed/);
    const summary = await handle.result();
    assert.equal(summary.counts.error, 2, 'only the two failures that paused the backend');
    assert.equal(summary.counts.finished, 6);
    const tiles = await h.client.tiles('flaky-backend');
    assert.equal(tiles.filter((t) => t.backend === 'second').length, 2);
  });
});

function jobsOf(s: EmulatorStats, prefix: string): number {
  return Object.entries(s.jobs.createdByTitle)
    .filter(([title]) => title.startsWith(prefix))
    .reduce((n, [, c]) => n + c, 0);
}
