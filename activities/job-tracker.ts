/**
 * Follows the jobs that tiles wait on, per backend, so that a waiting job holds no worker slot.
 *
 * `waitForJobStatusChange` hands its job to the worker's tracker and completes asynchronously:
 * the activity slot is free at once, and the tracker completes the activity (by task token)
 * when the job's status changes. Meanwhile the tracker heartbeats every followed activity, so a
 * worker that dies is noticed by its heartbeat timeout and the wait moves to another worker,
 * which takes over from the observations the heartbeats carried.
 *
 * Each job keeps its own polling rhythm (`nextPollDelay`: backoff, or aiming at the end its
 * progress predicts). When the tracker follows several jobs of one backend, a look is one
 * listing (`GET /jobs`) that reads them all, due or not, instead of one `GET /jobs/{id}` each; a
 * change seen in the listing completes the wait with the job's summary from it (the tile reads
 * the whole description when it downloads), and a job the listing's first page lacks is read alone.
 */
import type { BackendRef } from '../core/openeo/connections';
import type { OpenEOJobStatus } from '../core/records';
import { BackendJobs, stoppedFailure } from './backend-jobs';
import type { Followed } from './followed-wait';
import type { PollObservation, PollSettings } from './polling';

/** What the tracker reads of a job, from `GET /jobs/{id}` or a listing. */
export interface JobStatusReading {
  id: string;
  status: OpenEOJobStatus;
  progress?: number;
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

const SYSTEM_CLOCK: TrackerClock = {
  now: () => Date.now(),
  after(ms, fire) {
    const timer = setTimeout(fire, ms);
    // Unref'd: a worker that shuts down is not held up; its waits time out and move on.
    timer.unref();
    return { cancel: () => clearTimeout(timer) };
  },
};

export interface TrackerOptions {
  /** Followed jobs of one backend from which a look is one listing rather than `GET /jobs/{id}` per due job. @default 2 */
  listFrom?: number;
  /** Longest pause between two heartbeats of a followed activity. @default 20 s */
  maxHeartbeatIntervalMs?: number;
  log?: (message: string) => void;
  /** @default the system clock */
  clock?: TrackerClock;
}

export class JobTracker {
  private readonly backends = new Map<string, BackendJobs>();
  private completions: WaitCompletions | undefined;
  private releasedBecause: string | undefined;
  private readonly options: Required<Omit<TrackerOptions, 'log'>> & Pick<TrackerOptions, 'log'>;

  constructor(
    private readonly lookups: JobLookups,
    options: TrackerOptions = {},
  ) {
    this.options = { listFrom: options.listFrom ?? 2, maxHeartbeatIntervalMs: options.maxHeartbeatIntervalMs ?? 20_000, log: options.log, clock: options.clock ?? SYSTEM_CLOCK };
  }

  /** Where the tracker's problems are logged from now on. */
  useLog(log: (message: string) => void): void {
    this.options.log = log;
  }

  /** Jobs followed now, over all backends. */
  get following(): number {
    let n = 0;
    for (const jobs of this.backends.values()) n += jobs.size;
    return n;
  }

  /**
   * Hands every followed wait back, for a worker that stops: each is retried on another worker
   * at once, from the observations made here. Waits handed in afterwards are refused the same way.
   */
  async release(reason = 'worker shut down'): Promise<void> {
    this.releasedBecause = reason;
    await Promise.all([...this.backends.values()].map((jobs) => jobs.release(reason)));
  }

  /** Follows a job until its status changes; the activity behind `taskToken` completes then. */
  follow<Result>(completions: WaitCompletions, request: FollowRequest<Result>): void {
    if (this.releasedBecause) throw stoppedFailure(request.jobId, this.releasedBecause);
    this.completions = completions;
    const key = `${request.backend.name} ${request.backend.url}`;
    let jobs = this.backends.get(key);
    if (!jobs) {
      jobs = new BackendJobs(request.backend, () => this.completions!, this.lookups, this.options);
      this.backends.set(key, jobs);
    }
    const now = this.options.clock.now();
    jobs.add({ ...request, since: now, lastHeartbeat: now, failures: 0, notBefore: 0, due: 0, aimedAtEnd: false } as Followed<unknown>);
  }
}
