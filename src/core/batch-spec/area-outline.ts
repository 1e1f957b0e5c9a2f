/**
 * Reading an area's outline from GeoJSON: a Polygon or MultiPolygon, a Feature of one, or a
 * FeatureCollection of them; coordinates in longitude/latitude (RFC 7946), or in the CRS that
 * a `crs` member names (what GIS tools such as ogr2ogr and QGIS write for a projected CRS).
 */
import { resolveCrs, type ResolvedCrs } from './crs';
import { SpecError } from './errors';
import type { Position } from './tile-types';
import { selfIntersection } from './tile-validity';

const FIELD = 'tiles.aoi';
const SHAPES_FIX = 'give a GeoJSON Polygon or MultiPolygon, a Feature of one, or a FeatureCollection of such Features';

export interface AreaOutline {
  /** Every polygon of the area, as rings of positions in `crs`. */
  polygons: Position[][][];
  crs: ResolvedCrs;
}

function specError(field: string, problem: string, fix: string, code: string): SpecError {
  return new SpecError({ field, problem, fix, code });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The CRS a GeoJSON `crs` member names: `urn:ogc:def:crs:EPSG::3035`, `EPSG:3035`, or CRS84. */
function namedCrs(member: unknown): ResolvedCrs {
  if (member === undefined || member === null) return resolveCrs('EPSG:4326');
  const name = isRecord(member) && isRecord(member.properties) ? member.properties.name : undefined;
  const text = typeof name === 'string' ? name.trim() : '';
  if (/CRS84$/i.test(text)) return resolveCrs('EPSG:4326');
  const epsg = /EPSG:(?:[\d.]*:)?(\d+)$/i.exec(text);
  if (!epsg) {
    throw specError(
      `${FIELD}.crs`,
      `cannot read the CRS ${JSON.stringify(member)}`,
      'name it as {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::3035"}}, or give lon/lat coordinates without a crs member',
      'unknown_crs',
    );
  }
  return resolveCrs(`EPSG:${epsg[1]}`, `${FIELD}.crs`);
}

function readRing(ring: unknown, field: string): Position[] {
  if (!Array.isArray(ring) || ring.length < 4) {
    throw specError(
      field,
      'is not a ring of at least 4 positions',
      'give each ring as [[x, y], …] with the first position repeated at the end',
      'invalid_geometry',
    );
  }
  const positions = ring.map((p: unknown, i): Position => {
    if (!Array.isArray(p) || p.length < 2 || !p.slice(0, 2).every((v) => typeof v === 'number' && Number.isFinite(v))) {
      throw specError(
        `${field}[${i}]`,
        `${JSON.stringify(p)} is not a position`,
        'give positions as [x, y] numbers',
        'invalid_geometry',
      );
    }
    return [p[0] as number, p[1] as number];
  });
  const [first, last] = [positions[0], positions[positions.length - 1]];
  if (first[0] !== last[0] || first[1] !== last[1]) {
    throw specError(field, 'is not closed', 'repeat the first position at the end of the ring', 'invalid_geometry');
  }
  return positions;
}

function readPolygon(rings: unknown, field: string): Position[][] {
  if (!Array.isArray(rings) || rings.length === 0)
    throw specError(field, 'has no rings', 'give the polygon as [outer ring, holes…]', 'invalid_geometry');
  return rings.map((ring, i) => readRing(ring, `${field}[${i}]`));
}

/** The polygons of one Polygon or MultiPolygon geometry. */
function readGeometry(geometry: unknown, field: string): Position[][][] {
  if (!isRecord(geometry) || (geometry.type !== 'Polygon' && geometry.type !== 'MultiPolygon')) {
    const kind = isRecord(geometry) ? JSON.stringify(geometry.type) : JSON.stringify(geometry);
    throw specError(field, `is ${kind ?? 'missing'}, not a Polygon or MultiPolygon`, SHAPES_FIX, 'not_a_polygon');
  }
  const coordinates = geometry.coordinates;
  if (geometry.type === 'Polygon') return [readPolygon(coordinates, `${field}.coordinates`)];
  if (!Array.isArray(coordinates) || coordinates.length === 0)
    throw specError(`${field}.coordinates`, 'has no polygons', SHAPES_FIX, 'invalid_geometry');
  return coordinates.map((rings, i) => readPolygon(rings, `${field}.coordinates[${i}]`));
}

function readShapes(aoi: Record<string, unknown>): Position[][][] {
  if (aoi.type === 'Feature') return readGeometry(aoi.geometry, `${FIELD}.geometry`);
  if (aoi.type !== 'FeatureCollection') return readGeometry(aoi, FIELD);
  const features = aoi.features;
  if (!Array.isArray(features) || features.length === 0)
    throw specError(`${FIELD}.features`, 'has no features', SHAPES_FIX, 'not_a_polygon');
  return features.flatMap((feature: unknown, i) => {
    if (!isRecord(feature) || feature.type !== 'Feature')
      throw specError(`${FIELD}.features[${i}]`, 'is not a GeoJSON Feature', SHAPES_FIX, 'not_a_polygon');
    return readGeometry(feature.geometry, `${FIELD}.features[${i}].geometry`);
  });
}

/** Reads and checks an area's outline; throws {@link SpecError} naming the bad part. */
export function readArea(aoi: unknown): AreaOutline {
  if (!isRecord(aoi)) throw specError(FIELD, 'is not a GeoJSON object', SHAPES_FIX, 'not_a_polygon');
  const crs = namedCrs(aoi.crs);
  const polygons = readShapes(aoi);
  polygons.forEach((rings, i) => {
    const crossing = selfIntersection({ type: 'Polygon', coordinates: rings });
    if (crossing) {
      throw specError(
        FIELD,
        `the outline${polygons.length > 1 ? ` (polygon ${i})` : ''} crosses itself at [${crossing.map((c) => Number(c.toFixed(7))).join(', ')}]`,
        'fix the outline (e.g. QGIS "Fix geometries", or shapely make_valid) so that no edge crosses another',
        'self_intersecting',
      );
    }
  });
  return { polygons, crs };
}
