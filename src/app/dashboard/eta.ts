/**
 * When a batch will be done, from when its tiles ended: the rate of the last minutes, so a batch
 * that slowed down (a backend paused, a busy queue) says so instead of promising its early pace.
 * Pure.
 */
import type { TileRecord, TileStatus } from '../../core/records';

/** How far back the rate looks. */
const RATE_WINDOW_MS = 15 * 60_000;
const ENDED: readonly TileStatus[] = ['finished', 'postprocessed', 'error', 'canceled', 'skipped'];

export interface Eta {
  /** Seconds until every tile ended, at the recent rate. */
  seconds: number;
  tilesPerHour: number;
}

type Timed = Pick<TileRecord, 'status' | 'createdAt' | 'finishedAt'>;

/** The estimate, or undefined while nothing ended recently (no rate to go by). */
export function estimateEta(tiles: Iterable<Timed>, now: Date): Eta | undefined {
  const nowMs = now.getTime();
  let remaining = 0;
  let recent = 0;
  let firstStart = Infinity;
  for (const tile of tiles) {
    if (tile.createdAt) firstStart = Math.min(firstStart, Date.parse(tile.createdAt));
    if (!ENDED.includes(tile.status)) remaining++;
    else if (tile.finishedAt && nowMs - Date.parse(tile.finishedAt) <= RATE_WINDOW_MS) recent++;
  }
  if (remaining === 0) return { seconds: 0, tilesPerHour: 0 };
  // The window starts with the batch's first tile when the batch is younger than the window.
  const windowMs = Math.min(RATE_WINDOW_MS, nowMs - firstStart);
  if (recent === 0 || !(windowMs > 0)) return undefined;
  const perMs = recent / windowMs;
  return { seconds: Math.round(remaining / perMs / 1000), tilesPerHour: Math.round(perMs * 3_600_000) };
}
