/**
 * Tile outlines as WKT (the job manager's CSV writes shapely's WKT) and ISO WKB (GeoParquet's
 * encoding), with the `wkx` library. Outlines are flattened to lon/lat first: the spec ignores a
 * position's extra members (height), and a 2D outline keeps the types plain "Polygon" and
 * "MultiPolygon", the geometry types a GeoParquet file declares.
 */
import { Geometry } from 'wkx';
import type { TileOutline } from './job-database';

/** The outline with every position cut to `[lon, lat]`. */
export function flatOutline(outline: TileOutline): TileOutline {
  const ring = (positions: number[][]) => positions.map((p) => [p[0]!, p[1]!]);
  return outline.type === 'Polygon'
    ? { type: 'Polygon', coordinates: outline.coordinates.map(ring) }
    : { type: 'MultiPolygon', coordinates: outline.coordinates.map((polygon) => polygon.map(ring)) };
}

export function outlineWkt(outline: TileOutline): string {
  return Geometry.parseGeoJSON(flatOutline(outline)).toWkt();
}

export function outlineWkb(outline: TileOutline): Uint8Array {
  const buffer = Geometry.parseGeoJSON(flatOutline(outline)).toWkb();
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}
