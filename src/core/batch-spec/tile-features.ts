/**
 * Tiles given explicitly as a GeoJSON FeatureCollection in EPSG:4326.
 *
 * The whole collection is validated up front (ids must be unique across it);
 * tiles keep the collection's order. Coordinates are rounded like grid tiles
 * and reduced to [lon, lat].
 */
import { SpecError } from './errors';
import { antimeridianJump, ringsBounds, roundLonLat } from './tile-geometry';
import { MAX_TILES } from './tile-grid';
import type {
  MultiPolygonGeometry,
  PolygonGeometry,
  Position,
  Tile,
  TileFeatureCollection,
  TilePlan,
  TileProperties,
} from './tile-types';

/** Characters allowed in tile ids, so they can be embedded in Temporal workflow ids. */
const TILE_ID_PATTERN = /^[A-Za-z0-9._-]+$/;
const MAX_TILE_ID_LENGTH = 128;
const WGS84_CRS_NAMES = new Set([
  'EPSG:4326',
  'OGC:CRS84',
  'URN:OGC:DEF:CRS:OGC:1.3:CRS84',
  'URN:OGC:DEF:CRS:EPSG::4326',
]);

interface ValidatedFeature {
  id: string;
  geometry: PolygonGeometry | MultiPolygonGeometry;
  properties: Record<string, unknown>;
}

function specError(field: string, problem: string, fix: string, code: string): SpecError {
  return new SpecError({ field, problem, fix, code });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Rejects the legacy GeoJSON `crs` member unless it says WGS 84 lon/lat. */
function checkLegacyCrs(collection: Record<string, unknown>): void {
  const crs = collection.crs;
  if (crs === undefined || crs === null) return;
  const name = isRecord(crs) && isRecord(crs.properties) ? crs.properties.name : undefined;
  if (typeof name === 'string' && WGS84_CRS_NAMES.has(name.toUpperCase())) return;
  throw specError(
    'tiles.crs',
    `the FeatureCollection declares CRS ${JSON.stringify(crs)}`,
    'reproject the tiles to EPSG:4326 (longitude/latitude) and remove the crs member',
    'unsupported_crs',
  );
}

/** Checks one linear ring and returns it rounded to [lon, lat]. */
function readRing(ring: unknown, field: string, path: string): Position[] {
  if (!Array.isArray(ring) || ring.length < 4) {
    throw specError(
      field,
      `${path} must be a ring of at least 4 positions`,
      'give each ring as [[lon, lat], ...] with the first position repeated at the end',
      'invalid_geometry',
    );
  }
  const out: Position[] = [];
  ring.forEach((position: unknown, i) => {
    const lon: unknown = Array.isArray(position) ? position[0] : undefined;
    const lat: unknown = Array.isArray(position) ? position[1] : undefined;
    if (typeof lon !== 'number' || typeof lat !== 'number' || !Number.isFinite(lon) || !Number.isFinite(lat)) {
      throw specError(
        field,
        `${path}[${i}] must be a [longitude, latitude] pair of numbers`,
        'give positions as [lon, lat] in EPSG:4326',
        'invalid_geometry',
      );
    }
    if (Math.abs(lon) > 180 || Math.abs(lat) > 90) {
      throw specError(
        field,
        `${path}[${i}] = [${lon}, ${lat}] is not a longitude/latitude in EPSG:4326`,
        'reproject the tiles to EPSG:4326 (the coordinates look projected, or lon/lat are out of range)',
        'invalid_geometry',
      );
    }
    out.push([roundLonLat(lon), roundLonLat(lat)]);
  });
  const first = out[0];
  const last = out[out.length - 1];
  if (first[0] !== last[0] || first[1] !== last[1]) {
    throw specError(
      field,
      `${path} is not closed`,
      'repeat the first position at the end of the ring',
      'invalid_geometry',
    );
  }
  if (antimeridianJump(out) >= 0) {
    throw specError(
      field,
      `${path} crosses the antimeridian (180°)`,
      'split the tile into two polygons, one on each side of 180°',
      'antimeridian',
    );
  }
  return out;
}

function readPolygon(rings: unknown, field: string, path: string): Position[][] {
  if (!Array.isArray(rings) || rings.length === 0) {
    throw specError(
      field,
      `${path} must be a non-empty array of rings`,
      'give the polygon as [[[lon, lat], ...]]',
      'invalid_geometry',
    );
  }
  return rings.map((ring: unknown, i) => readRing(ring, field, `${path}[${i}]`));
}

function readGeometry(geometry: unknown, field: string): PolygonGeometry | MultiPolygonGeometry {
  if (!isRecord(geometry) || (geometry.type !== 'Polygon' && geometry.type !== 'MultiPolygon')) {
    const got = isRecord(geometry) ? `a ${String(geometry.type)}` : String(geometry);
    throw specError(
      field,
      `must be a Polygon or MultiPolygon, got ${got}`,
      'give every tile an area geometry (Polygon or MultiPolygon) in EPSG:4326',
      'invalid_geometry',
    );
  }
  if (geometry.type === 'Polygon') {
    return { type: 'Polygon', coordinates: readPolygon(geometry.coordinates, field, 'coordinates') };
  }
  const polygons = geometry.coordinates;
  if (!Array.isArray(polygons) || polygons.length === 0) {
    throw specError(
      field,
      'coordinates must be a non-empty array of polygons',
      'give the MultiPolygon as [[[[lon, lat], ...]]]',
      'invalid_geometry',
    );
  }
  return {
    type: 'MultiPolygon',
    coordinates: polygons.map((polygon: unknown, i) => readPolygon(polygon, field, `coordinates[${i}]`)),
  };
}

/** The tile id from `feature.id`, else `properties.id`, else `tile-<index>`. */
function readTileId(feature: Record<string, unknown>, properties: Record<string, unknown>, index: number): string {
  const [raw, field] =
    feature.id !== undefined && feature.id !== null
      ? [feature.id, `tiles.features[${index}].id`]
      : [properties.id, `tiles.features[${index}].properties.id`];
  if (raw === undefined || raw === null) return `tile-${index}`;
  const id = typeof raw === 'string' || typeof raw === 'number' ? String(raw) : undefined;
  if (id === undefined || !TILE_ID_PATTERN.test(id) || id.length > MAX_TILE_ID_LENGTH) {
    throw specError(
      field,
      `tile id ${JSON.stringify(raw)} is not usable in a workflow id`,
      `use up to ${MAX_TILE_ID_LENGTH} letters, digits, '-', '_' or '.'`,
      'invalid_tile_id',
    );
  }
  return id;
}

function validateCollection(source: TileFeatureCollection, indexOffset: number): ValidatedFeature[] {
  const collection: unknown = source;
  if (!isRecord(collection) || collection.type !== 'FeatureCollection') {
    throw specError(
      'tiles',
      'expected a GeoJSON FeatureCollection',
      'give tiles as { type: "FeatureCollection", features: [...] }',
      'invalid_tiles',
    );
  }
  checkLegacyCrs(collection);
  const features = collection.features;
  if (!Array.isArray(features) || features.length === 0) {
    throw specError(
      'tiles.features',
      'must be a non-empty array of features',
      'add at least one Polygon feature',
      'invalid_tiles',
    );
  }
  if (features.length > MAX_TILES) {
    throw specError(
      'tiles.features',
      `${features.length} tiles is more than the limit of ${MAX_TILES}`,
      'split the tiles over several jobs',
      'too_many_tiles',
    );
  }
  const seen = new Map<string, number>();
  return features.map((feature: unknown, position): ValidatedFeature => {
    // A slice of a larger collection keeps the indices (and so the ids) of the whole.
    const index = position + indexOffset;
    if (!isRecord(feature) || feature.type !== 'Feature') {
      throw specError(
        `tiles.features[${index}]`,
        'is not a GeoJSON Feature',
        'give each tile as { type: "Feature", geometry, properties }',
        'invalid_tiles',
      );
    }
    const properties = isRecord(feature.properties) ? feature.properties : {};
    const geometry = readGeometry(feature.geometry, `tiles.features[${index}].geometry`);
    const id = readTileId(feature, properties, index);
    const previous = seen.get(id);
    if (previous !== undefined) {
      throw specError(
        `tiles.features[${index}]`,
        `duplicate tile id '${id}' (also used by tiles.features[${previous}])`,
        'give every tile a unique id',
        'duplicate_tile_id',
      );
    }
    seen.set(id, index);
    return { id, geometry, properties };
  });
}

/** Validation results per collection object, so paging a collection validates it once per process. */
const validated = new WeakMap<object, ValidatedFeature[]>();

function copyGeometry(geometry: PolygonGeometry | MultiPolygonGeometry): PolygonGeometry | MultiPolygonGeometry {
  const copyRings = (rings: Position[][]): Position[][] => rings.map((ring) => ring.map((p) => [...p]));
  return geometry.type === 'Polygon'
    ? { type: 'Polygon', coordinates: copyRings(geometry.coordinates) }
    : { type: 'MultiPolygon', coordinates: geometry.coordinates.map(copyRings) };
}

/**
 * Validates a FeatureCollection of tiles and returns its tile plan; throws {@link SpecError} naming
 * the bad field. `indexOffset` is for a slice of a larger collection: feature 0 of the slice is
 * tile `indexOffset` of the whole (its default id and `properties.index` say so).
 */
export function planFeatureCollection(source: TileFeatureCollection, indexOffset = 0): TilePlan {
  let features = validated.get(source);
  if (!features) {
    features = validateCollection(source, indexOffset);
    validated.set(source, features);
  }
  const list = features;
  return {
    count: list.length,
    tileAt(position: number): Tile {
      const index = position + indexOffset;
      const { id, geometry, properties: userProperties } = list[position];
      const rings = geometry.type === 'Polygon' ? geometry.coordinates : geometry.coordinates.flat();
      // User properties are kept; index, bbox and crs describe the tile and take precedence.
      const properties: TileProperties = { ...userProperties, index, bbox: ringsBounds(rings), crs: 'EPSG:4326' };
      return { id, geometry: copyGeometry(geometry), properties };
    },
  };
}
