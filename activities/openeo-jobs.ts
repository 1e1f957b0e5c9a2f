/**
 * Activities for one openEO batch job's life: create, start, wait for a status change, cancel.
 * Every call goes through `@openeo/js-client`; every failure leaves here classified (see
 * `toActivityFailure`), so the workflow's retry policy only ever retries what can succeed.
 */
import { Context } from '@temporalio/activity';
import { CompleteAsyncError } from '@temporalio/common';
import { Job, type Connection } from '@openeo/js-client';
import type { BackendRef, OpenEOConnections } from '../core/openeo/connections';
import type { ProcessGraph } from '../core/spec/arguments';
import type { OpenEOJobStatus, UsageMetric } from '../core/records';
import { TERMINAL_JOB_STATUSES } from '../core/records';
import { callOpenEO } from './failures';
import { JobTracker, type JobLookups } from './job-tracker';
import { observationsFrom, trimHistory } from './polling';

export interface CreateJobInput {
  backend: BackendRef;
  /** Unique per tile attempt; also the job title, so a lost create response can be recovered. */
  jobTitle: string;
  processGraph: ProcessGraph;
  jobOptions?: Record<string, unknown>;
  /** The job's description on the backend (from a job factory). */
  description?: string;
}

export interface JobRef {
  backend: BackendRef;
  jobId: string;
}

/** The parts of an openEO job description the workflow keeps. */
export interface JobSnapshot {
  status: OpenEOJobStatus;
  progress?: number;
  costs?: number;
  usage?: Record<string, UsageMetric>;
  updated?: string;
}

/** A job after a cancel request, and whether the backend says the cancel took. */
export interface CancelledJob extends JobSnapshot {
  /**
   * False when the backend still reports the job `queued` or `running` after the cancel request
   * and a few checks. Absent in results recorded before this field existed: read as taken.
   */
  cancelTaken?: boolean;
}

/** How a cancel is confirmed: `checks` looks at the job's status, 1×, 2×, 4×… `intervalMs` apart. */
export interface CancelConfirmation {
  checks: number;
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

/** What `describeJob` gives us, typed as far as we rely on it. */
interface JobDescription {
  id: string;
  status: OpenEOJobStatus;
  title?: string | null;
  progress?: number;
  costs?: number;
  usage?: Record<string, UsageMetric>;
  updated?: string;
}

function snapshot(job: JobDescription): JobSnapshot {
  const s: JobSnapshot = { status: job.status };
  if (typeof job.progress === 'number') s.progress = job.progress;
  if (typeof job.costs === 'number') s.costs = job.costs;
  if (job.usage && typeof job.usage === 'object') s.usage = job.usage;
  if (job.updated) s.updated = job.updated;
  return s;
}

/** The backend's jobs with this title, oldest first. */
async function jobsTitled(connection: Connection, title: string): Promise<{ id: string; created?: string }[]> {
  const jobs: { id: string; title?: string | null; created?: string }[] = await connection.listJobs();
  return jobs.filter((job) => job.title === title).sort((a, b) => (a.created ?? '').localeCompare(b.created ?? ''));
}

/**
 * Keeps the oldest job of a title and deletes the others: a create that timed out here may still
 * have been carried out by the backend after our retry created the job again. Extra jobs were
 * never started, so deleting them loses nothing.
 */
async function keepOldestJob(connection: Connection, title: string, fallback: string): Promise<string> {
  const [oldest, ...extra] = await jobsTitled(connection, title);
  for (const job of extra) await jobHandle(connection, job.id).deleteJob();
  return oldest?.id ?? fallback;
}

/** The job's description: `getJob` fetches it (one request). */
async function describe(connection: Connection, jobId: string): Promise<JobDescription> {
  return (await connection.getJob(jobId)) as unknown as JobDescription;
}

/**
 * A handle on a job without fetching it first. Its `startJob`/`stopJob` already fetch the job
 * again afterwards, so the answer is the job's new description at no extra request.
 */
export function jobHandle(connection: Connection, jobId: string): Job {
  return new Job(connection, jobId);
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

/** The tracker's requests, through the same connections, gates and error classification as every call. */
export function trackerLookups(connections: OpenEOConnections): JobLookups {
  return {
    one: (backend, jobId) => callOpenEO(connections, backend, 'check the job status', (connection) => describe(connection, jobId)),
    list: (backend) =>
      callOpenEO(connections, backend, 'list the jobs', async (connection) => {
        const jobs: { id: string; status: OpenEOJobStatus; progress?: number }[] = await connection.listJobs();
        return new Map(jobs.map((job) => [job.id, { id: job.id, status: job.status, ...(typeof job.progress === 'number' ? { progress: job.progress } : {}) }]));
      }),
  };
}

export function createJobActivities(connections: OpenEOConnections, confirmation: CancelConfirmation = DEFAULT_CANCEL_CONFIRMATION) {
  // The tracker runs outside any activity's context: it logs through the last wait's logger.
  let trackerLog: Context['log'] | undefined;
  const tracker = new JobTracker(trackerLookups(connections), { log: (message) => trackerLog?.warn(message) });
  /**
   * After `DELETE /jobs/{id}/results`, looks at the job a few times (bounded) until the backend
   * stops reporting it active; some backends accept the request and keep the job running.
   */
  async function confirmCancel(input: JobRef, afterRequest: JobSnapshot): Promise<CancelledJob> {
    let job = afterRequest;
    for (let check = 0; STILL_ACTIVE.includes(job.status) && check < confirmation.checks; check++) {
      await sleepWithHeartbeats(confirmation.intervalMs * 2 ** check, { cancel: 'requested', status: job.status });
      job = snapshot(await callOpenEO(connections, input.backend, 'check the cancelled job', (connection) => describe(connection, input.jobId)));
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
        const retried = Context.current().info.attempt > 1;
        if (retried) {
          const [existing] = await jobsTitled(connection, input.jobTitle);
          if (existing) return existing.id;
        }
        const job = await connection.createJob(
          { process_graph: input.processGraph },
          input.jobTitle,
          input.description ?? null,
          null,
          null,
          input.jobOptions ?? {},
        );
        return retried ? keepOldestJob(connection, input.jobTitle, job.id) : job.id;
      });
    },

    /** Asks the backend to start (queue) the job. Sending it twice is harmless. */
    async startJob(input: JobRef): Promise<JobSnapshot> {
      return callOpenEO(connections, input.backend, 'start the job', async (connection) => {
        return snapshot((await jobHandle(connection, input.jobId).startJob()) as unknown as JobDescription);
      });
    },

    /**
     * Waits until the job's status is no longer `knownStatus`, without holding a worker slot:
     * the worker's job tracker follows the job (with the other jobs of its backend) and
     * completes this activity when the status changes. Polls at the pace `nextPollDelay` picks,
     * never faster than `initialIntervalMs` nor slower than `maxIntervalMs`. One activity per
     * status change keeps the tile's history independent of the job's duration; the
     * observations ride along in heartbeat details, so a retried wait keeps its estimate.
     */
    async waitForJobStatusChange(input: WaitInput): Promise<JobSnapshot> {
      const ctx = Context.current();
      trackerLog = ctx.log;
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
     * backend confirms the cancel (`cancelTaken`), after a few bounded checks.
     */
    async cancelJob(input: JobRef): Promise<CancelledJob> {
      const { job, requested } = await callOpenEO(connections, input.backend, 'cancel the job', async (connection) => {
        const current = snapshot(await describe(connection, input.jobId));
        if (TERMINAL_JOB_STATUSES.includes(current.status)) return { job: current, requested: false };
        return { job: snapshot((await jobHandle(connection, input.jobId).stopJob()) as unknown as JobDescription), requested: true };
      });
      return requested ? confirmCancel(input, job) : { ...job, cancelTaken: true };
    },
  };
}
