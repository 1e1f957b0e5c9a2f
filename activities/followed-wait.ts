/**
 * One wait the tracker follows, and its rules: which status answers it, when it is due for its
 * next look, and how often it heartbeats. Pure, so `BackendJobs` stays the loop.
 */
import {
  ActivityCancelledError,
  ActivityCompletionError,
  ActivityNotFoundError,
  ActivityPausedError,
} from '@temporalio/client';
import { TERMINAL_JOB_STATUSES, type OpenEOJobStatus } from '../src/core/records';
import type { FollowRequest } from './tracker-types';
import { nextLook, type PollSettings } from './polling';

/** A wait the tracker follows, with its schedule. */
export interface Followed<Result> extends FollowRequest<Result> {
  since: number;
  lastHeartbeat: number;
  /** Failed looks in a row: they space the next look out, as the activity's retries would. */
  failures: number;
  notBefore: number;
  /** When it is due for its next look: worked out when its observations change, not per look. */
  due: number;
  /**
   * How late that look may come so that one listing serves it with another job's (see
   * `BackendJobs.schedule`): later than `due` only for a look not aimed at the job's end.
   */
  latest: number;
  /** Whether that look is aimed just past the job's estimated end. */
  aimedAtEnd: boolean;
}

/** Whether this observation completes the wait. */
export function isAnswer(job: Followed<unknown>, status: OpenEOJobStatus): boolean {
  if (TERMINAL_JOB_STATUSES.includes(status)) return true;
  return !job.untilEnd && status !== job.knownStatus;
}

/** Tells several waits on one job apart (a hand-over beside the tile's own wait). */
export function keyOf(job: FollowRequest<unknown>): string {
  return job.key ?? job.jobId;
}

/** The server's answer to a heartbeat of a wait it no longer wants. */
export function isRefusal(err: unknown): boolean {
  return (
    err instanceof ActivityCancelledError ||
    err instanceof ActivityNotFoundError ||
    err instanceof ActivityCompletionError ||
    err instanceof ActivityPausedError
  );
}

/** What the tracker learnt of a backend from all the jobs it followed there, and of who waits on a job. */
export type BackendKnowledge = Pick<PollSettings, 'siblings' | 'fractionalProgress' | 'slotAwaited'>;

/**
 * Works out when the job is due for its next look (0: at once), from its observations and what
 * its backend's other jobs taught the tracker.
 */
export function planNextLook(job: Followed<unknown>, known: BackendKnowledge = {}): void {
  const last = job.history[job.history.length - 1];
  // An earlier attempt that saw the change but died before completing: answer at once.
  if (last && isAnswer(job, last.status)) {
    job.due = job.latest = Math.max(0, job.notBefore);
    job.aimedAtEnd = false;
    return;
  }
  const from = last ? last.at : job.since;
  const next = nextLook(job.history, { ...job.polling, ...known });
  job.due = Math.max(from + next.delayMs, job.notBefore);
  job.aimedAtEnd = next.aimedAtEnd;
  job.latest = next.aimedAtEnd || job.notBefore > 0 ? job.due : job.due + SHARED_LOOK_DELAY * next.delayMs;
}

/**
 * How much later than planned, as a share of its wait, a look that is not aimed at the job's end
 * may come to share a listing with another job's look: such a look only tells how far the job
 * got, so a second later costs nothing, and two jobs started a moment apart (a hand-over each)
 * then cost one listing per round instead of two.
 */
const SHARED_LOOK_DELAY = 1;

/**
 * Share of its heartbeat timeout a followed wait waits between heartbeats, at least. Each
 * heartbeat that reaches the server is a billed Action on Temporal Cloud, and a 10-minute job's
 * wait sent one every 20 s (a third of the 60 s timeout of 0.10.0, 30 per job).
 */
export const HEARTBEAT_SHARE = 0.6;

/**
 * How late a heartbeat may come before its timeout, at most: a slow look may hold the tracker's
 * loop, and a request to the server may be slow, but not for minutes. A wait with a long timeout
 * (15 minutes by default, `timeouts.waitHeartbeatSeconds`) heartbeats this long before it runs
 * out, so a job that ends within it sends none.
 */
export const HEARTBEAT_SLACK_MS = 150_000;

/**
 * How often a followed wait heartbeats: the later of a share of its timeout and the slack before
 * it, within bounds. A hand-over too: it heartbeated every 2 s, so that one called off (its
 * lined-up tile moved to a free slot) learnt it at once, but that was 300 billed Actions per
 * 10-minute job ahead, for every lined-up tile. A moved tile now waits for the next heartbeat or
 * the end of the job ahead, whichever comes first; the hand-over still asks the server whether it
 * is wanted before it starts a job.
 */
export function heartbeatInterval(job: Followed<unknown>, max: number): number {
  const timeout = job.heartbeatTimeoutMs ?? max / HEARTBEAT_SHARE;
  return Math.max(1_000, Math.min(max, Math.max(timeout * HEARTBEAT_SHARE, timeout - HEARTBEAT_SLACK_MS)));
}
