/**
 * Which backend each tile of a batch goes to, and in how many rounds of jobs, as the batch's
 * window places them when every job takes the same time: the window's own placement
 * (`placeTiles` over a `WindowBook`, pages and deferred tiles as the window keeps them), run
 * round after round, partition after partition. Nothing is started.
 */
import type { BackendSpec, BatchSpec } from '../../core/batch-spec/schema';
import type { Tile, TilePlan } from '../../core/batch-spec/tile-types';
import { partitionRange } from '../../../workflows/partitions-state';
import { placeTiles, type TileStart } from '../../../workflows/placement';
import { MAX_DEFERRED, TILE_PAGE_SIZE, WindowBook, allowedBackends } from '../../../workflows/window-book';
import { initialWindowState, type WindowState } from '../../../workflows/window-state';

export interface Placement {
  /** Tiles per backend name. */
  tiles: Record<string, number>;
  /** Rounds of jobs in the whole batch: in a round every backend runs up to `parallelJobs` jobs at once. */
  rounds: number;
  /** Rounds in which each backend runs jobs. */
  roundsPerBackend: Record<string, number>;
  /** The backend tile `index` goes to. */
  backendOf(index: number): string | undefined;
}

interface Range {
  start: number;
  end: number;
}

/** Places the tiles the window would start now; like the window, fetches pages while backends have room. */
function fillOnce(book: WindowBook, state: WindowState, tileAt: (index: number) => Tile): TileStart[] {
  const starts: TileStart[] = [];
  while (book.hasCapacity()) {
    starts.push(...placeTiles(book, state.deferred, false));
    const room = Math.min(
      TILE_PAGE_SIZE,
      MAX_DEFERRED - state.deferred.length,
      state.endTileIndex - state.nextTileIndex,
    );
    if (!book.hasCapacity() || room <= 0) break;
    for (let i = 0; i < room; i++) state.deferred.push(tileAt(state.nextTileIndex++));
  }
  return starts;
}

/** One round: jobs leave the backend's queue as they run, so `maxQueued` does not hold a round back. */
function fillRound(book: WindowBook, state: WindowState, tileAt: (index: number) => Tile): TileStart[] {
  const round: TileStart[] = [];
  for (;;) {
    const placed = fillOnce(book, state, tileAt);
    if (placed.length === 0) return round;
    for (const { tile } of placed) book.markRunning(tile.id);
    round.push(...placed);
  }
}

/** Runs a window over `range` for at most `maxRounds` rounds; every job of a round ends before the next. */
function simulate(
  backends: BackendSpec[],
  range: Range,
  tileAt: (index: number) => Tile,
  onRound: (round: TileStart[]) => void,
  maxRounds = Infinity,
): void {
  const state = initialWindowState(range, backends);
  // No backend is paused in a plan: every job is taken to succeed.
  const book = new WindowBook(state, Number.MAX_SAFE_INTEGER);
  for (let n = 0; n < maxRounds && !book.nothingLeftToStart(); n++) {
    const round = fillRound(book, state, tileAt);
    if (round.length === 0) return;
    onRound(round);
    for (const { tile } of round) book.recordEnd({ tileId: tile.id, status: 'finished' });
  }
}

class PlacementBook {
  readonly tiles: Record<string, number> = {};
  readonly roundsPerBackend: Record<string, number> = {};
  rounds = 0;

  /** Counts `times` rounds in which `names` (one per job) ran. */
  addRounds(names: string[], times: number): void {
    if (times <= 0 || names.length === 0) return;
    this.rounds += times;
    for (const name of new Set(names)) this.roundsPerBackend[name] = (this.roundsPerBackend[name] ?? 0) + times;
    for (const name of names) this.tiles[name] = (this.tiles[name] ?? 0) + times;
  }
}

/**
 * Tiles that name no backend are placed the same way in every full round, so two rounds tell
 * the whole range: the first, and the last (partial) one.
 */
function placeUnpinned(
  backends: BackendSpec[],
  range: Range,
  tileAt: (index: number) => Tile,
  book: PlacementBook,
): (index: number) => string | undefined {
  const backendNames = (round: TileStart[]) => round.map((s) => s.backend.name);
  let full: string[] = [];
  simulate(backends, range, tileAt, (round) => (full = backendNames(round)), 1);
  const size = range.end - range.start;
  const fullRounds = full.length === 0 ? 0 : Math.floor(size / full.length);
  const restStart = range.start + fullRounds * full.length;
  let rest: string[] = [];
  if (restStart < range.end)
    simulate(backends, { start: restStart, end: range.end }, tileAt, (round) => (rest = backendNames(round)), 1);
  book.addRounds(full, fullRounds);
  book.addRounds(rest, 1);
  return (index) => (index < restStart ? full[(index - range.start) % full.length] : rest[index - restStart]);
}

function placePinned(
  backends: BackendSpec[],
  range: Range,
  tileAt: (index: number) => Tile,
  book: PlacementBook,
): (index: number) => string | undefined {
  const placed = new Map<number, string>();
  simulate(backends, range, tileAt, (round) => {
    book.addRounds(
      round.map((s) => s.backend.name),
      1,
    );
    for (const { tile, backend } of round) placed.set(tile.properties.index, backend.name);
  });
  return (index) => placed.get(index);
}

/** The window ranges of a batch: one, or one per partition, run one after the other. */
function rangesOf(spec: Pick<BatchSpec, 'scheduling'>, count: number): Range[] {
  const { partitionAboveTiles, tilesPerPartition } = spec.scheduling;
  if (count <= partitionAboveTiles) return [{ start: 0, end: count }];
  return Array.from({ length: Math.ceil(count / tilesPerPartition) }, (_, k) =>
    partitionRange(k, tilesPerPartition, count),
  );
}

/** True when no tile names a backend; grids never do. */
export function noTilePinned(tiles: TilePlan): boolean {
  for (let i = 0; i < tiles.count; i++) if (allowedBackends(tiles.tileAt(i)) !== undefined) return false;
  return true;
}

/**
 * Where the batch would send each tile, assuming every job takes as long as any other and none
 * fails. `unpinned` (no tile names a backend) lets huge grids be placed from two rounds each.
 */
export function placeBatch(
  spec: Pick<BatchSpec, 'backends' | 'scheduling'>,
  tiles: TilePlan,
  unpinned: boolean,
): Placement {
  const book = new PlacementBook();
  const tileAt = (index: number) => tiles.tileAt(index);
  const lookups = rangesOf(spec, tiles.count).map((range) => ({
    range,
    backendOf: (unpinned ? placeUnpinned : placePinned)(spec.backends, range, tileAt, book),
  }));
  return {
    tiles: book.tiles,
    rounds: book.rounds,
    roundsPerBackend: book.roundsPerBackend,
    backendOf: (index) => lookups.find(({ range }) => index >= range.start && index < range.end)?.backendOf(index),
  };
}
