/**
 * The hand-over of a slot from one tile's job to the next, off the workflows' path.
 *
 * A tile lined up behind a running one has its job created ahead. `startJobAfter` then finds the
 * job ahead (by asking the tile ahead for its record) and hands it to the worker's job tracker. The tracker waits for that job's end beside the tile's own wait, sharing its looks.
 * The moment the job ahead is seen `finished`, it starts the lined-up job: one request, where the
 * workflows' way (tile ahead → its window → the next tile's first task → its submit) costs about
 * a third of a second. Any other end (`error`, `canceled`) starts nothing: the tile ahead may
 * resubmit its job in the same slot, so the lined-up tile waits for its window's word instead.
 * A tile of version 1 (0.13.0) creates its job itself first, so its record names the job while
 * it waits and a tile moved to a free slot can start it without waiting for this activity; for
 * older tiles, create and hand-over are one activity.
 */
import { Context, type Info } from '@temporalio/activity';
import { CompleteAsyncError } from '@temporalio/common';
import type { BackendRef, OpenEOConnections } from '../src/core/openeo/connections';
import { TERMINAL_JOB_STATUSES, TILE_PROGRESS_QUERY, type OpenEOJobStatus, type TileRecord } from '../src/core/records';
import { callOpenEO } from './failures';
import type { JobTracker } from './job-tracker';
import { createOrRecover, describe, earlierTryOf, jobHandle, jobsTitled, queueJob, snapshot } from './job-requests';
import type { CreateJobInput, JobSnapshot } from './openeo-jobs';
import { observationsFrom, trimHistory } from './polling';

export interface StartAfterInput extends CreateJobInput {
  /** The workflow of the tile ahead, whose slot this job takes over. */
  aheadWorkflowId: string;
  /**
   * The lined-up job, when the tile created it itself (tiles of version 1 on): the hand-over
   * only starts it. Absent: the hand-over creates it first (a retry finds it by its title).
   */
  jobId?: string;
  initialIntervalMs: number;
  maxIntervalMs: number;
}

/** The lined-up job, and whether it was started for the tile (if not, why). */
export type HandOver = { jobId: string } & ({ started: true; job: JobSnapshot } | { started: false; reason: string });

/** A job of a backend. */
interface JobAt {
  backend: BackendRef;
  jobId: string;
}

/** How often to ask a tile ahead that has no job yet (it is being submitted). */
const AHEAD_ASKED_EVERY_MS = 500;

/** The job ahead, as its tile knows it, or why there is none to wait for. */
type JobAhead = { jobId: string; status: OpenEOJobStatus } | { none: string };

/** Asks the tile ahead for its job, until it has one (a tile that just started is submitting it). */
async function jobAhead(workflowId: string): Promise<JobAhead> {
  const ctx = Context.current();
  for (;;) {
    let record: TileRecord;
    try {
      record = await ctx.client.workflow.getHandle(workflowId).query<TileRecord>(TILE_PROGRESS_QUERY);
    } catch (err) {
      return { none: `the tile ahead could not be asked (${err instanceof Error ? err.message : String(err)})` };
    }
    // A tile ahead that ended after its job finished gave its slot on: to this tile.
    if (record.status !== 'running' && record.backendStatus === 'finished' && record.openeoJobId !== undefined)
      return { jobId: record.openeoJobId, status: 'finished' };
    if (record.status !== 'running') return { none: `the tile ahead ended ${record.status}` };
    if (record.openeoJobId !== undefined && record.backendStatus !== undefined)
      return { jobId: record.openeoJobId, status: record.backendStatus };
    ctx.heartbeat();
    await ctx.sleep(AHEAD_ASKED_EVERY_MS);
  }
}

export function createHandOverActivities(connections: OpenEOConnections, tracker: JobTracker) {
  /**
   * The lined-up job: the tile's own, or created here (a retry finds the one an earlier try
   * made by its title). With a status when it may have been started already: a retry of a
   * hand-over whose answer was lost.
   */
  async function lineUpJob(input: StartAfterInput, info: Info): Promise<{ id: string; status?: OpenEOJobStatus }> {
    const { jobId } = input;
    if (jobId === undefined)
      return callOpenEO(connections, input.backend, 'create the job', (connection) =>
        createOrRecover(connection, input, earlierTryOf(info)),
      );
    if (info.attempt === 1) return { id: jobId };
    return callOpenEO(connections, input.backend, 'look at the lined-up job', async (connection) => ({
      id: jobId,
      status: snapshot(await describe(connection, jobId)).status,
    }));
  }

  /**
   * Starts the lined-up job if the job ahead finished. A retried hand-over first checks that its
   * job was not started by the attempt before (whose answer was lost): starting an ended job
   * would run it again. A start that fails is no failure of the hand-over: the tile starts the
   * job itself once its window gives it the slot.
   */
  async function startIfAheadFinished(
    { backend, jobId }: JobAt,
    aheadStatus: OpenEOJobStatus,
    retried: boolean,
  ): Promise<HandOver> {
    if (aheadStatus !== 'finished') return { jobId, started: false, reason: `the job ahead ended ${aheadStatus}` };
    try {
      return await callOpenEO(connections, backend, 'start the lined-up job', async (connection): Promise<HandOver> => {
        if (retried) {
          const current = snapshot(await describe(connection, jobId));
          if (current.status !== 'created') return { jobId, started: true, job: current };
        }
        await queueJob(connection, jobId);
        // The API's answer to a start is "queued"; the tile's first look says what follows.
        return { jobId, started: true, job: { status: 'queued' } };
      });
    } catch (err) {
      return {
        jobId,
        started: false,
        reason: `starting the lined-up job failed: ${err instanceof Error ? err.message : String(err)}`,
      };
    }
  }

  return {
    /**
     * Creates the lined-up job (a retry finds it by its title), and starts it when the job of
     * the tile ahead finishes; completes with `started: false` when that job ends otherwise.
     * Holds no worker slot while it waits: the worker's job tracker follows the job ahead (see
     * `waitForJobStatusChange`).
     */
    async startJobAfter(input: StartAfterInput): Promise<HandOver> {
      const ctx = Context.current();
      const retried = ctx.info.attempt > 1;
      const created = await lineUpJob(input, ctx.info);
      const mine = { backend: input.backend, jobId: created.id };
      // An earlier attempt started it already: its answer was lost.
      if (created.status !== undefined && created.status !== 'created')
        return { jobId: created.id, started: true, job: { status: created.status } };
      const ahead = await jobAhead(input.aheadWorkflowId);
      if ('none' in ahead) return { jobId: created.id, started: false, reason: ahead.none };
      if (TERMINAL_JOB_STATUSES.includes(ahead.status)) return startIfAheadFinished(mine, ahead.status, retried);
      tracker.follow(ctx.client.activity, {
        taskToken: ctx.info.taskToken,
        backend: input.backend,
        jobId: ahead.jobId,
        key: `${ahead.jobId} then ${created.id}`,
        knownStatus: ahead.status,
        untilEnd: true,
        polling: { initialIntervalMs: input.initialIntervalMs, maxIntervalMs: input.maxIntervalMs },
        history: trimHistory(observationsFrom(ctx.info.heartbeatDetails)),
        heartbeatTimeoutMs: ctx.info.heartbeatTimeoutMs,
        resultOf: (job) => startIfAheadFinished(mine, job.status, retried),
      });
      throw new CompleteAsyncError();
    },

    /**
     * A lined-up tile cancelled before it learned its job's id: the job of that title is
     * deleted if it was never started, and cancelled if the hand-over started it meanwhile.
     */
    async withdrawLinedUpJob(input: { backend: BackendRef; jobTitle: string }): Promise<void> {
      await callOpenEO(connections, input.backend, 'withdraw the lined-up job', async (connection) => {
        for (const job of await jobsTitled(connection, input.jobTitle)) {
          if (job.status === 'created') await jobHandle(connection, job.id).deleteJob();
          else if (job.status === 'queued' || job.status === 'running') await jobHandle(connection, job.id).stopJob();
        }
      });
    },
  };
}
