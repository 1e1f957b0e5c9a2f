/**
 * The batch-job store: job records, ownership checks, listing order and
 * per-user concurrency counts. Status changes go through {@link JobStore.setStatus}
 * so observers (stats, the state file) see every transition.
 */
import { randomBytes } from 'node:crypto';
import type { BBox, ProjectedExtent, TemporalExtent } from './area';
import { jobNotFound } from './errors';
import type { FailureVerdict } from './failure';
import type { JobLog, LogLevel } from './logs';
import type { ProcessGraph } from './process-graph';

/** openEO batch-job status. */
export type JobStatus = 'created' | 'queued' | 'running' | 'canceled' | 'finished' | 'error';

/** Statuses that count as "active" (they hold or wait for back-end capacity). */
export const ACTIVE_STATUSES: ReadonlySet<JobStatus> = new Set<JobStatus>(['created', 'queued', 'running']);

/** One usage metric as in the openEO `usage` object. */
export interface UsageMetric {
  value: number;
  unit: string;
}

/** Resource usage of a run. */
export type Usage = Record<'cpu' | 'memory' | 'duration', UsageMetric>;

/** One downloadable result file. */
export interface ResultAsset {
  key: string;
  title: string;
  type: string;
  roles: string[];
  bytes: Buffer;
  /** Multihash (hex) of the bytes: `1220` + SHA-256 digest. */
  checksum: string;
  /** Raster metadata for the STAC `proj:` fields: rows and columns, CRS, extent in that CRS. */
  shape: [number, number];
  epsg: number;
  bbox: BBox;
  /** Band names of a raster whose bands are known, in file order; absent for a single unnamed band. */
  bands?: string[];
}

/** The outcome of a finished run. */
export interface JobResult {
  generatedAt: number;
  assets: Record<string, ResultAsset>;
}

/** What fault injection decided for a job when it was created. */
export interface JobFate {
  /** Every run of the job ends in this error. */
  failure?: FailureVerdict;
  /** The job never leaves this status. */
  stuckIn?: 'queued' | 'created';
}

/** Everything the emulator knows about a job. Fields a PATCH may change are mutable. */
export interface JobRecord {
  readonly id: string;
  /** Creation order; newest jobs have the highest number. */
  readonly seq: number;
  readonly owner: string;
  title: string | null;
  description: string | null;
  /** The submitted `process`, as received. */
  process: Record<string, unknown>;
  graph: ProcessGraph;
  plan: string | null;
  budget: number | null;
  logLevel: LogLevel;
  /** Extra top-level properties of the create request (e.g. `job_options`). */
  options: Record<string, unknown>;
  /** Footprint in EPSG:4326. */
  area: BBox | null;
  /** The footprint in its projected CRS, when the graph gave one; results use that CRS. */
  projected: ProjectedExtent | null;
  temporalExtent: TemporalExtent | null;
  readonly created: number;
  readonly log: JobLog;
  readonly fate: JobFate;
  status: JobStatus;
  /** Time of the last status change. */
  updated: number;
  /** How many times the job was started. */
  runs: number;
  /** When the current run entered `queued`. */
  queuedAt: number | undefined;
  /** When the current run entered `running`. */
  runningSince: number | undefined;
  /** Decided when the run started, applied when it ends (`null`: it succeeds). */
  pendingFailure: FailureVerdict | null | undefined;
  /** When the current run ended (`finished`, `error` or `canceled`). */
  endedAt: number | undefined;
  /** Progress frozen when a run stopped early. */
  stoppedProgress: number | undefined;
  usage: Usage | undefined;
  costs: number | undefined;
  result: JobResult | undefined;
}

/** Fields supplied when creating a job. */
export type NewJob = Pick<
  JobRecord,
  | 'owner'
  | 'title'
  | 'description'
  | 'process'
  | 'graph'
  | 'plan'
  | 'budget'
  | 'logLevel'
  | 'options'
  | 'area'
  | 'projected'
  | 'temporalExtent'
  | 'log'
  | 'fate'
>;

/**
 * Observer of job creation (`from` null), status changes, other changes
 * (`from === to`, e.g. a PATCH) and deletion (`to` null).
 */
export type JobChangeListener = (job: JobRecord, from: JobStatus | null, to: JobStatus | null) => void;

/** In-memory job store. */
export class JobStore {
  private readonly jobs = new Map<string, JobRecord>();
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
    this.jobs.set(job.id, job);
    this.emit(job, null, 'created');
    return job;
  }

  /** Puts back a job read from a state file, keeping its id and creation number. */
  restore(job: JobRecord): void {
    this.jobs.set(job.id, job);
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
    return [...this.jobs.values()].filter((job) => owner === undefined || job.owner === owner).sort((a, b) => b.seq - a.seq);
  }

  setStatus(job: JobRecord, status: JobStatus): void {
    const from = job.status;
    job.status = status;
    job.updated = this.now();
    this.emit(job, from, status);
  }

  delete(job: JobRecord): void {
    if (this.jobs.delete(job.id)) this.emit(job, job.status, null);
  }

  /** Current counts of one user (active, queued, running) and running jobs over all users. */
  concurrency(owner: string): { active: number; queued: number; running: number; runningTotal: number } {
    let active = 0;
    let queued = 0;
    let running = 0;
    let runningTotal = 0;
    for (const job of this.jobs.values()) {
      if (job.status === 'running') runningTotal += 1;
      if (job.owner !== owner) continue;
      if (ACTIVE_STATUSES.has(job.status)) active += 1;
      if (job.status === 'queued') queued += 1;
      if (job.status === 'running') running += 1;
    }
    return { active, queued, running, runningTotal };
  }

  /** Number of running jobs over all users. */
  runningTotal(): number {
    let total = 0;
    for (const job of this.jobs.values()) if (job.status === 'running') total += 1;
    return total;
  }
}
