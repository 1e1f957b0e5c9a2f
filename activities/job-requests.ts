/**
 * The openEO requests on one job, as this project's activities send them: a create that answers
 * the id alone, a start without reading the job back, a job found again by its unique title,
 * and the description the workflows keep a snapshot of.
 */
import { Job, type Connection } from '@openeo/js-client';
import type { BackendRef } from '../core/openeo/connections';
import type { OpenEOJobStatus, UsageMetric } from '../core/records';
import type { ProcessGraph } from '../core/spec/arguments';

/** One tile attempt's job, as the activities create it. */
export interface CreateJobInput {
  backend: BackendRef;
  /** Unique per tile attempt; also the job title, so a lost create response can be recovered. */
  jobTitle: string;
  processGraph: ProcessGraph;
  jobOptions?: Record<string, unknown>;
  /** The job's description on the backend (from a job factory). */
  description?: string;
}

/** The parts of an openEO job description the workflow keeps. */
export interface JobSnapshot {
  status: OpenEOJobStatus;
  progress?: number;
  costs?: number;
  usage?: Record<string, UsageMetric>;
  updated?: string;
}

/** What `describeJob` gives us, typed as far as we rely on it. */
export interface JobDescription {
  id: string;
  status: OpenEOJobStatus;
  title?: string | null;
  progress?: number;
  costs?: number;
  usage?: Record<string, UsageMetric>;
  updated?: string;
}

/** What the workflow keeps of a job's description (or of its summary in a listing). */
export function snapshot(job: JobDescription): JobSnapshot {
  const s: JobSnapshot = { status: job.status };
  if (typeof job.progress === 'number') s.progress = job.progress;
  if (typeof job.costs === 'number') s.costs = job.costs;
  if (job.usage && typeof job.usage === 'object') s.usage = job.usage;
  if (job.updated) s.updated = job.updated;
  return s;
}

/** The backend's jobs with this title, oldest first. */
export async function jobsTitled(connection: Connection, title: string): Promise<{ id: string; status?: OpenEOJobStatus; created?: string }[]> {
  const jobs: { id: string; title?: string | null; status?: OpenEOJobStatus; created?: string }[] = await connection.listJobs();
  return jobs
    .filter((job) => job.title === title)
    .sort((a, b) => (a.created ?? '').localeCompare(b.created ?? ''))
    .map((job) => ({ id: job.id, status: job.status, created: job.created }));
}

/**
 * Keeps the oldest job of a title and deletes the others: a create that timed out here may still
 * have been carried out by the backend after our retry created the job again. Extra jobs were
 * never started, so deleting them loses nothing.
 */
async function keepOldestJob(connection: Connection, title: string): Promise<{ id: string; status?: OpenEOJobStatus } | undefined> {
  const [oldest, ...extra] = await jobsTitled(connection, title);
  for (const job of extra) await jobHandle(connection, job.id).deleteJob();
  return oldest;
}

/** The job's description: `getJob` fetches it (one request). */
export async function describe(connection: Connection, jobId: string): Promise<JobDescription> {
  return (await connection.getJob(jobId)) as unknown as JobDescription;
}

/**
 * A handle on a job without fetching it first. Its `startJob`/`stopJob` already fetch the job
 * again afterwards, so the answer is the job's new description at no extra request.
 */
export function jobHandle(connection: Connection, jobId: string): Job {
  return new Job(connection, jobId);
}

/** The job an attempt made: its id and, when found again by its title, the status it has. */
interface CreatedJob {
  id: string;
  status?: OpenEOJobStatus;
}

/** The part of the client's connection that sends a request with its login, gates and quotas. */
interface RequestSender {
  _post(path: string, body: unknown): Promise<{ headers: Record<string, unknown> }>;
}

/**
 * The client's request method. `createJob` and `Job.startJob` fetch the job's description after
 * their request; a tile needs neither (the create answers the id, the start's answer is
 * "queued", and the tracker reads what follows), so it sends the two requests alone.
 */
function requests(connection: Connection): RequestSender {
  // `_post` is protected in the client's types; the cast only reaches it.
  return connection as unknown as RequestSender;
}

/** `POST /jobs`, answering the new job's id from the `OpenEO-Identifier` header. */
async function postJob(connection: Connection, input: CreateJobInput): Promise<string> {
  const response = await requests(connection)._post('/jobs', {
    ...input.jobOptions,
    title: input.jobTitle,
    description: input.description ?? null,
    process: { process_graph: input.processGraph },
  });
  const id = response.headers['openeo-identifier'];
  // Without the header the job may exist all the same: the retry finds it by its title.
  if (typeof id !== 'string') throw new Error('the backend created the job without answering its id (no OpenEO-Identifier header)');
  return id;
}

/**
 * Creates the job, or on a retry finds the one an earlier try created (by its unique title) and
 * keeps only the oldest of that title.
 */
export async function createOrRecover(connection: Connection, input: CreateJobInput, retried: boolean): Promise<CreatedJob> {
  if (retried) {
    const [existing] = await jobsTitled(connection, input.jobTitle);
    if (existing) return existing;
  }
  const id = await postJob(connection, input);
  if (!retried) return { id, status: 'created' };
  return (await keepOldestJob(connection, input.jobTitle)) ?? { id, status: 'created' };
}

/** `POST /jobs/{id}/results`: queues the job, without reading it back. */
export async function queueJob(connection: Connection, jobId: string): Promise<void> {
  await requests(connection)._post(`/jobs/${encodeURIComponent(jobId)}/results`, {});
}
