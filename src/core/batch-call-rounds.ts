/**
 * How the batch's own calls (checking the spec, reading tile pages) are retried: one policy in
 * two layers. A round is a few quick attempts (the activity's Temporal retry policy,
 * workflows/activity-options.ts); between rounds `durably` pauses 10 s·2ⁿ, at most 5 min, for as
 * long as the batch lives.
 *
 * Both layers are deliberate. Within a round, the attempt number is what the spec check counts
 * to refuse a URL that never answers (a backend's, a STAC API's) at the round's last attempt,
 * rather than wait forever on a typo; and a blip that passes within a round never shows as the
 * batch's problem. The rounds keep a batch alive through the outage of a busy backend or a tile
 * source. Plain numbers with no imports, so workflow code may import them.
 */
export const BATCH_CALL_ROUNDS = {
  /** Attempts in one round; at the last one the spec check refuses a URL that did not answer. */
  attemptsPerRound: 3,
  /** Temporal's pause before the round's second attempt, doubling up to `maxRetryMs`. */
  firstRetryMs: 2_000,
  maxRetryMs: 30_000,
  /** `durably`'s pause after the first failed round, doubling up to `maxRoundPauseMs`. */
  firstRoundPauseMs: 10_000,
  maxRoundPauseMs: 5 * 60_000,
} as const;

/** `durably`'s pause after failed round `round` (0 for the first). */
export function roundPauseMs(round: number): number {
  return Math.min(BATCH_CALL_ROUNDS.maxRoundPauseMs, BATCH_CALL_ROUNDS.firstRoundPauseMs * 2 ** round);
}

/** Whether the current attempt is its round's last: where a URL that never answered is refused. */
export function isLastAttemptOfRound(attempt: number): boolean {
  return attempt >= BATCH_CALL_ROUNDS.attemptsPerRound;
}
