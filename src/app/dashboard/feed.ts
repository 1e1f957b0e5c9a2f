/**
 * What open map pages are fed: a batch's tiles and progress, read from Temporal once per interval
 * however many pages watch (`BatchFeed`), or a fixed set of planned tiles (`StaticFeed`). A page
 * gets a snapshot when it connects, then only what changed.
 */
import type { TileRow } from '../../core/records';
import type { TileView } from './tile-view';
import type { Eta } from '../eta';
import { outlinesForMap } from './outline';

/** A batch's progress as the page shows it (a subset of `BatchProgress`, plus its state). */
export interface ProgressView {
  totalTiles: number;
  counts: Record<string, number>;
  paused: boolean;
  pausedBackends: Record<string, string>;
  closed: boolean;
  problem?: string;
  failure?: { code: string; message: string };
}

/** The batch's figures, sent with every event. */
export interface Summary {
  title: string;
  /** Tiles on the map. */
  tileCount: number;
  /** Tiles that ended, as the batch or (without its progress) the map counts them. */
  done?: number;
  /** Credits so far, as the batch or (without its progress) the tiles' records count them. */
  costs: number;
  progress?: ProgressView;
  eta?: Eta;
  /** Why the page may be out of date (Temporal unreachable, batch not found). */
  problem?: string;
  updatedAt: string;
}

export interface Snapshot {
  tiles: TileView[];
  summary: Summary;
}

/** Changed tiles (with their outline only when new to the page) and the figures. */
export type Update = Snapshot;

export interface TileFeed {
  /** Resolves once the first reading was tried (it may have failed: the summary says why). */
  ready(): Promise<void>;
  /** Everything, for a page that just connected. */
  snapshot(): Snapshot;
  /** Calls `listener` with each change until the returned function is called. */
  subscribe(listener: (update: Update) => void): () => void;
  /** The tile's row as last read (for its quicklook). */
  row(tileId: string): TileRow | undefined;
  /** Stops reading; resolves once nothing is read any more. */
  close(): Promise<void>;
}

/** Planned tiles: drawn all not started, never changing. */
export class StaticFeed implements TileFeed {
  private rows = new Map<string, TileRow>();
  private readonly summary: Summary;
  private prepared?: Promise<void>;

  constructor(
    title: string,
    private readonly planned: TileRow[],
    private readonly view: (row: TileRow) => TileView,
  ) {
    this.summary = { title, tileCount: planned.length, costs: 0, updatedAt: new Date().toISOString() };
  }

  ready(): Promise<void> {
    this.prepared ??= outlinesForMap(this.planned).then((rows) => {
      this.rows = new Map(rows.map((row) => [row.tileId, row]));
    });
    return this.prepared;
  }

  snapshot(): Snapshot {
    return { tiles: [...this.rows.values()].map(this.view), summary: this.summary };
  }

  subscribe(): () => void {
    return () => undefined;
  }

  row(tileId: string): TileRow | undefined {
    return this.rows.get(tileId);
  }

  async close(): Promise<void> {}
}
