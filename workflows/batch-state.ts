/**
 * The batch's bookkeeping: which tiles are in flight on which backend, what has ended, and
 * how many slots each backend has free. Plain data, so it survives continue-as-new as is, and
 * pure logic, so it is tested without a server.
 */
import type { BackendSpec } from '../src/spec/schema';
import { emptyCounts, type FailedTile, type StatusCounts, type TileRecord } from '../src/records';

/** At most this many failed tiles are listed with their reason; all are counted. */
export const MAX_LISTED_FAILURES = 1000;

/** What crosses continue-as-new. Small: no tile list, only offsets, the in-flight set and counters. */
export interface BatchState {
  /** Index of the next tile to start, in the tile source's deterministic order. */
  nextTileIndex: number;
  /** Tiles started and not yet reported back: tile id → backend name. */
  inFlight: Record<string, string>;
  /** Tiles that ended, by their final status. */
  ended: StatusCounts;
  failedTiles: FailedTile[];
  costs: number;
  /** Workflow runs of this batch so far, this one included. */
  run: number;
}

export function initialBatchState(): BatchState {
  return { nextTileIndex: 0, inFlight: {}, ended: emptyCounts(), failedTiles: [], costs: 0, run: 1 };
}

export class BatchBook {
  constructor(
    readonly state: BatchState,
    private readonly backends: readonly BackendSpec[],
  ) {}

  inFlightCount(): number {
    return Object.keys(this.state.inFlight).length;
  }

  inFlightOn(backend: string): number {
    return Object.values(this.state.inFlight).filter((b) => b === backend).length;
  }

  /** The backend with the most free slots (the first listed wins a tie), or none when all are full. */
  pickBackend(): BackendSpec | undefined {
    let best: BackendSpec | undefined;
    let bestFree = 0;
    for (const backend of this.backends) {
      const free = backend.parallelJobs - this.inFlightOn(backend.name);
      if (free > bestFree) {
        best = backend;
        bestFree = free;
      }
    }
    return best;
  }

  /** Takes a slot on `backend` for `tileId`; call before the child starts, so no report is missed. */
  markStarted(tileId: string, backend: string): void {
    this.state.inFlight[tileId] = backend;
  }

  /**
   * Records a tile's end. Returns false, and changes nothing, for a tile that is not in flight:
   * a duplicate or late report, so every tile is counted exactly once.
   */
  recordEnd(record: Pick<TileRecord, 'tileId' | 'status' | 'error' | 'costs'>): boolean {
    if (!(record.tileId in this.state.inFlight)) return false;
    delete this.state.inFlight[record.tileId];
    this.state.ended[record.status] += 1;
    this.state.costs += record.costs ?? 0;
    if (record.status === 'error' && this.state.failedTiles.length < MAX_LISTED_FAILURES) {
      this.state.failedTiles.push({ tileId: record.tileId, error: record.error ?? { code: 'Unknown', message: 'no reason given' } });
    }
    return true;
  }

  /** Counts over all tiles: ended ones by status, in-flight ones as running, the rest not started. */
  counts(totalTiles: number): StatusCounts {
    const counts = { ...this.state.ended };
    counts.running += this.inFlightCount();
    const ended = Object.values(this.state.ended).reduce((a, b) => a + b, 0);
    counts.not_started = Math.max(0, totalTiles - ended - this.inFlightCount());
    return counts;
  }
}
