/**
 * Lined-up tiles on a backend that refuses a start over its running limit (as CDSE does): while
 * both slots are taken, the next tiles wait with their jobs created, and each job starts the
 * moment the job ahead finishes. The backend must never see a start it refuses, a failed job
 * ahead (resubmitted in its slot) must not let the tile behind start early, and a tile lined up
 * behind a stuck job moves to a slot that would otherwise stay idle.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { Context } from '@temporalio/activity';
import { SimplePlugin } from '@temporalio/plugin';
import { tileWorkflowId } from '../../src/core/ids';
import { batchProgress } from '../../workflows/messages';
import { eventually } from '../support/eventually';
import { startHarness, type Harness } from '../support/harness';

const STARTS = 'POST /openeo/1.2/jobs/{job_id}/results';

/** What a tile's history says of its hand-over: none, started by the worker, or not (with the reason). */
interface HandOverSeen {
  tileId: string;
  started?: boolean;
  reason?: string;
  /** The hand-over was cancelled before it ended (its tile moved to a free slot). */
  calledOff: boolean;
  gotWord: boolean;
}

type HistoryEvent = NonNullable<
  Awaited<ReturnType<ReturnType<Harness['temporal']['workflow']['getHandle']>['fetchHistory']>>['events']
>[number];

/** The activity's result, as the default data converter wrote it (JSON). */
function resultOf(event: HistoryEvent): unknown {
  const payload = event.activityTaskCompletedEventAttributes?.result?.payloads?.[0];
  return payload?.data ? JSON.parse(Buffer.from(payload.data).toString('utf8')) : undefined;
}

/** Tile ids of a `cols × rows` spec of the harness: 5 km tiles from E590000, N5660000. */
function tileIds(cols: number, rows: number): string[] {
  return Array.from(
    { length: cols * rows },
    (_, i) => `E${590000 + 5000 * (i % cols)}-N${5660000 + 5000 * Math.floor(i / cols)}`,
  );
}

async function handOvers(h: Harness, batchId: string, tileIds: string[]): Promise<HandOverSeen[]> {
  const seen: HandOverSeen[] = [];
  for (const tileId of tileIds) {
    const events = (await h.temporal.workflow.getHandle(tileWorkflowId(batchId, tileId)).fetchHistory()).events ?? [];
    const scheduled = events.find(
      (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'startJobAfter',
    );
    if (!scheduled) continue;
    const completed = events.find(
      (e) => String(e.activityTaskCompletedEventAttributes?.scheduledEventId) === String(scheduled.eventId),
    );
    const answer = completed ? (resultOf(completed) as { started: boolean; reason?: string }) : undefined;
    // Called off: its cancel was asked (a tile of version 1 does not wait for the hand-over to end).
    const calledOff = events.some(
      (e) => String(e.activityTaskCancelRequestedEventAttributes?.scheduledEventId) === String(scheduled.eventId),
    );
    const gotWord = events.some((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'slotGiven');
    seen.push({ tileId, started: answer?.started, reason: answer?.reason, calledOff, gotWord });
  }
  return seen;
}

describe('lined-up tiles on a backend that refuses starts over its limit', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({
      maxRunningJobsPerUser: 2,
      concurrencyMode: 'reject',
      jobDurations: { queuedMs: 50, runningMs: 700 },
      failure: { failTitlesContaining: ['line-up-failing/E590000-N5660000'] },
    });
    await h.startWorker();
  });
  after(async () => h?.teardown());

  it('starts each lined-up job when the job ahead finishes, and the backend refuses none', async () => {
    h.emulator.admin.resetStats();
    const spec = h.spec({ batchId: 'line-up', cols: 4, rows: 2, scheduling: { lineUpJobs: true } });
    const { handle } = await h.client.start(spec);
    const summary = await handle.result();

    assert.equal(summary.counts.finished, 8);
    const stats = h.emulator.admin.stats();
    assert.equal(stats.jobs.created, 8, 'one job per tile');
    assert.equal(stats.requests.byRoute[STARTS]?.['400'], undefined, 'no start refused for the running limit');
    const started = Object.values(stats.startedJobsPerUser)[0];
    assert.ok(started.max <= 2, `at most 2 jobs queued or running at once, saw ${started.max}`);

    const seen = await handOvers(h, 'line-up', tileIds(4, 2));
    // Every tile but the first two starts lined up, and (nothing failing) its job is started for it.
    assert.equal(seen.length, 6, `tiles lined up: ${JSON.stringify(seen)}`);
    const handedOver = seen.filter((s) => s.started === true);
    assert.ok(
      handedOver.length >= 4,
      `jobs started by the worker that saw the job ahead finish: ${JSON.stringify(seen)}`,
    );
  });

  it('keeps a lined-up tile waiting while the failed job ahead is resubmitted in its slot', async () => {
    h.emulator.admin.resetStats();
    const spec = h.spec({
      batchId: 'line-up-failing',
      cols: 3,
      rows: 1,
      maxAttempts: 2,
      scheduling: { lineUpJobs: true },
    });
    const { handle } = await h.client.start(spec);
    const summary = await handle.result();

    assert.equal(summary.counts.finished, 2);
    assert.equal(summary.counts.error, 1);
    const stats = h.emulator.admin.stats();
    assert.equal(stats.jobs.created, 4, 'two jobs for the failing tile, one for each other tile');
    assert.equal(stats.requests.byRoute[STARTS]?.['400'], undefined, 'no start refused for the running limit');

    const seen = await handOvers(h, 'line-up-failing', ['E600000-N5660000']);
    assert.equal(seen.length, 1, 'the third tile lines up behind the first');
    assert.equal(seen[0].started, false);
    assert.match(seen[0].reason ?? '', /ended error/);
    assert.equal(seen[0].gotWord, true, "it started its job on its window's word");
  });

  it('moves a tile lined up behind a stuck job to the slot another tile left, and starts its job there', async () => {
    const saved = h.emulator.admin.faults();
    const stuck = 'line-up-stuck/E590000-N5660000';
    h.emulator.admin.setFaults({
      ...saved,
      jobs: { ...saved.jobs, rules: [...(saved.jobs?.rules ?? []), { titleContains: stuck, stuckIn: 'queued' }] },
    });
    try {
      h.emulator.admin.resetStats();
      const spec = h.spec({ batchId: 'line-up-stuck', cols: 4, rows: 1, scheduling: { lineUpJobs: true } });
      const { handle } = await h.client.start(spec);
      // The tile behind the stuck job would wait for ever; it moves once the other slot is idle.
      await eventually(async () => {
        const { counts } = await handle.query(batchProgress);
        return counts.finished === 3 && counts.running === 1;
      }, 'every tile but the stuck one finished');
      const stats = h.emulator.admin.stats();
      assert.equal(stats.jobs.created, 4, 'the moved tile started the job it had made');
      const movedRecord = (await h.client.tiles('line-up-stuck')).find((t) => t.tileId === 'E600000-N5660000');
      assert.equal(movedRecord?.status, 'finished');
      assert.equal(stats.requests.byRoute[STARTS]?.['400'], undefined, 'no start refused for the running limit');

      const [moved] = await handOvers(h, 'line-up-stuck', ['E600000-N5660000']);
      assert.ok(
        moved.calledOff && moved.started === undefined,
        `its hand-over was called off before the job ahead ended: ${JSON.stringify(moved)}`,
      );
      assert.equal(moved.gotWord, true, "on its window's word");
    } finally {
      await h.client.cancel('line-up-stuck').catch(() => undefined);
      h.emulator.admin.setFaults(saved);
    }
  });
});

/** The heartbeat timeout of the batch below: short, so a silent hand-over times out soon. */
const HEARTBEAT_SECONDS = 2;

/**
 * A hand-over whose worker dies the moment it is called off: it heartbeats (and never starts a
 * job) until its cancel arrives, then falls silent, so the server would time it out instead of
 * hearing that it was cancelled.
 */
async function handOverWhoseWorkerDies(): Promise<never> {
  const ctx = Context.current();
  const beating = setInterval(() => ctx.heartbeat(), 200);
  await ctx.cancelled.catch(() => undefined);
  clearInterval(beating);
  await sleep(3 * HEARTBEAT_SECONDS * 1000);
  throw new Error('too late: the server timed this attempt out');
}

describe("a lined-up tile moved while its hand-over's worker dies", () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ jobDurations: { queuedMs: 50, runningMs: 700 } });
    await h.startWorker({
      plugins: [
        new SimplePlugin({ name: 'hand-over-worker-dies', activities: { startJobAfter: handOverWhoseWorkerDies } }),
      ],
    });
  });
  after(async () => h?.teardown());

  it('starts the job it made in the free slot at once, without waiting for its called-off hand-over', async () => {
    const saved = h.emulator.admin.faults();
    const batchId = 'line-up-dying-hand-over';
    const [stuck, , moved] = tileIds(3, 1);
    h.emulator.admin.setFaults({
      ...saved,
      jobs: {
        ...saved.jobs,
        rules: [...(saved.jobs?.rules ?? []), { titleContains: `${batchId}/${stuck}`, stuckIn: 'queued' }],
      },
    });
    try {
      const spec = h.spec({
        batchId,
        cols: 3,
        rows: 1,
        scheduling: { lineUpJobs: true },
        timeouts: { heartbeatSeconds: HEARTBEAT_SECONDS, activitySeconds: 30, retryMaxIntervalSeconds: 5 },
      });
      const { handle } = await h.client.start(spec);
      // The third tile lines up behind the stuck job, then moves to the slot the second one left.
      await eventually(async () => {
        const { counts } = await handle.query(batchProgress);
        return counts.finished + counts.error === 2;
      }, 'both tiles but the stuck one ended');
      const tiles = await h.client.tiles(batchId);
      const movedTile = tiles.find((t) => t.tileId === moved);
      assert.equal(movedTile?.status, 'finished', JSON.stringify(movedTile));
      const events = (await h.temporal.workflow.getHandle(tileWorkflowId(batchId, moved)).fetchHistory()).events ?? [];
      const [seen] = await handOvers(h, batchId, [moved]);
      assert.ok(seen?.calledOff, `its hand-over was called off: ${JSON.stringify(seen)}`);
      // Its hand-over heartbeats as rarely as a wait (15 × 2 s): the tile ended long before it could time out.
      assert.ok(
        !events.some((e) => e.activityTaskTimedOutEventAttributes),
        'it did not wait for its hand-over to time out',
      );
      const starts = events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'startJob');
      assert.equal(starts.length, 1, 'it started its job itself');
    } finally {
      await h.client.cancel(batchId).catch(() => undefined);
      h.emulator.admin.setFaults(saved);
    }
  });
});
