/**
 * Tiles whose outline crosses itself: a backend either refuses such a geometry or computes
 * nonsense over it, after the job has been paid for. Found with turf's `kinks`, before any job.
 */
import { kinks } from '@turf/turf';
import type { MultiPolygonGeometry, PolygonGeometry, Position } from './tile-types';

/** Where a polygon's rings cross themselves or each other, if they do. */
function crossingOf(rings: Position[][]): Position | undefined {
  const found = kinks({ type: 'Polygon', coordinates: rings });
  return found.features[0]?.geometry.coordinates;
}

/**
 * The first point where the geometry's outline crosses itself (each polygon of a
 * MultiPolygon on its own), or undefined for a simple geometry.
 */
export function selfIntersection(geometry: PolygonGeometry | MultiPolygonGeometry): Position | undefined {
  const polygons = geometry.type === 'Polygon' ? [geometry.coordinates] : geometry.coordinates;
  for (const rings of polygons) {
    const crossing = crossingOf(rings);
    if (crossing) return crossing;
  }
  return undefined;
}
