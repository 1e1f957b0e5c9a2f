/**
 * Three workers on one task queue of a self-hosted Temporal Service share a batch: each of them
 * runs tiles (told apart by their worker identity in the tiles' histories), the backend's
 * parallelJobs holds across them, and each tile attempt made exactly one openEO job.
 */
import assert from 'node:assert/strict';
import type { WorkerPlugin } from '@temporalio/worker';
import { after, before, describe, it } from 'node:test';
import type { TemporalService } from '../harness/temporal-service';
import { useTemporalService } from '../support/cluster';
import { startHarness, type Harness } from '../support/harness';

const BATCH = 'shared-by-three';
const WORKERS = ['cluster-worker-1', 'cluster-worker-2', 'cluster-worker-3'];
const PARALLEL_JOBS = 4;

/** Gives a worker its own identity (in one process the SDK's default, pid@host, is the same for all). */
function identity(name: string): WorkerPlugin {
  return { name: `identity-${name}`, configureWorker: (options) => ({ ...options, identity: name }) };
}

describe('three workers sharing a batch on a Temporal Service', () => {
  let service: TemporalService;
  let h: Harness;
  before(async () => {
    service = await useTemporalService();
    h = await startHarness({ maxRunningJobsPerUser: 20, jobDurations: { queuedMs: 100, runningMs: 600 } });
    for (const name of WORKERS) await h.startWorker({ plugins: [identity(name)] });
  });
  after(async () => {
    await h?.teardown();
    await service?.stop();
  });

  it('runs tiles on every worker, keeps parallelJobs across them, one job per attempt', async (t) => {
    const spec = h.spec({ batchId: BATCH, cols: 5, rows: 4 });
    spec.backends = [{ name: 'emulator', url: h.emulator.url, parallelJobs: PARALLEL_JOBS }];
    await h.client.start(spec);
    const summary = await h.client.wait(BATCH);
    assert.equal(summary.counts.finished, 20, `every tile finished: ${JSON.stringify(summary.counts)}`);

    // Who ran each tile's workflow tasks and activities, from the tiles' histories.
    const identities = new Map<string, number>();
    for (const tile of await h.client.tiles(BATCH)) {
      const history = await h.temporal.workflow.getHandle(tile.workflowId).fetchHistory();
      for (const event of history.events ?? []) {
        const who =
          event.workflowTaskCompletedEventAttributes?.identity ?? event.activityTaskStartedEventAttributes?.identity;
        if (who) identities.set(who, (identities.get(who) ?? 0) + 1);
      }
    }
    t.diagnostic(`tasks per worker: ${JSON.stringify(Object.fromEntries(identities))}`);
    for (const name of WORKERS) assert.ok((identities.get(name) ?? 0) > 0, `${name} ran tasks of the batch's tiles`);

    const stats = h.emulator.admin.stats();
    const started = Math.max(0, ...Object.values(stats.startedJobsPerUser).map((gauge) => gauge.max));
    assert.ok(started <= PARALLEL_JOBS, `at most ${PARALLEL_JOBS} jobs at once across the workers, saw ${started}`);
    for (const [title, count] of Object.entries(stats.jobs.createdByTitle))
      assert.equal(count, 1, `one job for "${title}"`);
    assert.equal(Object.keys(stats.jobs.createdByTitle).length, 20, 'one attempt per tile');
  });
});
