/**
 * The worker's side of backend quotas: a `RequestGate` that asks the backend's quota workflow
 * (`workflows/quota.ts`) for a lease through a Temporal update, waits as long as it is told, and
 * releases the lease by signal when the request is over. The Temporal client is the worker's own
 * (`Context.current().client`, available to activities since SDK 1.24 on any worker that has a
 * connection), and the quota workflow runs on the activity's task queue, so a deployment needs
 * nothing more than the workers it already has.
 */
import { Context } from '@temporalio/activity';
import { WithStartWorkflowOperation } from '@temporalio/client';
import { ApplicationFailure, type Workflow } from '@temporalio/common';
import { randomUUID } from 'node:crypto';
import type { GatedBackend, GatedRequest, RequestGate, RequestLease } from '../src/core/openeo/request-gate';
import { SLOT_RETRY_MS, type LeaseAnswer, type LeaseRequest } from '../src/core/quota/ledger';
import {
  ACQUIRE_LEASE_UPDATE,
  QUOTA_WORKFLOW_TYPE,
  RELEASE_LEASE_SIGNAL,
  checkQuotaLimits,
  quotaLimitsOf,
  quotaWorkflowId,
  type QuotaLimits,
} from '../src/core/quota/limits';

export interface QuotaGateOptions {
  /** A request's lease ends by itself after this long: longer than any request may take. */
  requestLeaseMs: number;
  /** A download's lease ends by itself after this long. */
  transferLeaseMs: number;
}

/** Failed calls to the quota workflow in a row before the activity gives up (and is retried). */
const MAX_TEMPORAL_ERRORS = 5;
/** The longest pause between two lease requests refused for a busy slot. */
const MAX_SLOT_WAIT_MS = 2_000;

/** How long to wait after a refusal: the workflow's hint, spread out so waiting workers do not ask in step. */
export function waitAfterRefusal(
  answer: Extract<LeaseAnswer, { granted: false }>,
  refusals: number,
  random: () => number = Math.random,
): number {
  if (answer.reason === 'concurrentRequests') {
    const backoff = Math.min(MAX_SLOT_WAIT_MS, SLOT_RETRY_MS * 1.5 ** Math.max(0, refusals - 1));
    return Math.round(backoff * (0.75 + random() / 2));
  }
  return answer.retryAfterMs + Math.round(random() * 50);
}

/** Time left before this activity attempt's start-to-close timeout, or Infinity. */
function timeLeft(): number {
  const { startToCloseTimeoutMs, currentAttemptScheduledTimestampMs } = Context.current().info;
  if (!startToCloseTimeoutMs) return Infinity;
  return currentAttemptScheduledTimestampMs + startToCloseTimeoutMs - Date.now();
}

class TemporalQuotaGate implements RequestGate {
  private readonly workflowId: string;

  constructor(
    private readonly backendUrl: string,
    private readonly limits: QuotaLimits,
    private readonly options: QuotaGateOptions,
  ) {
    this.workflowId = quotaWorkflowId(backendUrl);
  }

  async acquire(gated: GatedRequest): Promise<RequestLease> {
    const request: LeaseRequest = {
      leaseId: randomUUID(),
      kind: gated.kind,
      limits: this.limits,
      ttlMs: gated.transfer ? this.options.transferLeaseMs : this.options.requestLeaseMs,
    };
    for (let refusals = 0, errors = 0; ;) {
      let answer: LeaseAnswer;
      try {
        answer = await this.ask(request);
        errors = 0;
      } catch (err) {
        if (Context.current().cancellationSignal.aborted || ++errors >= MAX_TEMPORAL_ERRORS)
          throw this.unavailable(err);
        await Context.current().sleep(SLOT_RETRY_MS * errors);
        continue;
      }
      if (answer.granted) return { release: () => this.release(request.leaseId) };
      const wait = waitAfterRefusal(answer, ++refusals);
      // Rather than run into the activity's timeout, end this attempt: Temporal retries it then.
      if (wait + this.options.requestLeaseMs > timeLeft()) {
        throw ApplicationFailure.create({
          message: `backend quota ${answer.reason} reached; trying again in ${wait} ms`,
          type: 'QuotaWait',
          nextRetryDelay: wait,
        });
      }
      await Context.current().sleep(wait);
    }
  }

  /** Update-with-start: the quota workflow is started by whoever needs it first. */
  private ask(request: LeaseRequest): Promise<LeaseAnswer> {
    const { client, info } = Context.current();
    const startWorkflowOperation = new WithStartWorkflowOperation(QUOTA_WORKFLOW_TYPE, {
      workflowId: this.workflowId,
      taskQueue: info.taskQueue,
      args: [{ backendUrl: this.backendUrl }],
      workflowIdConflictPolicy: 'USE_EXISTING',
    });
    return client.workflow.executeUpdateWithStart<Workflow, LeaseAnswer, [LeaseRequest]>(ACQUIRE_LEASE_UPDATE, {
      args: [request],
      startWorkflowOperation,
    });
  }

  private async release(leaseId: string): Promise<void> {
    try {
      await Context.current().client.workflow.getHandle(this.workflowId).signal(RELEASE_LEASE_SIGNAL, leaseId);
    } catch {
      // The lease expires by itself; a failed release only keeps its slot a little longer.
    }
  }

  private unavailable(err: unknown): ApplicationFailure {
    const reason = err instanceof Error ? err.message : String(err);
    return ApplicationFailure.retryable(
      `could not get a lease from the quota workflow ${this.workflowId}: ${reason}`,
      'QuotaUnavailable',
    );
  }
}

/** The backends named by an activity's input (`backend`, or a spec's `backends`) that have quotas. */
export function gatedBackendsOf(input: unknown, options: QuotaGateOptions): GatedBackend[] {
  if (typeof input !== 'object' || input === null) return [];
  const { backend, backends } = input as { backend?: unknown; backends?: unknown };
  const candidates = Array.isArray(backends) ? backends : [backend];
  const gated: GatedBackend[] = [];
  for (const candidate of candidates) {
    if (typeof candidate !== 'object' || candidate === null) continue;
    const url = (candidate as { url?: unknown }).url;
    const limits = quotaLimitsOf(candidate);
    // A spec with bad limits is refused by validation before any request; it is never gated.
    if (typeof url !== 'string' || !limits || checkQuotaLimits(limits) || !URL.canParse(url)) continue;
    gated.push({ url, gate: new TemporalQuotaGate(url, limits, options) });
  }
  return gated;
}
