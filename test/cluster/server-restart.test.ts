/**
 * The self-hosted Temporal Service SIGKILLed in the middle of a batch, with openEO jobs running,
 * and started again on the same PostgreSQL: the worker and the client find it again, every tile
 * finishes, and the backend saw exactly one openEO job per tile attempt (the server's state,
 * not luck, carried the batch over the crash). Then its tile workflows are deleted, as the
 * namespace's retention would: the records the batch saved stand in for them.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { latestTileExecutions } from '../../activities/records/lookup';
import { findTemporalCli } from '../../src/tools/devserver/temporal-cli';
import type { TemporalService } from '../harness/temporal-service';
import { useTemporalService } from '../support/cluster';
import { eventually } from '../support/eventually';
import { startHarness, type Harness } from '../support/harness';

const run = promisify(execFile);
const BATCH = 'server-killed';
const TILES = { cols: 4, rows: 3 };

describe('a Temporal Service killed in the middle of a batch', () => {
  let service: TemporalService;
  let h: Harness;
  before(async () => {
    service = await useTemporalService();
    // Jobs of about 2 s, three at a time: several are running when the server dies.
    h = await startHarness({ maxRunningJobsPerUser: 10, jobDurations: { queuedMs: 300, runningMs: 1_700 } });
    await h.startWorker();
  });
  after(async () => {
    await h?.teardown();
    await service?.stop();
  });

  it('finishes every tile after a SIGKILL and a restart, with one openEO job per attempt', async (t) => {
    const spec = h.spec({ batchId: BATCH, ...TILES });
    spec.backends = [{ name: 'emulator', url: h.emulator.url, parallelJobs: 3 }];
    // Longer than the outage, so nothing times out for it; retries of what failed meanwhile come back within 5 s.
    spec.timeouts = { heartbeatSeconds: 30, activitySeconds: 60, retryMaxIntervalSeconds: 5 };
    await h.client.start(spec);
    await eventually(async () => (await h.client.progress(BATCH)).counts.finished >= 2, 'two tiles finished', 180_000);
    await eventually(
      async () => h.emulator.admin.jobs().some((job) => job.status === 'running'),
      'an openEO job runs',
      180_000,
    );
    const finishedBefore = (await h.client.progress(BATCH)).counts.finished;

    await service.kill();
    t.diagnostic(`killed the server with ${finishedBefore} tiles finished`);
    await service.restart();

    const summary = await h.client.wait(BATCH);
    const total = TILES.cols * TILES.rows;
    assert.equal(summary.totalTiles, total);
    assert.equal(summary.counts.finished, total, `every tile finished: ${JSON.stringify(summary.counts)}`);
    assert.ok(finishedBefore < total, 'the server died with tiles still to do');
    // Visibility (SQL, in PostgreSQL) lists every tile as finished once it has caught up.
    await eventually(
      async () => (await h.client.tiles(BATCH)).filter((tile) => tile.status === 'finished').length === total,
      'visibility lists every tile finished',
      120_000,
    );

    const { createdByTitle } = h.emulator.admin.stats().jobs;
    t.diagnostic(`jobs per attempt: ${JSON.stringify(createdByTitle)}`);
    for (const [title, count] of Object.entries(createdByTitle)) assert.equal(count, 1, `one job for "${title}"`);
    const tilesWithJobs = new Set(Object.keys(createdByTitle).map((title) => title.replace(/ attempt \d+$/, '')));
    assert.equal(tilesWithJobs.size, total, 'every tile had its job');
    const active = h.emulator.admin.jobs().filter((job) => job.status === 'queued' || job.status === 'running');
    assert.deepEqual(active, [], 'no job left running');
  });

  it('keeps every record once the tile workflows are deleted, as retention would', async () => {
    const before = (await h.client.records(BATCH)).tiles.map((t) => [t.tileId, t.status, t.openeoJobId]);
    const cli = findTemporalCli();
    assert.ok(cli, 'the Temporal CLI is built');
    const target = ['--address', h.server.address, '--namespace', h.server.namespace];
    for (const tile of await latestTileExecutions(h.temporal, BATCH))
      await run(cli, ['workflow', 'delete', '--workflow-id', tile.workflowId, ...target]);
    // The service deletes in the background; SQL visibility forgets the tiles soon after.
    await eventually(
      async () => (await latestTileExecutions(h.temporal, BATCH)).length === 0,
      'the tile workflows are gone from visibility',
      120_000,
    );
    const after = (await h.client.records(BATCH)).tiles.map((t) => [t.tileId, t.status, t.openeoJobId]);
    assert.equal(after.length, TILES.cols * TILES.rows);
    assert.ok(after.every(([, status]) => status === 'finished'));
    assert.deepEqual(after, before, 'the saved records stand in for the deleted workflows');
  });
});
