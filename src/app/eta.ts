/**
 * When a batch will be done: the one estimate both the terminal's progress bar and the map page
 * show. It goes by the rate at which the batch's tiles ended in the last minutes, so a batch that
 * slowed down (a backend paused, a busy queue) says so instead of promising its early pace. It
 * reads the batch's tiles, not how long someone has been watching, so every view of one batch
 * reads the same figure. Pure (the clock is passed in).
 */
import { doneCount, type BatchProgress } from '../core/progress';
import { isEnded, type TileRecord } from '../core/records';

/** How far back the rate looks. */
export const RATE_WINDOW_MS = 15 * 60_000;

/** What the estimate needs of the batch: its tiles, in all and ended, and whether any can start. */
export interface EtaBatch {
  totalTiles: number;
  done: number;
  stalled: boolean;
}

/** A tile as the rate reads it: an ended one counts with when it started and ended (ISO times). */
export type EtaTile = Pick<TileRecord, 'status' | 'createdAt' | 'finishedAt'>;

export interface Eta {
  /** Seconds until every tile ended, at the recent rate. */
  seconds: number;
  tilesPerHour: number;
  /** The seconds as every view shows them (`formatEta`). */
  text: string;
}

type Steering = Pick<BatchProgress, 'paused' | 'pausedBackends' | 'backends'>;

/** True when no new tile can start: the batch is paused, or every one of its backends is. */
export function nothingStarts(p: Steering): boolean {
  return p.paused || (p.backends.length > 0 && p.backends.every((b) => b.name in p.pausedBackends));
}

/** The batch as the estimate reads it from its progress. */
export function etaBatch(p: Steering & Pick<BatchProgress, 'totalTiles' | 'counts'>): EtaBatch {
  return { totalTiles: p.totalTiles, done: doneCount(p.counts), stalled: nothingStarts(p) };
}

/**
 * The estimate, or undefined while it cannot be known: the batch does not know its tiles yet,
 * no tile can start (the rate so far says nothing then), or no tile ended recently. The rate
 * counts the tiles that ended in the last `RATE_WINDOW_MS`, over that window or, for a batch
 * younger than it, since the earliest of those tiles started.
 */
export function estimateEta(batch: EtaBatch, tiles: Iterable<EtaTile>, now: Date): Eta | undefined {
  if (batch.totalTiles <= 0) return undefined;
  if (batch.done >= batch.totalTiles) return { seconds: 0, tilesPerHour: 0, text: formatEta(0) };
  if (batch.stalled) return undefined;
  const nowMs = now.getTime();
  let recent = 0;
  let firstStart = Infinity;
  for (const tile of tiles) {
    if (!isEnded(tile.status) || !tile.finishedAt || nowMs - Date.parse(tile.finishedAt) > RATE_WINDOW_MS) continue;
    recent++;
    if (tile.createdAt) firstStart = Math.min(firstStart, Date.parse(tile.createdAt));
  }
  const windowMs = Math.min(RATE_WINDOW_MS, nowMs - firstStart);
  if (recent === 0 || !(windowMs > 0)) return undefined;
  const perMs = recent / windowMs;
  const seconds = Math.round((batch.totalTiles - batch.done) / perMs / 1000);
  return { seconds, tilesPerHour: Math.round(perMs * 3_600_000), text: formatEta(seconds) };
}

/** `45s`, `3m 20s`, `2h 05m`; `--` when it cannot be known. */
export function formatEta(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return '--';
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ${String(seconds % 60).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h ${String(minutes % 60).padStart(2, '0')}m`;
}
