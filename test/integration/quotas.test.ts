/**
 * Backend quotas held across workers: three workers run one batch against an emulator that
 * answers 429 beyond 2 requests in flight and 12 job starts a minute per user. The emulator's
 * own counters prove that the workers together never went over, and never met a refusal.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WorkflowNotFoundError, type WorkflowHandle } from '@temporalio/client';
import type { LeaseAnswer, LeaseRequest } from '../../core/quota/ledger';
import { ACQUIRE_LEASE_UPDATE, QUOTA_WORKFLOW_TYPE, RELEASE_LEASE_SIGNAL, quotaWorkflowId } from '../../core/quota/limits';
import type { EmulatorStats } from '../../tools/emulator/stats';
import { EMULATOR_USER, startHarness, type Harness } from '../support/harness';

async function emulatorStats(url: string): Promise<EmulatorStats> {
  const response = await fetch(`${url}/_emulator/stats`);
  assert.equal(response.status, 200);
  return (await response.json()) as EmulatorStats;
}

/** Requests per route, for the test's diagnostics. */
function requestsByRoute(stats: EmulatorStats): Record<string, number> {
  return Object.fromEntries(Object.entries(stats.requests.byRoute).map(([route, byStatus]) => [route, Object.values(byStatus).reduce((a, b) => a + b, 0)]));
}

function lease(handle: WorkflowHandle, leaseId: string): Promise<LeaseAnswer> {
  const request: LeaseRequest = { leaseId, kind: 'request', limits: { maxConcurrentRequests: 2 }, ttlMs: 600_000 };
  return handle.executeUpdate<LeaseAnswer, [LeaseRequest]>(ACQUIRE_LEASE_UPDATE, { args: [request] });
}

/**
 * Asks until the lease is granted, as the request gate does: a release (a signal) sent just
 * before may reach the workflow after the next request (an update) on a busy server.
 */
async function leaseWhenFree(handle: WorkflowHandle, leaseId: string): Promise<LeaseAnswer> {
  for (let tries = 1; ; tries++) {
    const answer = await lease(handle, leaseId);
    if (answer.granted || tries >= 50) return answer;
    await new Promise((r) => setTimeout(r, answer.retryAfterMs ?? 200));
  }
}

describe('backend quotas held across three workers', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness(
      {
        maxConcurrentRequestsPerUser: 2,
        maxJobStartsPerMinutePerUser: 12,
        maxRunningJobsPerUser: 4,
        jobDurations: { queuedMs: 50, runningMs: 500 },
        // Slow status checks overlap: four tiles polling would often have three or four in flight.
        faults: { routes: [{ route: 'GET /jobs/{job_id}', fault: { type: 'latency', ms: 300 } }] },
      },
      { plain: { jobDurations: { queuedMs: 50, runningMs: 100 } } },
    );
    for (let i = 0; i < 3; i++) await h.startWorker();
  });
  after(async () => h?.teardown());

  it('keeps 16 tiles on 3 workers within 2 requests at once and 12 starts a minute, with no 429', { timeout: 240_000 }, async (t) => {
    const spec = h.spec({
      batchId: 'quota-batch',
      cols: 4,
      rows: 4,
      backends: [{ name: 'emulator', url: h.emulator.url, parallelJobs: 4, maxConcurrentRequests: 2, maxJobStartsPerMinute: 12 }],
      polling: { initialIntervalSeconds: 0.5, maxIntervalSeconds: 1 },
    });
    const startedAt = Date.now();
    const { handle } = await h.client.start(spec);
    const summary = await handle.result();
    const seconds = (Date.now() - startedAt) / 1000;

    assert.equal(summary.counts.finished, 16, JSON.stringify(summary.counts));
    const stats = await emulatorStats(h.emulator.url);
    const user = EMULATOR_USER.username;
    const { quotas } = stats;
    t.diagnostic(`batch took ${seconds.toFixed(1)} s; requests ${stats.requests.total}: ${JSON.stringify(requestsByRoute(stats))}`);
    t.diagnostic(`quotas: ${JSON.stringify(quotas)}`);
    assert.equal(quotas.refused.total, 0, 'no request was refused for a quota');
    assert.ok(quotas.concurrentRequestsPerUser[user].max <= 2, `at most 2 requests at once, saw ${quotas.concurrentRequestsPerUser[user].max}`);
    assert.ok(quotas.jobStartsPerMinutePerUser[user].max <= 12, `at most 12 starts in any 60 s, saw ${quotas.jobStartsPerMinutePerUser[user].max}`);
    // The limits mattered: 16 starts cannot all fit in one minute, so the batch took longer.
    assert.ok((stats.jobs.transitions.queued ?? 0) >= 16);
    assert.ok(seconds > 60, `16 starts at 12 a minute take over a minute, took ${seconds} s`);
  });

  it('keeps no secret in the quota workflow, and starts none for a backend without quotas', async () => {
    const quota = h.temporal.workflow.getHandle(quotaWorkflowId(h.emulator.url));
    const history = JSON.stringify(await quota.fetchHistory());
    assert.ok(!history.includes(EMULATOR_USER.password), 'no password in the quota history');
    assert.ok(!/basic\/\/|Bearer/i.test(history), 'no token in the quota history');

    const plain = h.backends.plain;
    const spec = h.spec({ batchId: 'plain-batch', backends: [{ name: 'plain', url: plain.url, parallelJobs: 2 }] });
    const summary = await (await h.client.start(spec)).handle.result();
    assert.equal(summary.counts.finished, 4);
    await assert.rejects(h.temporal.workflow.getHandle(quotaWorkflowId(plain.url)).describe(), WorkflowNotFoundError);
  });

  it('carries leases across continue-as-new, refuses malformed requests, and ends when idle', async () => {
    const handle = await h.temporal.workflow.start(QUOTA_WORKFLOW_TYPE, {
      workflowId: 'openeo-quota/http://quota.test',
      taskQueue: h.taskQueue,
      args: [{ backendUrl: 'http://quota.test', maxEventsPerRun: 100 }],
    });
    assert.equal((await lease(handle, 'held')).granted, true);
    // About nine events per lease and release: twenty of them pass 100 events.
    for (let i = 0; i < 20; i++) {
      assert.equal((await leaseWhenFree(handle, `short-${i}`)).granted, true);
      await handle.signal(RELEASE_LEASE_SIGNAL, `short-${i}`);
    }
    const { runId } = await handle.describe();
    assert.notEqual(runId, handle.firstExecutionRunId, 'the quota workflow continued as new');
    // The lease from the first run still holds one of the two slots.
    assert.equal((await leaseWhenFree(handle, 'second')).granted, true);
    assert.deepEqual(await lease(handle, 'third'), { granted: false, reason: 'concurrentRequests', retryAfterMs: 200 });
    await assert.rejects(
      handle.executeUpdate(ACQUIRE_LEASE_UPDATE, { args: [{ leaseId: 'bad', kind: 'request', limits: {}, ttlMs: -1 }] }),
      (err: Error) => /ttlMs/.test(`${err.message} ${err.cause instanceof Error ? err.cause.message : ''}`),
    );

    const idle = await h.temporal.workflow.start(QUOTA_WORKFLOW_TYPE, {
      workflowId: 'openeo-quota/http://idle.test',
      taskQueue: h.taskQueue,
      args: [{ backendUrl: 'http://idle.test', idleEndMs: 500 }],
    });
    await idle.result();
  });
});
