/**
 * How many requests the job tracker spends per job when several jobs of one backend run side by
 * side, replayed on a simulated clock: a backend with a fixed number of slots, jobs of a fixed
 * duration with linear progress (as the emulator reports it), and a stand-in for the batch that
 * starts the next job a moment after one ends. Deterministic, so the figures are exact, and a
 * loaded machine cannot move them.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import {
  JobTracker,
  type JobLookups,
  type JobStatusReading,
  type TrackerClock,
  type WaitCompletions,
} from '../../activities/job-tracker';
import type { OpenEOJobStatus } from '../../src/core/records';

/** Timers on a simulated clock, fired in time order by `run`. */
class SimulatedClock implements TrackerClock {
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

interface Run {
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
}

interface Figures {
  /** The tracker's looks, and the description each download reads unless the tracker's last look did. */
  requestsPerJob: number;
  /** Mean ms from a job's end to the tracker completing its wait. */
  noticeMs: number;
  makespanMs: number;
}

/** Runs `run.tiles` jobs through one tracker and counts what it asked the backend. */
async function simulate(run: Run): Promise<Figures> {
  const clock = new SimulatedClock();
  const jobs = new Map<string, { startedAt: number; endsAt: number }>();
  let requests = 0;
  /** Jobs whose end a look at them alone saw: their description is the download's (`EndedJobDescriptions`). */
  const endReadAlone = new Set<string>();
  const reading = (id: string): JobStatusReading => {
    const job = jobs.get(id)!;
    const now = clock.now();
    if (now >= job.endsAt) return { id, status: 'finished', progress: 100 };
    // As the emulator: linear, a tenth of a percent, never 100 while running.
    return {
      id,
      status: 'running',
      progress: Math.min(99, Math.round(((now - job.startedAt) / run.runningMs) * 1000) / 10),
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
  for (let slot = 0; slot < run.slots; slot++) clock.after(slot * 100, startNext);
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

/*
 * The bounds below are what this tracker does, with a little room. Before a look aimed at one
 * job's end read that job alone (and a job read again by another job's listing just before its
 * end counted as overdue), the same runs cost 2.8 and 2.5 requests per job, and the 64-job run
 * saw its ends 163 ms late on average.
 */
/** A run, and the most requests per job it may cost; its ends must be seen within 0.1 s on average. */
const RUNS: { name: string; run: Run; maxRequestsPerJob: number }[] = [
  {
    name: '64 jobs of 5 s, 4 at a time, looks from 0.5 s: about two requests per job, ends seen within 0.1 s',
    run: {
      tiles: 64,
      slots: 4,
      runningMs: 5_000,
      polling: { initialIntervalMs: 500, maxIntervalMs: 5_000 },
      handOverMs: [150, 600],
      rewaitMs: 60,
    },
    maxRequestsPerJob: 2.2,
  },
  {
    name: '16 jobs of 10 s, 2 at a time, default polling: two requests per job, ends seen within 0.1 s',
    run: {
      tiles: 16,
      slots: 2,
      runningMs: 10_000,
      polling: { initialIntervalMs: 5_000, maxIntervalMs: 60_000 },
      handOverMs: [150, 600],
      rewaitMs: 60,
    },
    maxRequestsPerJob: 2,
  },
];

describe('the job tracker shares listings between the jobs it follows', () => {
  it('starts a lined-up job the moment the job ahead is seen finished, at no extra look', async () => {
    const run = RUNS[0].run;
    const handedOn = await simulate({ ...run, lineUp: true });
    const ideal = (run.tiles / run.slots) * run.runningMs;
    // Each round costs only the notice (under 0.1 s), not the batch's hand-over of 150–600 ms.
    assert.ok(handedOn.makespanMs <= ideal * 1.03, `makespan ${handedOn.makespanMs} ms for an ideal of ${ideal} ms`);
    assert.ok(
      handedOn.requestsPerJob <= RUNS[0].maxRequestsPerJob,
      `${handedOn.requestsPerJob} requests per job: the hand-overs' looks are the tiles' own`,
    );
    const byBatch = await simulate(run);
    assert.ok(byBatch.makespanMs > ideal * 1.03, `without lining up the same run takes ${byBatch.makespanMs} ms`);
  });

  for (const { name, run, maxRequestsPerJob } of RUNS) {
    it(name, async () => {
      const figures = await simulate(run);
      assert.ok(figures.requestsPerJob <= maxRequestsPerJob, `${figures.requestsPerJob} requests per job`);
      // Sharing must not cost the end: a job's end is seen soon after it.
      assert.ok(figures.noticeMs <= 100, `ends seen ${figures.noticeMs} ms late on average`);
    });
  }
});

describe('what the job tracker logs while the worker cannot log in to a backend', () => {
  const backend = { name: 'simulated', url: 'http://simulated' };
  const reason =
    'could not log in to backend "simulated": the provider refused the refresh token; log in again: run `openeo-temporal login simulated`';
  // What the token source says from the second look on: other words, the same lost login.
  const later =
    'could not log in to backend "simulated": the provider refused the stored refresh token (expired or revoked); log in again';

  /**
   * Two jobs, one with a hand-over waiting beside its tile's wait, on a backend whose login fails
   * for a minute (as `callOpenEO` reports it: a retryable `BackendLoginFailed`), then works.
   */
  async function loginLostForAMinute(listFrom: number): Promise<{ lines: string[]; looks: number }> {
    const clock = new SimulatedClock();
    let loginWorks = false;
    let looks = 0;
    const reading = (id: string): JobStatusReading => {
      looks += 1;
      if (!loginWorks)
        throw ApplicationFailure.create({
          message: looks === 1 ? reason : later,
          type: 'BackendLoginFailed',
          nextRetryDelay: 300_000,
        });
      return { id, status: 'finished' };
    };
    const lookups: JobLookups = {
      one: async (_backend, id) => reading(id),
      list: async () => new Map(['job-1', 'job-2'].map((id) => [id, reading(id)])),
    };
    const lines: string[] = [];
    const tracker = new JobTracker(lookups, { clock, listFrom, log: (line) => lines.push(line) });
    let completed = 0;
    const completions: WaitCompletions = {
      complete: async () => void (completed += 1),
      fail: async () => assert.fail('no wait should fail: they wait for the login'),
      reportCancellation: async () => undefined,
      heartbeat: async () => undefined,
    };
    const follow = (jobId: string, key?: string) =>
      tracker.follow(completions, {
        taskToken: Buffer.from(key ?? jobId),
        backend,
        jobId,
        ...(key ? { key, untilEnd: true } : {}),
        knownStatus: 'running',
        polling: { initialIntervalMs: 1_000, maxIntervalMs: 5_000 },
        history: [],
        heartbeatTimeoutMs: 60 * 60_000,
        resultOf: (job) => job,
      });
    follow('job-1');
    follow('job-1', 'job-1 then job-3');
    follow('job-2');
    clock.after(60_000, () => (loginWorks = true));
    await clock.run(() => completed === 3, 120_000);
    assert.equal(completed, 3, 'every wait ends once the login works');
    return { lines, looks };
  }

  for (const [how, listFrom] of [
    ['read job by job', 10],
    ['read by listings', 2],
  ] as const) {
    it(`says it once for the backend, and once that the login works again (${how})`, async () => {
      const { lines, looks } = await loginLostForAMinute(listFrom);
      assert.ok(looks >= 10, `the tracker kept looking (${looks} looks)`);
      assert.deepEqual(lines, [
        `backend simulated: ${reason}; its 2 followed jobs are looked at again, further apart up to polling.maxIntervalSeconds, until the login works`,
        'backend simulated: the worker can log in again; its followed jobs go on',
      ]);
    });
  }
});
