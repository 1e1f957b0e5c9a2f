/**
 * The bookkeeping of one backend's quotas: which leases are out, and when recent requests and
 * job starts happened. Pure and deterministic (time is passed in), so the quota workflow can
 * hold it and tests can drive it without a server.
 *
 * A lease covers one HTTP request from before it is sent until its answer is back. Because the
 * ledger cannot see when the backend received a request, it assumes the latest moment it could
 * have: while a lease is out the request counts as happening *now*, and once released (or
 * expired) it counts at the release (or expiry) time. The backend's own sliding windows always
 * see a request at or before that time, so a grant here can never push the backend over.
 */
import { checkQuotaLimits, jobStartWindowMs, type QuotaLimits } from './limits';

/** A plain request, or the request that starts a job (it counts against both kinds of limit). */
export type LeaseKind = 'request' | 'start';

/** What a worker asks for before one HTTP request. */
export interface LeaseRequest {
  /** Chosen by the asker (a UUID), so an update that is retried gets the same lease again. */
  leaseId: string;
  kind: LeaseKind;
  /** The limits of the batch that asks; every holder's leases count against them. */
  limits: QuotaLimits;
  /** The lease ends by itself after this long: a killed worker holds it at most this long. */
  ttlMs: number;
}

/** Which limit made the asker wait. */
export type QuotaReason = 'concurrentRequests' | 'requestsPerSecond' | 'jobStartsPerMinute';

export type LeaseAnswer =
  { granted: true; leaseId: string; expiresAt: number } | { granted: false; retryAfterMs: number; reason: QuotaReason };

export interface HeldLease {
  id: string;
  kind: LeaseKind;
  grantedAt: number;
  expiresAt: number;
}

/** A request that is over, at the latest moment the backend can have seen it. */
export interface PastRequest {
  kind: LeaseKind;
  at: number;
}

/** The ledger as plain JSON, carried across continue-as-new. */
export interface QuotaState {
  version: 1;
  leases: HeldLease[];
  recent: PastRequest[];
}

export const SECOND_MS = 1_000;
export const MINUTE_MS = 60_000;
/**
 * How long to wait for a free request slot. Slots are freed by releases the asker does not hear
 * about, so it asks again after a short while (the gate client backs off from here).
 */
export const SLOT_RETRY_MS = 200;
/** Leases longer than a day are a mistake in the asker, not a long download. */
export const MAX_LEASE_MS = 86_400_000;

/** Why a lease request is malformed, or `undefined` when it is fine. */
export function leaseRequestProblem(request: LeaseRequest): string | undefined {
  if (typeof request !== 'object' || request === null) return 'a lease request must be an object';
  if (typeof request.leaseId !== 'string' || request.leaseId.length === 0 || request.leaseId.length > 200)
    return 'leaseId must be a non-empty string';
  if (request.kind !== 'request' && request.kind !== 'start')
    return `kind must be "request" or "start", got ${String(request.kind)}`;
  if (!Number.isFinite(request.ttlMs) || request.ttlMs <= 0 || request.ttlMs > MAX_LEASE_MS)
    return `ttlMs must be between 1 and ${MAX_LEASE_MS}`;
  return checkQuotaLimits(request.limits);
}

/**
 * A rate as a sliding window: `allowed` requests in any `windowMs`. Below one request a second
 * the window grows (0.5/s is one request in any 2 s); above, the rate is rounded down.
 */
export function rateWindow(perSecond: number): { windowMs: number; allowed: number } {
  if (perSecond < 1) return { windowMs: Math.ceil(SECOND_MS / perSecond), allowed: 1 };
  return { windowMs: SECOND_MS, allowed: Math.floor(perSecond) };
}

export class QuotaLedger {
  private leases: HeldLease[];
  private recent: PastRequest[];

  constructor(state?: QuotaState) {
    if (state && state.version !== 1)
      throw new Error(`quota state version ${String(state.version)} is not known; this worker understands version 1`);
    this.leases = state ? state.leases.map((l) => ({ ...l })) : [];
    this.recent = state ? state.recent.map((r) => ({ ...r })) : [];
  }

  /** Grants the lease, or says how long to wait before asking again. */
  acquire(request: LeaseRequest, now: number): LeaseAnswer {
    this.tidy(now);
    const held = this.leases.find((l) => l.id === request.leaseId);
    if (held) return { granted: true, leaseId: held.id, expiresAt: held.expiresAt };
    const refusal = this.refusal(request, now);
    if (refusal) return refusal;
    const lease = { id: request.leaseId, kind: request.kind, grantedAt: now, expiresAt: now + request.ttlMs };
    this.leases.push(lease);
    return { granted: true, leaseId: lease.id, expiresAt: lease.expiresAt };
  }

  /** The request is over; releasing an unknown (expired, or already released) lease does nothing. */
  release(leaseId: string, now: number): void {
    const index = this.leases.findIndex((l) => l.id === leaseId);
    if (index < 0) return;
    const [lease] = this.leases.splice(index, 1);
    this.recent.push({ kind: lease.kind, at: Math.min(now, lease.expiresAt) });
    this.tidy(now);
  }

  /** Nothing out and nothing recent: forgetting this ledger loses nothing. */
  isIdle(now: number): boolean {
    this.tidy(now);
    return this.leases.length === 0 && this.recent.length === 0;
  }

  /** What is counted right now, for the quota workflow's query. */
  view(now: number): { leases: number; requestsLastSecond: number; startsLastMinute: number } {
    this.tidy(now);
    return {
      leases: this.leases.length,
      requestsLastSecond: this.countSince(now - SECOND_MS, () => true),
      startsLastMinute: this.countSince(now - MINUTE_MS, (kind) => kind === 'start'),
    };
  }

  toState(now: number): QuotaState {
    this.tidy(now);
    return { version: 1, leases: this.leases.map((l) => ({ ...l })), recent: this.recent.map((r) => ({ ...r })) };
  }

  private refusal(request: LeaseRequest, now: number): LeaseAnswer | undefined {
    const { maxConcurrentRequests, maxRequestsPerSecond, maxJobStartsPerMinute } = request.limits;
    if (maxConcurrentRequests !== undefined && this.leases.length >= maxConcurrentRequests) {
      return { granted: false, reason: 'concurrentRequests', retryAfterMs: SLOT_RETRY_MS };
    }
    if (maxRequestsPerSecond !== undefined) {
      const { windowMs, allowed } = rateWindow(maxRequestsPerSecond);
      if (this.countSince(now - windowMs, () => true) >= allowed)
        return this.windowRefusal('requestsPerSecond', windowMs, allowed, () => true, now);
    }
    const isStart = (kind: LeaseKind) => kind === 'start';
    const startWindowMs = jobStartWindowMs(request.limits);
    if (
      request.kind === 'start' &&
      maxJobStartsPerMinute !== undefined &&
      this.countSince(now - startWindowMs, isStart) >= maxJobStartsPerMinute
    ) {
      return this.windowRefusal('jobStartsPerMinute', startWindowMs, maxJobStartsPerMinute, isStart, now);
    }
    return undefined;
  }

  /**
   * The wait until the window holds fewer than `allowed` requests again: until the oldest
   * past request that keeps it full leaves it. Requests still out never leave it by waiting,
   * so with only those in the way the answer is the short slot retry.
   */
  private windowRefusal(
    reason: QuotaReason,
    windowMs: number,
    allowed: number,
    counts: (kind: LeaseKind) => boolean,
    now: number,
  ): LeaseAnswer {
    const pending = this.leases.filter((l) => counts(l.kind)).length;
    const past = this.recent
      .filter((r) => counts(r.kind) && r.at > now - windowMs)
      .map((r) => r.at)
      .sort((a, b) => a - b);
    const mustLeave = pending + past.length - allowed + 1;
    if (mustLeave <= 0 || mustLeave > past.length) return { granted: false, reason, retryAfterMs: SLOT_RETRY_MS };
    return { granted: false, reason, retryAfterMs: Math.max(1, past[mustLeave - 1] + windowMs - now + 1) };
  }

  /** Leases out (counted as now) plus past requests after `since`. */
  private countSince(since: number, counts: (kind: LeaseKind) => boolean): number {
    return (
      this.leases.filter((l) => counts(l.kind)).length +
      this.recent.filter((r) => counts(r.kind) && r.at > since).length
    );
  }

  /** Expired leases become past requests at their expiry; past requests no window needs are dropped. */
  private tidy(now: number): void {
    const expired = this.leases.filter((l) => l.expiresAt <= now);
    if (expired.length > 0) {
      this.leases = this.leases.filter((l) => l.expiresAt > now);
      for (const lease of expired) this.recent.push({ kind: lease.kind, at: lease.expiresAt });
    }
    // Requests are kept a minute too: a rate below one per second looks back further than a second.
    this.recent = this.recent.filter((r) => r.at > now - MINUTE_MS);
  }
}
