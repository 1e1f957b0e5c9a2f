/** Backend quotas without a server: the ledger's grants, waits and expiries, limits, and the spec fields. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { waitAfterRefusal } from '../../activities/quota-gate';
import { requestKind } from '../../src/core/openeo/request-gate';
import {
  QuotaLedger,
  SLOT_RETRY_MS,
  leaseRequestProblem,
  rateWindow,
  type LeaseAnswer,
  type LeaseKind,
  type LeaseRequest,
} from '../../src/core/quota/ledger';
import { QUOTA_WORKFLOW_TYPE, quotaLimitsOf, quotaWorkflowId, type QuotaLimits } from '../../src/core/quota/limits';
import { InvalidSpecError, parseBatchSpec } from '../../src/core/batch-spec/validate';
import * as workflows from '../../workflows';

let next = 0;
function ask(
  ledger: QuotaLedger,
  limits: QuotaLimits,
  now: number,
  kind: LeaseKind = 'request',
  ttlMs = 30_000,
): LeaseAnswer & { id: string } {
  const request: LeaseRequest = { leaseId: `lease-${++next}`, kind, limits, ttlMs };
  return { ...ledger.acquire(request, now), id: request.leaseId };
}

function refused(answer: LeaseAnswer): Extract<LeaseAnswer, { granted: false }> {
  assert.equal(answer.granted, false, 'the lease was granted');
  return answer as Extract<LeaseAnswer, { granted: false }>;
}

describe('quota ledger: concurrent requests', () => {
  it('grants up to the limit, refuses more, and grants again once a lease is released', () => {
    const ledger = new QuotaLedger();
    const limits = { maxConcurrentRequests: 2 };
    const a = ask(ledger, limits, 0);
    const b = ask(ledger, limits, 1);
    assert.ok(a.granted && b.granted);
    const c = refused(ask(ledger, limits, 2));
    assert.equal(c.reason, 'concurrentRequests');
    assert.equal(c.retryAfterMs, SLOT_RETRY_MS);
    ledger.release(a.id, 3);
    assert.ok(ask(ledger, limits, 4).granted);
  });

  it('lets a lease expire by itself: a killed worker holds its slot no longer than its ttl', () => {
    const ledger = new QuotaLedger();
    const limits = { maxConcurrentRequests: 1 };
    assert.ok(ask(ledger, limits, 0, 'request', 5_000).granted);
    refused(ask(ledger, limits, 4_999));
    assert.ok(ask(ledger, limits, 5_000).granted);
  });

  it('grants the same lease again when the same request is retried', () => {
    const ledger = new QuotaLedger();
    const request: LeaseRequest = {
      leaseId: 'same',
      kind: 'request',
      limits: { maxConcurrentRequests: 1 },
      ttlMs: 1_000,
    };
    const first = ledger.acquire(request, 0);
    assert.deepEqual(ledger.acquire(request, 10), first);
    assert.equal(ledger.view(10).leases, 1);
  });

  it('counts every holder against the limits each asker brings', () => {
    const ledger = new QuotaLedger();
    assert.ok(ask(ledger, {}, 0).granted);
    assert.ok(ask(ledger, {}, 0).granted);
    // A batch with a limit of 2 sees the two leases of a batch without limits.
    refused(ask(ledger, { maxConcurrentRequests: 2 }, 0));
  });
});

describe('quota ledger: job starts per minute', () => {
  it('grants 12 starts, then asks the 13th to wait until the first leaves the 60 s window', () => {
    const ledger = new QuotaLedger();
    const limits = { maxJobStartsPerMinute: 12 };
    for (let i = 0; i < 12; i++) {
      const start = ask(ledger, limits, i * 100, 'start');
      assert.ok(start.granted);
      ledger.release(start.id, i * 100 + 50);
    }
    const wait = refused(ask(ledger, limits, 2_000, 'start'));
    assert.equal(wait.reason, 'jobStartsPerMinute');
    // The first start was released at 50 ms: it counts until 60,050 ms (the hint adds 1 ms).
    assert.equal(wait.retryAfterMs, 50 + 60_000 - 2_000 + 1);
    refused(ask(ledger, limits, 60_049, 'start'));
    assert.ok(ask(ledger, limits, 60_050, 'start').granted);
  });

  it('counts a start from its release, the latest moment the backend can have seen it', () => {
    const ledger = new QuotaLedger();
    const limits = { maxJobStartsPerMinute: 1 };
    const start = ask(ledger, limits, 0, 'start', 200_000);
    assert.ok(start.granted);
    // Still out: it may reach the backend any moment, so nothing else starts.
    refused(ask(ledger, limits, 90_000, 'start'));
    ledger.release(start.id, 100_000);
    refused(ask(ledger, limits, 159_999, 'start'));
    assert.ok(ask(ledger, limits, 160_001, 'start').granted);
  });

  it('counts starts in a shorter window when the limits give one, with the same rule', () => {
    const ledger = new QuotaLedger();
    const limits = { maxJobStartsPerMinute: 2, jobStartWindowSeconds: 10 };
    for (const at of [0, 1_000]) {
      const start = ask(ledger, limits, at, 'start');
      assert.ok(start.granted);
      ledger.release(start.id, at + 50);
    }
    const wait = refused(ask(ledger, limits, 2_000, 'start'));
    // The first start (released at 50 ms) counts until 10,050 ms, not 60,050 ms.
    assert.equal(wait.retryAfterMs, 50 + 10_000 - 2_000 + 1);
    refused(ask(ledger, limits, 10_049, 'start'));
    assert.ok(ask(ledger, limits, 10_050, 'start').granted);
  });

  it('does not hold plain requests back for the start quota', () => {
    const ledger = new QuotaLedger();
    const limits = { maxJobStartsPerMinute: 1 };
    assert.ok(ask(ledger, limits, 0, 'start').granted);
    assert.ok(ask(ledger, limits, 1).granted);
  });
});

describe('quota ledger: requests per second', () => {
  it('allows the rate in any second and says when the next one fits', () => {
    const ledger = new QuotaLedger();
    const limits = { maxRequestsPerSecond: 2 };
    for (const at of [0, 10]) ledger.release(ask(ledger, limits, at).id, at + 5);
    const wait = refused(ask(ledger, limits, 20));
    assert.equal(wait.reason, 'requestsPerSecond');
    assert.equal(wait.retryAfterMs, 5 + 1_000 - 20 + 1);
    assert.ok(ask(ledger, limits, 1_006).granted);
  });

  it('turns a rate below one a second into one request per longer window', () => {
    assert.deepEqual(rateWindow(0.5), { windowMs: 2_000, allowed: 1 });
    assert.deepEqual(rateWindow(2.5), { windowMs: 1_000, allowed: 2 });
    const ledger = new QuotaLedger();
    ledger.release(ask(ledger, { maxRequestsPerSecond: 0.5 }, 0).id, 0);
    refused(ask(ledger, { maxRequestsPerSecond: 0.5 }, 1_500));
    assert.ok(ask(ledger, { maxRequestsPerSecond: 0.5 }, 2_001).granted);
  });
});

describe('quota ledger: state and idleness', () => {
  it('carries leases and windows across continue-as-new, versioned', () => {
    const ledger = new QuotaLedger();
    const limits = { maxConcurrentRequests: 1, maxJobStartsPerMinute: 1 };
    const start = ask(ledger, limits, 0, 'start');
    ledger.release(start.id, 10);
    const held = ask(ledger, limits, 20);
    const state = JSON.parse(JSON.stringify(ledger.toState(30)));
    assert.equal(state.version, 1);
    const restored = new QuotaLedger(state);
    refused(ask(restored, limits, 40));
    restored.release(held.id, 50);
    refused(ask(restored, limits, 60, 'start'));
    assert.throws(() => new QuotaLedger({ ...state, version: 2 }), /version 2/);
  });

  it('is idle only when no lease is out and no window holds a request', () => {
    const ledger = new QuotaLedger();
    assert.equal(ledger.isIdle(0), true);
    const start = ask(ledger, {}, 0, 'start');
    assert.equal(ledger.isIdle(1), false);
    ledger.release(start.id, 2);
    assert.equal(ledger.isIdle(30_000), false);
    assert.equal(ledger.isIdle(60_003), true);
  });

  it('refuses malformed lease requests with the field named', () => {
    const good: LeaseRequest = { leaseId: 'x', kind: 'request', limits: {}, ttlMs: 1_000 };
    assert.equal(leaseRequestProblem(good), undefined);
    assert.match(leaseRequestProblem({ ...good, leaseId: '' }) ?? '', /leaseId/);
    assert.match(leaseRequestProblem({ ...good, ttlMs: 0 }) ?? '', /ttlMs/);
    assert.match(leaseRequestProblem({ ...good, kind: 'stop' as LeaseKind }) ?? '', /kind/);
    assert.match(leaseRequestProblem({ ...good, limits: { maxConcurrentRequests: 0 } }) ?? '', /maxConcurrentRequests/);
    assert.match(
      leaseRequestProblem({ ...good, limits: { maxRequestsPerSecond: 0.001 } }) ?? '',
      /maxRequestsPerSecond/,
    );
  });
});

describe('quota plumbing', () => {
  it('names one quota workflow per backend URL, registered under that type', () => {
    assert.equal(
      quotaWorkflowId('https://openeo.dataspace.copernicus.eu/'),
      'openeo-quota/https://openeo.dataspace.copernicus.eu',
    );
    assert.equal(
      quotaWorkflowId('https://openeo.dataspace.copernicus.eu'),
      quotaWorkflowId('https://openeo.dataspace.copernicus.eu/'),
    );
    assert.equal(typeof (workflows as Record<string, unknown>)[QUOTA_WORKFLOW_TYPE], 'function');
  });

  it('reads limits from a backend only when it has some', () => {
    assert.equal(quotaLimitsOf({ name: 'a', url: 'http://a.test', parallelJobs: 2 }), undefined);
    assert.deepEqual(
      quotaLimitsOf({ name: 'a', url: 'http://a.test', maxConcurrentRequests: 2, maxJobStartsPerMinute: 12 }),
      { maxConcurrentRequests: 2, maxJobStartsPerMinute: 12 },
    );
    assert.deepEqual(
      quotaLimitsOf({ name: 'a', url: 'http://a.test', maxJobStartsPerMinute: 2, jobStartWindowSeconds: 10 }),
      { maxJobStartsPerMinute: 2, jobStartWindowSeconds: 10 },
    );
    // A window alone limits nothing: no quota workflow for it.
    assert.equal(quotaLimitsOf({ name: 'a', url: 'http://a.test', jobStartWindowSeconds: 10 }), undefined);
  });

  it('tells a job start from other requests', () => {
    assert.equal(requestKind('POST', 'http://b.test/openeo/1.2/jobs/j-1/results'), 'start');
    assert.equal(requestKind('GET', 'http://b.test/openeo/1.2/jobs/j-1/results'), 'request');
    assert.equal(requestKind('DELETE', 'http://b.test/openeo/1.2/jobs/j-1/results'), 'request');
    assert.equal(requestKind('POST', 'http://b.test/openeo/1.2/jobs'), 'request');
  });

  it('waits as told for a window, and backs off (spread out) for a busy slot', () => {
    assert.equal(
      waitAfterRefusal({ granted: false, reason: 'jobStartsPerMinute', retryAfterMs: 5_000 }, 1, () => 0),
      5_000,
    );
    const slot = { granted: false as const, reason: 'concurrentRequests' as const, retryAfterMs: SLOT_RETRY_MS };
    const waits = [1, 2, 3, 20].map((n) => waitAfterRefusal(slot, n, () => 0.5));
    assert.deepEqual(
      waits,
      [...waits].sort((a, b) => a - b),
    );
    assert.ok(waits[3] <= 2_000, `capped: ${waits[3]}`);
  });
});

describe('quota fields of the batch spec', () => {
  const example = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'examples', 'antwerp-bap.json'), 'utf8'));
  const withBackend = (extra: Record<string, unknown>) => ({
    ...example,
    backends: [{ ...example.backends[0], ...extra }],
  });

  it('accepts CDSE-like quotas and leaves them out by default', () => {
    const spec = parseBatchSpec(
      withBackend({ maxConcurrentRequests: 2, maxJobStartsPerMinute: 12, maxRequestsPerSecond: 5 }),
    );
    assert.equal(spec.backends[0].maxConcurrentRequests, 2);
    assert.equal(parseBatchSpec(example).backends[0].maxJobStartsPerMinute, undefined);
  });

  it('names the field and the fix for a bad value', () => {
    const bad = withBackend({ maxConcurrentRequests: 0, maxJobStartsPerMinute: 1.5, maxRequestsPerSecond: 0 });
    const err = (() => {
      try {
        parseBatchSpec(bad);
      } catch (e) {
        return e;
      }
      assert.fail('accepted');
    })();
    assert.ok(err instanceof InvalidSpecError);
    const text = err.message;
    assert.match(text, /backends\[0\]\.maxConcurrentRequests: must be at least 1 \(leave it out for no limit\)/);
    assert.match(text, /backends\[0\]\.maxJobStartsPerMinute: must be a whole number/);
    assert.match(text, /backends\[0\]\.maxRequestsPerSecond: must be at least 0\.0167/);
  });

  it('takes a start window of 1 to 60 s, and only beside maxJobStartsPerMinute', () => {
    assert.equal(
      parseBatchSpec(withBackend({ maxJobStartsPerMinute: 2, jobStartWindowSeconds: 10 })).backends[0]
        .jobStartWindowSeconds,
      10,
    );
    assert.throws(
      () => parseBatchSpec(withBackend({ maxJobStartsPerMinute: 2, jobStartWindowSeconds: 120 })),
      /backends\[0\]\.jobStartWindowSeconds: must be at most 60 seconds/,
    );
    assert.throws(
      () => parseBatchSpec(withBackend({ jobStartWindowSeconds: 10 })),
      /backends\[0\]\.jobStartWindowSeconds: is the window of maxJobStartsPerMinute/,
    );
    assert.match(
      leaseRequestProblem({
        leaseId: 'l',
        kind: 'start',
        limits: { maxJobStartsPerMinute: 2, jobStartWindowSeconds: 0.5 },
        ttlMs: 1,
      }) ?? '',
      /jobStartWindowSeconds/,
    );
  });
});
