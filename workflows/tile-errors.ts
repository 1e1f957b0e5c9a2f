/**
 * What a tile's record says went wrong: an activity's failure, a job that ran past a phase limit,
 * a cancel the backend did not take. Pure, so it is tested without a server.
 */
import { ActivityFailure, ApplicationFailure } from '@temporalio/workflow';
import type { CancelledJob } from '../activities/openeo-jobs';
import type { TileError } from '../src/core/records';
import type { TileWorkflowInput } from './tile-input';

/** The reason to show for a failed activity: the openEO code and message, not a stack. */
export function errorOf(err: unknown): TileError {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof ApplicationFailure) return { code: cause.type ?? 'Error', message: cause.message };
  return { code: 'Error', message: err instanceof Error ? err.message : String(err) };
}

/** False only when the backend still reports the job active after our cancel request. */
export function cancelTook(cancelled: CancelledJob): boolean {
  return cancelled.cancelTaken !== false;
}

/** What the backend said to a cancel that did not take; the tile must not claim it was cancelled. */
export function cancelNotTaken(cancelled: CancelledJob): string {
  return `cancel requested; the backend still reports ${cancelled.status}`;
}

/** The error of an attempt whose job ran past a phase limit and was cancelled (or not). */
export function timeoutError(
  jobId: string,
  phase: 'queue' | 'run',
  timeouts: TileWorkflowInput['timeouts'],
  cancelled: CancelledJob,
): TileError {
  const limit =
    phase === 'run'
      ? `cancelRunningJobAfterSeconds (${timeouts?.cancelRunningJobAfterSeconds} s)`
      : `maxQueuedSeconds (${timeouts?.maxQueuedSeconds} s)`;
  const code = phase === 'run' ? 'JobRanTooLong' : 'JobQueuedTooLong';
  if (!cancelTook(cancelled)) return { code, message: `job ${jobId} ran past ${limit}: ${cancelNotTaken(cancelled)}` };
  return { code, message: `job ${jobId} was cancelled after ${limit}` };
}
