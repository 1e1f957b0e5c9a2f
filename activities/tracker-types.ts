/**
 * The job tracker's contracts: what it reads of a job, how it asks a backend, where it completes
 * waits, and what a wait asks of it. Shared by the tracker (`job-tracker.ts`), its loop per
 * backend (`backend-jobs.ts`) and the rules of one wait (`followed-wait.ts`).
 */
import type { BackendRef } from '../src/core/openeo/connections';
import type { OpenEOJobStatus } from '../src/core/records';
import type { PollObservation, PollSettings } from './polling';

/** What the tracker reads of a job, from `GET /jobs/{id}` or a listing. */
export interface JobStatusReading {
  id: string;
  status: OpenEOJobStatus;
  progress?: number;
  /** The job's last status change (RFC 3339), as the openEO API defines `updated`. */
  updated?: string;
}

/** How the tracker asks a backend; failures come as classified ApplicationFailures (see `callOpenEO`). */
export interface JobLookups {
  /** `GET /jobs/{id}`: the job's whole description. */
  one(backend: BackendRef, jobId: string): Promise<JobStatusReading>;
  /**
   * `GET /jobs`: the jobs the backend lists on its first page, by id, each as its summary;
   * `following` says how many jobs the tracker wants to find there.
   */
  list(backend: BackendRef, following: number): Promise<Map<string, JobStatusReading>>;
}

/**
 * Where waits are completed: a Temporal client's `activity` (the async completion client). The
 * tracker needs only these four calls of it.
 */
export interface WaitCompletions {
  complete(taskToken: Uint8Array, result: unknown): Promise<void>;
  fail(taskToken: Uint8Array, err: unknown): Promise<void>;
  reportCancellation(taskToken: Uint8Array): Promise<void>;
  heartbeat(taskToken: Uint8Array, details?: unknown): Promise<void>;
}

export interface FollowRequest<Result> {
  taskToken: Uint8Array;
  backend: BackendRef;
  jobId: string;
  /** The status the tile has seen: the activity completes once the job's status differs. */
  knownStatus: OpenEOJobStatus;
  polling: PollSettings;
  /** Observations an earlier attempt of this wait made (its heartbeat details). */
  history: PollObservation[];
  heartbeatTimeoutMs?: number;
  /**
   * Wait for the job's end, not for any change of status (`knownStatus` is then only where the
   * looks start from). For a hand-over: another job starts when this one ends.
   */
  untilEnd?: boolean;
  /**
   * The activity's result, from the job's description or its summary in a listing. It may do
   * work first (e.g. start the job lined up behind this one), and must not throw.
   */
  resultOf(job: JobStatusReading): Result | Promise<Result>;
  /** Distinguishes several waits on one job (a hand-over beside the tile's own wait). @default jobId */
  key?: string;
}

/** The tracker's time: the system clock, or a simulated one in tests. */
export interface TrackerClock {
  now(): number;
  /** Calls `fire` after `ms`; the timer does not keep the process alive. */
  after(ms: number, fire: () => void): { cancel(): void };
}

export interface TrackerOptions {
  /** Followed jobs of one backend from which a look is one listing rather than `GET /jobs/{id}` per due job. @default 2 */
  listFrom?: number;
  /** Longest pause between two heartbeats of a followed activity. @default 5 minutes */
  maxHeartbeatIntervalMs?: number;
  log?: (message: string) => void;
  /** @default the system clock */
  clock?: TrackerClock;
}
