/**
 * The openEO requests on one job, as this project's activities send them: a create that answers
 * the id alone, a start without reading the job back, a job found again by its unique title,
 * and the description the workflows keep a snapshot of.
 */
import { Job, type Connection } from '@openeo/js-client';
import type { BackendRef } from '../src/core/openeo/connections';
import type { OpenEOJobStatus, UsageMetric } from '../src/core/records';
import type { ProcessGraph } from '../src/core/batch-spec/arguments';

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

/** A job as a listing shows it. */
export interface ListedJob {
  id: string;
  title?: string | null;
  status?: OpenEOJobStatus;
  created?: string;
}

/**
 * How far a backend's clock may run behind ours, for a lookup bounded by creation time. Every
 * job created in this margin is read too: an hour of a busy batch is tens of thousands of jobs,
 * five minutes a few pages. A backend further behind would make a retry miss its job and create
 * it again; the batch's end deletes such a twin if it was never started (duplicate-jobs.ts).
 */
const CLOCK_SKEW_ALLOWANCE_MS = 5 * 60_000;

/** Jobs asked for per listing page when a job is looked up by its title. */
const TITLE_LOOKUP_PAGE = 200;

/**
 * Reads the user's job listing a page at a time and hands each job to `visit`.
 *
 * With `createdSince` (epoch ms) it stops at the first page that reaches a job created before
 * then, as long as every job read so far came newest first. The openEO API does not promise that
 * order, so a listing seen in any other order (or without `created`) is read to its end: a user
 * with tens of thousands of jobs then costs many pages, never a wrong answer.
 */
export async function readJobListing(
  connection: Connection,
  pageSize: number,
  visit: (job: ListedJob) => void,
  createdSince?: number,
): Promise<void> {
  const pages = connection.paginateJobs(pageSize);
  let newestFirst = true;
  let previous = Number.POSITIVE_INFINITY;
  while (pages.hasNextPage()) {
    const page = (await pages.nextPage()) as unknown as ListedJob[];
    for (const job of page) {
      const created = Date.parse(job.created ?? '');
      // NaN (no `created`) compares false: the order is unknown from then on.
      newestFirst &&= created <= previous;
      previous = created;
      visit(job);
    }
    if (createdSince !== undefined && newestFirst && previous < createdSince) return;
  }
}

/** The backend's jobs with this title, oldest first; `createdSince` bounds the listing read (see `readJobListing`). */
export async function jobsTitled(
  connection: Connection,
  title: string,
  createdSince?: number,
): Promise<{ id: string; status?: OpenEOJobStatus; created?: string }[]> {
  const found: ListedJob[] = [];
  await readJobListing(connection, TITLE_LOOKUP_PAGE, (job) => job.title === title && found.push(job), createdSince);
  return oldestFirst(found).map((job) => ({ id: job.id, status: job.status, created: job.created }));
}

/** A job's `created` in epoch ms; a job without a readable one counts as older than any dated job. */
function creationTime(job: { created?: string }): number {
  const time = Date.parse(job.created ?? '');
  return Number.isNaN(time) ? Number.NEGATIVE_INFINITY : time;
}

/**
 * Jobs oldest first, by (`created`, `id`). Two jobs created in the same instant (a late create and
 * its retry's, on a fast backend) are ordered by id, so the tile that keeps the first job and the
 * batch end's sweep that deletes the others pick the same one whatever order the listing gave.
 * Times are compared as instants, not as text: backends write `created` with and without
 * fractions of seconds.
 */
export function oldestFirst<T extends { id: string; created?: string }>(jobs: T[]): T[] {
  return [...jobs].sort((a, b) => creationTime(a) - creationTime(b) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/**
 * Keeps the oldest job of a title and deletes the others: a create that timed out here may still
 * have been carried out by the backend after our retry created the job again. Extra jobs were
 * never started, so deleting them loses nothing.
 */
async function keepOldestJob(
  connection: Connection,
  title: string,
  createdSince?: number,
): Promise<{ id: string; status?: OpenEOJobStatus } | undefined> {
  const [oldest, ...extra] = await jobsTitled(connection, title, createdSince);
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
  if (typeof id !== 'string')
    throw new Error('the backend created the job without answering its id (no OpenEO-Identifier header)');
  return id;
}

/**
 * An earlier try that may have created the job already. `firstTry` (epoch ms, when the activity's
 * first try was scheduled) bounds how far back a newest-first listing is read; see `jobsTitled`.
 */
export interface EarlierTry {
  firstTry?: number;
}

/** The earlier try of an activity that is being retried, or `undefined` on its first try. */
export function earlierTryOf(info: { attempt: number; scheduledTimestampMs: number }): EarlierTry | undefined {
  return info.attempt > 1 ? { firstTry: info.scheduledTimestampMs } : undefined;
}

/**
 * Creates the job, or after an earlier try finds the one it created (by its unique title) and
 * keeps only the oldest of that title.
 */
export async function createOrRecover(
  connection: Connection,
  input: CreateJobInput,
  retry?: EarlierTry,
): Promise<CreatedJob> {
  // Backends' clocks may differ from ours: the lookup reads back well before the first try.
  const createdSince = retry?.firstTry === undefined ? undefined : retry.firstTry - CLOCK_SKEW_ALLOWANCE_MS;
  if (retry) {
    const [existing] = await jobsTitled(connection, input.jobTitle, createdSince);
    if (existing) return existing;
  }
  const id = await postJob(connection, input);
  if (!retry) return { id, status: 'created' };
  return (await keepOldestJob(connection, input.jobTitle, createdSince)) ?? { id, status: 'created' };
}

/** `POST /jobs/{id}/results`: queues the job, without reading it back. */
export async function queueJob(connection: Connection, jobId: string): Promise<void> {
  await requests(connection)._post(`/jobs/${encodeURIComponent(jobId)}/results`, {});
}
