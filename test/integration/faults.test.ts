/**
 * Nothing lost, nothing duplicated: failed jobs resubmitted, stuck and over-long jobs cancelled,
 * a cancelled batch leaving no job running, an unreachable backend refused up front, and no
 * secret anywhere in a batch's history.
 */
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import type { RunningEmulator } from '../../src/tools/emulator';
import type { TileRecord } from '../../src/core/records';
import { eventually } from '../support/eventually';
import { EMULATOR_USER, startHarness, type Harness } from '../support/harness';

function jobsTitled(emulator: RunningEmulator, prefix: string) {
  return emulator.admin.jobs().filter((job) => job.title?.startsWith(prefix));
}

describe('faults, timeouts and cancellation', () => {
  let h: Harness;
  let slow: RunningEmulator;
  let medium: RunningEmulator;
  let sweep: RunningEmulator;
  before(async () => {
    h = await startHarness(
      {
        maxRunningJobsPerUser: 20,
        faults: {
          jobs: {
            rules: [
              { titleContains: 'resubmit/E590000-N5660000 attempt 1', failFirst: 1 },
              { titleContains: 'stuck/', stuckIn: 'queued' },
              // Fails the first two jobs of this tile: a batch with maxAttempts 2 ends it as error.
              { titleContains: 'retry-later/E595000-N5660000', failFirst: 2 },
            ],
          },
        },
      },
      {
        // A backend whose jobs run for a minute: long enough to time out or cancel them.
        slow: { maxRunningJobsPerUser: 20, jobDurations: { queuedMs: 50, runningMs: 60_000 } },
        // Jobs that outlast a create held up on the backend for a while.
        medium: { jobDurations: { queuedMs: 50, runningMs: 10_000 } },
        // Short jobs, and a listing held up for the sweep at the batch end.
        sweep: { jobDurations: { queuedMs: 50, runningMs: 150 } },
      },
    );
    slow = h.backends.slow;
    medium = h.backends.medium;
    sweep = h.backends.sweep;
    await h.startWorker();
  });
  after(async () => h?.teardown());

  it("resubmits a failed job and keeps the failed attempt's logs", async () => {
    const { handle } = await h.client.start(h.spec({ batchId: 'resubmit', cols: 2, rows: 1 }));
    const summary = await handle.result();
    assert.equal(summary.counts.finished, 2);
    const record: TileRecord = await h.temporal.workflow.getHandle('resubmit/tile-E590000-N5660000').result();
    assert.equal(record.attempts, 2);
    assert.deepEqual(
      jobsTitled(h.emulator, 'resubmit/E590000-N5660000')
        .map((j) => [j.title, j.status])
        .sort(),
      [
        ['resubmit/E590000-N5660000 attempt 1', 'error'],
        ['resubmit/E590000-N5660000 attempt 2', 'finished'],
      ],
    );
    const files = await readdir(join(h.workDir, 'output', 'resubmit', 'E590000-N5660000'));
    assert.ok(files.includes('error-logs.attempt-1.json'), files.join(', '));
    assert.ok(files.some((f) => f.endsWith('.tif')));
  });

  it('re-runs only the failed tiles of an ended batch with retry-failed, continuing their attempts', async () => {
    const first = await (
      await h.client.start(h.spec({ batchId: 'retry-later', cols: 2, rows: 1, maxAttempts: 2 }))
    ).handle.result();
    assert.equal(first.counts.error, 1);
    assert.deepEqual(
      first.failedTiles.map((t) => t.tileId),
      ['E595000-N5660000'],
    );

    const { handle, tiles } = await h.client.retryFailed('retry-later');
    assert.equal(tiles, 1);
    const second = await handle.result();
    assert.equal(second.totalTiles, 1);
    assert.equal(second.counts.finished, 1);
    assert.deepEqual(
      jobsTitled(h.emulator, 'retry-later/')
        .map((j) => j.title)
        .sort(),
      [
        'retry-later/E590000-N5660000 attempt 1',
        'retry-later/E595000-N5660000 attempt 1',
        'retry-later/E595000-N5660000 attempt 2',
        'retry-later/E595000-N5660000 attempt 3',
      ],
    );
    const record: TileRecord = await h.temporal.workflow.getHandle('retry-later/tile-E595000-N5660000').result();
    assert.equal(record.status, 'finished');
    await assert.rejects(h.client.retryFailed('retry-later'), /no failed tiles/);
  });

  it('never runs a finished tile again when a batch id is started a second time', async () => {
    const spec = h.spec({ batchId: 'started-twice', cols: 1, rows: 1 });
    await (await h.client.start(spec)).handle.result();
    const again = await (await h.client.start(spec)).handle.result();
    assert.equal(again.counts.skipped, 1);
    assert.equal(jobsTitled(h.emulator, 'started-twice/').length, 1);
  });

  it('does not create a second job when the answer to a create is lost', async () => {
    h.emulator.admin.resetStats();
    // The job is created, then the connection is reset before the client reads the answer.
    const saved = h.emulator.admin.faults();
    h.emulator.admin.setFaults({
      routes: [{ route: 'POST /jobs', onCalls: [1], fault: { type: 'reset-mid-body', bytes: 0 } }],
    });
    try {
      const summary = await (
        await h.client.start(h.spec({ batchId: 'lost-answer', cols: 1, rows: 1 }))
      ).handle.result();
      assert.equal(summary.counts.finished, 1);
      const stats = h.emulator.admin.stats();
      assert.equal(stats.faults.total, 1, 'the answer was lost once');
      // One listing is the batch end's look for duplicates; the others are the retry's.
      assert.ok(
        (stats.requests.byRoute['GET /openeo/1.2/jobs']?.['200'] ?? 0) >= 2,
        'the retry looked for the job by its title',
      );
      assert.deepEqual(stats.jobs.createdByTitle, { 'lost-answer/E590000-N5660000 attempt 1': 1 });
    } finally {
      h.emulator.admin.setFaults(saved);
    }
  });

  it('deletes at the batch end the never-started job of a create that reached the backend after its retry', async () => {
    // The first create waits 8 s on the backend. The tile's call gives up after 2 s; its retry
    // (about 1 s later) finds no job of that title yet and creates the job again, which runs
    // 10 s. The first create lands meanwhile: a second job of the title, never started.
    medium.admin.setFaults({ routes: [{ route: 'POST /jobs', onCalls: [1], fault: { type: 'latency', ms: 8_000 } }] });
    const spec = h.spec({ batchId: 'late-create', cols: 1, rows: 1, timeouts: { activitySeconds: 2 } });
    spec.backends = [{ name: 'medium', url: medium.url, parallelJobs: 1 }];
    const summary = await (await h.client.start(spec)).handle.result();
    assert.equal(summary.counts.finished, 1);
    const title = 'late-create/E590000-N5660000 attempt 1';
    const stats = medium.admin.stats();
    assert.deepEqual(stats.jobs.createdByTitle, { [title]: 2 }, 'the create reached the backend twice');
    // The timed-out attempt, whose create answered last, must not start its job as well.
    assert.deepEqual(stats.requests.byRoute['POST /openeo/1.2/jobs/{job_id}/results'], { 202: 1 }, 'one job started');
    assert.equal(summary.duplicateJobsDeleted, 1);
    assert.deepEqual(
      jobsTitled(medium, 'late-create/').map((j) => j.status),
      ['finished'],
      'only the started job is left',
    );
  });

  it('shows the sweep for duplicates while it lasts, and a batch cancelled then ends cancelled', async () => {
    // The sweep's listing takes 10 s: time to look at the batch and cancel it meanwhile (it takes
    // under a second). Not longer: the cancelled sweep's request still holds the worker's shutdown
    // at the end of the file until the listing answers.
    sweep.admin.setFaults({ routes: [{ route: 'GET /jobs', fault: { type: 'latency', ms: 10_000 } }] });
    sweep.admin.resetStats();
    try {
      const spec = h.spec({ batchId: 'cancel-in-sweep', cols: 1, rows: 1 });
      spec.backends = [{ name: 'sweep', url: sweep.url, parallelJobs: 1 }];
      const { handle } = await h.client.start(spec);
      await eventually(async () => (sweep.admin.stats().faults.total ?? 0) >= 1, 'the sweep listing the jobs', 120_000);
      const metadata: { currentDetails?: string } = await handle.query('__temporal_workflow_metadata');
      assert.match(metadata.currentDetails ?? '', /looking for never-started duplicate jobs on sweep/);
      await handle.cancel();
      await assert.rejects(
        handle.result(),
        (err: unknown) => err instanceof WorkflowFailedError && /cancel/i.test(String(err.cause)),
        'the batch ends cancelled',
      );
    } finally {
      sweep.admin.setFaults({});
    }
  });

  it('cancels a job stuck in the queue past maxQueuedSeconds, and fails the tile after its attempts', async () => {
    const { handle } = await h.client.start(
      h.spec({ batchId: 'stuck', cols: 1, rows: 1, maxAttempts: 2, timeouts: { maxQueuedSeconds: 0.5 } }),
    );
    const summary = await handle.result();
    assert.equal(summary.counts.error, 1);
    assert.equal(summary.failedTiles[0].error.code, 'JobQueuedTooLong');
    const jobs = jobsTitled(h.emulator, 'stuck/');
    assert.equal(jobs.length, 2, 'one job per attempt');
    assert.ok(
      jobs.every((j) => j.status === 'created'),
      `cancelled out of the queue: ${jobs.map((j) => j.status)}`,
    );
  });

  it('cancels a job running past cancelRunningJobAfterSeconds', async () => {
    const spec = h.spec({
      batchId: 'too-long',
      cols: 1,
      rows: 1,
      maxAttempts: 1,
      timeouts: { cancelRunningJobAfterSeconds: 1 },
    });
    spec.backends = [{ name: 'slow', url: slow.url, parallelJobs: 1 }];
    const { handle } = await h.client.start(spec);
    const summary = await handle.result();
    assert.equal(summary.failedTiles[0].error.code, 'JobRanTooLong');
    assert.deepEqual(
      jobsTitled(slow, 'too-long/').map((j) => j.status),
      ['canceled'],
    );
  });

  it('cancelling a batch cancels every running tile, leaves no job running on the backend, and deletes the jobs lined up', async () => {
    const spec = h.spec({ batchId: 'cancel-me', cols: 3, rows: 2, scheduling: { lineUpJobs: true } });
    spec.backends = [{ name: 'slow', url: slow.url, parallelJobs: 3 }];
    const { handle } = await h.client.start(spec);
    const deadline = Date.now() + 20_000;
    // Three jobs run; the other three tiles are lined up behind them, their jobs created.
    while (
      jobsTitled(slow, 'cancel-me/').filter((j) => j.status === 'running').length < 3 ||
      jobsTitled(slow, 'cancel-me/').length < 6
    ) {
      assert.ok(Date.now() < deadline, 'three jobs running, three lined up');
      await sleep(100);
    }
    await h.client.cancel('cancel-me');
    await assert.rejects(handle.result(), (err: unknown) => err instanceof WorkflowFailedError);
    // The lined-up tiles withdrew their jobs (never started) before they reported their end.
    const jobs = jobsTitled(slow, 'cancel-me/');
    assert.deepEqual(
      jobs.map((j) => j.status),
      ['canceled', 'canceled', 'canceled'],
      'the three running jobs cancelled, no other job left',
    );
    const tiles = await h.client.tiles('cancel-me');
    assert.deepEqual(
      tiles.map((t) => t.status),
      Array(6).fill('canceled'),
    );
  });

  it('cancelling also reaches tiles started by an earlier run of the batch', async () => {
    const spec = h.spec({ batchId: 'cancel-after-can', cols: 2, rows: 1, scheduling: { maxEventsPerRun: 100 } });
    spec.backends = [{ name: 'slow', url: slow.url, parallelJobs: 2 }];
    const { handle } = await h.client.start(spec);
    const deadline = Date.now() + 20_000;
    while (jobsTitled(slow, 'cancel-after-can/').filter((j) => j.status === 'running').length < 2) {
      assert.ok(Date.now() < deadline, 'two jobs running');
      await sleep(100);
    }
    // Each change is a few history events: enough of them make the batch continue as new.
    for (let i = 0; i < 40; i++) await h.client.setParallelJobs('cancel-after-can', 'slow', 2);
    const runs = async () => {
      let n = 0;
      for await (const _ of h.temporal.workflow.list({ query: `WorkflowId = 'cancel-after-can'` })) n++;
      return n;
    };
    while ((await runs()) < 2) {
      assert.ok(Date.now() < deadline, 'the batch continued as new');
      await sleep(100);
    }
    await h.client.cancel('cancel-after-can');
    await assert.rejects(handle.result());
    assert.deepEqual(
      jobsTitled(slow, 'cancel-after-can/').map((j) => j.status),
      ['canceled', 'canceled'],
    );
  });

  it('fetches fresh links when a signed result link has expired', async () => {
    h.emulator.admin.resetStats();
    const saved = h.emulator.admin.faults();
    h.emulator.admin.setFaults({
      ...saved,
      routes: [
        {
          route: 'GET /jobs/{job_id}/results/assets/{asset_key}',
          onCalls: [1],
          fault: { type: 'status', status: 410, code: 'ResultLinkExpired' },
        },
      ],
    });
    try {
      const summary = await (
        await h.client.start(h.spec({ batchId: 'expired-link', cols: 1, rows: 1 }))
      ).handle.result();
      assert.equal(summary.counts.finished, 1);
      const byRoute = h.emulator.admin.stats().requests.byRoute;
      assert.equal(byRoute['GET /openeo/1.2/jobs/{job_id}/results/assets/{asset_key}']?.['410'], 1);
      assert.equal(
        byRoute['GET /openeo/1.2/jobs/{job_id}/results']?.['200'],
        2,
        'the results document was fetched again for a fresh link',
      );
    } finally {
      h.emulator.admin.setFaults(saved);
    }
  });

  it('refuses a backend it cannot reach, naming it, before any job exists', async () => {
    const spec = h.spec({ batchId: 'unreachable' });
    spec.backends = [{ name: 'emulator', url: 'http://127.0.0.1:9', parallelJobs: 1 }];
    await h.startWorker({
      taskQueue: `${h.taskQueue}-unreachable`,
      credentials: { emulator: { url: 'http://127.0.0.1:9', auth: { type: 'basic', ...EMULATOR_USER } } },
    });
    const handle = await h.temporal.workflow.start('batchWorkflow', {
      taskQueue: `${h.taskQueue}-unreachable`,
      workflowId: 'unreachable',
      args: [spec],
    });
    await assert.rejects(handle.result(), (err: unknown) => {
      assert.ok(err instanceof WorkflowFailedError);
      assert.match(
        String(err.cause?.message),
        /backends\[0\]\.url: cannot connect to backend "emulator" at http:\/\/127\.0\.0\.1:9/,
      );
      return true;
    });
  });

  it('keeps every secret out of the history of a whole batch', async () => {
    const { handle } = await h.client.start(h.spec({ batchId: 'secrets', cols: 2, rows: 1 }));
    await handle.result();
    const ids = ['secrets', ...(await h.client.tiles('secrets')).map((t) => t.workflowId)];
    const histories = await Promise.all(ids.map((id) => h.temporal.workflow.getHandle(id).fetchHistory()));
    const text = JSON.stringify(histories);
    assert.ok(text.includes('E590000-N5660000'), 'the export holds the batch');
    assert.ok(!text.includes(EMULATOR_USER.password), 'no password');
    assert.ok(!/basic\/\/|Bearer/.test(text), 'no access token');
  });
});
