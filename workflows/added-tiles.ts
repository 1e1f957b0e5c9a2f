/**
 * Tiles added to a running batch (`addTiles`): checked against the tiles pending now, then
 * numbered after every tile the batch has, one update at a time. Used by a window and by the
 * partition runner alike, whichever holds the batch's tiles.
 */
import { periodTileId } from '../src/core/batch-spec/tile-periods';
import type { PeriodsSpecInput } from '../src/core/batch-spec/schema';
import type { Tile, TileFeature } from '../src/core/batch-spec/tile-types';
import { activityCause, tilePageActivities } from './activity-options';
import { invalidChange } from './controls';

/** Tiles that may wait in the added queue; more must wait for a new batch. */
export const MAX_ADDED_WAITING = 500;

/** What an added tile is checked against: the tiles pending now, and the batch's periods if it has them. */
export interface PendingTiles {
  ids: ReadonlySet<string>;
  addedWaiting: number;
  /** In a batch with periods each added feature is a place, one tile per period: `<id>_<periodId>`. */
  periodIds?: readonly string[];
}

/** The explicit id a feature asks for (`id`, else `properties.id`), if any. */
export function explicitId(feature: TileFeature): string | undefined {
  const raw = feature.id ?? (feature.properties?.id as string | number | undefined);
  return raw === undefined || raw === null ? undefined : String(raw);
}

/** Rejects added tiles that cannot wait now, or whose ids clash with each other or with pending tiles. */
export function checkAddedTiles(features: TileFeature[], pending: PendingTiles): void {
  if (!Array.isArray(features) || features.length === 0)
    throw invalidChange('features: give at least one GeoJSON Feature');
  const perPlace = pending.periodIds?.length ?? 1;
  if (pending.addedWaiting + features.length * perPlace > MAX_ADDED_WAITING) {
    const each = perPlace > 1 ? ` (each feature is ${perPlace} tiles, one per period)` : '';
    throw invalidChange(
      `features: at most ${MAX_ADDED_WAITING} added tiles may wait at once (${pending.addedWaiting} wait now)${each}; add fewer now and more later`,
    );
  }
  const seen = new Set<string>();
  for (const [i, feature] of features.entries()) {
    const id = explicitId(feature);
    if (id === undefined) continue;
    if (seen.has(id))
      throw invalidChange(`features[${i}]: tile id "${id}" is given twice; give each added tile its own id`);
    const tileIds = pending.periodIds ? pending.periodIds.map((period) => periodTileId(id, period)) : [id];
    const taken = tileIds.find((t) => pending.ids.has(t));
    if (taken !== undefined)
      throw invalidChange(
        `features[${i}]: tile id "${taken}" is already a tile of this batch; give the added tile another id`,
      );
    seen.add(id);
  }
}

/** Where added tiles are numbered from and go to: a window, or the partition runner. */
export interface AddedTilesHolder {
  pendingTiles(): PendingTiles;
  /** The index the next added tile gets: after the source's tiles and every tile added so far. */
  nextAddedIndex(): number;
  /** Takes numbered tiles (queues them, or hands them on). */
  takeAdded(tiles: Tile[]): void | Promise<void>;
}

/**
 * Numbers added tiles one update after the other: each update is checked again in its turn,
 * since an update accepted meanwhile may have taken room or ids, and concurrent updates never
 * share an id.
 */
export class AddedTiles {
  private turn: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly batchId: string,
    private readonly periods: PeriodsSpecInput | undefined,
    private readonly holder: AddedTilesHolder,
  ) {}

  /** Checks, numbers and hands over the features; resolves to the new tiles' ids. */
  add(features: TileFeature[]): Promise<string[]> {
    const added = this.turn.then(async () => {
      checkAddedTiles(features, this.holder.pendingTiles());
      const { batchId, periods } = this;
      const request = { features, firstIndex: this.holder.nextAddedIndex(), batchId, ...(periods ? { periods } : {}) };
      const tiles = await tilePageActivities.normalizeAddedTiles(request).catch((err: unknown) => {
        throw activityCause(err);
      });
      // Awaited only when the holder hands on: a window's queue takes them in this very turn.
      const taking = this.holder.takeAdded(tiles);
      if (taking) await taking;
      return tiles.map((t) => t.id);
    });
    this.turn = added.catch(() => undefined);
    return added;
  }
}
