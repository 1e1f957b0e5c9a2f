/**
 * Heartbeats of long transfers (downloads, quicklooks): none in the first part of an attempt.
 *
 * The SDK sends an activity's first heartbeat at once and throttles the rest, and every heartbeat
 * that reaches the server is a billed Temporal Cloud Action: a download done in a few seconds
 * cost one for nothing. The server times out an attempt that sends no heartbeat for its heartbeat
 * timeout, so the first one may wait a quarter of it and still leave three quarters spare.
 */
import { Context } from '@temporalio/activity';

/** Share of the heartbeat timeout at the start of an attempt in which a transfer sends no heartbeat. */
export const QUIET_SHARE = 0.25;

/** Whether an attempt `elapsedMs` in, with this heartbeat timeout, is still in its quiet start. */
export function inQuietStart(elapsedMs: number, heartbeatTimeoutMs: number | undefined): boolean {
  return heartbeatTimeoutMs !== undefined && elapsedMs < heartbeatTimeoutMs * QUIET_SHARE;
}

/** Heartbeats the current activity with `details`, unless it is in its quiet start. */
export function transferHeartbeat(details: unknown): void {
  const ctx = Context.current();
  // The attempt's scheduling time: it started then or later, so the quiet start is never longer.
  const elapsedMs = Date.now() - ctx.info.currentAttemptScheduledTimestampMs;
  if (inQuietStart(elapsedMs, ctx.info.heartbeatTimeoutMs)) return;
  ctx.heartbeat(details);
}
