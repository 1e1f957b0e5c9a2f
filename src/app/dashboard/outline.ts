/**
 * Tile outlines as the map draws them. Tiles cut in a projected CRS come with densified edges
 * (dozens of points per side, so they stay exact in EPSG:4326); on a map the edges are straight
 * within a fraction of a pixel. Dropping those points makes the page's first event and the
 * drawing of 10,000 tiles several times lighter.
 */
import type { TileRow } from '../../core/records';
import { outlineBounds } from './tile-view';

/** Points closer than this share of the tile's size to the simplified outline are left out. */
const TOLERANCE_SHARE = 1e-4;

type Outline = NonNullable<TileRow['geometry']>;

/** Simplified copies of the outlines; rows without one stay as they are. */
export async function outlinesForMap(rows: TileRow[]): Promise<TileRow[]> {
  if (!rows.some((row) => row.geometry)) return rows;
  // Loaded when first needed: the library's other users never pay for Turf's start-up.
  const { simplify } = await import('@turf/turf');
  return rows.map((row) => {
    if (!row.geometry) return row;
    const [west, south, east, north] = outlineBounds(row.geometry) ?? [0, 0, 0, 0];
    const tolerance = TOLERANCE_SHARE * Math.max(east - west, north - south);
    return { ...row, geometry: simplify(row.geometry, { tolerance, highQuality: false, mutate: false }) as Outline };
  });
}
