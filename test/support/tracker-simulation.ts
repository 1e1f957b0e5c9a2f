/**
 * The job tracker replayed on a simulated clock: a backend with a fixed number of slots, jobs of a
 * fixed duration with linear progress (as the emulator reports it, with `updated` at each status
 * change), and a stand-in for the batch that starts the next job a moment after one ends, or
 * lines it up behind a running one. Deterministic, so its figures are exact and a loaded machine
 * cannot move them (`test/unit/tracker-sharing.test.ts`).
 */
import assert from 'node:assert/strict';
import {
  JobTracker,
  type JobLookups,
  type JobStatusReading,
  type TrackerClock,
  type WaitCompletions,
} from '../../activities/job-tracker';
import type { OpenEOJobStatus } from '../../src/core/records';

/** Timers on a simulated clock, fired in time order by `run`. */
export class SimulatedClock implements TrackerClock {
  private time = 0;
  private timers: { at: number; fire: () => void; cancelled: boolean }[] = [];

  now(): number {
    return this.time;
  }

  after(ms: number, fire: () => void): { cancel(): void } {
    const timer = { at: this.time + ms, fire, cancelled: false };
    this.timers.push(timer);
    return { cancel: () => (timer.cancelled = true) };
  }

  /** Fires timers in order until none is left or `until` says stop; every promise settles in between. */
  async run(until: () => boolean, limitMs: number): Promise<void> {
    while (!until()) {
      this.timers = this.timers.filter((t) => !t.cancelled);
      if (this.timers.length === 0) return;
      const next = this.timers.reduce((a, b) => (b.at < a.at ? b : a));
      assert.ok(next.at <= limitMs, `the simulation ran past ${limitMs} ms`);
      this.timers.splice(this.timers.indexOf(next), 1);
      this.time = Math.max(this.time, next.at);
      next.fire();
      // The fakes answer at once: one turn of the event loop settles everything a timer started.
      await new Promise((resolve) => setImmediate(resolve));
    }
  }
}

export interface Run {
  tiles: number;
  slots: number;
  runningMs: number;
  polling: { initialIntervalMs: number; maxIntervalMs: number };
  /**
   * From a job's end being seen to the next job's start (the batch's hand-over), between these
   * two: each hand-over draws its own, so the jobs drift apart as they do on a real batch.
   */
  handOverMs: [number, number];
  /** From a wait completing with a running job to the tile's next wait (one workflow task). */
  rewaitMs: number;
  /**
   * Line a job up behind each running one: a hand-over waits beside the running job's wait and
   * starts the next job the moment it sees that job finished (`startJobAfter`).
   */
  lineUp?: boolean;
  /** How far apart the batch starts its first jobs. @default 100 */
  startedApartMs?: number;
  /** A backend whose descriptions lack `updated` (the time of the last status change). */
  withoutUpdated?: boolean;
}

/** The simulated clock's time as a backend writes it (the simulation starts at the epoch). */
const iso = (ms: number) => new Date(ms).toISOString();

export interface Figures {
  /** The tracker's looks, and the description each download reads unless the tracker's last look did. */
  requestsPerJob: number;
  /** Mean ms from a job's end to the tracker completing its wait. */
  noticeMs: number;
  makespanMs: number;
}

/** Runs `run.tiles` jobs through one tracker and counts what it asked the backend. */
export async function simulate(run: Run): Promise<Figures> {
  const clock = new SimulatedClock();
  const jobs = new Map<string, { startedAt: number; endsAt: number }>();
  let requests = 0;
  /** Jobs whose end a look at them alone saw: their description is the download's (`EndedJobDescriptions`). */
  const endReadAlone = new Set<string>();
  const reading = (id: string): JobStatusReading => {
    const job = jobs.get(id)!;
    const now = clock.now();
    if (now >= job.endsAt) return { id, status: 'finished', progress: 100, updated: iso(job.endsAt) };
    // As the emulator: linear, a tenth of a percent, never 100 while running.
    return {
      id,
      status: 'running',
      progress: Math.min(99, Math.round(((now - job.startedAt) / run.runningMs) * 1000) / 10),
      ...(run.withoutUpdated ? {} : { updated: iso(job.startedAt) }),
    };
  };
  const lookups: JobLookups = {
    one: async (_backend, id) => {
      requests += 1;
      const job = reading(id);
      if (job.status === 'finished') endReadAlone.add(id);
      return job;
    },
    list: async () => {
      requests += 1;
      return new Map([...jobs.keys()].map((id) => [id, reading(id)]));
    },
  };
  const tracker = new JobTracker(lookups, { clock });
  const backend = { name: 'simulated', url: 'http://simulated' };
  const waits = new Map<string, string>();
  const notices: number[] = [];
  let started = 0;
  let ended = 0;
  // A fixed seed: the same drift on every run.
  let seed = 12345;
  const handOver = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    const [low, high] = run.handOverMs;
    return low + ((high - low) * seed) / 2 ** 31;
  };

  const wait = (jobId: string, knownStatus: OpenEOJobStatus) => {
    const token = `${jobId}/${knownStatus}`;
    waits.set(token, jobId);
    tracker.follow(completions, {
      taskToken: Buffer.from(token),
      backend,
      jobId,
      knownStatus,
      polling: run.polling,
      history: [],
      heartbeatTimeoutMs: 60 * 60_000,
      resultOf: (job) => job,
    });
  };
  const startJob = (id: string) => {
    jobs.set(id, { startedAt: clock.now(), endsAt: clock.now() + run.runningMs });
    // submitJob does not read the job back: the tile waits on 'queued' first.
    wait(id, 'queued');
    if (run.lineUp) lineUpBehind(id);
  };
  const startNext = () => {
    if (started < run.tiles) startJob(`job-${++started}`);
  };
  /** The next job waits beside `aheadId`'s wait, and starts when that job is seen finished. */
  const lineUpBehind = (aheadId: string) => {
    if (started >= run.tiles) return;
    const id = `job-${++started}`;
    tracker.follow(completions, {
      taskToken: Buffer.from(`${id} after ${aheadId}`),
      backend,
      jobId: aheadId,
      key: `${aheadId} then ${id}`,
      knownStatus: 'queued',
      untilEnd: true,
      polling: run.polling,
      history: [],
      heartbeatTimeoutMs: 60 * 60_000,
      resultOf: async (job) => {
        assert.equal(job.status, 'finished');
        startJob(id);
        return { handedOver: id };
      },
    });
  };
  const completions: WaitCompletions = {
    complete: async (token, result) => {
      if ((result as { handedOver?: string }).handedOver) return;
      const jobId = waits.get(Buffer.from(token).toString())!;
      const { status } = result as JobStatusReading;
      if (status === 'running') {
        clock.after(run.rewaitMs, () => wait(jobId, 'running'));
        return;
      }
      ended += 1;
      notices.push(clock.now() - jobs.get(jobId)!.endsAt);
      // The batch hands the slot on (a lined-up job was started already, when its end was seen).
      if (!run.lineUp) clock.after(handOver(), startNext);
    },
    fail: async () => assert.fail('no wait should fail'),
    reportCancellation: async () => assert.fail('no wait is cancelled'),
    heartbeat: async () => undefined,
  };

  // The batch starts its first tiles one after the other.
  for (let slot = 0; slot < run.slots; slot++) clock.after(slot * (run.startedApartMs ?? 100), startNext);
  const ideal = Math.ceil(run.tiles / run.slots) * run.runningMs;
  await clock.run(() => ended === run.tiles, 3 * ideal);
  assert.equal(ended, run.tiles, 'every job was seen to end');
  await tracker.release('simulation over');
  const descriptions = run.tiles - endReadAlone.size;
  return {
    requestsPerJob: (requests + descriptions) / run.tiles,
    noticeMs: notices.reduce((a, b) => a + b, 0) / notices.length,
    makespanMs: clock.now(),
  };
}
