/**
 * The batch-job state machine, driven by timers.
 *
 *   created ──start──▶ queued ──(queuedMs elapsed and a running slot free)──▶ running
 *   running ──(runningMs elapsed)──▶ finished | error
 *   running ──cancel──▶ canceled        queued ──cancel──▶ created
 *   canceled | finished | error ──start──▶ queued (previous results discarded)
 *
 * Each user may have `maxRunningJobsPerUser` jobs running. In `queue` mode
 * further started jobs wait in a per-user FIFO; in `reject` mode (as CDSE)
 * starting a job while that many are queued or running fails with
 * `ConcurrentJobLimit`. A duration of 0 makes that phase synchronous, so
 * "instant" jobs are already finished when the start request returns.
 */
import type { Clock } from './clock';
import { ApiError } from './errors';
import type { FailureVerdict } from './failure';
import type { JobRecord, JobStore } from './jobs';
import { costsFor, usageFor } from './usage';

/** Scheduler settings (resolved emulator options). */
export interface SchedulerSettings {
  queuedMs: number;
  runningMs: number;
  maxRunningJobsPerUser: number;
  concurrencyMode: 'queue' | 'reject';
}

/** Collaborators the scheduler needs but does not own. */
export interface SchedulerDeps {
  store: JobStore;
  /** Decides, when a run starts, whether it will end in `error`. */
  decideFailure: (job: JobRecord) => FailureVerdict | null;
  /** Produces result files when a run succeeds; may throw (the run then errors). */
  produceResult: (job: JobRecord) => JobRecord['result'];
  clock: Clock;
  log: (line: string) => void;
}

interface RunState {
  /** The phase timer (queue wait or running), if one is pending. */
  timer?: unknown;
  /** The queue wait has elapsed; the job may run as soon as a slot frees. */
  ready: boolean;
}

/** Drives jobs through their statuses. */
export class JobScheduler {
  private readonly queues = new Map<string, JobRecord[]>();
  private readonly runs = new Map<string, RunState>();

  constructor(
    private readonly settings: SchedulerSettings,
    private readonly deps: SchedulerDeps,
  ) {}

  /** `POST /jobs/{id}/results`: queue the job; no-op while queued or running. */
  start(job: JobRecord): void {
    if (job.status === 'queued' || job.status === 'running') return;
    const { queued, running } = this.deps.store.concurrency(job.owner);
    const limit = this.settings.maxRunningJobsPerUser;
    if (this.settings.concurrencyMode === 'reject' && queued + running >= limit) {
      throw new ApiError(
        'ConcurrentJobLimit',
        `You already have ${queued + running} batch jobs queued or running; at most ${limit} are allowed at once.`,
      );
    }
    // Stuck in created: the request is accepted and then nothing happens, as with a lost start.
    if (job.fate.stuckIn === 'created') return;
    if (job.status !== 'created') {
      // Restart: previous results and usage are discarded, logs are kept.
      job.result = undefined;
      job.usage = undefined;
      job.costs = undefined;
      job.endedAt = undefined;
      job.stoppedProgress = undefined;
      job.log.append('info', 'Job restarted; previous results were discarded.');
    }
    job.runs += 1;
    job.runningSince = undefined;
    job.pendingFailure = undefined;
    job.queuedAt = this.deps.clock.now();
    this.deps.store.setStatus(job, 'queued');
    job.log.append('info', 'Job queued.');
    this.enqueue(job, this.settings.queuedMs);
  }

  /** `DELETE /jobs/{id}/results`: running → canceled, queued → created; otherwise no-op. */
  cancel(job: JobRecord): void {
    if (job.status === 'queued') {
      this.clearRun(job);
      this.deps.store.setStatus(job, 'created');
      job.log.append('info', 'Job removed from the queue.');
    } else if (job.status === 'running') {
      job.stoppedProgress = this.progress(job);
      this.clearRun(job);
      this.endRun(job, this.deps.clock.now());
      this.deps.store.setStatus(job, 'canceled');
      job.log.append('info', 'Job canceled by the user.');
      this.pump(job.owner);
    }
  }

  /** `DELETE /jobs/{id}`: stops any computation and forgets the job. */
  remove(job: JobRecord): void {
    const wasRunning = job.status === 'running';
    this.clearRun(job);
    this.deps.store.delete(job);
    if (wasRunning) this.pump(job.owner);
  }

  /**
   * Picks up queued and running jobs read from a state file. Time kept
   * passing while the emulator was down, as it does on a real cluster: a job
   * whose run would have ended meanwhile ends now.
   */
  resume(): void {
    const now = this.deps.clock.now();
    const pending = this.deps.store.list().filter((job) => job.status === 'queued' || job.status === 'running');
    pending.sort((a, b) => (a.queuedAt ?? a.created) - (b.queuedAt ?? b.created));
    for (const job of pending) {
      if (job.status === 'queued') {
        this.enqueue(job, this.settings.queuedMs - (now - (job.queuedAt ?? now)));
      } else {
        job.pendingFailure ??= this.deps.decideFailure(job);
        this.scheduleCompletion(job, this.settings.runningMs - (now - (job.runningSince ?? now)));
      }
    }
    for (const owner of new Set(pending.map((job) => job.owner))) this.pump(owner);
  }

  /** Progress in percent: 0 before running, linear in running time, 100 when finished. */
  progress(job: JobRecord): number {
    switch (job.status) {
      case 'created':
      case 'queued':
        return 0;
      case 'finished':
        return 100;
      case 'running': {
        if (job.runningSince === undefined || this.settings.runningMs === 0) return 0;
        const fraction = (this.deps.clock.now() - job.runningSince) / this.settings.runningMs;
        // Never report 100 while still running: clients treat 100 as done.
        return Math.min(99, Math.max(0, Math.round(fraction * 1000) / 10));
      }
      default:
        return job.stoppedProgress ?? 0;
    }
  }

  /** Cancels all timers (emulator shutdown). Job records stay as they are. */
  dispose(): void {
    for (const state of this.runs.values()) {
      if (state.timer !== undefined) this.deps.clock.clearTimeout(state.timer);
    }
    this.runs.clear();
    this.queues.clear();
  }

  private queueOf(owner: string): JobRecord[] {
    let queue = this.queues.get(owner);
    if (!queue) this.queues.set(owner, (queue = []));
    return queue;
  }

  /** Puts a queued job in its owner's FIFO, ready after `waitMs`. */
  private enqueue(job: JobRecord, waitMs: number): void {
    // A job stuck in queued never enters the FIFO, so it cannot block the jobs behind it.
    if (job.fate.stuckIn === 'queued') return;
    const state: RunState = { ready: false };
    this.runs.set(job.id, state);
    this.queueOf(job.owner).push(job);
    if (waitMs <= 0) {
      state.ready = true;
      this.pump(job.owner);
    } else {
      state.timer = this.deps.clock.setTimeout(() => {
        state.timer = undefined;
        state.ready = true;
        this.pump(job.owner);
      }, waitMs);
    }
  }

  private clearRun(job: JobRecord): void {
    const state = this.runs.get(job.id);
    if (state?.timer !== undefined) this.deps.clock.clearTimeout(state.timer);
    this.runs.delete(job.id);
    const queue = this.queueOf(job.owner);
    const index = queue.indexOf(job);
    if (index >= 0) queue.splice(index, 1);
  }

  /** Starts queued jobs of `owner` in FIFO order while running slots are free. */
  private pump(owner: string): void {
    const queue = this.queueOf(owner);
    while (queue.length > 0) {
      const head = queue[0];
      // Strict FIFO: a later job never overtakes the head, even if its wait has elapsed.
      if (!this.runs.get(head.id)?.ready) return;
      if (this.deps.store.concurrency(owner).running >= this.settings.maxRunningJobsPerUser) return;
      queue.shift();
      this.run(head);
    }
  }

  private run(job: JobRecord): void {
    job.runningSince = this.deps.clock.now();
    job.pendingFailure = this.deps.decideFailure(job);
    this.deps.store.setStatus(job, 'running');
    job.log.append('info', 'Job started running.');
    job.log.append('debug', `Processing area: ${job.area ? JSON.stringify(job.area) : 'none given (whole world)'}.`);
    this.scheduleCompletion(job, this.settings.runningMs);
  }

  private scheduleCompletion(job: JobRecord, remainingMs: number): void {
    const state: RunState = this.runs.get(job.id) ?? { ready: true };
    this.runs.set(job.id, state);
    if (remainingMs <= 0) {
      this.complete(job);
    } else {
      state.timer = this.deps.clock.setTimeout(() => this.complete(job), remainingMs);
    }
  }

  private complete(job: JobRecord): void {
    if (!this.runs.has(job.id) || job.status !== 'running') return;
    this.runs.delete(job.id);
    let failure = job.pendingFailure ?? null;
    if (!failure) {
      try {
        job.result = this.deps.produceResult(job);
      } catch (error) {
        failure = { code: 'Internal', message: `Writing the result failed: ${(error as Error).message}` };
      }
    }
    job.stoppedProgress = failure ? this.progress(job) : undefined;
    // The run lasted runningMs, also when the emulator noticed its end late (timer lag, a restart).
    const nominalEnd = (job.runningSince ?? 0) + this.settings.runningMs;
    this.endRun(job, Math.min(this.deps.clock.now(), nominalEnd));
    job.pendingFailure = undefined;
    if (failure) {
      job.log.append('error', failure.message, { code: failure.code });
      this.deps.store.setStatus(job, 'error');
      this.deps.log(`job ${job.id} (${job.title ?? 'untitled'}) error: ${failure.code}`);
    } else {
      job.log.append('info', 'Job finished; results are available.');
      this.deps.store.setStatus(job, 'finished');
      this.deps.log(`job ${job.id} (${job.title ?? 'untitled'}) finished`);
    }
    this.pump(job.owner);
  }

  /** Records usage and costs of the run that ended at `end`. */
  private endRun(job: JobRecord, end: number): void {
    job.endedAt = end;
    const seconds = Math.max(0, (end - (job.runningSince ?? end)) / 1000);
    job.usage = usageFor(seconds);
    job.costs = costsFor(seconds);
  }
}
