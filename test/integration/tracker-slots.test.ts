/**
 * A waiting job holds no worker slot: on a worker with 2 activity slots, the 6 tiles of a batch
 * with parallelJobs 6 all wait for their jobs at once, each wait started (followed by the job
 * tracker) while the slots stay free for creates, starts and downloads. When every wait held a
 * slot, such a worker had at most 2 waits started and the others queued behind them.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout } from 'node:timers/promises';
import { temporal } from '@temporalio/proto';
import type { Worker } from '@temporalio/worker';
import { tileWorkflowId } from '../../src/core/ids';
import { tilePage, type TileSource } from '../../src/core/batch-spec/tiling';
import { eventually } from '../support/eventually';
import { startHarness, type Harness } from '../support/harness';

const STARTED = temporal.api.enums.v1.PendingActivityState.PENDING_ACTIVITY_STATE_STARTED;

describe('waiting jobs and worker slots', () => {
  let h: Harness;
  let first: Worker;
  before(async () => {
    h = await startHarness({ jobDurations: { queuedMs: 50, runningMs: 10_000 }, maxRunningJobsPerUser: 10 });
    first = await h.startWorker({ activitySlots: 2 });
  });
  after(async () => h?.teardown());

  /** Tiles whose wait for their job is started (running on a worker), not queued for a slot. */
  async function waitsStarted(tileIds: string[], batchId = 'slots'): Promise<number> {
    const described = await Promise.all(
      tileIds.map((id) =>
        h.temporal.workflow
          .getHandle(tileWorkflowId(batchId, id))
          .describe()
          .catch(() => undefined),
      ),
    );
    return described.filter((d) =>
      (d?.raw.pendingActivities ?? []).some(
        (a) => a.activityType?.name === 'waitForJobStatusChange' && a.state === STARTED,
      ),
    ).length;
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
      await setTimeout(250);
    }
    const summary = await done;
    assert.equal(summary.counts.finished, 6, JSON.stringify(summary));
    assert.equal(most, 6, 'every tile waited for its job at the same time, none queued for a slot');
  });

  it('hands the waits of a worker that stops to another worker at once, not after their heartbeat timeout', async () => {
    // With a 10-minute heartbeat timeout, a wait left behind would hold its tile for 10 minutes.
    const spec = { ...h.spec({ batchId: 'handover', cols: 2, rows: 1 }), timeouts: { heartbeatSeconds: 600 } };
    spec.backends[0].parallelJobs = 2;
    const tileIds = tilePage(spec.tiles as TileSource, 0, 10).map((t) => t.id);
    const { handle } = await h.client.start(spec);
    await eventually(
      async () => (await waitsStarted(tileIds, 'handover')) === 2,
      'both tiles wait for their jobs on the first worker',
    );
    await h.startWorker();
    first.shutdown();
    const late = setTimeout(180_000, undefined, { ref: false }).then(() =>
      assert.fail('the batch still runs 3 minutes after the worker stopped'),
    );
    const summary = await Promise.race([handle.result(), late]);
    assert.equal(summary.counts.finished, 2, JSON.stringify(summary));
    for (const id of tileIds) {
      const history = await h.temporal.workflow.getHandle(tileWorkflowId('handover', id)).fetchHistory();
      const retried = (history.events ?? []).filter(
        (e) =>
          (e.activityTaskStartedEventAttributes?.lastFailure?.applicationFailureInfo?.type ?? '') === 'WorkerStopped',
      );
      assert.ok(retried.length >= 1, `tile ${id}: a wait was handed on by the stopping worker`);
    }
  });
});
