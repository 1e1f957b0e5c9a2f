/**
 * When will a batch be done? Tiles end at the rate they have ended since we started watching;
 * the rest will take as long at that rate. Pure (the clock is passed in), so it is tested alone.
 */

export interface EtaClock {
  /** When we first saw the batch, and how many tiles had ended then. */
  readonly sinceMs: number;
  readonly doneThen: number;
}

export function startEta(nowMs: number, done: number): EtaClock {
  return { sinceMs: nowMs, doneThen: done };
}

/** Milliseconds left, or undefined while no tile has ended since we started watching. */
export function etaMs(clock: EtaClock, nowMs: number, done: number, total: number): number | undefined {
  if (total > 0 && done >= total) return 0;
  const ended = done - clock.doneThen;
  const elapsed = nowMs - clock.sinceMs;
  if (ended <= 0 || elapsed <= 0) return undefined;
  return ((total - done) * elapsed) / ended;
}

/** `45s`, `3m 20s`, `2h 05m`; `--` when it cannot be known yet. */
export function formatEta(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '--';
  const seconds = Math.ceil(ms / 1000);
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ${String(seconds % 60).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h ${String(minutes % 60).padStart(2, '0')}m`;
}
