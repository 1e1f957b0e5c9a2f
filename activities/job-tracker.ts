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
import { ActivityCancelledError, ActivityCompletionError, ActivityNotFoundError, ActivityPausedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { BackendRef } from '../core/openeo/connections';
import { TERMINAL_JOB_STATUSES, type OpenEOJobStatus } from '../core/records';
import { nextLook, trimHistory, type PollObservation, type PollSettings } from './polling';

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

interface Followed<Result> extends FollowRequest<Result> {
  since: number;
  lastHeartbeat: number;
  /** Failed looks in a row: they space the next look out, as the activity's retries would. */
  failures: number;
  notBefore: number;
  /** When it is due for its next look: worked out when its observations change, not per look. */
  due: number;
  /** Whether that look is aimed just past the job's estimated end. */
  aimedAtEnd: boolean;
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

/**
 * Calls to the Temporal server (completions, heartbeats) in flight at once: a listing that shows
 * a hundred jobs ended completes their waits together, not one round trip after another.
 */
const SETTLING_AT_ONCE = 32;
/** `GET /jobs/{id}` in flight at once for jobs read alone (the backend's quota gate still applies). */
const READING_AT_ONCE = 4;
/** Due looks, each aimed at its job's end, that are read job by job rather than by a listing. */
const ENDS_READ_ALONE = 1;

/** Runs `work` for every item, at most `limit` at a time. */
async function inParallel<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** Jobs per backend whose observations outlive their wait (see `BackendJobs.seen`). */
const REMEMBERED_JOBS = 10_000;

/** The pause before a released wait is tried again, on another worker. */
const RELEASED_RETRY_DELAY_MS = 1_000;

/** A wait's failure when its worker stops: retried soon, on another worker. */
function stoppedFailure(jobId: string, reason: string): ApplicationFailure {
  return ApplicationFailure.create({
    message: `the worker following job ${jobId} stopped (${reason}); another worker follows it on`,
    type: 'WorkerStopped',
    nextRetryDelay: RELEASED_RETRY_DELAY_MS,
  });
}

/** How long a backend whose listing failed is read job by job. */
const LISTING_PAUSE_MS = 5 * 60_000;

/** Whether this observation completes the wait. */
function isAnswer(job: Followed<unknown>, status: OpenEOJobStatus): boolean {
  if (TERMINAL_JOB_STATUSES.includes(status)) return true;
  return !job.untilEnd && status !== job.knownStatus;
}

function keyOf(job: FollowRequest<unknown>): string {
  return job.key ?? job.jobId;
}

/** The server's answer to a heartbeat of a wait it no longer wants. */
function isRefusal(err: unknown): boolean {
  return err instanceof ActivityCancelledError || err instanceof ActivityNotFoundError || err instanceof ActivityCompletionError || err instanceof ActivityPausedError;
}

/** Works out when the job is due for its next look (0: at once), from its observations. */
function planNextLook(job: Followed<unknown>): void {
  const last = job.history[job.history.length - 1];
  // An earlier attempt that saw the change but died before completing: answer at once.
  if (last && isAnswer(job, last.status)) {
    job.due = Math.max(0, job.notBefore);
    job.aimedAtEnd = false;
    return;
  }
  const from = last ? last.at : job.since;
  const next = nextLook(job.history, job.polling);
  job.due = Math.max(from + next.delayMs, job.notBefore);
  job.aimedAtEnd = next.aimedAtEnd;
}

/**
 * How soon a hand-over learns it was called off (its lined-up tile moved to a free slot, which
 * waits for that): such a wait heartbeats this often. There is at most one per slot.
 */
const HAND_OVER_HEARTBEAT_MS = 2_000;

function heartbeatInterval(job: Followed<unknown>, max: number): number {
  const interval = Math.max(1_000, Math.min(max, (job.heartbeatTimeoutMs ?? 3 * max) / 3));
  return job.untilEnd ? Math.min(interval, HAND_OVER_HEARTBEAT_MS) : interval;
}

/** The jobs of one backend and the loop that looks at them. */
class BackendJobs {
  private readonly jobs = new Map<string, Followed<unknown>>();
  /**
   * What the tracker saw of jobs whose wait it completed, by job id: the tile's next wait on the
   * same job (e.g. for its end, after it started running) goes on from there, so the progress
   * rate it needs is not measured from scratch. Oldest first; bounded.
   */
  private readonly seen = new Map<string, PollObservation[]>();
  private timer: { cancel(): void } | undefined;
  private busy = false;
  private listingPausedUntil = 0;
  private released = false;

  constructor(
    private readonly backend: BackendRef,
    private readonly completions: () => WaitCompletions,
    private readonly lookups: JobLookups,
    private readonly options: Required<Omit<TrackerOptions, 'log'>> & Pick<TrackerOptions, 'log'>,
  ) {}

  get size(): number {
    return this.jobs.size;
  }

  add(job: Followed<unknown>): void {
    if (job.history.length === 0) job.history = this.historyOf(job.jobId, job.key !== undefined);
    planNextLook(job);
    // A retried wait of the same job replaces the attempt it retries.
    this.jobs.set(keyOf(job), job);
    this.schedule();
  }

  /**
   * What is known of a job from earlier waits: a hand-over shares its tile's observations (and
   * so its looks), the tile's next wait takes over what its last one remembered.
   */
  private historyOf(jobId: string, sharing: boolean): PollObservation[] {
    const beside = [...this.jobs.values()].find((other) => other.jobId === jobId);
    if (beside) return beside.history;
    const seen = this.seen.get(jobId) ?? [];
    if (!sharing) this.seen.delete(jobId);
    return seen;
  }

  /** Distinct jobs followed (a job may have a hand-over waiting beside its tile's wait). */
  private jobCount(): number {
    return new Set([...this.jobs.values()].map((job) => job.jobId)).size;
  }

  /** Whether the next look is one listing, which reads every followed job, due or not. */
  private lists(now: number): boolean {
    return this.jobCount() >= this.options.listFrom && now >= this.listingPausedUntil;
  }

  /** Wakes for the next due look or heartbeat. */
  private schedule(): void {
    this.timer?.cancel();
    this.timer = undefined;
    if (this.busy || this.released || this.jobs.size === 0) return;
    const { clock, maxHeartbeatIntervalMs: max } = this.options;
    let next = Infinity;
    for (const job of this.jobs.values()) next = Math.min(next, job.due, job.lastHeartbeat + heartbeatInterval(job, max));
    this.timer = clock.after(Math.max(0, next - clock.now()), () => void this.tick());
  }

  private async tick(): Promise<void> {
    this.busy = true;
    try {
      const now = this.options.clock.now();
      const due = [...this.jobs.values()].filter((job) => job.due <= now);
      if (due.length > 0) await this.look(due);
      await this.heartbeat(this.options.clock.now());
    } catch (err) {
      this.options.log?.(`job tracker for ${this.backend.name}: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      this.busy = false;
      this.schedule();
    }
  }

  /**
   * Reads the due jobs: one listing when several jobs are followed, `GET /jobs/{id}` for the rest.
   * A look aimed at one job's end reads that job alone: the same one request, and the
   * description it reads serves the job's download (see `EndedJobDescriptions`) instead of
   * another request there.
   */
  private async look(due: Followed<unknown>[]): Promise<void> {
    const { clock } = this.options;
    let listed = new Map<string, JobStatusReading>();
    const endsOnly = new Set(due.map((job) => job.jobId)).size <= ENDS_READ_ALONE && due.every((job) => job.aimedAtEnd);
    // A listing costs one request and reads every followed job: worth it once there are a few.
    if (!endsOnly && this.lists(clock.now())) {
      const sent = clock.now();
      listed = await this.lookups.list(this.backend, this.jobCount()).catch((err: unknown) => {
        // A backend whose listing fails is read job by job for a while (each look costs one request either way).
        this.listingPausedUntil = clock.now() + LISTING_PAUSE_MS;
        this.options.log?.(`listing the jobs of ${this.backend.name} failed (${err instanceof Error ? err.message : String(err)}); reading them one by one for ${LISTING_PAUSE_MS / 60_000} minutes`);
        return new Map<string, JobStatusReading>();
      });
      const at = Math.round((sent + clock.now()) / 2);
      // Every followed job the listing shows is observed, due or not.
      const shown = [...this.jobs.values()].filter((job) => listed.has(job.jobId));
      await inParallel(shown, SETTLING_AT_ONCE, (job) => this.observe(job, listed.get(job.jobId)!, at));
    }
    // One read per job, for every wait on it (a hand-over beside its tile's wait shares it).
    const alone = [...new Set(due.filter((job) => !listed.has(job.jobId) && this.jobs.get(keyOf(job)) === job).map((job) => job.jobId))];
    await inParallel(alone, READING_AT_ONCE, async (jobId) => {
      const sent = clock.now();
      const waits = [...this.jobs.values()].filter((job) => job.jobId === jobId);
      try {
        const reading = await this.lookups.one(this.backend, jobId);
        const at = Math.round((sent + clock.now()) / 2);
        await Promise.all(waits.map((job) => this.observe(job, reading, at)));
      } catch (err) {
        await Promise.all(waits.map((job) => this.lookFailed(job, err)));
      }
    });
  }

  /**
   * Stops the loop and hands every followed wait back to Temporal: a last heartbeat with its
   * observations, then a retryable failure, so the wait's next attempt starts on another worker
   * at once (instead of after the heartbeat timeout) and goes on from those observations.
   */
  async release(reason: string): Promise<void> {
    this.released = true;
    this.schedule();
    const jobs = [...this.jobs.values()];
    this.jobs.clear();
    await inParallel(jobs, SETTLING_AT_ONCE, async (job) => {
      await this.settle(job, () => this.completions().heartbeat(job.taskToken, this.detailsOf(job)));
      await this.settle(job, () => this.completions().fail(job.taskToken, stoppedFailure(job.jobId, reason)));
    });
  }

  /** Stops following this wait (not a newer wait of the same job that replaced it). */
  private drop(job: Followed<unknown>): void {
    if (this.jobs.get(keyOf(job)) !== job) return;
    this.jobs.delete(keyOf(job));
    if (job.key !== undefined || TERMINAL_JOB_STATUSES.includes(job.history[job.history.length - 1]?.status)) return;
    this.seen.set(job.jobId, job.history);
    if (this.seen.size > REMEMBERED_JOBS) this.seen.delete(this.seen.keys().next().value!);
  }

  /** Records what a look saw; completes the wait when the status changed. */
  private async observe(job: Followed<unknown>, reading: JobStatusReading, at: number): Promise<void> {
    const observation: PollObservation = { at, status: reading.status };
    if (typeof reading.progress === 'number') observation.progress = reading.progress;
    job.history = trimHistory([...job.history, observation]);
    job.failures = 0;
    job.notBefore = 0;
    if (!isAnswer(job, reading.status)) {
      planNextLook(job);
      return;
    }
    this.drop(job);
    // A wait for the end acts on it (starts the job lined up behind): only while it is still wanted.
    if (job.untilEnd && !(await this.stillWanted(job))) return;
    const result = await job.resultOf(reading);
    await this.settle(job, () => this.completions().complete(job.taskToken, result));
  }

  /**
   * Asks the server, with a heartbeat, whether the wait is still wanted: its tile may have been
   * cancelled since the last heartbeat. A server that cannot be asked does not stop it.
   */
  private async stillWanted(job: Followed<unknown>): Promise<boolean> {
    try {
      await this.completions().heartbeat(job.taskToken, this.detailsOf(job));
      return true;
    } catch (err) {
      if (!isRefusal(err)) return true;
      await this.heartbeatRefused(job, err);
      return false;
    }
  }

  /** A failed look: given up on when retrying cannot help, else tried again later. */
  private async lookFailed(job: Followed<unknown>, err: unknown): Promise<void> {
    if (err instanceof ApplicationFailure && err.nonRetryable) {
      this.drop(job);
      await this.settle(job, () => this.completions().fail(job.taskToken, err));
      return;
    }
    job.failures += 1;
    const pause = Math.min(job.polling.maxIntervalMs, Math.max(1_000, job.polling.initialIntervalMs) * 2 ** (job.failures - 1));
    job.notBefore = this.options.clock.now() + pause;
    planNextLook(job);
    this.options.log?.(`job ${job.jobId} on ${this.backend.name}: ${err instanceof Error ? err.message : String(err)}; looking again in ${Math.round(pause / 1000)} s`);
  }

  /** Heartbeats the followed activities whose turn it is, with their observations. */
  private async heartbeat(now: number): Promise<void> {
    const max = this.options.maxHeartbeatIntervalMs;
    const turn = [...this.jobs.values()].filter((job) => now - job.lastHeartbeat >= heartbeatInterval(job, max));
    await inParallel(turn, SETTLING_AT_ONCE, async (job) => {
      job.lastHeartbeat = now;
      try {
        await this.completions().heartbeat(job.taskToken, this.detailsOf(job));
      } catch (err) {
        await this.heartbeatRefused(job, err);
      }
    });
  }

  /** A wait's heartbeat details: what a later attempt goes on from (`observationsFrom`). */
  private detailsOf(job: Followed<unknown>): unknown {
    const last = job.history[job.history.length - 1];
    return { status: last?.status ?? job.knownStatus, progress: last?.progress, observations: job.history, trackedBy: 'job-tracker' };
  }

  /** The server no longer wants this wait: cancelled, timed out, completed elsewhere, or paused. */
  private async heartbeatRefused(job: Followed<unknown>, err: unknown): Promise<void> {
    if (err instanceof ActivityCancelledError) {
      this.drop(job);
      await this.settle(job, () => this.completions().reportCancellation(job.taskToken));
    } else if (isRefusal(err)) {
      this.drop(job);
    } else {
      // The server is unreachable: heartbeat again next round; the timeout decides.
      this.options.log?.(`heartbeat of the wait for job ${job.jobId}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  /** Completes, fails or cancels a wait; one the server no longer knows is simply dropped. */
  private async settle(job: Followed<unknown>, call: () => Promise<void>): Promise<void> {
    try {
      await call();
    } catch (err) {
      if (err instanceof ActivityNotFoundError || err instanceof ActivityCompletionError) return;
      this.options.log?.(`could not settle the wait for job ${job.jobId}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}

/** One worker's tracker: a loop per backend, started by the first wait on it. */
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
