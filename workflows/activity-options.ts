/**
 * How workflows call activities: timeouts and retry policies, in one place. Batch-level calls
 * (spec checks, tile pages) and a tile's calls (openEO jobs, downloads) differ; each kind is
 * defined once here.
 */
import { ActivityFailure, ApplicationFailure, proxyActivities, type ActivityOptions } from '@temporalio/workflow';
import type { OpenEOActivities } from '../activities';
import type { BatchSpec } from '../core/spec/schema';

/** Retries of the batch's own calls: reading tiles and checking specs. */
const BATCH_RETRY: ActivityOptions['retry'] = { initialInterval: '2s', maximumInterval: '30s', maximumAttempts: 10 };

/** Checking a spec may read a tile file and connect to every backend. */
export const specActivities = proxyActivities<OpenEOActivities>({ startToCloseTimeout: '5m', retry: BATCH_RETRY });

/** Pages of tiles and tiles added while the batch runs. */
export const tilePageActivities = proxyActivities<OpenEOActivities>({ startToCloseTimeout: '2m', retry: BATCH_RETRY });

/** A tile's activities, with the batch's timeouts. */
export function tileActivities(timeouts: BatchSpec['timeouts'] | undefined) {
  const heartbeatTimeout = (timeouts?.heartbeatSeconds ?? 60) * 1000;
  const maximumInterval = (timeouts?.retryMaxIntervalSeconds ?? 120) * 1000;
  const retry = { initialInterval: Math.min(2000, maximumInterval), backoffCoefficient: 2, maximumInterval, maximumAttempts: 30 };
  return {
    /** Single openEO calls: create, start, cancel, logs. */
    quick: proxyActivities<OpenEOActivities>({ startToCloseTimeout: (timeouts?.activitySeconds ?? 120) * 1000, retry }),
    /** A job may queue and run for days; the heartbeat notices a lost worker. */
    waiting: proxyActivities<OpenEOActivities>({ startToCloseTimeout: '30d', heartbeatTimeout, retry }),
    /** Result downloads. */
    transfers: proxyActivities<OpenEOActivities>({ startToCloseTimeout: '6h', heartbeatTimeout: 2 * heartbeatTimeout, retry }),
  };
}

export type TileActivities = ReturnType<typeof tileActivities>;

/**
 * The failure an activity gave (its code and message, e.g. a spec problem), instead of the
 * ActivityFailure that wraps it: what a batch or an update fails with, for users to read.
 */
export function activityCause(err: unknown): unknown {
  return err instanceof ActivityFailure && err.cause instanceof ApplicationFailure ? err.cause : err;
}
