/**
 * How backend errors are treated: an invalid process fails its tile at once (no retry, one
 * request), a full backend (`ConcurrentJobLimit`) or 429 is waited out, an expired token is
 * renewed, and none of these fails the batch.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RunningEmulator } from '../../src/tools/emulator';
import { startHarness, type Harness } from '../support/harness';

function requests(emulator: RunningEmulator, route: string): Record<string, number> {
  return emulator.admin.stats().requests.byRoute[route] ?? {};
}

describe('backend errors, classified', () => {
  let h: Harness;
  let strict: RunningEmulator;
  let shortTokens: RunningEmulator;
  before(async () => {
    const jobDurations = { queuedMs: 50, runningMs: 300 };
    h = await startHarness(
      { maxRunningJobsPerUser: 20, jobDurations },
      {
        // CDSE-like: a start beyond one running job is refused with ConcurrentJobLimit.
        strict: { concurrencyMode: 'reject', maxRunningJobsPerUser: 1, jobDurations },
        // Tokens live 400 ms, so a batch outlives several; only the test about renewal uses it.
        short: { maxRunningJobsPerUser: 20, tokenLifetimeMs: 400, jobDurations },
      },
    );
    strict = h.backends.strict;
    shortTokens = h.backends.short;
    await h.startWorker();
  });
  after(async () => h?.teardown());

  it("fails a tile with an invalid process graph at once, with the backend's code, without retrying", async () => {
    h.emulator.admin.resetStats();
    const spec = h.spec({
      batchId: 'invalid-graph',
      cols: 1,
      rows: 1,
      process: {
        processGraph: {
          a: {
            process_id: 'load_collection',
            arguments: { id: 'SENTINEL2_L2A', spatial_extent: { from_parameter: 'geometry' } },
            result: true,
          },
          b: { process_id: 'save_result', arguments: { data: { from_node: 'a' }, format: 'GTiff' }, result: true },
        },
      },
    });
    // A backend without POST /validation: the batch's check cannot see the problem, so the job's create meets it.
    h.emulator.admin.setFaults({
      routes: [{ route: 'POST /validation', fault: { type: 'status', status: 501, code: 'FeatureUnsupported' } }],
    });
    try {
      const { handle } = await h.client.start(spec);
      const summary = await handle.result();
      assert.equal(summary.counts.error, 1);
      assert.equal(summary.failedTiles[0].error.code, 'ProcessGraphInvalid');
      assert.deepEqual(
        requests(h.emulator, 'POST /openeo/1.2/jobs'),
        { 400: 1 },
        'one request: a client error is not retried',
      );
    } finally {
      h.emulator.admin.setFaults({});
    }
  });

  it('waits out ConcurrentJobLimit on start: the job stays created and starts later', async () => {
    const spec = h.spec({ batchId: 'full-backend', cols: 3, rows: 1 });
    spec.backends = [{ name: 'strict', url: strict.url, parallelJobs: 3 }];
    const { handle } = await h.client.start(spec);
    const summary = await handle.result();
    assert.equal(summary.counts.finished, 3);
    const starts = requests(strict, 'POST /openeo/1.2/jobs/{job_id}/results');
    assert.ok((starts['400'] ?? 0) > 0, `some starts were refused: ${JSON.stringify(starts)}`);
    assert.equal(strict.admin.stats().jobs.created, 3, 'a refused start is not a failed job: no resubmission');
  });

  it('renews an expired token and goes on', async () => {
    const spec = h.spec({ batchId: 'short-tokens', cols: 2, rows: 2 });
    spec.backends = [{ name: 'short', url: shortTokens.url, parallelJobs: 2 }];
    const { handle } = await h.client.start(spec);
    const summary = await handle.result();
    assert.equal(summary.counts.finished, 4);
    const logins = requests(shortTokens, 'GET /openeo/1.2/credentials/basic')['200'] ?? 0;
    assert.ok(logins >= 2, `the worker logged in again after its token expired (${logins} logins)`);
  });

  it('honours Retry-After on 429 and still finishes', async () => {
    const saved = h.emulator.admin.faults();
    h.emulator.admin.setFaults({
      seed: 3,
      routes: [
        {
          route: 'POST /jobs/{job_id}/results',
          onCalls: [1],
          fault: { type: 'status', status: 429, retryAfterSeconds: 6 },
        },
      ],
    });
    try {
      const started = Date.now();
      const { handle } = await h.client.start(h.spec({ batchId: 'rate-limited', cols: 1, rows: 1 }));
      const summary = await handle.result();
      assert.equal(summary.counts.finished, 1);
      // Our own first backoff is 2 s: only the server's Retry-After makes the start wait 6 s.
      assert.ok(Date.now() - started >= 6_000, `waited ${Date.now() - started} ms, less than Retry-After`);
      assert.equal(requests(h.emulator, 'POST /openeo/1.2/jobs/{job_id}/results')['429'], 1);
    } finally {
      h.emulator.admin.setFaults(saved);
    }
  });
});
