/**
 * The jobs of one backend that the worker's tracker follows, and the loop that looks at them:
 * when each is due, one listing for all or a read per job, the waits it completes, the
 * heartbeats that keep them alive, and what a worker that stops hands back. `JobTracker`
 * (`job-tracker.ts`) keeps one of these per backend.
 */
import { ActivityCancelledError, ActivityCompletionError, ActivityNotFoundError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { BackendRef } from '../src/core/openeo/connections';
import { TERMINAL_JOB_STATUSES } from '../src/core/records';
import {
  heartbeatInterval,
  isAnswer,
  isRefusal,
  keyOf,
  planNextLook,
  type BackendKnowledge,
  type Followed,
} from './followed-wait';
import type { JobLookups, JobStatusReading, TrackerOptions, WaitCompletions } from './tracker-types';
import { phaseStart, trimHistory, type PollObservation } from './polling';

/**
 * Calls to the Temporal server (completions, heartbeats) in flight at once: a listing that shows
 * a hundred jobs ended completes their waits together, not one round trip after another.
 */
const SETTLING_AT_ONCE = 32;
/** `GET /jobs/{id}` in flight at once for jobs read alone (the backend's quota gate still applies). */
const READING_AT_ONCE = 4;
/**
 * Due looks, each aimed at its job's end, that are read job by job rather than by a listing: a
 * finished job seen in a listing costs its download a description, so up to a few such looks
 * cost no more alone (it was one before 0.12.0: two jobs ending together cost three requests).
 */
const ENDS_READ_ALONE = READING_AT_ONCE;

/** Runs `work` for every item, at most `limit` at a time. */
async function inParallel<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** Finished jobs whose running times say what to expect of the next (see `Siblings`). */
const REMEMBERED_RUNS = 20;

/** Jobs per backend whose observations outlive their wait (see `BackendJobs.seen`). */
const REMEMBERED_JOBS = 10_000;

/** The pause before a released wait is tried again, on another worker. */
const RELEASED_RETRY_DELAY_MS = 1_000;

/** A wait's failure when its worker stops: retried soon, on another worker. */
export function stoppedFailure(jobId: string, reason: string): ApplicationFailure {
  return ApplicationFailure.create({
    message: `the worker following job ${jobId} stopped (${reason}); another worker follows it on`,
    type: 'WorkerStopped',
    nextRetryDelay: RELEASED_RETRY_DELAY_MS,
  });
}

/** How long a backend whose listing failed is read job by job. */
const LISTING_PAUSE_MS = 5 * 60_000;

/**
 * A look that failed because the worker cannot log in to the backend (`BackendLoginError`'s code,
 * as `callOpenEO` passes it on): news about the backend, not about any one job.
 */
function isLoginFailure(err: unknown): err is ApplicationFailure {
  return err instanceof ApplicationFailure && err.type === 'BackendLoginFailed';
}

const reasonOf = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** The jobs of one backend and the loop that looks at them. */
export class BackendJobs {
  private readonly jobs = new Map<string, Followed<unknown>>();
  /**
   * What the tracker saw of jobs whose wait it completed, by job id: the tile's next wait on the
   * same job (e.g. for its end, after it started running) goes on from there, so the progress
   * rate it needs is not measured from scratch. Oldest first; bounded.
   */
  private readonly seen = new Map<string, PollObservation[]>();
  /** Running times of the jobs seen to finish lately, newest last: what `Siblings` are made of. */
  private readonly runs: number[] = [];
  /** Whether a reading showed progress in fractions of a percent (see `PollSettings.fractionalProgress`). */
  private fractionalProgress = false;
  private timer: { cancel(): void } | undefined;
  private busy = false;
  private listingPausedUntil = 0;
  private released = false;
  /** Why the worker cannot log in to the backend, as logged; unset while looks work. */
  private loginFailure: string | undefined;

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
    planNextLook(job, this.knowledge(job));
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
    let next = this.nextLookAt(clock.now());
    for (const job of this.jobs.values()) next = Math.min(next, job.lastHeartbeat + heartbeatInterval(job, max));
    this.timer = clock.after(Math.max(0, next - clock.now()), () => void this.tick());
  }

  /**
   * When to look next: when the first look is due, or, when the look is a listing, as late as
   * every due look allows (its `latest`), so that looks due shortly after it share the listing.
   */
  private nextLookAt(now: number): number {
    let first = Infinity;
    let latest = Infinity;
    for (const job of this.jobs.values()) {
      first = Math.min(first, job.due);
      latest = Math.min(latest, job.latest);
    }
    if (!this.lists(Math.max(now, first))) return first;
    let at = first;
    for (const job of this.jobs.values()) if (job.due <= latest) at = Math.max(at, job.due);
    return at;
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
      try {
        listed = await this.lookups.list(this.backend, this.jobCount());
        this.loginWorks();
      } catch (err) {
        // Without a login every read fails alike: the due jobs wait, and the listing is tried again with them.
        if (isLoginFailure(err)) return this.loginFailed(due, err);
        // A backend whose listing fails is read job by job for a while (each look costs one request either way).
        this.listingPausedUntil = clock.now() + LISTING_PAUSE_MS;
        this.options.log?.(
          `listing the jobs of ${this.backend.name} failed (${reasonOf(err)}); reading them one by one for ${LISTING_PAUSE_MS / 60_000} minutes`,
        );
      }
      const at = Math.round((sent + clock.now()) / 2);
      // Every followed job the listing shows is observed, due or not.
      const shown = [...this.jobs.values()].filter((job) => listed.has(job.jobId));
      await inParallel(shown, SETTLING_AT_ONCE, (job) => this.observe(job, listed.get(job.jobId)!, at));
    }
    // One read per job, for every wait on it (a hand-over beside its tile's wait shares it).
    const alone = [
      ...new Set(
        due.filter((job) => !listed.has(job.jobId) && this.jobs.get(keyOf(job)) === job).map((job) => job.jobId),
      ),
    ];
    await inParallel(alone, READING_AT_ONCE, async (jobId) => {
      const sent = clock.now();
      const waits = [...this.jobs.values()].filter((job) => job.jobId === jobId);
      let reading: JobStatusReading;
      try {
        reading = await this.lookups.one(this.backend, jobId);
      } catch (err) {
        return this.readFailed(jobId, waits, err);
      }
      this.loginWorks();
      const at = Math.round((sent + clock.now()) / 2);
      await Promise.all(waits.map((job) => this.observe(job, reading, at)));
    });
  }

  /** Keeps how long a job ran, once a look sees it finished after it was seen running. */
  private noteRun(history: readonly PollObservation[]): void {
    const [before, last] = history.slice(-2);
    if (last?.status !== 'finished' || before?.status !== 'running') return;
    const started = phaseStart(history.slice(0, -1));
    const ended = Math.min(last.at, Math.max(before.at, last.since ?? last.at));
    const ran = started === undefined ? NaN : ended - started;
    if (!(ran > 0)) return;
    this.runs.push(ran);
    if (this.runs.length > REMEMBERED_RUNS) this.runs.shift();
  }

  /**
   * What the backend's jobs taught the tracker (how long they ran lately, how finely progress is
   * told), and whether a lined-up job waits for `job`'s slot.
   */
  private knowledge(job: Followed<unknown>): BackendKnowledge {
    const slotAwaited =
      job.untilEnd === true || [...this.jobs.values()].some((other) => other.untilEnd && other.jobId === job.jobId);
    const known: BackendKnowledge = { fractionalProgress: this.fractionalProgress, slotAwaited };
    if (this.runs.length > 0)
      known.siblings = { shortestMs: Math.min(...this.runs), longestMs: Math.max(...this.runs) };
    return known;
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
    if (typeof reading.progress === 'number') {
      observation.progress = reading.progress;
      if (!Number.isInteger(reading.progress)) this.fractionalProgress = true;
    }
    // When the job entered a status this look sees first: its age there (see `phaseStart`).
    const since = reading.updated === undefined ? NaN : Date.parse(reading.updated);
    if (Number.isFinite(since) && job.history[job.history.length - 1]?.status !== reading.status)
      observation.since = since;
    const history = [...job.history, observation];
    // A hand-over waiting beside the tile's own wait sees the same end: counted once.
    if (job.key === undefined) this.noteRun(history);
    job.history = trimHistory(history);
    job.failures = 0;
    job.notBefore = 0;
    if (!isAnswer(job, reading.status)) {
      planNextLook(job, this.knowledge(job));
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

  /**
   * A failed read of one job, for every wait on it (a hand-over may wait beside its tile): given
   * up on when retrying cannot help, else tried again later; logged once, not once per wait.
   */
  private async readFailed(jobId: string, waits: Followed<unknown>[], err: unknown): Promise<void> {
    if (isLoginFailure(err)) return this.loginFailed(waits, err);
    if (err instanceof ApplicationFailure && err.nonRetryable) {
      await Promise.all(
        waits.map(async (job) => {
          this.drop(job);
          await this.settle(job, () => this.completions().fail(job.taskToken, err));
        }),
      );
      return;
    }
    const pause = Math.min(...waits.map((job) => this.backOff(job)));
    this.options.log?.(
      `job ${jobId} on ${this.backend.name}: ${reasonOf(err)}; looking again in ${Math.round(pause / 1000)} s`,
    );
  }

  /**
   * The worker cannot log in to the backend: its waits look again later (the batch pauses the
   * backend, see `LoginFailureReporter`). Logged once, as the backend's news, not per job and
   * look: until the login works again every look fails alike (its wording may change, e.g. a
   * refresh token refused, then the stored one known to be refused).
   */
  private loginFailed(waits: Followed<unknown>[], err: ApplicationFailure): void {
    for (const job of waits) this.backOff(job);
    if (this.loginFailure !== undefined) return;
    this.loginFailure = err.message;
    const jobs = this.jobCount();
    this.options.log?.(
      `backend ${this.backend.name}: ${err.message}; its ${jobs} followed job${jobs === 1 ? ' is' : 's are'} looked at again, further apart up to polling.maxIntervalSeconds, until the login works`,
    );
  }

  /** A look worked: a login that failed before works again. */
  private loginWorks(): void {
    if (this.loginFailure === undefined) return;
    this.loginFailure = undefined;
    this.options.log?.(`backend ${this.backend.name}: the worker can log in again; its followed jobs go on`);
  }

  /** The pause before a wait's next look after a failed one: doubling, within the wait's polling bounds. */
  private backOff(job: Followed<unknown>): number {
    job.failures += 1;
    const pause = Math.min(
      job.polling.maxIntervalMs,
      Math.max(1_000, job.polling.initialIntervalMs) * 2 ** (job.failures - 1),
    );
    job.notBefore = this.options.clock.now() + pause;
    planNextLook(job, this.knowledge(job));
    return pause;
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
    return {
      status: last?.status ?? job.knownStatus,
      progress: last?.progress,
      observations: job.history,
      trackedBy: 'job-tracker',
    };
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
      this.options.log?.(
        `heartbeat of the wait for job ${job.jobId}: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
  }

  /** Completes, fails or cancels a wait; one the server no longer knows is simply dropped. */
  private async settle(job: Followed<unknown>, call: () => Promise<void>): Promise<void> {
    try {
      await call();
    } catch (err) {
      if (err instanceof ActivityNotFoundError || err instanceof ActivityCompletionError) return;
      this.options.log?.(
        `could not settle the wait for job ${job.jobId}: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
  }
}

/** One worker's tracker: a loop per backend, started by the first wait on it. */
