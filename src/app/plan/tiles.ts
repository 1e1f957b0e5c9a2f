/**
 * The tiles of a plan as a map can draw them (a GeoJSON FeatureCollection in EPSG:4326, each
 * tile with the backend it would go to), and the area they cover.
 */
import { area } from '@turf/turf';
import { isAreaTiling } from '../../core/batch-spec/tile-area';
import { gridOutline } from '../../core/batch-spec/tile-grid';
import type { AoiTiling, TileFeature, TilePlan, TileSource } from '../../core/batch-spec/tile-types';

/** A planned tile: its geometry, its properties, its id and the backend the batch would send it to. */
export interface PlannedTileFeature extends TileFeature {
  /** The tile's id. */
  id: string;
  /** The tile's properties, with its id, its position and the backend it would go to. */
  properties: Record<string, unknown> & {
    /** The tile's id. */
    tileId: string;
    /** The tile's position in the batch's tiles (0-based). */
    index: number;
    /** The backend the batch would send it to; absent when the plan could not place it. */
    backend?: string;
  };
}

/** A plan's tiles as a GeoJSON FeatureCollection in EPSG:4326. */
export interface PlannedTiles {
  /** The GeoJSON object type. */
  type: 'FeatureCollection';
  /** The tiles, in the batch's order. */
  features: PlannedTileFeature[];
}

const SQUARE_METRES_PER_KM2 = 1_000_000;

/** A grid over a bounding box: measured by its outline (an outline's grid is summed tile by tile). */
function isAoi(source: TileSource): source is AoiTiling {
  return 'aoi' in source && !isAreaTiling(source);
}

/**
 * The area the tiles cover, in km² (geodesic, as turf measures on the sphere). A grid is
 * measured by its outline, without building its tiles; tiles of a collection are summed.
 */
export function tilesAreaKm2(source: TileSource, tiles: TilePlan): number {
  if (isAoi(source)) return area(gridOutline(source)) / SQUARE_METRES_PER_KM2;
  // With periods every place counts once: the area is on the ground, not in time.
  const places = tiles.places ?? tiles;
  let total = 0;
  for (let i = 0; i < places.count; i++) total += area(places.tileAt(i).geometry);
  return total / SQUARE_METRES_PER_KM2;
}

/** Every tile as a GeoJSON feature, with `tileId`, `index` and `backend` among its properties. */
export function plannedTiles(tiles: TilePlan, backendOf: (index: number) => string | undefined): PlannedTiles {
  const features: PlannedTileFeature[] = [];
  for (let index = 0; index < tiles.count; index++) {
    const tile = tiles.tileAt(index);
    const backend = backendOf(index);
    features.push({
      type: 'Feature',
      id: tile.id,
      geometry: tile.geometry,
      properties: { ...tile.properties, tileId: tile.id, index, ...(backend ? { backend } : {}) },
    });
  }
  return { type: 'FeatureCollection', features };
}
