/**
 * What a window carries across continue-as-new: its range, the tiles in flight (and the lines
 * between them), what has ended, and the live settings. Plain data with a version, so a run of
 * a newer build decodes the state an older one carried.
 */
import type { BatchTally } from '../src/core/progress';
import { emptyCounts } from '../src/core/records';
import type { BackendSpec, BudgetSpec } from '../src/core/batch-spec/schema';
import type { Spend } from './budget';
import type { Tile } from '../src/core/batch-spec/tile-types';
import type { BatchSettings } from './controls';
import type { RecordsCheckpoint } from './records-keeper';

export interface InFlightTile {
  backend: string;
  /** The tile's openEO job is created, queued or running: it occupies one of `parallelJobs`. */
  holdsSlot: boolean;
  /** The job is not running yet (created or queued): it counts against `maxQueued`. */
  waiting: boolean;
  /** The tile itself, kept only while it may be moved to another backend after a failure. */
  tile?: Tile;
  /**
   * Lined up behind this in-flight tile: its job is created and takes this tile's slot the moment
   * this tile's job ends (see `lineUp`). Holds no slot meanwhile.
   */
  behind?: string;
  /** The tile lined up behind this one, if any. */
  next?: string;
  /** A lined-up tile whose job was not started for it: it waits for the window's word. */
  needsWord?: boolean;
  /** What the tile's ended job cost, as its tile reported when the job ended (for the budget). */
  costs?: number;
}

/** A tile that failed on some backends and waits for another. */
export interface TileRetry {
  /** openEO jobs the tile had so far. */
  attempts: number;
  /** Backends it failed on. */
  failedOn: string[];
}

/**
 * The shape of {@link WindowState} this code writes; older runs carried none. 2: in-flight tiles
 * may be lined up behind another (`behind`, `next`, `needsWord`); absent fields mean "not".
 */
export const WINDOW_STATE_VERSION = 2;

/** What crosses continue-as-new: offsets, the in-flight set and counters, never the tile list. */
export interface WindowState extends BatchTally, BatchSettings {
  /** {@link WINDOW_STATE_VERSION} when written; absent in state carried by older code. */
  version?: number;
  /** The window covers source tiles `[firstTileIndex, endTileIndex)`. */
  firstTileIndex: number;
  endTileIndex: number;
  /** Index of the next tile to fetch from the source. */
  nextTileIndex: number;
  /** Fetched tiles that wait for a backend with room (pinned tiles may wait long). */
  deferred: Tile[];
  /** Tiles added to the running batch, not yet started. */
  added: Tile[];
  /** Tiles added so far, started or not (they count in the total). */
  addedCount: number;
  inFlight: Record<string, InFlightTile>;
  /** Tiles that failed in a row, per backend; a success resets it. */
  errorStreak: Record<string, number>;
  /** Tiles to be resubmitted on another backend (`retryOnOtherBackend`). */
  retries: Record<string, TileRetry>;
  /** Workflow runs of this window so far, this one included. */
  run: number;
  /**
   * A partition's window only, counted from its start: the settings changes its batch forwarded
   * that it took (see `COUNTED_CONTROLS_PATCH`). Absent where not counted from the start.
   */
  controlsTaken?: number;
  /**
   * Credits ended tiles reported, per backend, for the budget's projection. A partition's window
   * starts with what the partitions before it spent. Absent in state carried by older code.
   */
  spend?: Spend;
  /** When the window last saved the batch's records, and how many tiles ended since. Absent in state carried by older code. */
  records?: RecordsCheckpoint;
}

export function initialWindowState(
  range: { start: number; end: number },
  backends: BackendSpec[],
  budget?: BudgetSpec,
): WindowState {
  return {
    version: WINDOW_STATE_VERSION,
    firstTileIndex: range.start,
    endTileIndex: range.end,
    nextTileIndex: range.start,
    deferred: [],
    added: [],
    addedCount: 0,
    inFlight: {},
    ended: emptyCounts(),
    failedTiles: [],
    costs: 0,
    backends: backends.map((b) => ({ ...b })),
    paused: false,
    pausedBackends: {},
    errorStreak: {},
    retries: {},
    run: 1,
    ...(budget ? { budget } : {}),
  };
}

/**
 * A window state carried by any earlier run, with defaults for what older code did not carry:
 * a batch that continued as new under an older build goes on under this one.
 */
export function decodeWindowState(
  carried: Partial<WindowState> & Pick<WindowState, 'firstTileIndex' | 'endTileIndex' | 'backends'>,
): WindowState {
  const fresh = initialWindowState({ start: carried.firstTileIndex, end: carried.endTileIndex }, carried.backends);
  return { ...fresh, ...carried, ended: { ...emptyCounts(), ...carried.ended }, version: WINDOW_STATE_VERSION };
}
