/**
 * A job that disappears from its backend (its user deleted it, the backend cleaned old jobs up or
 * lost its state) is an attempt that failed, not the end of its tile: the tile finishes from the
 * results an earlier download left complete in its folder, or makes a new job within
 * `maxAttempts`. Either way its record says what happened.
 */
import { ActivityFailure, ApplicationFailure } from '@temporalio/workflow';

/**
 * Patch id (0.9.0): before it, a vanished job's `JobNotFound` ended its tile `error`, with no new
 * job and outside `maxAttempts`.
 */
export const VANISHED_JOB_PATCH = 'vanished-job-retried';

/** The backend no longer knows the tile's job: an activity failed with `JobNotFound`. */
export function jobVanished(err: unknown): boolean {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  return cause instanceof ApplicationFailure && cause.type === 'JobNotFound';
}

/** What the tile's record says of a vanished job, and what the tile did about it. */
export function vanishedNote(
  jobId: string,
  backend: string,
  outcome: 'finished from its files' | 'new job' | 'no attempts left',
): string {
  const what = `job ${jobId} disappeared from backend "${backend}"`;
  if (outcome === 'finished from its files')
    return `${what}; its results were already complete and verified in the tile's folder, so the tile finished from them`;
  if (outcome === 'new job') return `${what}; a new job was made for the tile`;
  return `${what}; the tile had no attempts left (maxAttempts)`;
}
