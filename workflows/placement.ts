/**
 * Placement: which waiting tile starts next, and on which backend. Pure over the window's book,
 * so it is tested without a server.
 */
import type { BackendSpec } from '../src/core/batch-spec/schema';
import type { Tile } from '../src/core/batch-spec/tile-types';
import type { WindowBook } from './window-book';

/** A tile to start now, on the backend that has a slot for it. */
export interface TileStart {
  tile: Tile;
  backend: BackendSpec;
  /** Lined up behind this in-flight tile: it takes that tile's slot when the job ahead ends. */
  behind?: string;
}

/**
 * Takes from `queue`, in order, every tile some allowed backend has a free slot for, and takes
 * that slot in the book. A tile that names a backend the batch does not have ends as `error`
 * (`UnknownBackend`). Tiles no backend has room for stay in the queue, in order.
 *
 * @param keepTiles keep each started tile in the book, so it can be moved after a failure.
 */
export function placeTiles(book: WindowBook, queue: Tile[], keepTiles: boolean): TileStart[] {
  const starts: TileStart[] = [];
  for (let i = 0; i < queue.length && book.hasCapacity();) {
    const tile = queue[i];
    const unknown = book.unknownBackendOf(tile);
    if (unknown !== undefined) {
      queue.splice(i, 1);
      book.countEnd({
        tileId: tile.id,
        status: 'error',
        error: {
          code: 'UnknownBackend',
          message: `the tile asks for backend "${unknown}", which the batch does not list`,
        },
      });
      continue;
    }
    const backend = book.pickBackendFor(tile);
    if (!backend) {
      i++;
      continue;
    }
    queue.splice(i, 1);
    book.markStarted(tile.id, backend.name, keepTiles ? tile : undefined);
    starts.push({ tile, backend });
  }
  return starts;
}

/**
 * Takes from `queue`, in order, tiles to line up behind in-flight tiles whose backend has no free
 * slot: one behind each, so a lined-up tile's job is created ahead and starts the moment the job
 * ahead finishes. Tiles that cannot line up stay in the queue, in order.
 */
export function lineUpTiles(book: WindowBook, queue: Tile[], keepTiles: boolean): TileStart[] {
  const spots = new Map(
    book.state.backends.map((backend) => [backend.name, { backend, ahead: book.lines.spots(backend) }]),
  );
  const starts: TileStart[] = [];
  const room = () => book.hasRoomInFlight() && [...spots.values()].some((s) => s.ahead.length > 0);
  for (let i = 0; i < queue.length && room();) {
    const tile = queue[i];
    // A lined-up tile's job starts by itself when the job ahead ends: the budget is asked now.
    const spot = book
      .eligibleBackends(tile)
      .map((backend) => spots.get(backend.name)!)
      .find((s) => s.ahead.length > 0 && book.budgetAllows(s.backend));
    if (!spot) {
      i++;
      continue;
    }
    queue.splice(i, 1);
    const behind = spot.ahead.shift()!;
    book.lines.add(tile.id, spot.backend.name, behind, keepTiles ? tile : undefined);
    starts.push({ tile, backend: spot.backend, behind });
  }
  return starts;
}
