/**
 * Tiles × periods: a batch with `periods` runs one tile workflow per place and period. The pairs
 * are ordered place-major (all periods of the first place, then of the second, …), so a page of
 * pairs needs only a few consecutive places: an inline collection can still be sliced into
 * pages, and a place's time series finishes together, ready for its post-processing.
 */
import { expandPeriods, type Period, type PeriodsSpec } from './periods';
import type { Tile, TilePlan } from './tile-types';

/** Tile ids with a period: `<placeId>_<periodId>`. */
export function periodTileId(placeId: string, periodId: string): string {
  return `${placeId}_${periodId}`;
}

/** The tile of one place in one period: its id and `period` property say which; `index` is the pair's position. */
export function tileInPeriod(place: Tile, period: Period, index: number): Tile {
  return {
    id: periodTileId(place.id, period.id),
    geometry: place.geometry,
    properties: { ...place.properties, index, period: { id: period.id, start: period.start, end: period.end } },
  };
}

/** A plan of places paired with periods; without periods the places themselves. */
export function withPeriods(places: TilePlan, periods: readonly Period[] | undefined): TilePlan {
  if (!periods) return places;
  const perPlace = periods.length;
  return {
    count: places.count * perPlace,
    places,
    tileAt(index: number): Tile {
      const place = places.tileAt(Math.floor(index / perPlace));
      return tileInPeriod(place, periods[index % perPlace], index);
    },
  };
}

/**
 * Places `[from, to)` that tiles `offset … offset+limit-1` need: lets a workflow hand an
 * activity only the features of one page of an inline collection.
 */
export function placeRange(offset: number, limit: number, periodCount: number | undefined): [number, number] {
  if (!periodCount) return [offset, offset + limit];
  return [Math.floor(offset / periodCount), Math.ceil((offset + limit) / periodCount)];
}

/** The inline collection's places a page of tiles needs, for a batch with or without periods. */
export function pagePlaces(periods: PeriodsSpec | undefined, offset: number, limit: number): [number, number] {
  return placeRange(offset, limit, periods ? expandPeriods(periods).length : undefined);
}

/** The ids of a spec's periods, or undefined without periods: the tail of every added place's tile ids. */
export function periodIds(periods: PeriodsSpec | undefined): string[] | undefined {
  return periods ? expandPeriods(periods).map((p) => p.id) : undefined;
}
