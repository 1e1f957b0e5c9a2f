/**
 * The batch-job state machine, driven by timers.
 *
 *   created ──start──▶ queued ──(queuedMs elapsed and a running slot free)──▶ running
 *   running ──(runningMs elapsed)──▶ finished | error
 *   running ──cancel──▶ canceled        queued ──cancel──▶ created
 *   canceled | finished | error ──start──▶ queued (previous results discarded)
 *
 * Each user may have `maxRunningJobsPerUser` jobs running; queued jobs wait
 * in a per-user FIFO. A duration of 0 makes that phase synchronous, so
 * "instant" jobs are already finished when the start request returns.
 */
import type { FailurePolicy, FailureVerdict } from './failure';
import type { JobRecord, JobStore, Usage } from './jobs';
import type { ProcessGraph, ResolutionFailure } from './process-graph';

/** Time source and timers; injectable so tests or a state file can control time later. */
export interface Clock {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** The real clock. */
export const SYSTEM_CLOCK: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** Scheduler settings (resolved emulator options). */
export interface SchedulerSettings {
  queuedMs: number;
  runningMs: number;
  maxRunningJobsPerUser: number;
}

/** Collaborators the scheduler needs but does not own. */
export interface SchedulerDeps {
  store: JobStore;
  failurePolicy: FailurePolicy;
  /** Run-time resolution of remote processes (bound to the UDP registry). */
  resolve: (graph: ProcessGraph) => ResolutionFailure | null;
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
  /** Decided when the run starts, applied when it ends. */
  failure: FailureVerdict | null;
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
    const state: RunState = { ready: false, failure: null };
    this.runs.set(job.id, state);
    this.queueOf(job.owner).push(job);
    this.deps.store.setStatus(job, 'queued');
    job.log.append('info', 'Job queued.');
    if (this.settings.queuedMs === 0) {
      state.ready = true;
      this.pump(job.owner);
    } else {
      state.timer = this.deps.clock.setTimeout(() => {
        state.timer = undefined;
        state.ready = true;
        this.pump(job.owner);
      }, this.settings.queuedMs);
    }
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
      this.endRun(job);
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

  /** Progress in percent: 0 before running, linear while running, 100 when finished. */
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
    const state = this.runs.get(job.id);
    if (!state) return;
    job.runningSince = this.deps.clock.now();
    const unresolved = this.deps.resolve(job.graph);
    state.failure = unresolved
      ? { code: unresolved.code, message: unresolved.message }
      : this.deps.failurePolicy.decide(job);
    this.deps.store.setStatus(job, 'running');
    job.log.append('info', 'Job started running.');
    job.log.append('debug', `Processing area: ${job.area ? JSON.stringify(job.area) : 'none given (whole world)'}.`);
    if (this.settings.runningMs === 0) {
      this.complete(job);
    } else {
      state.timer = this.deps.clock.setTimeout(() => this.complete(job), this.settings.runningMs);
    }
  }

  private complete(job: JobRecord): void {
    const state = this.runs.get(job.id);
    if (!state || job.status !== 'running') return;
    this.runs.delete(job.id);
    let failure = state.failure;
    if (!failure) {
      try {
        job.result = this.deps.produceResult(job);
      } catch (error) {
        failure = { code: 'Internal', message: `Writing the result failed: ${(error as Error).message}` };
      }
    }
    job.stoppedProgress = failure ? this.progress(job) : undefined;
    this.endRun(job);
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

  /** Records usage and costs of the run that just ended. */
  private endRun(job: JobRecord): void {
    const now = this.deps.clock.now();
    job.endedAt = now;
    const seconds = Math.max(0, (now - (job.runningSince ?? now)) / 1000);
    const usage: Usage = {
      cpu: { value: round(seconds * 2), unit: 'cpu-seconds' },
      memory: { value: round(seconds * 2048), unit: 'mb-seconds' },
      duration: { value: round(seconds), unit: 'seconds' },
    };
    job.usage = usage;
    // Simulated tariff: a fixed start fee plus a per-second rate.
    job.costs = round(0.5 + seconds * 0.1);
  }
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
