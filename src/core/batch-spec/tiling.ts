/**
 * Entry point for tiling: count the tiles of a source and fetch them page by
 * page. Everything here is pure and deterministic (no I/O, clock or
 * randomness), so Temporal workflows may call it and page through tiles by
 * offset instead of storing them in history.
 *
 * - AOI grids: see `tile-grid.ts` for layout, order (column-major) and ids
 *   (`E590000-N5660000`, `E4p5-N51`).
 * - FeatureCollections: see `tile-features.ts`; collection order, ids from
 *   `feature.id`, `properties.id` or `tile-<index>`.
 */
import { SpecError } from './errors';
import { planFeatureCollection } from './tile-features';
import { isAreaTiling, planAreaTiling } from './tile-area';
import { planAoiTiling } from './tile-grid';
import { expandPeriods, type Period, type PeriodsSpec } from './periods';
import { placeRange, tileInPeriod, withPeriods } from './tile-periods';
import type { AoiTiling, AreaTiling, Tile, TileFeatureCollection, TilePlan, TileSource } from './tile-types';

export type {
  Aoi,
  AoiTiling,
  AreaGeoJson,
  AreaTiling,
  BoundingBox,
  GridTileProperties,
  MultiPolygonGeometry,
  PolygonGeometry,
  Position,
  Tile,
  TileFeature,
  TileFeatureCollection,
  TilePlan,
  TileProperties,
  TileSource,
} from './tile-types';
export { EDGE_SEGMENTS, MAX_TILES, gridTileId } from './tile-grid';
export { resolveCrs, type ResolvedCrs } from './crs';
export { SpecError } from './errors';
export { expandPeriods, type Period, type PeriodsSpec } from './periods';
export { periodTileId, placeRange, withPeriods } from './tile-periods';

/** True when the source is an AOI to split into a grid (it has an `aoi` member: a bounding box or an outline). */
export function isAoiTiling(source: TileSource): source is AoiTiling | AreaTiling {
  return typeof source === 'object' && source !== null && 'aoi' in source;
}

export { isAreaTiling, planAreaTiling };

/**
 * Validates a tile source and returns its plan (count plus tile-by-index).
 * Throws {@link SpecError} naming the offending field, e.g. `tiles.tileSize`.
 *
 * A FeatureCollection is validated once per object and then treated as
 * immutable: do not modify it between calls.
 */
export function planTiles(source: TileSource): TilePlan {
  if (isAreaTiling(source)) return planAreaTiling(source);
  if (isAoiTiling(source)) return planAoiTiling(source as AoiTiling);
  const candidate: unknown = source;
  if (
    typeof candidate === 'object' &&
    candidate !== null &&
    (candidate as { type?: unknown }).type === 'FeatureCollection'
  ) {
    return planFeatureCollection(source as TileFeatureCollection);
  }
  throw new SpecError({
    field: 'tiles',
    problem: 'expected an AOI tiling or a GeoJSON FeatureCollection',
    fix: 'give tiles as { aoi: { west, south, east, north, crs }, tileSize }, { aoi: <GeoJSON Polygon>, crs, tileSize, clip } or { type: "FeatureCollection", features: [...] }',
    code: 'invalid_tiles',
  });
}

/** Number of tiles the source yields. Validates the source (throws {@link SpecError}). */
export function countTiles(source: TileSource): number {
  return planTiles(source).count;
}

/**
 * Tiles `offset` … `offset + limit - 1` of the source, in its deterministic
 * order (fewer at the end, none past it). Only the requested tiles are built,
 * so any page of a huge grid is cheap. Validates the source (throws
 * {@link SpecError}); a negative or non-integer offset/limit is a programming
 * error and throws RangeError.
 */
export function tilePage(source: TileSource, offset: number, limit: number, periods?: PeriodsSpec): Tile[] {
  checkPage(offset, limit);
  return pageOf(withPeriods(planTiles(source), periods && expandPeriods(periods)), offset, limit);
}

function checkPage(offset: number, limit: number): void {
  if (!Number.isSafeInteger(offset) || offset < 0)
    throw new RangeError(`tile offset must be a non-negative integer, got ${offset}`);
  if (!Number.isSafeInteger(limit) || limit < 0)
    throw new RangeError(`tile limit must be a non-negative integer, got ${limit}`);
}

function pageOf(plan: TilePlan, offset: number, limit: number): Tile[] {
  const end = Math.min(plan.count, offset + limit);
  const tiles: Tile[] = [];
  for (let index = offset; index < end; index++) tiles.push(plan.tileAt(index));
  return tiles;
}

/**
 * Every tile of `slice`, a slice of a larger FeatureCollection that starts at tile `indexOffset`.
 * Lets a workflow hand an activity one page of an inline collection instead of all of it.
 */
export function featureSliceTiles(slice: TileFeatureCollection, indexOffset: number): Tile[] {
  const plan = planFeatureCollection(slice, indexOffset);
  return Array.from({ length: plan.count }, (_, i) => plan.tileAt(i));
}

/**
 * Tiles `offset … offset+limit-1` of an inline collection paired with periods, from `slice`: the
 * collection's places `placeRange(offset, limit, periods.length)` (what a workflow hands over).
 */
export function featureSlicePeriodTiles(
  slice: TileFeatureCollection,
  periods: PeriodsSpec,
  offset: number,
  limit: number,
): Tile[] {
  checkPage(offset, limit);
  const expanded: Period[] = expandPeriods(periods);
  const [firstPlace] = placeRange(offset, limit, expanded.length);
  const places = planFeatureCollection(slice, firstPlace);
  const pairs = withPeriods(
    { count: firstPlace + places.count, tileAt: (i) => places.tileAt(i - firstPlace) },
    expanded,
  );
  return pageOf(pairs, offset, limit);
}

/**
 * Tiles added to a running batch with periods: every added place in every period, as the
 * batch's own tiles are. Pairs are numbered from `firstIndex`; default place ids continue the
 * batch's place numbering, so they never meet a place the batch already has.
 */
export function addedPeriodTiles(
  features: TileFeatureCollection['features'],
  periods: PeriodsSpec,
  firstIndex: number,
): Tile[] {
  const expanded = expandPeriods(periods);
  const firstPlace = Math.ceil(firstIndex / expanded.length);
  const places = featureSliceTiles({ type: 'FeatureCollection', features }, firstPlace);
  return places.flatMap((place, p) =>
    expanded.map((period, k) => tileInPeriod(place, period, firstIndex + p * expanded.length + k)),
  );
}
