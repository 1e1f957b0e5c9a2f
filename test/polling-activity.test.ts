/**
 * `waitForJobStatusChange` against the emulator over real HTTP, in a mocked activity context (no
 * Temporal server): how many requests a wait costs, how soon it sees the end, and that a retried
 * attempt picks up the observations its predecessor left in heartbeat details.
 */
import '../harness/quiet-logs';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createJobActivities, type JobRef } from '../activities/openeo-jobs';
import { observationsFrom, type PollObservation } from '../activities/polling';
import { OpenEOConnections } from '../core/openeo/connections';
import { startEmulator, type RunningEmulator } from '../tools/emulator';

const USER = { username: 'poller', password: 'poller-password' };
const RUNNING_MS = 3000;
const STATUS_ROUTE = 'GET /openeo/1.2/jobs/{job_id}';

describe('waitForJobStatusChange on the emulator', () => {
  let emulator: RunningEmulator;
  let activities: ReturnType<typeof createJobActivities>;
  const backend = { name: 'emu', url: '' };
  const statusTimes: { at: number; jobId: string }[] = [];

  before(async () => {
    emulator = await startEmulator({
      users: [USER],
      jobDurations: { queuedMs: 0, runningMs: RUNNING_MS },
      requestHook: {
        beforeRoute: ({ route, params }) => {
          if (route === STATUS_ROUTE) statusTimes.push({ at: Date.now(), jobId: params.job_id });
        },
      },
    });
    backend.url = emulator.url;
    activities = createJobActivities(new OpenEOConnections({ emu: { url: emulator.url, auth: { type: 'basic', ...USER } } }));
  });
  after(async () => emulator?.close());

  /** Runs one activity in a mocked context, typed (the mock's own signature loses the types). */
  function inActivity<I, O>(env: MockActivityEnvironment, fn: (input: I) => Promise<O>, input: I): Promise<O> {
    return env.run(fn, input) as Promise<O>;
  }

  /** A job that is running from now on. */
  async function runningJob(env: MockActivityEnvironment, title: string): Promise<JobRef> {
    const jobId = await inActivity(env, activities.createJob, {
      backend,
      jobTitle: title,
      processGraph: { load: { process_id: 'load_collection', arguments: { id: 'SENTINEL2_L2A' }, result: true } },
    });
    const started = await inActivity(env, activities.startJob, { backend, jobId });
    assert.equal(started.status, 'running');
    return { backend, jobId };
  }

  const statusRequests = () => Object.values(emulator.admin.stats().requests.byRoute[STATUS_ROUTE] ?? {}).reduce((a, b) => a + b, 0);

  it('sees a running job finish soon, with few requests, heartbeating its observations', async () => {
    const env = new MockActivityEnvironment();
    const heartbeats: unknown[] = [];
    env.on('heartbeat', (details: unknown) => heartbeats.push(details));
    const job = await runningJob(env, 'polled');
    emulator.admin.resetStats();

    const snapshot = await inActivity(env, activities.waitForJobStatusChange, { ...job, knownStatus: 'running', initialIntervalMs: 200, maxIntervalMs: 2000 });

    assert.equal(snapshot.status, 'finished');
    const finishedAt = Date.parse(emulator.admin.job(job.jobId)!.updated);
    const late = Date.now() - finishedAt;
    assert.ok(late <= 1000, `returned ${late} ms after the job finished`);
    // Polling every 200 ms would take 15 requests; following progress takes fewer.
    const requests = statusRequests();
    assert.ok(requests <= 10, `${requests} status requests`);
    const seen: PollObservation[] = observationsFrom(heartbeats[heartbeats.length - 1]);
    assert.ok(seen.length >= 2, 'heartbeats carry the observations so far');
    assert.ok(seen.every((o) => o.status === 'running' && typeof o.progress === 'number'));
  });

  it('continues from the rate an earlier attempt measured, instead of learning it again', async () => {
    const first = new MockActivityEnvironment();
    const job = await runningJob(first, 'retried');
    const runningSince = Date.now();
    await sleep(900);
    // What the first attempt saw before its worker died: the job's real, linear progress.
    const observations: PollObservation[] = [100, 400, 700].map((ms) => ({
      at: runningSince + ms,
      status: 'running',
      progress: (ms / RUNNING_MS) * 100,
    }));
    const retry = new MockActivityEnvironment({ attempt: 2, heartbeatDetails: { status: 'running', observations } });
    emulator.admin.resetStats();

    const snapshot = await inActivity(retry, activities.waitForJobStatusChange, { ...job, knownStatus: 'running', initialIntervalMs: 200, maxIntervalMs: 2000 });

    assert.equal(snapshot.status, 'finished');
    const late = Date.now() - Date.parse(emulator.admin.job(job.jobId)!.updated);
    assert.ok(late <= 1000, `returned ${late} ms after the job finished`);
    assert.ok(statusRequests() <= 6, `${statusRequests()} status requests`);
  });

  it('looks at once when an earlier attempt saw the change but could not report it', async () => {
    const first = new MockActivityEnvironment();
    const job = await runningJob(first, 'reported-late');
    const observations: PollObservation[] = [{ at: Date.now(), status: 'finished', progress: 100 }];
    const retry = new MockActivityEnvironment({ attempt: 2, heartbeatDetails: { status: 'finished', observations } });
    const t0 = Date.now();
    // The job is in fact still running: the retry trusts the backend, not the old details.
    await inActivity(retry, activities.waitForJobStatusChange, { ...job, knownStatus: 'running', initialIntervalMs: 2000, maxIntervalMs: 2000 });
    const firstLook = statusTimes.find((r) => r.jobId === job.jobId && r.at >= t0);
    assert.ok(firstLook && firstLook.at - t0 < 1000, 'the first look comes without the initial wait');
  });

  it('ignores heartbeat details it did not write', async () => {
    const env = new MockActivityEnvironment({ attempt: 3, heartbeatDetails: { status: 'running', progress: 50 } });
    const job = await runningJob(env, 'old-details');
    const snapshot = await inActivity(env, activities.waitForJobStatusChange, { ...job, knownStatus: 'running', initialIntervalMs: 300, maxIntervalMs: 1000 });
    assert.equal(snapshot.status, 'finished');
  });
});
