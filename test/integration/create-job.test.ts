/**
 * The createJob and submitJob activities against the emulator over HTTP: a retried create finds
 * the job an earlier attempt made, and when a late create lands beside its own, only one job
 * remains; a submit starts its job once, and a refused start still names the job it made; a
 * cancelled tile's job that never started is deleted; an attempt Temporal gave up on starts nothing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createJobActivities, type CancelledJob, type SubmittedJob } from '../../activities/openeo-jobs';
import { OpenEOConnections } from '../../src/core/openeo/connections';
import { ManualClock, startEmulator, type RunningEmulator } from '../../src/tools/emulator';
import type { RequestHookContext, RequestHookOutcome } from '../../src/tools/emulator/hooks';
import { EMULATOR_USER } from '../support/harness';

const graph = { load: { process_id: 'load_collection', arguments: { id: 'SENTINEL2_L2A' }, result: true } };

/** An activity attempt scheduled just now, with a 2-minute start-to-close timeout. */
function attemptNow(attempt = 1): MockActivityEnvironment {
  const now = Date.now();
  return new MockActivityEnvironment({
    attempt,
    scheduledTimestampMs: now,
    currentAttemptScheduledTimestampMs: now,
    startToCloseTimeoutMs: 120_000,
  });
}

/** Creates a job over raw HTTP, as a create request that arrived late would. */
async function createDirectly(emulator: RunningEmulator, title: string): Promise<string> {
  const login = await fetch(`${emulator.url}/openeo/1.2/credentials/basic`, {
    headers: {
      Authorization: `Basic ${Buffer.from(`${EMULATOR_USER.username}:${EMULATOR_USER.password}`).toString('base64')}`,
    },
  });
  const { access_token: token } = (await login.json()) as { access_token: string };
  const created = await fetch(`${emulator.url}/openeo/1.2/jobs`, {
    method: 'POST',
    headers: { Authorization: `Bearer basic//${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ title, process: { process_graph: graph } }),
  });
  assert.equal(created.status, 201);
  return created.headers.get('openeo-identifier')!;
}

describe('createJob never leaves two jobs for one tile attempt', () => {
  let emulator: RunningEmulator;
  let lateJob: string | undefined;
  let injectLateCreate = false;
  // The emulator's clock: the late create lands a millisecond before the activity's own, however fast the machine.
  const clock = new ManualClock(Date.now());
  /** Jobs whose start the emulator refuses with a 400, as a backend refuses a job it cannot run. */
  const refuseStartOf = new Set<string>();
  const routes: string[] = [];
  before(async () => {
    emulator = await startEmulator({
      users: [EMULATOR_USER],
      clock,
      requestHook: {
        // Just before the activity's own create is handled, an earlier create "arrives late".
        async beforeRoute(context: RequestHookContext) {
          routes.push(context.route);
          if (
            context.route === 'POST /openeo/1.2/jobs/{job_id}/results' &&
            refuseStartOf.has(context.params.job_id ?? '')
          ) {
            context.res.writeHead(400, { 'Content-Type': 'application/json' });
            context.res.end(
              JSON.stringify({ id: context.requestId, code: 'ProcessGraphInvalid', message: 'refused by the test' }),
            );
            return { handled: true };
          }
          if (injectLateCreate && context.req.method === 'POST' && context.route === 'POST /openeo/1.2/jobs') {
            injectLateCreate = false;
            lateJob = await createDirectly(emulator, 'batch/tile-1 attempt 1');
            clock.advance(1);
          }
        },
      },
    });
  });
  after(async () => emulator?.close());

  const activities = () =>
    createJobActivities(
      new OpenEOConnections({ emulator: { url: emulator.url, auth: { type: 'basic', ...EMULATOR_USER } } }),
    );
  const input = (title: string) => ({
    backend: { name: 'emulator', url: emulator.url },
    jobTitle: title,
    processGraph: graph,
  });

  it('on a retry, returns the job an earlier attempt created instead of creating another', async () => {
    const earlier = await createDirectly(emulator, 'batch/tile-0 attempt 1');
    const id = await new MockActivityEnvironment({ attempt: 2 }).run(
      activities().createJob,
      input('batch/tile-0 attempt 1'),
    );
    assert.equal(id, earlier);
    assert.equal(emulator.admin.jobs().filter((j) => j.title === 'batch/tile-0 attempt 1').length, 1);
  });

  it('on a retry, keeps the oldest job when a late create lands beside its own, and deletes the other', async () => {
    injectLateCreate = true;
    const id = await new MockActivityEnvironment({ attempt: 2 }).run(
      activities().createJob,
      input('batch/tile-1 attempt 1'),
    );
    assert.ok(lateJob);
    assert.equal(id, lateJob, 'the older job is kept');
    assert.deepEqual(
      emulator.admin
        .jobs()
        .filter((j) => j.title === 'batch/tile-1 attempt 1')
        .map((j) => j.id),
      [lateJob],
    );
  });

  const START = 'POST /openeo/1.2/jobs/{job_id}/results';
  const startsOf = (from: number) => routes.slice(from).filter((r) => r === START).length;

  it('submitJob creates and starts the job with two requests, and says it is queued', async () => {
    const from = routes.length;
    const submitted = (await attemptNow().run(activities().submitJob, input('batch/tile-2 attempt 1'))) as SubmittedJob;
    assert.deepEqual(submitted.job, { status: 'queued' });
    const job = emulator.admin.jobs().find((j) => j.id === submitted.jobId);
    assert.ok(job && job.status !== 'created', `the job was started (status ${job?.status})`);
    const jobRoutes = routes.slice(from).filter((r) => r.includes('/jobs'));
    assert.deepEqual(jobRoutes, ['POST /openeo/1.2/jobs', START], 'no description is fetched after the start');
  });

  it('a retried submitJob finds the job an earlier try made and started, and does not start it again', async () => {
    const first = (await attemptNow().run(activities().submitJob, input('batch/tile-3 attempt 1'))) as SubmittedJob;
    const from = routes.length;
    const again = (await attemptNow(2).run(activities().submitJob, input('batch/tile-3 attempt 1'))) as SubmittedJob;
    assert.equal(again.jobId, first.jobId);
    assert.notEqual(again.job.status, 'created');
    assert.equal(startsOf(from), 0);
    assert.equal(emulator.admin.jobs().filter((j) => j.title === 'batch/tile-3 attempt 1').length, 1);
  });

  it('a retried submitJob starts a job an earlier try created but did not start', async () => {
    const earlier = await createDirectly(emulator, 'batch/tile-4 attempt 1');
    const from = routes.length;
    const submitted = (await attemptNow(2).run(
      activities().submitJob,
      input('batch/tile-4 attempt 1'),
    )) as SubmittedJob;
    assert.equal(submitted.jobId, earlier);
    assert.equal(startsOf(from), 1);
    assert.notEqual(emulator.admin.jobs().find((j) => j.id === earlier)?.status, 'created');
  });

  it('an attempt past its start-to-close timeout leaves the job it created unstarted, for its retry', async () => {
    const from = routes.length;
    // A 1 ms timeout: Temporal gives up on the attempt before its create is answered.
    const err = await new MockActivityEnvironment({ startToCloseTimeoutMs: 1 })
      .run(activities().submitJob, input('batch/tile-8 attempt 1'))
      .then(
        () => assert.fail('the attempt should not start its job'),
        (e: unknown) => e,
      );
    assert.ok(err instanceof ApplicationFailure, String(err));
    assert.equal(err.type, 'AttemptTimedOut');
    assert.equal(err.nonRetryable, false);
    assert.equal(startsOf(from), 0);
    assert.deepEqual(
      emulator.admin
        .jobs()
        .filter((j) => j.title === 'batch/tile-8 attempt 1')
        .map((j) => j.status),
      ['created'],
    );
    // Its retry finds that job and starts it.
    const retried = (await attemptNow(2).run(activities().submitJob, input('batch/tile-8 attempt 1'))) as SubmittedJob;
    assert.equal(startsOf(from), 1);
    assert.notEqual(emulator.admin.job(retried.jobId)?.status, 'created');
  });

  it('a start refused for good fails with the id of the job that was created', async () => {
    const earlier = await createDirectly(emulator, 'batch/tile-5 attempt 1');
    refuseStartOf.add(earlier);
    const err = await attemptNow(2)
      .run(activities().submitJob, input('batch/tile-5 attempt 1'))
      .then(
        () => assert.fail('the start should be refused'),
        (e: unknown) => e,
      );
    assert.ok(err instanceof ApplicationFailure, String(err));
    assert.equal(err.nonRetryable, true);
    assert.deepEqual(err.details, [{ jobId: earlier }]);
    assert.match(err.message, /refused by the test/);
  });

  it("a cancelled tile's cancelJob deletes its job that never started, and leaves a started one to be stopped", async () => {
    const unstarted = await createDirectly(emulator, 'batch/tile-6 attempt 1');
    const backend = { name: 'emulator', url: emulator.url };
    const withdrawn = (await new MockActivityEnvironment().run(activities().cancelJob, {
      backend,
      jobId: unstarted,
      withdrawUnstarted: true,
    })) as CancelledJob;
    assert.equal(withdrawn.cancelTaken, true);
    assert.equal(
      emulator.admin.jobs().find((j) => j.id === unstarted),
      undefined,
      'the job that never ran is deleted',
    );
    const kept = await createDirectly(emulator, 'batch/tile-7 attempt 1');
    await new MockActivityEnvironment().run(activities().cancelJob, { backend, jobId: kept });
    assert.equal(
      emulator.admin.jobs().find((j) => j.id === kept)?.status,
      'created',
      'without withdrawUnstarted, a created job stays',
    );
  });
});

/**
 * A listing hook that hands the user's jobs back sorted by id, as a backend with an order of its
 * own may: largest first or smallest first.
 */
function listingById(descending: boolean): RequestHookOutcome {
  return {
    beforeSend(response, res) {
      const listing = JSON.parse(response.body.toString('utf8')) as { jobs: { id: string }[] };
      listing.jobs.sort((a, b) => (a.id < b.id ? -1 : 1) * (descending ? -1 : 1));
      const body = Buffer.from(JSON.stringify(listing));
      const headers = Object.fromEntries(
        Object.entries(response.headers).filter(([name]) => name.toLowerCase() !== 'content-length'),
      );
      res.writeHead(response.status, { ...headers, 'Content-Length': body.length });
      res.end(body);
      return body.length;
    },
  };
}

describe('createJob keeps the same one of two jobs created in the same instant, whatever the listing order', () => {
  for (const descending of [true, false]) {
    it(`on a retry, keeps the job with the smaller id and deletes the other (listing ${descending ? 'largest' : 'smallest'} id first)`, async () => {
      let injectLateCreate = true;
      let lateJob: string | undefined;
      const deleted: string[] = [];
      // A clock that never moves: every job has the same `created`, as two creates in one millisecond do.
      const emulator = await startEmulator({
        users: [EMULATOR_USER],
        clock: new ManualClock(),
        requestHook: {
          async beforeRoute(context: RequestHookContext) {
            if (context.route === 'GET /openeo/1.2/jobs') return listingById(descending);
            if (context.route === 'DELETE /openeo/1.2/jobs/{job_id}') deleted.push(context.params.job_id ?? '');
            if (injectLateCreate && context.route === 'POST /openeo/1.2/jobs') {
              injectLateCreate = false;
              lateJob = await createDirectly(emulator, 'batch/tile-1 attempt 1');
            }
          },
        },
      });
      try {
        const activities = createJobActivities(
          new OpenEOConnections({ emulator: { url: emulator.url, auth: { type: 'basic', ...EMULATOR_USER } } }),
        );
        const input = {
          backend: { name: 'emulator', url: emulator.url },
          jobTitle: 'batch/tile-1 attempt 1',
          processGraph: graph,
        };
        const kept = (await new MockActivityEnvironment({ attempt: 2 }).run(activities.createJob, input)) as string;
        assert.ok(lateJob);
        assert.equal(deleted.length, 1, 'one of the two jobs is deleted');
        assert.ok(
          kept !== deleted[0] && [kept, deleted[0]].includes(lateJob),
          "the two jobs are the late one and the retry's own",
        );
        assert.ok(kept < deleted[0], `the kept job ${kept} has a smaller id than the deleted ${deleted[0]}`);
        assert.deepEqual(
          emulator.admin.jobs().map((j) => j.id),
          [kept],
        );
      } finally {
        await emulator.close();
      }
    });
  }
});
