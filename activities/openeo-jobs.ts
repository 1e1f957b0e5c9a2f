/**
 * Activities for one openEO batch job's life: create, start, wait for a status change, cancel.
 * Every call goes through `@openeo/js-client`; every failure leaves here classified (see
 * `toActivityFailure`), so the workflow's retry policy only ever retries what can succeed.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure, CompleteAsyncError } from '@temporalio/common';
import type { BackendRef, OpenEOConnections } from '../src/core/openeo/connections';
import type { OpenEOJobStatus } from '../src/core/records';
import { TERMINAL_JOB_STATUSES } from '../src/core/records';
import { callOpenEO } from './failures';
import {
  createOrRecover,
  describe,
  earlierTryOf,
  jobHandle,
  queueJob,
  snapshot,
  type CreateJobInput,
  type JobDescription,
  type JobSnapshot,
} from './job-requests';
import { JobTracker, type JobLookups } from './job-tracker';
import { observationsFrom, trimHistory } from './polling';
import type { EndedJobDescriptions } from './ended-jobs';

export type { CreateJobInput, JobSnapshot } from './job-requests';

export interface JobRef {
  backend: BackendRef;
  jobId: string;
}

/** A job the tile made and started, with what is known of its status since. */
export interface SubmittedJob {
  jobId: string;
  job: JobSnapshot;
}

/** A job after a cancel request, and whether the backend says the cancel took. */
export interface CancelledJob extends JobSnapshot {
  /**
   * False when the backend still reports the job `queued` or `running` after the cancel request
   * and a few checks. Absent in results recorded before this field existed: read as taken.
   */
  cancelTaken?: boolean;
}

/**
 * How a cancel is confirmed: `checks` looks at the job's status, 1×, 2×, 4×… `intervalMs` apart.
 *
 * @inline
 */
export interface CancelConfirmation {
  /** How many times, at most, the job's status is read before the tile reports that the backend still runs it. */
  checks: number;
  /** The first wait between two reads, in milliseconds; each later wait doubles. */
  intervalMs: number;
}

export const DEFAULT_CANCEL_CONFIRMATION: CancelConfirmation = { checks: 3, intervalMs: 1_000 };

/** Statuses of a job that a cancel has not (yet) stopped. */
const STILL_ACTIVE: readonly OpenEOJobStatus[] = ['queued', 'running'];

export interface WaitInput extends JobRef {
  /** Return as soon as the job's status differs from this one. */
  knownStatus: OpenEOJobStatus;
  initialIntervalMs: number;
  maxIntervalMs: number;
}

/** Sleeps in short steps, heartbeating, so a crashed worker is noticed and cancellation lands. */
async function sleepWithHeartbeats(ms: number, details: unknown): Promise<void> {
  const ctx = Context.current();
  const step = 5_000;
  for (let left = ms; left > 0; left -= step) {
    ctx.heartbeat(details);
    await ctx.sleep(Math.min(step, left));
  }
  ctx.heartbeat(details);
}

/**
 * When Temporal gives up on this attempt, counted from when the attempt began here. Temporal
 * starts counting when it hands the task out, a moment earlier, so a margin (a tenth of the
 * timeout, at most 5 s) keeps this deadline before Temporal's. The scheduled time would not do:
 * a task that waited in the queue (a worker down for minutes) still has its whole timeout.
 */
function attemptDeadline(): number {
  const { startToCloseTimeoutMs } = Context.current().info;
  // Temporal always sets the timeout (from schedule-to-close if need be); without one there is no deadline.
  if (!(startToCloseTimeoutMs > 0)) return Number.POSITIVE_INFINITY;
  return Date.now() + startToCloseTimeoutMs - Math.min(5_000, startToCloseTimeoutMs / 10);
}

/**
 * Temporal gives up on an attempt at its start-to-close timeout and schedules the next one, but
 * the attempt's code runs on. An attempt past that point must not start the job it created: its
 * retry may have created and started the tile's job already (its title lookup ran before this
 * job existed), and a second started job would be paid for twice. The job stays never started;
 * the batch's end deletes it (activities/duplicate-jobs.ts).
 */
function leaveToRetryIfTimedOut(jobId: string, deadline: number): void {
  if (Date.now() < deadline) return;
  throw ApplicationFailure.retryable(
    `the attempt that created job ${jobId} outlived its start-to-close timeout, so it leaves the start to its retry`,
    'AttemptTimedOut',
  );
}

/** A failure of the start, carrying the id of the job that was created (see `jobIdOfFailure`). */
function withJobId(err: unknown, jobId: string): unknown {
  if (!(err instanceof ApplicationFailure)) return err;
  return ApplicationFailure.create({
    message: err.message,
    type: err.type ?? undefined,
    nonRetryable: err.nonRetryable ?? false,
    // A backend's Retry-After stays the pause before the next try.
    nextRetryDelay: err.nextRetryDelay ?? undefined,
    details: [{ jobId }],
    cause: err.cause,
  });
}

/**
 * Jobs asked for in the tracker's listing: room for the followed jobs and the ones other tiles
 * created since (backends list the newest first), within what backends accept as a page.
 */
function listingLimit(following: number): number {
  return Math.min(1000, Math.max(50, 3 * following));
}

/**
 * The tracker's requests, through the same connections, gates and error classification as every
 * call. A job read alone that turns out finished leaves its description in `ended`, for its download.
 */
export function trackerLookups(
  connections: OpenEOConnections,
  ended?: EndedJobDescriptions<JobDescription>,
): JobLookups {
  return {
    one: async (backend, jobId) => {
      const job = await callOpenEO(connections, backend, 'check the job status', (connection) =>
        describe(connection, jobId),
      );
      if (job.status === 'finished') ended?.remember(backend, jobId, job);
      return job;
    },
    list: (backend, following) =>
      callOpenEO(connections, backend, 'list the jobs', async (connection) => {
        // Each entry is the job's summary (status, progress, and for ended jobs often costs): what
        // the tile keeps of a status change, so a change seen in a listing needs no request of its own.
        // One page, sized to the jobs followed: a user's older jobs would only make it heavier.
        const page = connection.paginateJobs(listingLimit(following));
        const jobs = (await page.nextPage()) as unknown as JobDescription[];
        return new Map(jobs.map((job) => [job.id, job]));
      }),
  };
}

export function createJobActivities(
  connections: OpenEOConnections,
  confirmation: CancelConfirmation = DEFAULT_CANCEL_CONFIRMATION,
  tracker = new JobTracker(trackerLookups(connections)),
) {
  /**
   * After `DELETE /jobs/{id}/results`, looks at the job a few times (bounded) until the backend
   * stops reporting it active; some backends accept the request and keep the job running.
   */
  async function confirmCancel(input: JobRef, afterRequest: JobSnapshot): Promise<CancelledJob> {
    let job = afterRequest;
    for (let check = 0; STILL_ACTIVE.includes(job.status) && check < confirmation.checks; check++) {
      await sleepWithHeartbeats(confirmation.intervalMs * 2 ** check, { cancel: 'requested', status: job.status });
      job = snapshot(
        await callOpenEO(connections, input.backend, 'check the cancelled job', (connection) =>
          describe(connection, input.jobId),
        ),
      );
    }
    return { ...job, cancelTaken: !STILL_ACTIVE.includes(job.status) };
  }

  return {
    /**
     * Creates the openEO job for one tile attempt and returns its id. On a retry, it first looks
     * for a job with the same title: the earlier attempt may have created it and lost the answer.
     */
    async createJob(input: CreateJobInput): Promise<string> {
      return callOpenEO(connections, input.backend, 'create the job', async (connection) => {
        return (await createOrRecover(connection, input, earlierTryOf(Context.current().info))).id;
      });
    },

    /**
     * Asks the backend to start (queue) the job. Sending it twice is harmless while the job runs;
     * `onlyIfCreated` leaves a job that was started already (e.g. by a hand-over whose answer was
     * lost) as it is, since starting an ended job would run it again.
     */
    async startJob(input: JobRef & { onlyIfCreated?: boolean }): Promise<JobSnapshot> {
      return callOpenEO(connections, input.backend, 'start the job', async (connection) => {
        if (input.onlyIfCreated) {
          const current = snapshot(await describe(connection, input.jobId));
          if (current.status !== 'created') return current;
        }
        return snapshot((await jobHandle(connection, input.jobId).startJob()) as unknown as JobDescription);
      });
    },

    /**
     * Creates the attempt's job and starts it: one step of the tile instead of two. A retry finds
     * the job an earlier try made by its title, and starts it only if it was never started. A
     * start the backend refuses for good fails with the job's id in its details, so the tile
     * still records which job it made. `mayExist` looks for the job on a first try too: a
     * lined-up tile's hand-over that was called off may have made it, after `linedUpAt`.
     */
    async submitJob(input: CreateJobInput & { mayExist?: boolean; linedUpAt?: number }): Promise<SubmittedJob> {
      const deadline = attemptDeadline();
      const created = await callOpenEO(connections, input.backend, 'create the job', (connection) =>
        // A called-off hand-over made its job after the tile lined up (tiles of 0.7.0 do not say when).
        createOrRecover(
          connection,
          input,
          input.mayExist === true ? { firstTry: input.linedUpAt } : earlierTryOf(Context.current().info),
        ),
      );
      if (created.status !== undefined && created.status !== 'created')
        return { jobId: created.id, job: { status: created.status } };
      leaveToRetryIfTimedOut(created.id, deadline);
      try {
        await callOpenEO(connections, input.backend, 'start the job', (connection) => queueJob(connection, created.id));
      } catch (err) {
        throw withJobId(err, created.id);
      }
      // The API's answer to a start is "queued"; the tracker's first look says what follows.
      return { jobId: created.id, job: { status: 'queued' } };
    },

    /**
     * Waits until the job's status is no longer `knownStatus`, without holding a worker slot:
     * the worker's job tracker follows the job (with the other jobs of its backend) and
     * completes this activity when the status changes. Polls at the pace `nextPollDelay` picks
     * from `initialIntervalMs` and `maxIntervalMs` and the job's progress. One activity per
     * status change keeps the tile's history independent of the job's duration; the
     * observations ride along in heartbeat details, so a retried wait keeps its estimate.
     */
    async waitForJobStatusChange(input: WaitInput): Promise<JobSnapshot> {
      const ctx = Context.current();
      tracker.follow(ctx.client.activity, {
        taskToken: ctx.info.taskToken,
        backend: input.backend,
        jobId: input.jobId,
        knownStatus: input.knownStatus,
        polling: { initialIntervalMs: input.initialIntervalMs, maxIntervalMs: input.maxIntervalMs },
        history: trimHistory(observationsFrom(ctx.info.heartbeatDetails)),
        heartbeatTimeoutMs: ctx.info.heartbeatTimeoutMs,
        resultOf: (job) => snapshot(job as JobDescription),
      });
      throw new CompleteAsyncError();
    },

    /**
     * Stops the job on the backend; a job that already ended is left as it is. Says whether the
     * backend confirms the cancel (`cancelTaken`), after a few bounded checks. With
     * `withdrawUnstarted`, a job still `created` is deleted: it never ran, so nothing of it is
     * lost, and a cancelled tile leaves no job behind for its user to clean up.
     */
    async cancelJob(input: JobRef & { withdrawUnstarted?: boolean }): Promise<CancelledJob> {
      const { job, requested } = await callOpenEO(connections, input.backend, 'cancel the job', async (connection) => {
        const current = snapshot(await describe(connection, input.jobId));
        if (TERMINAL_JOB_STATUSES.includes(current.status)) return { job: current, requested: false };
        if (current.status === 'created' && input.withdrawUnstarted === true) {
          await jobHandle(connection, input.jobId).deleteJob();
          return { job: current, requested: false };
        }
        return {
          job: snapshot((await jobHandle(connection, input.jobId).stopJob()) as unknown as JobDescription),
          requested: true,
        };
      });
      return requested ? confirmCancel(input, job) : { ...job, cancelTaken: true };
    },
  };
}
