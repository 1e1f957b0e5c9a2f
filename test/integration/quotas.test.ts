/**
 * Backend quotas held across workers: three workers run one batch against an emulator that
 * answers 429 beyond 2 requests in flight and 12 job starts per user in a start window scaled
 * down to 30 s (the batch's `jobStartWindowSeconds` says the same). The emulator's own counters
 * prove that the workers together never went over, and never met a refusal.
 * test/soak/quotas.test.ts runs the same batch with the real minute.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WorkflowNotFoundError, type WorkflowHandle } from '@temporalio/client';
import type { LeaseAnswer, LeaseRequest } from '../../src/core/quota/ledger';
import {
  ACQUIRE_LEASE_UPDATE,
  QUOTA_WORKFLOW_TYPE,
  RELEASE_LEASE_SIGNAL,
  quotaWorkflowId,
} from '../../src/core/quota/limits';
import { EMULATOR_USER, type Harness } from '../support/harness';
import { runQuotaBatch, startQuotaHarness } from '../support/quota-batch';

/**
 * The start window, scaled from a minute: 12 starts in any 30 s, 16 tiles. Long enough that the
 * 16 starts fall within one window even on a loaded machine (with a busy loop beside the suite
 * they spread over about 20 s, and a 10 s window then never had to hold one back), so the quota
 * workflow must hold starts back.
 */
const WINDOW_SECONDS = 30;

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
    h = await startQuotaHarness(WINDOW_SECONDS);
  });
  after(async () => h?.teardown());

  it(
    'keeps 16 tiles on 3 workers within 2 requests at once and 12 starts in the window, with no 429',
    { timeout: 240_000 },
    async (t) => {
      await runQuotaBatch(h, t, WINDOW_SECONDS);
    },
  );

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
      handle.executeUpdate(ACQUIRE_LEASE_UPDATE, {
        args: [{ leaseId: 'bad', kind: 'request', limits: {}, ttlMs: -1 }],
      }),
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
