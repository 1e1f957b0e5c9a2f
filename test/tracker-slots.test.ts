/**
 * A waiting job holds no worker slot: on a worker with 2 activity slots, the 6 tiles of a batch
 * with parallelJobs 6 all wait for their jobs at once, each wait started (followed by the job
 * tracker) while the slots stay free for creates, starts and downloads. When every wait held a
 * slot, such a worker had at most 2 waits started and the others queued behind them.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { temporal } from '@temporalio/proto';
import { tileWorkflowId } from '../core/ids';
import { tilePage, type TileSource } from '../core/spec/tiling';
import { startHarness, type Harness } from './support/harness';

const STARTED = temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED;

describe('waiting jobs and worker slots', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ jobDurations: { queuedMs: 50, runningMs: 10_000 }, maxRunningJobsPerUser: 10 });
    await h.startWorker({ activitySlots: 2 });
  });
  after(async () => h?.teardown());

  /** Tiles whose wait for their job is started (running on a worker), not queued for a slot. */
  async function waitsStarted(tileIds: string[]): Promise<number> {
    const described = await Promise.all(tileIds.map((id) => h.temporal.workflow.getHandle(tileWorkflowId('slots', id)).describe().catch(() => undefined)));
    return described.filter((d) => (d?.raw.pendingActivities ?? []).some((a) => a.activityType?.name === 'waitForJobStatusChange' && a.state === STARTED)).length;
  }

  it('has all 6 waits started at once on a worker with 2 activity slots', async () => {
    const spec = h.spec({ batchId: 'slots', cols: 3, rows: 2 });
    spec.backends[0].parallelJobs = 6;
    const tileIds = tilePage(spec.tiles as TileSource, 0, 10).map((t) => t.id);
    const { handle } = await h.client.start(spec);
    let most = 0;
    let ended = false;
    const done = handle.result().finally(() => (ended = true));
    while (!ended && most < tileIds.length) {
      most = Math.max(most, await waitsStarted(tileIds));
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    const summary = await done;
    assert.equal(summary.counts.finished, 6, JSON.stringify(summary));
    assert.equal(most, 6, 'every tile waited for its job at the same time, none queued for a slot');
  });
});
