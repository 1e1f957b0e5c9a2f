/**
 * What takes hours or days on a wall clock, in test time: the package's workflows on Temporal's
 * time-skipping test server, with stubbed activities. Outages that last hours, jobs that queue and
 * run for days, phase limits that fire after hours: each test ends in seconds, and counts what the
 * workflow asked for (calls, timers) to show that it waited as long as it should, and no longer.
 *
 * The job tracker's polling inside the waiting activity is not here: it runs on the worker's clock
 * and is played on a simulated one in test/unit/polling.test.ts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import type { CreateJobInput, JobSnapshot, WaitInput } from '../../activities/openeo-jobs';
import type { TilePageInput } from '../../activities/tile-pages';
import { createTilePageActivities } from '../../activities/tile-pages';
import type { BatchSummary, OpenEOJobStatus, TileRecord } from '../../src/core/records';
import { checkSpecOffline } from '../../src/core/batch-spec/prepare';
import type { BatchSpecInput } from '../../src/core/batch-spec/schema';
import { batchProgress } from '../../workflows/messages';
import type { TileWorkflowInput } from '../../workflows/tile-input';
import {
  startTimeSkipping,
  stubActivities,
  stubbedWorker,
  timerDurationsMs,
  type StubActivities,
  type StubbedActivities,
} from '../support/time-skipping';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** `durably`'s pause after failed round n (src/core/batch-call-rounds.ts): 10 s·2ⁿ, at most 5 min. */
function roundPauses(failedRounds: number): number[] {
  return Array.from({ length: failedRounds }, (_, n) => Math.min(5 * MINUTE, 10 * SECOND * 2 ** n));
}

/**
 * Wall time also passes in test time (between a retry's timer firing and the stub reading the
 * clock): a few seconds of it on a loaded machine.
 */
const SLACK = 5 * SECOND;

/** Attempts in one round of a batch-level call (src/core/batch-call-rounds.ts). */
const ATTEMPTS_PER_ROUND = 3;

const BACKEND = { name: 'stub', url: 'http://stub.invalid' };

/** One tile's input, as a window would hand it over, with the spec's defaults. */
function tileInput(batchId: string, overrides: Partial<TileWorkflowInput> = {}): TileWorkflowInput {
  return {
    batchId,
    tile: {
      id: 'T1',
      geometry: {
        type: 'Polygon',
        coordinates: [
          [
            [4, 51],
            [4.1, 51],
            [4.1, 51.1],
            [4, 51.1],
            [4, 51],
          ],
        ],
      },
      properties: { index: 0, bbox: { west: 4, south: 51, east: 4.1, north: 51.1 }, crs: 'EPSG:4326' },
    },
    backend: BACKEND,
    process: { processId: 'bap_composite' },
    parameterDefaults: {},
    parameterMapping: {},
    outputDir: '/nonexistent/output',
    polling: { initialIntervalSeconds: 5, maxIntervalSeconds: 60 },
    timeouts: { heartbeatSeconds: 60, activitySeconds: 120, retryMaxIntervalSeconds: 120 },
    ...overrides,
  };
}

/** A download that writes nothing: the tile only needs to hear that its files are there. */
async function downloaded(input: { tileId: string }) {
  return { tileDir: `/nonexistent/output/${input.tileId}`, files: ['result.tif'], bytes: 1 };
}

/**
 * A backend's jobs as a function of test time, behind a stubbed `waitForJobStatusChange`: a check
 * that finds the status the tile knows fails, retryably, so the server's retry backoff (up to the
 * batch's retryMaxIntervalSeconds) spaces the checks. A stub cannot hold its call open instead:
 * the test server stops its clock while any activity is in flight.
 */
function statusOverTime(clock: () => Promise<number>, statusAt: (t: number, jobId: string) => OpenEOJobStatus) {
  const checks: number[] = [];
  const answers: OpenEOJobStatus[] = [];
  const answeredAt: number[] = [];
  return {
    checks,
    /** The statuses checks returned (each a change the workflow hears of). */
    answers,
    answeredAt,
    longestGap: () => Math.max(...checks.slice(1).map((t, i) => t - checks[i])),
    async check(input: WaitInput): Promise<JobSnapshot> {
      const at = await clock();
      checks.push(at);
      const status = statusAt(at, input.jobId);
      if (status === input.knownStatus)
        throw ApplicationFailure.retryable(`job ${input.jobId} is still ${status}`, 'JobUnchanged');
      answers.push(status);
      answeredAt.push(at);
      return { status };
    },
  };
}

let queues = 0;

describe('time that can be skipped is skipped (time-skipping test server, stubbed activities)', () => {
  let env: TestWorkflowEnvironment;
  /** The test server's clock: test time, which jumps whenever every workflow waits. */
  const now = () => env.currentTimeMs();

  before(async () => {
    env = await startTimeSkipping();
  });
  after(async () => env?.teardown());

  /** Runs `body` with a worker of the package's workflows and these stubs on a queue of its own. */
  async function withWorker<T>(
    stubs: StubActivities,
    body: (taskQueue: string, stubbed: StubbedActivities) => Promise<T>,
  ): Promise<T> {
    const taskQueue = `time-skipping-${++queues}`;
    const stubbed = stubActivities(stubs);
    const worker: Worker = await stubbedWorker(env, taskQueue, stubbed.activities);
    const result = await worker.runUntil(body(taskQueue, stubbed));
    assert.deepEqual(stubbed.unexpected, [], 'the workflow called only the activities the test stubbed');
    return result;
  }

  it('a batch whose spec check fails for 3 hours, then its tile pages for 2 more, waits in rounds of 10 s·2ⁿ (at most 5 min), shows why, and then runs', async () => {
    const start = await now();
    const specOutageEnds = start + 3 * HOUR;
    const pagesOutageEnds = start + 5 * HOUR;
    const prepareCalls: number[] = [];
    const pageCalls: number[] = [];
    const pages = createTilePageActivities();
    const spec: BatchSpecInput = {
      backends: [{ ...BACKEND, parallelJobs: 2 }],
      process: { processId: 'bap_composite' },
      parameterDefaults: { temporal_extent: ['2024-06-01', '2024-09-01'] },
      tiles: { aoi: { west: 590000, south: 5660000, east: 600000, north: 5665000, crs: 'EPSG:32631' }, tileSize: 5000 },
      outputDir: '/nonexistent/output',
      scheduling: { lineUpJobs: false },
    };
    let jobs = 0;
    const saves: boolean[] = [];
    await withWorker(
      {
        prepareBatch: async (input: unknown) => {
          prepareCalls.push(await now());
          if (prepareCalls.at(-1)! < specOutageEnds)
            throw ApplicationFailure.retryable('tile source unreachable', 'SourceUnavailable');
          return checkSpecOffline(input);
        },
        listTiles: async (input: TilePageInput) => {
          pageCalls.push(await now());
          if (pageCalls.at(-1)! < pagesOutageEnds)
            throw ApplicationFailure.retryable('tile page unreachable', 'SourceUnavailable');
          return pages.listTiles(input);
        },
        submitJob: async () => ({ jobId: `job-${++jobs}`, job: { status: 'queued' } }),
        waitForJobStatusChange: async () => ({ status: 'finished' }),
        downloadResults: downloaded,
        sweepDuplicateJobs: async () => ({ listed: jobs, deleted: [] }),
        saveBatchRecords: async (input: { complete: boolean }) => {
          saves.push(input.complete);
          return { location: '/nonexistent/output/outage/job-database.json.gz', tiles: 2 };
        },
      },
      async (taskQueue) => {
        const handle = await env.client.workflow.start('batchWorkflow', {
          taskQueue,
          workflowId: 'outage',
          args: [spec],
        });
        await env.sleep(HOUR);
        const checking = await handle.query(batchProgress);
        await env.sleep(3 * HOUR);
        const reading = await handle.query(batchProgress);
        const summary: BatchSummary = await handle.result();
        const ended = await handle.query(batchProgress);

        assert.match(
          checking.problem ?? '',
          /^tile source unreachable; trying again$/,
          'an hour in, the progress says why the batch waits',
        );
        assert.match(
          reading.problem ?? '',
          /^reading tiles: tile page unreachable; trying again$/,
          'four hours in, the progress says why no tile has started',
        );
        assert.equal(reading.counts.finished + reading.inFlight.length, 0);
        assert.equal(ended.problem, undefined, 'the problem is gone once the calls work again');
        assert.equal(summary.counts.finished, 2);
        assert.equal(jobs, 2);
        // Its window started 2 hours before its first tile ended: past the hour between checkpoints.
        assert.deepEqual(saves, [false, true], 'a checkpoint of its records as a tile ended, then the last save');
      },
    );

    const failedPrepares = prepareCalls.filter((t) => t < specOutageEnds).length;
    const failedPages = pageCalls.filter((t) => t < pagesOutageEnds).length;
    // A round gives up after its three attempts; the outage may end during the last round's retries.
    const failedRounds = (failedCalls: number) => Math.floor(failedCalls / ATTEMPTS_PER_ROUND);
    // Each durably() starts again at 10 s; these are the batch workflow's only timers.
    const pauses = [...roundPauses(failedRounds(failedPrepares)), ...roundPauses(failedRounds(failedPages))];
    assert.deepEqual(await timerDurationsMs(env, 'outage'), pauses);
    // 3 h of rounds 5 min apart (plus the first few, shorter), not a handful of long waits nor thousands of short ones.
    assert.ok(
      failedRounds(failedPrepares) >= 30 && failedRounds(failedPrepares) <= 40,
      `${failedRounds(failedPrepares)} rounds in 3 h`,
    );
    // The cap shows: the first call after each outage comes at most one pause (and a round's 6 s of retries) after its end.
    const firstWorking = (calls: number[], end: number) => calls.find((t) => t >= end)! - end;
    assert.ok(firstWorking(prepareCalls, specOutageEnds) <= 5 * MINUTE + 15 * SECOND);
    assert.ok(firstWorking(pageCalls, pagesOutageEnds) <= 5 * MINUTE + 15 * SECOND);
  });

  it('a tile whose status checks fail for 10 hours keeps its one job, retries them at most retryMaxIntervalSeconds apart, and finishes', async () => {
    const start = await now();
    const outageEnds = start + 10 * HOUR;
    const checks: number[] = [];
    const record: TileRecord = await withWorker(
      {
        submitJob: async (create: CreateJobInput) => ({
          jobId: `job-for-${create.jobTitle}`,
          job: { status: 'queued' },
        }),
        waitForJobStatusChange: async (): Promise<JobSnapshot> => {
          checks.push(await now());
          if (checks.at(-1)! < outageEnds)
            throw ApplicationFailure.retryable('backend answers 503', 'BackendUnavailable');
          return { status: 'finished' };
        },
        downloadResults: downloaded,
      },
      async (taskQueue, { calls }) => {
        const input = tileInput('checks-fail', {
          timeouts: { heartbeatSeconds: 60, activitySeconds: 120, retryMaxIntervalSeconds: 600 },
        });
        const result = await env.client.workflow.execute('tileWorkflow', {
          taskQueue,
          workflowId: 'checks-fail/tile-T1',
          args: [input],
        });
        assert.equal(calls.submitJob, 1, 'no second job while its status cannot be read');
        assert.equal(calls.cancelJob, undefined);
        return result;
      },
    );
    assert.equal(record.status, 'finished');
    assert.equal(record.attempts, 1);
    assert.equal(record.openeoJobId, 'job-for-checks-fail/T1 attempt 1');

    const gaps = checks.slice(1).map((t, i) => t - checks[i]);
    // From 2 s doubling to 10 min, then every 10 min: about 70 checks in 10 h (the default 2 min would make ~300).
    assert.ok(checks.length >= 60 && checks.length <= 75, `${checks.length} status checks in 10 h`);
    assert.ok(Math.max(...gaps) <= 600 * SECOND + SLACK, 'never longer apart than retryMaxIntervalSeconds');
    assert.ok(
      gaps.slice(-10).every((gap) => gap >= 600 * SECOND),
      'backed off to retryMaxIntervalSeconds, not hammering the backend',
    );
    assert.ok(checks.at(-1)! - outageEnds <= 600 * SECOND + SLACK, 'the first check after the outage works');
  });

  it('a job that queues for 2 days and runs for 3 finishes inside its phase limits, its status checked at most an hour apart', async () => {
    let createdAt = 0;
    const job = statusOverTime(now, (t) =>
      t < createdAt + 2 * DAY ? 'queued' : t < createdAt + 5 * DAY ? 'running' : 'finished',
    );
    const timeouts = {
      maxQueuedSeconds: (3 * DAY) / SECOND,
      cancelRunningJobAfterSeconds: (4 * DAY) / SECOND,
      heartbeatSeconds: 60,
      activitySeconds: 120,
      retryMaxIntervalSeconds: HOUR / SECOND,
    };
    const workflowId = 'long-job/tile-T1';
    const record: TileRecord = await withWorker(
      {
        submitJob: async () => {
          createdAt = await now();
          return { jobId: 'long-job-1', job: { status: 'queued' } };
        },
        waitForJobStatusChange: (input: WaitInput) => job.check(input),
        downloadResults: downloaded,
      },
      async (taskQueue, { calls }) => {
        const result: TileRecord = await env.client.workflow.execute('tileWorkflow', {
          taskQueue,
          workflowId,
          args: [tileInput('long-job', { timeouts })],
        });
        assert.equal(calls.submitJob, 1);
        assert.equal(calls.cancelJob, undefined, 'no limit was reached');
        return result;
      },
    );
    assert.equal(record.status, 'finished');
    assert.equal(record.attempts, 1);
    assert.deepEqual(job.answers, ['running', 'finished'], 'the workflow heard of each status change once');
    // Each phase checked from 2 s on, doubling, then hourly: about 140 checks in 5 days (at the default 2 min, 3,600).
    assert.ok(job.checks.length >= 130 && job.checks.length <= 150, `${job.checks.length} status checks in 5 days`);
    assert.ok(job.longestGap() <= HOUR + SLACK);
    assert.ok(job.checks.at(-1)! - (createdAt + 5 * DAY) <= HOUR + SLACK, 'the end is seen within one interval');
    // A phase's limit is a timer beside its wait: the queue's 3 days (less what passed since the create), the run's 4.
    const timers = await timerDurationsMs(env, workflowId);
    assert.equal(timers.length, 2);
    assert.ok(timers[0] <= 3 * DAY && timers[0] > 3 * DAY - MINUTE, `queue limit timer ${timers[0]} ms`);
    assert.ok(timers[1] <= 4 * DAY && timers[1] > 4 * DAY - MINUTE, `run limit timer ${timers[1]} ms`);
  });

  it('a job stuck in the queue is cancelled after maxQueuedSeconds, and its resubmitted job after cancelRunningJobAfterSeconds', async () => {
    const submits: { title: string; at: number }[] = [];
    const cancels: { jobId: string; at: number }[] = [];
    // The first job never leaves the queue; the second runs at once and never ends.
    const jobs = statusOverTime(now, (_t, jobId) => (jobId === 'job-1' ? 'queued' : 'running'));
    const timeouts = {
      maxQueuedSeconds: (6 * HOUR) / SECOND,
      cancelRunningJobAfterSeconds: (8 * HOUR) / SECOND,
      heartbeatSeconds: 60,
      activitySeconds: 120,
      retryMaxIntervalSeconds: 1800,
    };
    const record: TileRecord = await withWorker(
      {
        submitJob: async (create: CreateJobInput) => {
          submits.push({ title: create.jobTitle, at: await now() });
          return { jobId: `job-${submits.length}`, job: { status: 'queued' } };
        },
        waitForJobStatusChange: (input: WaitInput) => jobs.check(input),
        cancelJob: async (input: { jobId: string }) => {
          cancels.push({ jobId: input.jobId, at: await now() });
          return { status: 'canceled', cancelTaken: true };
        },
      },
      (taskQueue) =>
        env.client.workflow.execute('tileWorkflow', {
          taskQueue,
          workflowId: 'stuck/tile-T1',
          args: [tileInput('stuck', { timeouts, maxAttempts: 2 })],
        }),
    );
    assert.deepEqual(
      submits.map((s) => s.title),
      ['stuck/T1 attempt 1', 'stuck/T1 attempt 2'],
    );
    assert.deepEqual(
      cancels.map((c) => c.jobId),
      ['job-1', 'job-2'],
    );
    assert.deepEqual(jobs.answers, ['running'], 'the second job was seen running');
    const runningSeenAt = jobs.answeredAt[0];
    const near = (actual: number, expected: number) => Math.abs(actual - expected) < MINUTE;
    assert.ok(
      near(cancels[0].at - submits[0].at, 6 * HOUR),
      `first job cancelled after ${(cancels[0].at - submits[0].at) / HOUR} h queued`,
    );
    assert.ok(
      near(cancels[1].at - runningSeenAt, 8 * HOUR),
      `second job cancelled after ${(cancels[1].at - runningSeenAt) / HOUR} h running`,
    );
    assert.equal(record.status, 'error');
    assert.equal(record.attempts, 2);
    assert.equal(record.error?.code, 'JobRanTooLong');
  });
});
