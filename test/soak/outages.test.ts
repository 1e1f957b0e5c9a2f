/**
 * A backend that answers nothing for ten minutes in the middle of a batch costs time, never a
 * tile, a second job or a slot over `parallelJobs`, with the batch's default-sized activity and
 * heartbeat timeouts. (test/integration/outages.test.ts runs the same on a scaled clock, and the
 * shorter outages: a tile file that goes missing, failing status checks.)
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { batchProgress } from '../../workflows/messages';
import { eventually } from '../support/eventually';
import { EMULATOR_USER, startHarness, type Harness } from '../support/harness';

describe('a backend outage in the middle of a batch', () => {
  let h: Harness;
  before(async () => {
    // Jobs long enough that the outage finds some running and others waiting for a slot.
    h = await startHarness({ maxRunningJobsPerUser: 50, jobDurations: { queuedMs: 500, runningMs: 15_000 } });
    await h.startWorker();
  });
  after(async () => h?.teardown());

  it('rides out ten minutes without an answer: every tile finished, one job per attempt, parallelJobs kept', async () => {
    const outageMs = 10 * 60_000;
    const parallelJobs = 3;
    const spec = h.spec({ batchId: 'backend-outage', cols: 3, rows: 3, timeouts: { retryMaxIntervalSeconds: 10 } });
    spec.backends = [{ name: 'emulator', url: h.emulator.url, parallelJobs }];
    const { handle } = await h.client.start(spec);
    await eventually(async () => {
      const { counts } = await handle.query(batchProgress);
      return counts.finished >= parallelJobs && counts.running === parallelJobs;
    }, 'the first tiles finished and the next ones run', 120_000);
    h.emulator.admin.setFaults({ outage: { fromNowMs: 0, durationMs: outageMs } });
    const outageEnds = Date.now() + outageMs;

    // The running jobs finish on the backend meanwhile; the batch cannot see it, and waits.
    await new Promise((resolve) => setTimeout(resolve, outageMs - 30_000));
    assert.ok(Date.now() < outageEnds, 'checked while the backend was still down');
    assert.equal((await handle.describe()).status.name, 'RUNNING', 'the outage did not end the batch');
    assert.equal((await handle.query(batchProgress)).counts.error, 0, 'no tile gave up during the outage');
    assert.ok((h.emulator.admin.stats().faults.byType.outage ?? 0) > 0, 'the backend refused requests');

    const summary = await handle.result();
    assert.equal(summary.counts.finished, 9, JSON.stringify(summary.failedTiles));
    const stats = h.emulator.admin.stats();
    const titles = Object.entries(stats.jobs.createdByTitle).filter(([title]) => title.startsWith('backend-outage/'));
    assert.equal(titles.length, 9, `one job per tile: ${JSON.stringify(titles)}`);
    for (const [title, jobs] of titles) {
      assert.equal(jobs, 1, `exactly one job for ${title}`);
      assert.match(title, / attempt 1$/, 'no attempt was spent on the outage');
    }
    const started = stats.startedJobsPerUser[EMULATOR_USER.username];
    assert.ok(started && started.max <= parallelJobs, `at most ${parallelJobs} jobs queued or running at once: ${JSON.stringify(stats.startedJobsPerUser)}`);
  });
});
