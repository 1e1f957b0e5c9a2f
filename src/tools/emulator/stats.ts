/**
 * Counters the emulator keeps so tests and benchmarks can check how a client
 * behaved: requests per route and status, jobs per title, concurrency per
 * user, bytes served, faults injected.
 */

/** Current and peak value of a concurrency gauge. */
export interface Gauge {
  /** The value now. */
  current: number;
  /** The highest value since counting started. */
  max: number;
}

/** A snapshot of all counters (plain JSON, safe to mutate). */
export interface EmulatorStats {
  /** When counting started (emulator start or last reset). */
  since: string;
  /** Requests received. */
  requests: {
    /** Requests in all. */
    total: number;
    /** Route key (e.g. `GET /openeo/1.2/jobs/{job_id}`) → HTTP status (or `aborted`) → count. */
    byRoute: Record<string, Record<string, number>>;
  };
  /** Jobs created, and their status changes. */
  jobs: {
    /** Jobs created in all. */
    created: number;
    /** Job title (`(untitled)` for none) → number of jobs created with it. */
    createdByTitle: Record<string, number>;
    /** Status → number of transitions into it (`queued`, `running`, `finished`, …). */
    transitions: Record<string, number>;
  };
  /** Per user: jobs that are `created`, `queued` or `running`. */
  activeJobsPerUser: Record<string, Gauge>;
  /** Per user: jobs that are `queued` or `running` (started, not ended): what running limits count. */
  startedJobsPerUser: Record<string, Gauge>;
  /** Per user: jobs that are `running`. */
  runningJobsPerUser: Record<string, Gauge>;
  /** Peak number of running jobs over all users together. */
  maxRunningJobsTotal: number;
  /** Response body bytes sent. */
  bytesServed: {
    /** Response body bytes of all responses. */
    total: number;
    /** Response body bytes of result asset downloads. */
    assets: number;
  };
  /** Faults injected (see the fault configuration). */
  faults: {
    /** Faults injected in all. */
    total: number;
    /** Fault type (`status`, `reset`, `outage`, `job-error`, …) → count. */
    byType: Record<string, number>;
    /** Route key (or `jobs` for job faults) → fault type → count. */
    byRoute: Record<string, Record<string, number>>;
  };
  /** Per-user quotas (see `maxConcurrentRequestsPerUser`), counted whether limited or not. */
  quotas: {
    /** Per user: requests carrying the user's token in flight (current) and the most at once (max). */
    concurrentRequestsPerUser: Record<string, Gauge>;
    /** Per user: job starts in the last 60 s (current) and the most in any 60 s (max); the emulator's `jobStartWindowMs` when set. */
    jobStartsPerMinutePerUser: Record<string, Gauge>;
    /** Requests answered 429 `TooManyRequests` for a quota, per quota. */
    refused: {
      /** All refused requests. */
      total: number;
      /** Refused for too many requests in flight. */
      concurrentRequests: number;
      /** Refused for too many job starts in the window. */
      jobStarts: number;
    };
  };
  /** Requests to the separate asset origin (when `assetOrigin` is `separate`). */
  assetOrigin: {
    /** Requests the asset origin received. */
    requests: number;
    /** Of these, requests that carried an `Authorization` header: tokens that leaked to storage. */
    withAuthorization: number;
  };
}

/** Label used in `createdByTitle` for jobs without a title. */
export const UNTITLED = '(untitled)';

/** Mutable counter store behind `GET /_emulator/stats`. */
export class StatsRecorder {
  private stats: EmulatorStats;

  constructor(private readonly now: () => number = Date.now) {
    this.stats = this.empty();
  }

  private empty(): EmulatorStats {
    return {
      since: new Date(this.now()).toISOString(),
      requests: { total: 0, byRoute: {} },
      jobs: { created: 0, createdByTitle: {}, transitions: {} },
      activeJobsPerUser: {},
      startedJobsPerUser: {},
      runningJobsPerUser: {},
      maxRunningJobsTotal: 0,
      bytesServed: { total: 0, assets: 0 },
      faults: { total: 0, byType: {}, byRoute: {} },
      assetOrigin: { requests: 0, withAuthorization: 0 },
      quotas: {
        concurrentRequestsPerUser: {},
        jobStartsPerMinutePerUser: {},
        refused: { total: 0, concurrentRequests: 0, jobStarts: 0 },
      },
    };
  }

  /** A user's requests in flight changed. */
  observeConcurrentRequests(user: string, inFlight: number): void {
    update((this.stats.quotas.concurrentRequestsPerUser[user] ??= { current: 0, max: 0 }), inFlight);
  }

  /** A user started a job: `inLastMinute` starts in the last 60 s (or `jobStartWindowMs`), this one included. */
  observeJobStartsPerMinute(user: string, inLastMinute: number): void {
    update((this.stats.quotas.jobStartsPerMinutePerUser[user] ??= { current: 0, max: 0 }), inLastMinute);
  }

  /** Counts a request refused for a quota. */
  recordQuotaRefusal(quota: 'concurrentRequests' | 'jobStarts'): void {
    this.stats.quotas.refused.total += 1;
    this.stats.quotas.refused[quota] += 1;
  }

  /** Counts one completed (or aborted) request. */
  recordRequest(route: string, outcome: number | 'aborted'): void {
    this.stats.requests.total += 1;
    const perStatus = (this.stats.requests.byRoute[route] ??= {});
    const key = String(outcome);
    perStatus[key] = (perStatus[key] ?? 0) + 1;
  }

  /** Counts one injected fault. */
  recordFault(route: string, type: string): void {
    const faults = this.stats.faults;
    faults.total += 1;
    faults.byType[type] = (faults.byType[type] ?? 0) + 1;
    const perType = (faults.byRoute[route] ??= {});
    perType[type] = (perType[type] ?? 0) + 1;
  }

  /** Counts one request to the separate asset origin. */
  recordAssetOriginRequest(hadAuthorization: boolean): void {
    this.stats.assetOrigin.requests += 1;
    if (hadAuthorization) this.stats.assetOrigin.withAuthorization += 1;
  }

  /** Counts response body bytes. */
  recordBytes(bytes: number, isAsset: boolean): void {
    this.stats.bytesServed.total += bytes;
    if (isAsset) this.stats.bytesServed.assets += bytes;
  }

  recordJobCreated(title: string | null): void {
    this.stats.jobs.created += 1;
    const key = title ?? UNTITLED;
    this.stats.jobs.createdByTitle[key] = (this.stats.jobs.createdByTitle[key] ?? 0) + 1;
  }

  recordTransition(status: string): void {
    this.stats.jobs.transitions[status] = (this.stats.jobs.transitions[status] ?? 0) + 1;
  }

  /** Updates a user's concurrency gauges after any job change. */
  observeConcurrency(
    user: string,
    counts: { active: number; queued: number; running: number; runningTotal: number },
  ): void {
    const { active, queued, running, runningTotal } = counts;
    update((this.stats.activeJobsPerUser[user] ??= { current: 0, max: 0 }), active);
    update((this.stats.startedJobsPerUser[user] ??= { current: 0, max: 0 }), queued + running);
    update((this.stats.runningJobsPerUser[user] ??= { current: 0, max: 0 }), running);
    this.stats.maxRunningJobsTotal = Math.max(this.stats.maxRunningJobsTotal, runningTotal);
  }

  /** A deep copy, so callers can't alter the live counters. */
  snapshot(): EmulatorStats {
    return structuredClone(this.stats);
  }

  /**
   * Zeroes all counters. Gauges keep their current value (jobs don't vanish
   * on reset) and their peak restarts from it.
   */
  reset(runningTotal: number): void {
    const fresh = this.empty();
    for (const [user, gauge] of Object.entries(this.stats.activeJobsPerUser)) {
      fresh.activeJobsPerUser[user] = { current: gauge.current, max: gauge.current };
    }
    for (const [user, gauge] of Object.entries(this.stats.startedJobsPerUser)) {
      fresh.startedJobsPerUser[user] = { current: gauge.current, max: gauge.current };
    }
    for (const [user, gauge] of Object.entries(this.stats.runningJobsPerUser)) {
      fresh.runningJobsPerUser[user] = { current: gauge.current, max: gauge.current };
    }
    fresh.maxRunningJobsTotal = runningTotal;
    for (const [user, gauge] of Object.entries(this.stats.quotas.concurrentRequestsPerUser)) {
      fresh.quotas.concurrentRequestsPerUser[user] = { current: gauge.current, max: gauge.current };
    }
    this.stats = fresh;
  }
}

function update(gauge: Gauge, value: number): void {
  gauge.current = value;
  gauge.max = Math.max(gauge.max, value);
}
