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

/**
 * A job's wait is told from a lost worker after this many times `heartbeatSeconds` without a
 * heartbeat (`waitHeartbeatSeconds` when the spec leaves it out: 15 minutes). Waits are the
 * activities that last as long as the jobs, and every heartbeat is a billed Temporal Cloud
 * Action: at 60 s a 10-minute job sent 17 of them, at 300 s (0.11.0) 3, at 900 s none (a wait
 * heartbeats 2.5 minutes before its timeout). A worker that shuts down hands its waits back at
 * once; only a crashed one's wait for longer, while their jobs run on.
 */
export const WAIT_HEARTBEAT_FACTOR = 15;

export type BatchTimeouts = { [K in keyof typeof TIMEOUT_DEFAULTS]: number } & { waitHeartbeatSeconds: number };

/** The timeouts a workflow uses: the spec's, each one it lacks from {@link TIMEOUT_DEFAULTS}. */
export function timeoutsOrDefaults(timeouts: Partial<BatchTimeouts> | undefined): BatchTimeouts {
  const heartbeatSeconds = timeouts?.heartbeatSeconds ?? TIMEOUT_DEFAULTS.heartbeatSeconds;
  return {
    heartbeatSeconds,
    waitHeartbeatSeconds: timeouts?.waitHeartbeatSeconds ?? WAIT_HEARTBEAT_FACTOR * heartbeatSeconds,
    activitySeconds: timeouts?.activitySeconds ?? TIMEOUT_DEFAULTS.activitySeconds,
    retryMaxIntervalSeconds: timeouts?.retryMaxIntervalSeconds ?? TIMEOUT_DEFAULTS.retryMaxIntervalSeconds,
    hookWorkerSeconds: timeouts?.hookWorkerSeconds ?? TIMEOUT_DEFAULTS.hookWorkerSeconds,
  };
}
