/**
 * How many requests the job tracker spends per job, and how soon it sees each end, when several
 * jobs of one backend run side by side, replayed on a simulated clock (`tracker-simulation.ts`).
 * Deterministic, so the figures are exact and a loaded machine cannot move them.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { JobTracker, type JobLookups, type JobStatusReading, type WaitCompletions } from '../../activities/job-tracker';
import { SimulatedClock, simulate, type Run } from '../support/tracker-simulation';

/** The spec's default polling: what users get. */
const DEFAULT_POLLING = { initialIntervalMs: 1_000, maxIntervalMs: 60_000 };

/**
 * The bench's makespan runs at the default settings, lined up as batches line tiles up by default.
 * A tile costs 4 requests besides the tracker's (create, start, results, one asset): at most 2
 * per job here keeps it within the bench's 6 per tile. Every end is seen within a few tenths of
 * a second: a job with a lined-up job behind it is looked at once more just before its end when
 * the rounding of its progress leaves the end open by seconds, and its siblings' running times
 * pin the end down for the jobs after the first.
 */
const RUNS: { name: string; run: Run; maxNoticeMs: number }[] = [
  { name: '16 jobs of 10 s, 2 at a time', run: shape(16, 2, 10_000), maxNoticeMs: 200 },
  { name: '64 jobs of 5 s, 4 at a time', run: shape(64, 4, 5_000), maxNoticeMs: 150 },
  { name: '16 jobs of 60 s, 4 at a time', run: shape(16, 4, 60_000), maxNoticeMs: 300 },
  { name: '8 jobs of 10 minutes, 2 at a time', run: shape(8, 2, 600_000), maxNoticeMs: 500 },
];
const MAX_REQUESTS_PER_JOB = 2;
const MAX_RATIO = 1.03;

function shape(tiles: number, slots: number, runningMs: number): Run {
  return { tiles, slots, runningMs, polling: DEFAULT_POLLING, handOverMs: [150, 600], rewaitMs: 60, lineUp: true };
}

/** The makespan against a perfect scheduler's. */
function ratio(run: Run, makespanMs: number): number {
  return makespanMs / (Math.ceil(run.tiles / run.slots) * run.runningMs);
}

describe('the job tracker shares listings between the jobs it follows', () => {
  it('starts a lined-up job the moment the job ahead is seen finished, at no extra look', async () => {
    const run = RUNS[1].run;
    const handedOn = await simulate(run);
    // Each round costs only the notice (about 0.1 s), not the batch's hand-over of 150–600 ms.
    assert.ok(ratio(run, handedOn.makespanMs) <= MAX_RATIO, `makespan ${handedOn.makespanMs} ms`);
    const byBatch = await simulate({ ...run, lineUp: false });
    assert.ok(ratio(run, byBatch.makespanMs) > MAX_RATIO, `without lining up: ${byBatch.makespanMs} ms`);
    assert.ok(
      handedOn.requestsPerJob <= byBatch.requestsPerJob,
      `${handedOn.requestsPerJob} requests per job lined up, ${byBatch.requestsPerJob} without: the hand-overs' looks are the tiles' own`,
    );
  });

  for (const { name, run, maxNoticeMs } of RUNS) {
    it(`${name}, default settings: at most ${MAX_REQUESTS_PER_JOB} requests per job, every slot kept busy`, async () => {
      const figures = await simulate(run);
      assert.ok(figures.requestsPerJob <= MAX_REQUESTS_PER_JOB, `${figures.requestsPerJob} requests per job`);
      assert.ok(figures.noticeMs <= maxNoticeMs, `ends seen ${figures.noticeMs} ms late on average`);
      assert.ok(ratio(run, figures.makespanMs) <= MAX_RATIO, `makespan ${figures.makespanMs} ms`);
    });
  }

  it('costs at most a few looks more per job on a backend that does not say when a job started', async () => {
    for (const { run } of RUNS) {
      const told = await simulate(run);
      const untold = await simulate({ ...run, withoutUpdated: true });
      assert.ok(untold.requestsPerJob <= told.requestsPerJob + 2.5, `${untold.requestsPerJob} requests per job`);
      assert.ok(ratio(run, untold.makespanMs) <= MAX_RATIO, `makespan ${untold.makespanMs} ms`);
    }
  });

  it('reads jobs that end together one by one, so their downloads need no description of their own', async () => {
    const together = await simulate({ ...shape(2, 2, 10_000), lineUp: false, startedApartMs: 0 });
    // Two listings for both jobs' looks, then each end read alone: 4 requests for 2 jobs, where one
    // listing for both ends and a description for each download cost 5.
    assert.ok(together.requestsPerJob <= 2, `${together.requestsPerJob} requests per job`);
  });

  it('gathers the looks of jobs started a moment apart into one listing', async () => {
    // Two 10-minute jobs at a time, started 0.7 s apart: their first looks (1 s after each start)
    // are one listing, not two; looking at each on its own schedule cost 2.5 requests per job.
    const apart = await simulate({ ...shape(4, 2, 600_000), startedApartMs: 700 });
    assert.ok(apart.requestsPerJob <= 2.25, `${apart.requestsPerJob} requests per job`);
  });

  it('spends a look per job less once it has seen jobs of the backend from start to end', async () => {
    // One wave of 4 jobs teaches it nothing; the waves after it start from what the first ones took.
    const run = RUNS[2].run;
    const oneWave = await simulate({ ...run, tiles: 4 });
    const fourWaves = await simulate(run);
    assert.ok(
      fourWaves.requestsPerJob <= oneWave.requestsPerJob - 0.3,
      `${fourWaves.requestsPerJob} requests per job over four waves, ${oneWave.requestsPerJob} in the first`,
    );
  });
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
