/**
 * Placement: which waiting tile starts next, and on which backend. Pure over the window's book,
 * so it is tested without a server.
 */
import type { BackendSpec } from '../core/spec/schema';
import type { Tile } from '../core/spec/tile-types';
import type { WindowBook } from './window-book';

/** A tile to start now, on the backend that has a slot for it. */
export interface TileStart {
  tile: Tile;
  backend: BackendSpec;
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
  for (let i = 0; i < queue.length && book.hasCapacity(); ) {
    const tile = queue[i];
    const unknown = book.unknownBackendOf(tile);
    if (unknown !== undefined) {
      queue.splice(i, 1);
      book.countEnd({ tileId: tile.id, status: 'error', error: { code: 'UnknownBackend', message: `the tile asks for backend "${unknown}", which the batch does not list` } });
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
