/**
 * How workflows call activities: timeouts and retry policies, in one place. Batch-level calls
 * (spec checks, tile pages) and a tile's calls (openEO jobs, downloads) differ; each kind is
 * defined once here.
 */
import {
  ActivityCancellationType,
  ActivityFailure,
  ApplicationFailure,
  proxyActivities,
  sleep,
  type ActivityOptions,
} from '@temporalio/workflow';
import type { OpenEOActivities } from '../activities';
import type { BatchSpec } from '../src/core/batch-spec/schema';
import type { RemoteHook } from '../src/core/hooks/remote';
import { timeoutsOrDefaults } from '../src/core/batch-spec/timeout-defaults';
import { BATCH_CALL_ROUNDS, roundPauseMs } from '../src/core/batch-call-rounds';

/**
 * The batch's own calls: a few quick attempts. For the calls `durably` drives that is one round,
 * and durably's pauses come after it: one policy in two layers, see src/core/batch-call-rounds.ts.
 */
const BATCH_RETRY: ActivityOptions['retry'] = {
  initialInterval: BATCH_CALL_ROUNDS.firstRetryMs,
  maximumInterval: BATCH_CALL_ROUNDS.maxRetryMs,
  maximumAttempts: BATCH_CALL_ROUNDS.attemptsPerRound,
};

/** Checking a spec may read a tile file and connect to every backend. */
export const specActivities = proxyActivities<OpenEOActivities>({ startToCloseTimeout: '5m', retry: BATCH_RETRY });

/** The batch's end: one pass over each backend's job list (see activities/duplicate-jobs.ts). */
export const sweepActivities = proxyActivities<OpenEOActivities>({ startToCloseTimeout: '30m', retry: BATCH_RETRY });

/** The batch's records saved beside its results: one read of every tile, then two files written. */
export const recordsActivities = proxyActivities<OpenEOActivities>({ startToCloseTimeout: '30m', retry: BATCH_RETRY });

/** Pages of tiles and tiles added while the batch runs. */
export const tilePageActivities = proxyActivities<OpenEOActivities>({ startToCloseTimeout: '2m', retry: BATCH_RETRY });

/** A tile's activities, with the batch's timeouts. */
export function tileActivities(timeouts: BatchSpec['timeouts'] | undefined) {
  const seconds = timeoutsOrDefaults(timeouts);
  const heartbeatTimeout = seconds.heartbeatSeconds * 1000;
  const maximumInterval = seconds.retryMaxIntervalSeconds * 1000;
  // No attempt limit: an outage pauses a tile, it never ends it (its openEO job would be left
  // running). Only a failure retrying cannot fix, which activities mark non-retryable, ends it.
  const retry = { initialInterval: Math.min(2000, maximumInterval), backoffCoefficient: 2, maximumInterval };
  return {
    /** Single openEO calls: create, start, cancel, logs. */
    quick: proxyActivities<OpenEOActivities>({ startToCloseTimeout: seconds.activitySeconds * 1000, retry }),
    /**
     * A job may queue and run for days; the heartbeat notices a lost worker, later than for
     * other activities: the waits last as long as the jobs, and each heartbeat is billed.
     */
    waiting: proxyActivities<OpenEOActivities>({
      startToCloseTimeout: '30d',
      heartbeatTimeout: seconds.waitHeartbeatSeconds * 1000,
      retry,
    }),
    /**
     * A lined-up tile's hand-over (`startJobAfter`). Calling it off waits until the activity has
     * ended, so whatever job it made is known before the tile goes on.
     */
    handOvers: proxyActivities<OpenEOActivities>({
      startToCloseTimeout: '30d',
      heartbeatTimeout,
      retry,
      cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
    }),
    /**
     * The hand-over of a tile of version 1 on, which created its job itself first: it heartbeats
     * as rarely as a wait (each heartbeat is billed), so calling it off does not wait for it to
     * end. There is nothing to wait for: the tile knows its job, and starting it twice is harmless
     * (the openEO API ignores a start of a queued or running job).
     */
    followingHandOvers: proxyActivities<OpenEOActivities>({
      startToCloseTimeout: '30d',
      heartbeatTimeout: seconds.waitHeartbeatSeconds * 1000,
      retry,
      cancellationType: ActivityCancellationType.TRY_CANCEL,
    }),
    /** Result downloads. */
    transfers: proxyActivities<OpenEOActivities>({
      startToCloseTimeout: '6h',
      heartbeatTimeout: 2 * heartbeatTimeout,
      retry,
    }),
  };
}

export type TileActivities = ReturnType<typeof tileActivities>;

/**
 * A user's hook (job factory, post-processor) gets this many attempts: enough for its own I/O
 * to recover from a blip, few enough that a bug in it ends the tile instead of retrying forever.
 */
export const HOOK_ATTEMPTS = 3;

/**
 * How the users' hooks are called, with the batch's timeouts: a few attempts each (see
 * {@link HOOK_ATTEMPTS}). The same for a hook in this worker and one on another task queue.
 */
export function hookActivityOptions(timeouts: BatchSpec['timeouts'] | undefined) {
  const seconds = timeoutsOrDefaults(timeouts);
  const retry = {
    initialInterval: 2000,
    backoffCoefficient: 2,
    maximumInterval: 30_000,
    maximumAttempts: HOOK_ATTEMPTS,
  };
  return {
    /** A job factory answers like an openEO call would. */
    planning: { startToCloseTimeout: seconds.activitySeconds * 1000, retry } satisfies ActivityOptions,
    /** A post-processor may read large files: it heartbeats, as downloads do. */
    postprocessing: {
      startToCloseTimeout: '6h',
      heartbeatTimeout: 2 * seconds.heartbeatSeconds * 1000,
      retry,
    } satisfies ActivityOptions,
  };
}

/** The users' hooks registered in this worker, with the batch's timeouts. */
export function hookActivities(timeouts: BatchSpec['timeouts'] | undefined) {
  const options = hookActivityOptions(timeouts);
  return {
    planning: proxyActivities<OpenEOActivities>(options.planning),
    postprocessing: proxyActivities<OpenEOActivities>(options.postprocessing),
  };
}

/**
 * A hook that is an activity on another task queue, called by its name with one JSON argument
 * (the contract of src/core/hooks/contract.ts); its answer is checked by the caller.
 */
export function remoteHookActivity(hook: RemoteHook, options: ActivityOptions): (request: unknown) => Promise<unknown> {
  const activities = proxyActivities<Record<string, (request: unknown) => Promise<unknown>>>({
    ...options,
    taskQueue: hook.taskQueue,
  });
  return activities[hook.activity];
}

/**
 * The failure an activity gave (its code and message, e.g. a spec problem), instead of the
 * ActivityFailure that wraps it: what a batch or an update fails with, for users to read.
 */
export function activityCause(err: unknown): unknown {
  return err instanceof ActivityFailure && err.cause instanceof ApplicationFailure ? err.cause : err;
}

/**
 * Calls a batch-level activity until it succeeds: an outage (a tile URL's host down, a tile
 * file missing on one worker, a busy backend) pauses the batch, it never ends it. A failure
 * that retrying cannot fix (non-retryable, e.g. a spec problem) is thrown. `onProblem` shows
 * the reason while it lasts, and `undefined` once the call works again. Each round is the
 * activity's own few attempts (`BATCH_RETRY`); see src/core/batch-call-rounds.ts.
 */
export async function durably<T>(call: () => Promise<T>, onProblem: (problem: string | undefined) => void): Promise<T> {
  for (let round = 0; ; round++) {
    try {
      const result = await call();
      if (round > 0) onProblem(undefined);
      return result;
    } catch (err) {
      const cause = activityCause(err);
      if (!(err instanceof ActivityFailure) || (cause instanceof ApplicationFailure && cause.nonRetryable)) throw cause;
      onProblem(`${cause instanceof Error ? cause.message : String(cause)}; trying again`);
      await sleep(roundPauseMs(round));
    }
  }
}
