/**
 * The batch-job store: job records, ownership checks, listing order and
 * per-user concurrency counts. Status changes go through {@link JobStore.setStatus}
 * so observers (stats, the state file) see every transition.
 */
import { randomBytes } from 'node:crypto';
import { jobNotFound } from './errors';
import { ACTIVE_STATUSES, type JobRecord, type JobStatus, type NewJob } from './job-record';

// The record's types, for the modules that import them beside the store.
export * from './job-record';

/**
 * Observer of job creation (`from` null), status changes, other changes
 * (`from === to`, e.g. a PATCH) and deletion (`to` null).
 */
export type JobChangeListener = (job: JobRecord, from: JobStatus | null, to: JobStatus | null) => void;

/** A user's job counts, kept as jobs change so that no count walks every job. */
interface OwnerCounts {
  active: number;
  queued: number;
  running: number;
}

/** The order of `GET /jobs`: the openEO API leaves it open, and backends differ. */
export type ListingOrder = 'newest-first' | 'oldest-first';

/** One page of a user's listing. */
export interface ListingPage {
  jobs: JobRecord[];
  /** More of the user's jobs are older than the last one on this page. */
  more: boolean;
}

/**
 * In-memory job store. Each user's jobs are also kept in creation order, so a listing page is a
 * binary search and `limit` steps, and the concurrency counts move with each change: a user with
 * tens of thousands of jobs costs a listing or a status change no more than one with ten.
 */
export class JobStore {
  private readonly jobs = new Map<string, JobRecord>();
  /** Each user's jobs, oldest first (ascending `seq`). */
  private readonly byOwner = new Map<string, JobRecord[]>();
  private readonly counts = new Map<string, OwnerCounts>();
  private running = 0;
  private seq = 0;
  private readonly listeners: JobChangeListener[] = [];

  constructor(private readonly now: () => number = Date.now) {}

  /** Registers an observer of every change. */
  onChange(listener: JobChangeListener): void {
    this.listeners.push(listener);
  }

  private emit(job: JobRecord, from: JobStatus | null, to: JobStatus | null): void {
    for (const listener of this.listeners) listener(job, from, to);
  }

  create(input: NewJob): JobRecord {
    this.seq += 1;
    const now = this.now();
    const job: JobRecord = {
      ...input,
      id: `j-${randomBytes(12).toString('hex')}`,
      seq: this.seq,
      created: now,
      updated: now,
      status: 'created',
      runs: 0,
      queuedAt: undefined,
      runningSince: undefined,
      pendingFailure: undefined,
      endedAt: undefined,
      stoppedProgress: undefined,
      usage: undefined,
      costs: undefined,
      result: undefined,
    };
    this.add(job);
    this.emit(job, null, 'created');
    return job;
  }

  /** Puts back a job read from a state file, keeping its id and creation number. */
  restore(job: JobRecord): void {
    const old = this.jobs.get(job.id);
    if (old) this.remove(old);
    this.add(job);
    this.seq = Math.max(this.seq, job.seq);
  }

  /** Reports a change that is not a status change (a PATCH, a new log entry). */
  modified(job: JobRecord): void {
    this.emit(job, job.status, job.status);
  }

  /** A job of `owner`; other users' jobs are reported as not existing. */
  getOwned(id: string, owner: string): JobRecord {
    const job = this.jobs.get(id);
    if (!job || job.owner !== owner) throw jobNotFound(id);
    return job;
  }

  /** A job regardless of owner (signed asset links carry no user). */
  find(id: string): JobRecord | undefined {
    return this.jobs.get(id);
  }

  /** Jobs of `owner`, newest first; all jobs of all users when `owner` is undefined. */
  list(owner?: string): JobRecord[] {
    if (owner !== undefined) return [...(this.byOwner.get(owner) ?? [])].reverse();
    return [...this.jobs.values()].sort((a, b) => b.seq - a.seq);
  }

  /**
   * One page of `owner`'s listing: up to `limit` jobs (all when undefined) that come after the
   * job with creation number `after` (from the start when undefined), in the given order.
   */
  page(owner: string, order: ListingOrder, after: number | undefined, limit: number | undefined): ListingPage {
    const jobs = this.byOwner.get(owner) ?? [];
    if (order === 'oldest-first') {
      const start = after === undefined ? 0 : firstAtOrAfter(jobs, after + 1);
      const end = limit === undefined ? jobs.length : Math.min(jobs.length, start + limit);
      return { jobs: jobs.slice(start, end), more: end < jobs.length };
    }
    const end = after === undefined ? jobs.length : firstAtOrAfter(jobs, after);
    const start = limit === undefined ? 0 : Math.max(0, end - limit);
    return { jobs: jobs.slice(start, end).reverse(), more: start > 0 };
  }

  setStatus(job: JobRecord, status: JobStatus): void {
    const from = job.status;
    this.count(job, -1);
    job.status = status;
    this.count(job, +1);
    job.updated = this.now();
    this.emit(job, from, status);
  }

  delete(job: JobRecord): void {
    if (this.jobs.get(job.id) !== job) return;
    this.remove(job);
    this.emit(job, job.status, null);
  }

  /** Current counts of one user (active, queued, running) and running jobs over all users. */
  concurrency(owner: string): { active: number; queued: number; running: number; runningTotal: number } {
    const counts = this.counts.get(owner) ?? { active: 0, queued: 0, running: 0 };
    return { ...counts, runningTotal: this.running };
  }

  /** Number of running jobs over all users. */
  runningTotal(): number {
    return this.running;
  }

  private add(job: JobRecord): void {
    this.jobs.set(job.id, job);
    const own = this.byOwner.get(job.owner) ?? [];
    this.byOwner.set(job.owner, own);
    // New jobs come last; a state file's jobs may come in any order.
    own.splice(firstAtOrAfter(own, job.seq), 0, job);
    this.count(job, +1);
  }

  private remove(job: JobRecord): void {
    this.jobs.delete(job.id);
    const own = this.byOwner.get(job.owner) ?? [];
    const index = firstAtOrAfter(own, job.seq);
    if (own[index] === job) own.splice(index, 1);
    this.count(job, -1);
  }

  /** Adds (`+1`) or takes away (`-1`) the job's status from its owner's counts. */
  private count(job: JobRecord, sign: 1 | -1): void {
    const counts = this.counts.get(job.owner) ?? { active: 0, queued: 0, running: 0 };
    this.counts.set(job.owner, counts);
    if (ACTIVE_STATUSES.has(job.status)) counts.active += sign;
    if (job.status === 'queued') counts.queued += sign;
    if (job.status === 'running') {
      counts.running += sign;
      this.running += sign;
    }
  }
}

/** The index of the first job whose creation number is `seq` or higher (jobs in ascending `seq`). */
function firstAtOrAfter(jobs: readonly JobRecord[], seq: number): number {
  let low = 0;
  let high = jobs.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (jobs[middle].seq < seq) low = middle + 1;
    else high = middle;
  }
  return low;
}
