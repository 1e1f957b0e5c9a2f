/**
 * A backend's quotas as a batch spec sets them (`backends[].maxConcurrentRequests`, …), and the
 * names the quota workflow and the workers that ask it share. Pure: workflows use it.
 */

/** Limits of one backend for this project's requests; an absent limit is no limit. */
export interface QuotaLimits {
  /** openEO HTTP requests in flight at once, over all workers. CDSE: 2. */
  maxConcurrentRequests?: number;
  /** openEO HTTP requests per second, over all workers. */
  maxRequestsPerSecond?: number;
  /** Job starts (`POST /jobs/{id}/results`) in any 60 s (or `jobStartWindowSeconds`), over all workers. CDSE: 12. */
  maxJobStartsPerMinute?: number;
  /**
   * The window `maxJobStartsPerMinute` counts starts in, when it is not the full minute: a backend
   * whose start quota is per shorter window, or a test that runs on a scaled-down clock.
   * Absent: 60 s. Never longer than a minute (the ledger keeps a minute of past requests).
   */
  jobStartWindowSeconds?: number;
}

export const QUOTA_FIELDS = ['maxConcurrentRequests', 'maxRequestsPerSecond', 'maxJobStartsPerMinute'] as const;

/** The longest (and default) window of `maxJobStartsPerMinute`, in seconds. */
export const JOB_START_WINDOW_SECONDS = 60;

/** The window `maxJobStartsPerMinute` counts starts in, in milliseconds. */
export function jobStartWindowMs(limits: QuotaLimits): number {
  return (limits.jobStartWindowSeconds ?? JOB_START_WINDOW_SECONDS) * 1000;
}

/** The slowest rate a backend may ask for: one request a minute. */
export const MIN_REQUESTS_PER_SECOND = 1 / 60;

/** Workflow type, update and signal names of the quota workflow (activities cannot import workflows). */
export const QUOTA_WORKFLOW_TYPE = 'quotaWorkflow';
export const ACQUIRE_LEASE_UPDATE = 'acquireLease';
export const RELEASE_LEASE_SIGNAL = 'releaseLease';
export const QUOTA_VIEW_QUERY = 'quotaView';

/**
 * The id of a backend's quota workflow: one per backend URL, shared by every batch and worker of
 * the namespace. The URL is the backend's identity (two spec names for one URL are one backend).
 */
export function quotaWorkflowId(backendUrl: string): string {
  const url = new URL(backendUrl);
  return `openeo-quota/${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

/** The limits in a backend of a spec (or a tile's copy of it); `undefined` when it has none. */
export function quotaLimitsOf(backend: object): QuotaLimits | undefined {
  const source = backend as Record<string, unknown>;
  const limits: QuotaLimits = {};
  for (const field of QUOTA_FIELDS) {
    if (typeof source[field] === 'number') limits[field] = source[field];
  }
  // A window is no limit of its own: it only shapes the start limit it belongs to.
  if (limits.maxJobStartsPerMinute !== undefined && typeof source.jobStartWindowSeconds === 'number')
    limits.jobStartWindowSeconds = source.jobStartWindowSeconds;
  return Object.keys(limits).length > 0 ? limits : undefined;
}

/** Why these limits make no sense, or `undefined`. The spec schema says the same to users. */
export function checkQuotaLimits(limits: QuotaLimits): string | undefined {
  if (typeof limits !== 'object' || limits === null) return 'limits must be an object';
  const { maxConcurrentRequests, maxRequestsPerSecond, maxJobStartsPerMinute, jobStartWindowSeconds } = limits;
  for (const [name, value] of Object.entries({ maxConcurrentRequests, maxJobStartsPerMinute })) {
    if (value !== undefined && !(Number.isInteger(value) && value >= 1))
      return `${name} must be a whole number ≥ 1, got ${String(value)}`;
  }
  if (
    maxRequestsPerSecond !== undefined &&
    !(Number.isFinite(maxRequestsPerSecond) && maxRequestsPerSecond >= MIN_REQUESTS_PER_SECOND)
  ) {
    return `maxRequestsPerSecond must be a number ≥ ${MIN_REQUESTS_PER_SECOND.toFixed(4)} (one request a minute), got ${String(maxRequestsPerSecond)}`;
  }
  if (
    jobStartWindowSeconds !== undefined &&
    !(
      Number.isFinite(jobStartWindowSeconds) &&
      jobStartWindowSeconds >= 1 &&
      jobStartWindowSeconds <= JOB_START_WINDOW_SECONDS
    )
  ) {
    return `jobStartWindowSeconds must be a number from 1 to ${JOB_START_WINDOW_SECONDS}, got ${String(jobStartWindowSeconds)}`;
  }
  return undefined;
}
