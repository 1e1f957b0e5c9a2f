/**
 * Where and when a job computes: the spatial extent (bbox in EPSG:4326)
 * and temporal extent found anywhere in the arguments of its process graph,
 * including callbacks.
 */
import proj4 from 'proj4';
import { isPlainObject } from './http-util';
import type { ProcessGraph } from './process-graph';
import { walkNodes } from './process-graph';

/** An axis-aligned bounding box in EPSG:4326 degrees. */
export interface BBox {
  /** Smallest longitude. */
  west: number;
  /** Smallest latitude. */
  south: number;
  /** Largest longitude. */
  east: number;
  /** Largest latitude. */
  north: number;
}

const GEOMETRY_TYPES = new Set(['Point', 'MultiPoint', 'LineString', 'MultiLineString', 'Polygon', 'MultiPolygon']);

function union(a: BBox | null, b: BBox | null): BBox | null {
  if (!a) return b;
  if (!b) return a;
  return {
    west: Math.min(a.west, b.west),
    south: Math.min(a.south, b.south),
    east: Math.max(a.east, b.east),
    north: Math.max(a.north, b.north),
  };
}

/** Bbox of any nesting of GeoJSON positions (`[x, y]`, `[[x, y], …]`, …). */
function coordinatesBBox(coordinates: unknown): BBox | null {
  if (!Array.isArray(coordinates)) return null;
  if (coordinates.length >= 2 && typeof coordinates[0] === 'number' && typeof coordinates[1] === 'number') {
    const [x, y] = coordinates as number[];
    return Number.isFinite(x) && Number.isFinite(y) ? { west: x, south: y, east: x, north: y } : null;
  }
  return coordinates.reduce<BBox | null>((acc, item) => union(acc, coordinatesBBox(item)), null);
}

/** Bbox of a GeoJSON geometry, Feature, FeatureCollection or GeometryCollection; `null` if not GeoJSON. */
export function geoJsonBBox(value: Record<string, unknown>): BBox | null {
  const type = value.type;
  if (typeof type !== 'string') return null;
  if (GEOMETRY_TYPES.has(type)) return coordinatesBBox(value.coordinates);
  if (type === 'GeometryCollection' && Array.isArray(value.geometries)) {
    return value.geometries.reduce<BBox | null>((acc, g) => union(acc, isPlainObject(g) ? geoJsonBBox(g) : null), null);
  }
  if (type === 'Feature') return isPlainObject(value.geometry) ? geoJsonBBox(value.geometry) : null;
  if (type === 'FeatureCollection' && Array.isArray(value.features)) {
    return value.features.reduce<BBox | null>((acc, f) => union(acc, isPlainObject(f) ? geoJsonBBox(f) : null), null);
  }
  return null;
}

/** EPSG code of a `crs` value such as `4326`, `"EPSG:32631"` or an OGC CRS URI. */
function epsgCode(crs: unknown): number | null {
  if (crs === undefined || crs === null) return 4326;
  if (typeof crs === 'number' && Number.isInteger(crs)) return crs;
  if (typeof crs === 'string') {
    const match = /(?:EPSG[:/](?:\d+\/)?|^)(\d{4,5})$/i.exec(crs.trim());
    if (match) return Number(match[1]);
    if (/CRS84$/i.test(crs.trim())) return 4326;
  }
  return null;
}

/** A proj4 definition for the CRSs a tiling client realistically sends; `null` otherwise. */
function projDefinition(code: number): string | null {
  if (code === 4326) return 'EPSG:4326';
  if (code === 3857) return 'EPSG:3857';
  // WGS 84 / UTM zones: 326zz north, 327zz south.
  const zone = code % 100;
  if ((Math.floor(code / 100) === 326 || Math.floor(code / 100) === 327) && zone >= 1 && zone <= 60) {
    const south = Math.floor(code / 100) === 327 ? ' +south' : '';
    return `+proj=utm +zone=${zone}${south} +datum=WGS84 +units=m +no_defs`;
  }
  return null;
}

/** Reprojects a bbox to EPSG:4326 by sampling its outline (edges bend after reprojection). */
function toWgs84(box: BBox, code: number): BBox | null {
  const definition = projDefinition(code);
  if (!definition) return null;
  if (code === 4326) return box;
  const samples = 8;
  let result: BBox | null = null;
  for (let i = 0; i <= samples; i++) {
    const t = i / samples;
    const x = box.west + (box.east - box.west) * t;
    const y = box.south + (box.north - box.south) * t;
    for (const [px, py] of [
      [x, box.south],
      [x, box.north],
      [box.west, y],
      [box.east, y],
    ]) {
      const [lon, lat] = proj4(definition, 'EPSG:4326', [px, py]);
      result = union(result, { west: lon, south: lat, east: lon, north: lat });
    }
  }
  return result;
}

/** Bbox of an openEO bounding-box object `{west, south, east, north, crs?}`; `null` if not one. */
export function boundingBoxObjectBBox(value: Record<string, unknown>): BBox | null {
  const { west, south, east, north } = value;
  if (typeof west !== 'number' || typeof south !== 'number' || typeof east !== 'number' || typeof north !== 'number') {
    return null;
  }
  const code = epsgCode(value.crs);
  return code === null ? null : toWgs84({ west, south, east, north }, code);
}

function scanValue(value: unknown): BBox | null {
  if (Array.isArray(value)) return value.reduce<BBox | null>((acc, item) => union(acc, scanValue(item)), null);
  if (!isPlainObject(value)) return null;
  const asGeoJson = geoJsonBBox(value);
  if (asGeoJson) return asGeoJson;
  const asBox = boundingBoxObjectBBox(value);
  if (asBox) return asBox;
  // Callbacks are visited as nodes by walkNodes; don't scan their graphs twice.
  if (isPlainObject(value.process_graph)) return null;
  return Object.values(value).reduce<BBox | null>((acc, item) => union(acc, scanValue(item)), null);
}

/**
 * The job's area: the union of every geometry or bounding box passed as an
 * argument anywhere in the graph, in EPSG:4326. `null` when there is none
 * (or only ones in CRSs the emulator cannot reproject).
 */
export function findArea(graph: ProcessGraph): BBox | null {
  let area: BBox | null = null;
  for (const { node } of walkNodes(graph)) {
    area = union(area, scanValue(node.arguments ?? {}));
  }
  return area;
}

/** A bounding box in a projected CRS, as the client gave it. */
export interface ProjectedExtent {
  /** EPSG code of the CRS (a UTM zone or Web Mercator). */
  epsg: number;
  /** In the CRS's units (metres); `west`/`east` are eastings, `south`/`north` northings. */
  bbox: BBox;
}

function findProjectedBox(value: unknown): ProjectedExtent | null {
  if (Array.isArray(value)) {
    for (const item of value) {
      const found = findProjectedBox(item);
      if (found) return found;
    }
    return null;
  }
  if (!isPlainObject(value) || isPlainObject(value.process_graph)) return null;
  const { west, south, east, north } = value;
  if ([west, south, east, north].every((v) => typeof v === 'number')) {
    const code = epsgCode(value.crs);
    if (code === null || code === 4326 || projDefinition(code) === null) return null;
    return {
      epsg: code,
      bbox: { west: west as number, south: south as number, east: east as number, north: north as number },
    };
  }
  for (const item of Object.values(value)) {
    const found = findProjectedBox(item);
    if (found) return found;
  }
  return null;
}

/**
 * The first bounding box given in a projected CRS the emulator knows (UTM,
 * Web Mercator). Results are then written in that CRS over exactly that
 * box, as a back-end does for a tile in its native projection.
 */
export function findProjectedExtent(graph: ProcessGraph): ProjectedExtent | null {
  for (const { node } of walkNodes(graph)) {
    const found = findProjectedBox(node.arguments ?? {});
    if (found) return found;
  }
  return null;
}

/** A `[start, end]` interval of RFC 3339 strings (either may be open). */
export type TemporalExtent = [string | null, string | null];

/** The first `temporal_extent`/`extent` interval argument in the graph, if any. */
export function findTemporalExtent(graph: ProcessGraph): TemporalExtent | null {
  for (const { node } of walkNodes(graph)) {
    for (const name of ['temporal_extent', 'extent']) {
      const value = (node.arguments ?? {})[name];
      if (
        Array.isArray(value) &&
        value.length === 2 &&
        value.every((v) => v === null || (typeof v === 'string' && !Number.isNaN(Date.parse(v)))) &&
        value.some((v) => v !== null)
      ) {
        return [value[0], value[1]];
      }
    }
  }
  return null;
}

/** The bbox as a GeoJSON polygon (the footprint used in result metadata). */
export function bboxPolygon(box: BBox): { type: 'Polygon'; coordinates: number[][][] } {
  const ring = [
    [box.west, box.south],
    [box.east, box.south],
    [box.east, box.north],
    [box.west, box.north],
    [box.west, box.south],
  ];
  return { type: 'Polygon', coordinates: [ring] };
}
