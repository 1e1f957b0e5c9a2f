/**
 * The job tracker against the emulator over real HTTP, without a Temporal server: the waits it
 * follows are completed into a recorder standing in for the client's async completion API. How
 * many requests a wait costs, how soon it sees the end, that one listing serves several due
 * jobs, that a retried wait picks up its predecessor's observations, and that cancelled or
 * hopeless waits are let go.
 */
import '../harness/quiet-logs';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ActivityCancelledError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { JobTracker, type WaitCompletions } from '../../activities/job-tracker';
import { EndedJobDescriptions } from '../../activities/ended-jobs';
import type { JobDescription } from '../../activities/job-requests';
import { createJobActivities, trackerLookups, type JobRef, type JobSnapshot } from '../../activities/openeo-jobs';
import { observationsFrom, type PollObservation } from '../../activities/polling';
import { OpenEOConnections } from '../../src/core/openeo/connections';
import type { OpenEOJobStatus } from '../../src/core/records';
import { startEmulator, type RunningEmulator } from '../../src/tools/emulator';

const USER = { username: 'tracked', password: 'tracked-password' };
const RUNNING_MS = 3000;
const STATUS_ROUTE = 'GET /openeo/1.2/jobs/{job_id}';
const LIST_ROUTE = 'GET /openeo/1.2/jobs';

/** Records what the tracker does with each wait, as the Temporal server would receive it. */
class Recorder implements WaitCompletions {
  readonly heartbeats: { token: string; details: unknown }[] = [];
  readonly cancelled: string[] = [];
  private readonly settled = new Map<string, { resolve: (outcome: Outcome) => void; promise: Promise<Outcome> }>();
  /** Set to make heartbeats answer that the wait was cancelled. */
  cancelRequested = false;

  outcome(token: Uint8Array): Promise<Outcome> {
    return this.entry(Buffer.from(token).toString('hex')).promise;
  }
  private entry(key: string) {
    let entry = this.settled.get(key);
    if (!entry) {
      let resolve!: (outcome: Outcome) => void;
      const promise = new Promise<Outcome>((r) => (resolve = r));
      entry = { resolve, promise };
      this.settled.set(key, entry);
    }
    return entry;
  }
  async complete(token: Uint8Array, result: unknown): Promise<void> {
    this.entry(Buffer.from(token).toString('hex')).resolve({ result: result as JobSnapshot, at: Date.now() });
  }
  async fail(token: Uint8Array, err: unknown): Promise<void> {
    this.entry(Buffer.from(token).toString('hex')).resolve({ error: err as Error, at: Date.now() });
  }
  async reportCancellation(token: Uint8Array): Promise<void> {
    this.cancelled.push(Buffer.from(token).toString('hex'));
  }
  async heartbeat(token: Uint8Array, details?: unknown): Promise<void> {
    if (this.cancelRequested) throw new ActivityCancelledError('cancelled');
    this.heartbeats.push({ token: Buffer.from(token).toString('hex'), details });
  }
}

type Outcome = { result?: JobSnapshot; error?: Error; at: number };

let tokens = 0;
const newToken = () => Buffer.from(`wait-${++tokens}`);

describe('the job tracker on the emulator', () => {
  let emulator: RunningEmulator;
  let connections: OpenEOConnections;
  let activities: ReturnType<typeof createJobActivities>;
  const backend = { name: 'emu', url: '' };
  const statusTimes: { at: number; jobId: string }[] = [];

  before(async () => {
    emulator = await startEmulator({
      users: [USER],
      jobDurations: { queuedMs: 0, runningMs: RUNNING_MS },
      // Several jobs run at once here (the listing test), none of them waits in a queue.
      maxRunningJobsPerUser: 10,
      requestHook: {
        beforeRoute: ({ route, params }) => {
          if (route === STATUS_ROUTE) statusTimes.push({ at: Date.now(), jobId: params.job_id });
        },
      },
    });
    backend.url = emulator.url;
    connections = new OpenEOConnections({ emu: { url: emulator.url, auth: { type: 'basic', ...USER } } });
    activities = createJobActivities(connections);
  });
  after(async () => emulator?.close());

  /** A job that is running from now on (created and started by the project's own activities). */
  async function runningJob(title: string): Promise<JobRef> {
    const env = new MockActivityEnvironment();
    const jobId = (await env.run(activities.createJob, {
      backend,
      jobTitle: title,
      processGraph: { load: { process_id: 'load_collection', arguments: { id: 'SENTINEL2_L2A' }, result: true } },
    })) as string;
    const started = (await env.run(activities.startJob, { backend, jobId })) as JobSnapshot;
    assert.equal(started.status, 'running');
    return { backend, jobId };
  }

  const count = (route: string) =>
    Object.values(emulator.admin.stats().requests.byRoute[route] ?? {}).reduce((a, b) => a + b, 0);
  const tracker = (options: ConstructorParameters<typeof JobTracker>[1] = {}) =>
    new JobTracker(trackerLookups(connections), options);
  const follow = (
    t: JobTracker,
    sink: Recorder,
    job: JobRef,
    extra: {
      knownStatus?: OpenEOJobStatus;
      initialIntervalMs?: number;
      maxIntervalMs?: number;
      history?: PollObservation[];
    } = {},
  ) => {
    const taskToken = newToken();
    t.follow(sink, {
      taskToken,
      ...job,
      knownStatus: extra.knownStatus ?? 'running',
      polling: { initialIntervalMs: extra.initialIntervalMs ?? 200, maxIntervalMs: extra.maxIntervalMs ?? 2000 },
      history: extra.history ?? [],
      heartbeatTimeoutMs: 3000,
      resultOf: (reading) => ({ status: reading.status }),
    });
    return sink.outcome(taskToken);
  };

  it('sees a running job finish soon, with few requests, heartbeating its observations', async () => {
    const sink = new Recorder();
    const job = await runningJob('followed');
    emulator.admin.resetStats();
    const outcome = await follow(tracker({ maxHeartbeatIntervalMs: 1000 }), sink, job);
    assert.equal(outcome.result?.status, 'finished');
    // Polling every 200 ms would take 15 requests; following progress takes fewer.
    assert.ok(count(STATUS_ROUTE) <= 10, `${count(STATUS_ROUTE)} status requests`);
    const seen = observationsFrom(sink.heartbeats[sink.heartbeats.length - 1]?.details);
    assert.ok(seen.length >= 1, 'heartbeats carry the observations so far');
    assert.ok(seen.every((o) => o.status === 'running' && typeof o.progress === 'number'));
  });

  it('reads several due jobs with one listing, and each end alone with the description its download needs', async () => {
    const sink = new Recorder();
    const jobs = await Promise.all(['a', 'b', 'c', 'd'].map((name) => runningJob(`listed-${name}`)));
    emulator.admin.resetStats();
    const ended = new EndedJobDescriptions<JobDescription>();
    const t = new JobTracker(trackerLookups(connections, ended));
    const outcomes = await Promise.all(jobs.map((job) => follow(t, sink, job)));
    assert.deepEqual(
      outcomes.map((o) => o.result?.status),
      ['finished', 'finished', 'finished', 'finished'],
    );
    const [listings, singles] = [count(LIST_ROUTE), count(STATUS_ROUTE)];
    assert.ok(listings >= 1, 'the looks before the ends read the jobs with a listing');
    // A look aimed at an end reads that job alone: one request, as a listing would be, and its
    // description serves the download, which would read it otherwise.
    assert.ok(singles <= jobs.length, `${singles} GET /jobs/{id} for ${jobs.length} jobs (and ${listings} listings)`);
    // Every download reads a description unless the tracker kept the one its last look read.
    const kept = jobs.filter((job) => ended.take(backend, job.jobId)?.status === 'finished').length;
    const requests = listings + singles + (jobs.length - kept);
    assert.ok(
      requests <= 2 * jobs.length,
      `${requests} requests for ${jobs.length} jobs: ${listings} listings, ${singles} alone, ${jobs.length - kept} descriptions`,
    );
    assert.equal(t.following, 0, 'nothing is followed once every wait is completed');
  });

  it("keeps a finished job's description it read, once, for the download that follows", async () => {
    const job = await runningJob('described');
    const ended = new EndedJobDescriptions<JobDescription>();
    emulator.admin.resetStats();
    const outcome = await follow(new JobTracker(trackerLookups(connections, ended)), new Recorder(), job);
    assert.equal(outcome.result?.status, 'finished');
    const description = ended.take(backend, job.jobId);
    assert.equal(description?.status, 'finished', 'the last look, GET /jobs/{id}, is kept');
    assert.equal(description?.id, job.jobId);
    assert.equal(ended.take(backend, job.jobId), undefined, 'a retried download reads it anew');
    assert.equal(ended.take({ ...backend, name: 'other' }, job.jobId), undefined);
  });

  it('continues from the rate an earlier attempt measured, instead of learning it again', async () => {
    const job = await runningJob('retried');
    const runningSince = Date.now();
    await sleep(900);
    // What the first attempt saw before its worker died: the job's real, linear progress.
    const history: PollObservation[] = [100, 400, 700].map((ms) => ({
      at: runningSince + ms,
      status: 'running',
      progress: (ms / RUNNING_MS) * 100,
    }));
    emulator.admin.resetStats();
    const outcome = await follow(tracker(), new Recorder(), job, { history });
    assert.equal(outcome.result?.status, 'finished');
    assert.ok(count(STATUS_ROUTE) <= 6, `${count(STATUS_ROUTE)} status requests`);
  });

  it("goes on from what a job's previous wait saw, when the tile waits on the same job again", async () => {
    const job = await runningJob('waited-twice');
    const t = tracker({ maxHeartbeatIntervalMs: 1000 });
    const sink = new Recorder();
    // The tile thought the job queued: the first look sees it running and completes that wait.
    const first = await follow(t, sink, job, { knownStatus: 'queued' });
    assert.equal(first.result?.status, 'running');
    const secondFrom = Date.now();
    const next = new Recorder();
    const second = follow(t, next, job);
    // Its first heartbeat carries the observation the previous wait made.
    const carried = () => next.heartbeats.some((h) => observationsFrom(h.details).some((o) => o.at < secondFrom));
    for (const deadline = Date.now() + 5000; Date.now() < deadline && !carried();) await sleep(100);
    assert.ok(carried(), "the second wait heartbeats the first wait's observation");
    assert.equal((await second).result?.status, 'finished');
  });

  it('looks at once when an earlier attempt saw the change but could not report it', async () => {
    const job = await runningJob('reported-late');
    const t0 = Date.now();
    // The job is in fact still running: the tracker trusts the backend, not the old details.
    const outcome = await follow(tracker(), new Recorder(), job, {
      initialIntervalMs: 2000,
      history: [{ at: t0, status: 'finished', progress: 100 }],
    });
    assert.equal(outcome.result?.status, 'finished');
    const firstLook = statusTimes.find((r) => r.jobId === job.jobId && r.at >= t0);
    assert.ok(firstLook && firstLook.at - t0 < 1000, 'the first look comes without the initial wait');
  });

  it('fails the wait of a job the backend does not know, without retrying', async () => {
    const outcome = await follow(tracker(), new Recorder(), { backend, jobId: 'no-such-job' });
    assert.ok(outcome.error instanceof ApplicationFailure, String(outcome.error));
    assert.equal(outcome.error.nonRetryable, true);
    assert.match(outcome.error.message, /no-such-job|JobNotFound/);
  });

  it('lets a cancelled wait go, telling the server', async () => {
    const job = await runningJob('cancelled');
    const sink = new Recorder();
    sink.cancelRequested = true;
    const t = tracker({ maxHeartbeatIntervalMs: 1000 });
    void follow(t, sink, job, { initialIntervalMs: 5000, maxIntervalMs: 5000 });
    for (let i = 0; i < 50 && sink.cancelled.length === 0; i++) await sleep(100);
    assert.equal(sink.cancelled.length, 1, 'the cancellation is reported');
    assert.equal(t.following, 0);
  });

  it('ignores heartbeat details it did not write', () => {
    assert.deepEqual(observationsFrom({ status: 'running', progress: 50 }), []);
    assert.deepEqual(
      observationsFrom({
        observations: [
          { at: 2, status: 'running' },
          { at: 1, status: 'running' },
        ],
      }),
      [],
      'times out of order',
    );
  });
});
