/**
 * Activities for one openEO batch job's life: create, start, wait for a status change, cancel.
 * Every call goes through `@openeo/js-client`; every failure leaves here classified (see
 * `toActivityFailure`), so the workflow's retry policy only ever retries what can succeed.
 */
import { Context } from '@temporalio/activity';
import type { Connection } from '@openeo/js-client';
import type { BackendRef, OpenEOConnections } from '../src/openeo/connections';
import type { ProcessGraph } from '../src/spec/arguments';
import type { OpenEOJobStatus, UsageMetric } from '../src/records';
import { TERMINAL_JOB_STATUSES } from '../src/records';
import { callOpenEO } from './failures';

export interface CreateJobInput {
  backend: BackendRef;
  /** Unique per tile attempt; also the job title, so a lost create response can be recovered. */
  jobTitle: string;
  processGraph: ProcessGraph;
  jobOptions?: Record<string, unknown>;
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

async function findJobByTitle(connection: Connection, title: string): Promise<string | undefined> {
  const jobs: { id: string; title?: string | null }[] = await connection.listJobs();
  return jobs.find((job) => job.title === title)?.id;
}

async function describe(connection: Connection, jobId: string): Promise<JobDescription> {
  const job = await (await connection.getJob(jobId)).describeJob();
  return job as unknown as JobDescription;
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

export function createJobActivities(connections: OpenEOConnections) {
  return {
    /**
     * Creates the openEO job for one tile attempt and returns its id. On a retry, it first looks
     * for a job with the same title: the earlier attempt may have created it and lost the answer.
     */
    async createJob(input: CreateJobInput): Promise<string> {
      return callOpenEO(connections, input.backend, 'create the job', async (connection) => {
        if (Context.current().info.attempt > 1) {
          const existing = await findJobByTitle(connection, input.jobTitle);
          if (existing) return existing;
        }
        const job = await connection.createJob(
          { process_graph: input.processGraph },
          input.jobTitle,
          null,
          null,
          null,
          input.jobOptions ?? {},
        );
        return job.id;
      });
    },

    /** Asks the backend to start (queue) the job. Sending it twice is harmless. */
    async startJob(input: JobRef): Promise<JobSnapshot> {
      return callOpenEO(connections, input.backend, 'start the job', async (connection) => {
        await (await connection.getJob(input.jobId)).startJob();
        return snapshot(await describe(connection, input.jobId));
      });
    },

    /**
     * Polls the job until its status is no longer `knownStatus`, waiting longer between checks
     * as time goes on (from `initialIntervalMs`, ×1.5 each time, up to `maxIntervalMs`). One
     * activity call per status change keeps the tile's history independent of the job's duration.
     */
    async waitForJobStatusChange(input: WaitInput): Promise<JobSnapshot> {
      let interval = input.initialIntervalMs;
      for (;;) {
        const job = await callOpenEO(connections, input.backend, 'check the job status', (connection) =>
          describe(connection, input.jobId),
        );
        if (job.status !== input.knownStatus || TERMINAL_JOB_STATUSES.includes(job.status)) return snapshot(job);
        await sleepWithHeartbeats(interval, { status: job.status, progress: job.progress });
        interval = Math.min(input.maxIntervalMs, Math.round(interval * 1.5));
      }
    },

    /** Stops the job on the backend; a job that already ended is left as it is. */
    async cancelJob(input: JobRef): Promise<JobSnapshot> {
      return callOpenEO(connections, input.backend, 'cancel the job', async (connection) => {
        const job = await describe(connection, input.jobId);
        if (TERMINAL_JOB_STATUSES.includes(job.status)) return snapshot(job);
        await (await connection.getJob(input.jobId)).stopJob();
        return snapshot(await describe(connection, input.jobId));
      });
    },
  };
}
