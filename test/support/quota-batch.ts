/**
 * The quota scenario shared by the integration test (a 10 s start window) and the soak test (the
 * real minute): three workers run 16 tiles against an emulator that answers 429 beyond 2 requests
 * in flight and 12 job starts in its window per user. The emulator's own counters prove that the
 * workers together never went over and never met a refusal; the quota workflow's answers and the
 * batch's length prove that the start limit held starts back.
 */
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { defaultPayloadConverter } from '@temporalio/common';
import type { LeaseAnswer } from '../../src/core/quota/ledger';
import { quotaWorkflowId } from '../../src/core/quota/limits';
import type { EmulatorStats } from '../../src/tools/emulator/stats';
import { EMULATOR_USER, startHarness, type Harness } from './harness';

export const MAX_REQUESTS = 2;
export const MAX_STARTS = 12;
const TILES = 16;

export async function emulatorStats(url: string): Promise<EmulatorStats> {
  const response = await fetch(`${url}/_emulator/stats`);
  assert.equal(response.status, 200);
  return (await response.json()) as EmulatorStats;
}

/** Requests per route, for the test's diagnostics. */
function requestsByRoute(stats: EmulatorStats): Record<string, number> {
  return Object.fromEntries(
    Object.entries(stats.requests.byRoute).map(([route, byStatus]) => [
      route,
      Object.values(byStatus).reduce((a, b) => a + b, 0),
    ]),
  );
}

/** The emulator, with the start quota counted in `windowSeconds`, a plain second backend, and three workers. */
export async function startQuotaHarness(windowSeconds: number): Promise<Harness> {
  const h = await startHarness(
    {
      maxConcurrentRequestsPerUser: MAX_REQUESTS,
      maxJobStartsPerMinutePerUser: MAX_STARTS,
      jobStartWindowMs: windowSeconds * 1000,
      maxRunningJobsPerUser: 4,
      jobDurations: { queuedMs: 50, runningMs: 500 },
      // Slow status checks overlap: four tiles polling would often have three or four in flight.
      faults: { routes: [{ route: 'GET /jobs/{job_id}', fault: { type: 'latency', ms: 300 } }] },
    },
    { plain: { jobDurations: { queuedMs: 50, runningMs: 100 } } },
  );
  for (let i = 0; i < 3; i++) await h.startWorker();
  return h;
}

/** How many lease requests the backend's quota workflow refused for the start quota (its latest run). */
async function startRefusals(h: Harness): Promise<number> {
  const history = await h.temporal.workflow.getHandle(quotaWorkflowId(h.emulator.url)).fetchHistory();
  let refusals = 0;
  for (const event of history.events ?? []) {
    for (const payload of event.workflowExecutionUpdateCompletedEventAttributes?.outcome?.success?.payloads ?? []) {
      const answer = defaultPayloadConverter.fromPayload<LeaseAnswer>(payload);
      if (!answer.granted && answer.reason === 'jobStartsPerMinute') refusals += 1;
    }
  }
  return refusals;
}

/** Runs the batch (its spec's start quota in `windowSeconds`) and checks the quotas held and mattered. */
export async function runQuotaBatch(h: Harness, t: TestContext, windowSeconds: number): Promise<void> {
  const window = windowSeconds === 60 ? {} : { jobStartWindowSeconds: windowSeconds };
  const spec = h.spec({
    batchId: 'quota-batch',
    cols: 4,
    rows: 4,
    backends: [
      {
        name: 'emulator',
        url: h.emulator.url,
        parallelJobs: 4,
        maxConcurrentRequests: MAX_REQUESTS,
        maxJobStartsPerMinute: MAX_STARTS,
        ...window,
      },
    ],
    polling: { initialIntervalSeconds: 0.5, maxIntervalSeconds: 1 },
  });
  const startedAt = Date.now();
  const { handle } = await h.client.start(spec);
  const summary = await handle.result();
  const seconds = (Date.now() - startedAt) / 1000;

  assert.equal(summary.counts.finished, TILES, JSON.stringify(summary.counts));
  const stats = await emulatorStats(h.emulator.url);
  const user = EMULATOR_USER.username;
  const { quotas } = stats;
  t.diagnostic(
    `batch took ${seconds.toFixed(1)} s; requests ${stats.requests.total}: ${JSON.stringify(requestsByRoute(stats))}`,
  );
  t.diagnostic(`quotas: ${JSON.stringify(quotas)}`);
  assert.equal(quotas.refused.total, 0, 'no request was refused for a quota');
  assert.ok(
    quotas.concurrentRequestsPerUser[user].max <= MAX_REQUESTS,
    `at most ${MAX_REQUESTS} requests at once, saw ${quotas.concurrentRequestsPerUser[user].max}`,
  );
  assert.ok(
    quotas.jobStartsPerMinutePerUser[user].max <= MAX_STARTS,
    `at most ${MAX_STARTS} starts in any ${windowSeconds} s, saw ${quotas.jobStartsPerMinutePerUser[user].max}`,
  );
  // The limits mattered: 16 starts cannot all fit in one window, so the batch took longer, and
  // the quota workflow told a start to wait (a slow machine alone could stretch the batch).
  assert.ok((stats.jobs.transitions.queued ?? 0) >= TILES);
  assert.ok(
    seconds > windowSeconds,
    `${TILES} starts at ${MAX_STARTS} in ${windowSeconds} s take over ${windowSeconds} s, took ${seconds} s`,
  );
  const refusals = await startRefusals(h);
  t.diagnostic(`starts held back by the quota workflow: ${refusals}`);
  assert.ok(refusals > 0, 'the quota workflow held a start back for the start window');
}
