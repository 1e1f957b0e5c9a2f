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
import { BackendJobs, stoppedFailure } from './backend-jobs';
import type { Followed } from './followed-wait';
import type { FollowRequest, JobLookups, TrackerClock, TrackerOptions, WaitCompletions } from './tracker-types';

export type {
  FollowRequest,
  JobLookups,
  JobStatusReading,
  TrackerClock,
  TrackerOptions,
  WaitCompletions,
} from './tracker-types';

const SYSTEM_CLOCK: TrackerClock = {
  now: () => Date.now(),
  after(ms, fire) {
    const timer = setTimeout(fire, ms);
    // Unref'd: a worker that shuts down is not held up; its waits time out and move on.
    timer.unref();
    return { cancel: () => clearTimeout(timer) };
  },
};

/**
 * Longest pause between two heartbeats of a wait, whatever its timeout: the heartbeat timeout
 * (see `heartbeatInterval`) decides below it. It was 20 s before 0.11.0, which made a 10-minute
 * job's wait send 30 heartbeats, each a billed Action on Temporal Cloud, and 5 minutes in 0.11.0
 * and 0.12.0.
 */
export const MAX_HEARTBEAT_INTERVAL_MS = 30 * 60_000;

export class JobTracker {
  private readonly backends = new Map<string, BackendJobs>();
  private completions: WaitCompletions | undefined;
  private releasedBecause: string | undefined;
  private readonly options: Required<Omit<TrackerOptions, 'log'>> & Pick<TrackerOptions, 'log'>;

  constructor(
    private readonly lookups: JobLookups,
    options: TrackerOptions = {},
  ) {
    this.options = {
      listFrom: options.listFrom ?? 2,
      maxHeartbeatIntervalMs: options.maxHeartbeatIntervalMs ?? MAX_HEARTBEAT_INTERVAL_MS,
      log: options.log,
      clock: options.clock ?? SYSTEM_CLOCK,
    };
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
    jobs.add({
      ...request,
      since: now,
      lastHeartbeat: now,
      failures: 0,
      notBefore: 0,
      due: 0,
      latest: 0,
      aimedAtEnd: false,
    } as Followed<unknown>);
  }
}
