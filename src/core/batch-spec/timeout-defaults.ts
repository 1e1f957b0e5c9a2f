/**
 * The batch's timeouts when a spec leaves them out: the spec schema's defaults, and what the
 * workflows fall back to for a spec that reached them without defaults (an older run's input).
 * Plain numbers with no imports, so workflow code may import them.
 */
export const TIMEOUT_DEFAULTS = {
  /** A waiting or downloading activity that stops heartbeating this long is retried elsewhere. */
  heartbeatSeconds: 60,
  /** Longest a single openEO call activity may take before it is retried. */
  activitySeconds: 120,
  /** The longest pause between two retries of a failing call. */
  retryMaxIntervalSeconds: 120,
  /** How long a batch waits at its start for a worker of a hook's task queue to answer. */
  hookWorkerSeconds: 60,
} as const;

export type BatchTimeouts = { [K in keyof typeof TIMEOUT_DEFAULTS]: number };

/** The timeouts a workflow uses: the spec's, each one it lacks from {@link TIMEOUT_DEFAULTS}. */
export function timeoutsOrDefaults(timeouts: Partial<BatchTimeouts> | undefined): BatchTimeouts {
  return {
    heartbeatSeconds: timeouts?.heartbeatSeconds ?? TIMEOUT_DEFAULTS.heartbeatSeconds,
    activitySeconds: timeouts?.activitySeconds ?? TIMEOUT_DEFAULTS.activitySeconds,
    retryMaxIntervalSeconds: timeouts?.retryMaxIntervalSeconds ?? TIMEOUT_DEFAULTS.retryMaxIntervalSeconds,
    hookWorkerSeconds: timeouts?.hookWorkerSeconds ?? TIMEOUT_DEFAULTS.hookWorkerSeconds,
  };
}
