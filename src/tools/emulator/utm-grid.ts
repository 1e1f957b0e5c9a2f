/**
 * The UTM grid a result is written in when the process graph gives its area in EPSG:4326 (a
 * GeoJSON geometry, or a bounding box in degrees): the zone of the area's centre, over the
 * envelope of the area's outline projected into that zone. Sentinel-2 based back-ends deliver
 * results in the UTM zone of their input data the same way, so a tile cut from a UTM grid comes
 * back as exactly that square.
 */
import proj4 from 'proj4';
import type { BBox } from './area';
import { isPlainObject } from './http-util';
import { walkNodes, type ProcessGraph } from './process-graph';

/** Widest area (degrees of longitude) written in one UTM zone; wider ones stay in EPSG:4326. */
const MAX_UTM_WIDTH_DEGREES = 6;

/** Points per edge when a bounding box in degrees is projected (its edges bend in UTM). */
const EDGE_SAMPLES = 8;

/** EPSG code of the UTM zone (WGS 84) of the area's centre; `null` where UTM does not fit the area. */
export function utmEpsgFor(area: BBox): number | null {
  if (area.east - area.west > MAX_UTM_WIDTH_DEGREES || area.south < -80 || area.north > 84) return null;
  const lon = (area.west + area.east) / 2;
  const zone = Math.min(60, Math.max(1, Math.floor((lon + 180) / 6) + 1));
  return ((area.south + area.north) / 2 >= 0 ? 32600 : 32700) + zone;
}

function utmDefinition(epsg: number): string {
  const south = epsg > 32700 ? ' +south' : '';
  return `+proj=utm +zone=${epsg % 100}${south} +datum=WGS84 +units=m +no_defs`;
}

/** The outline of a bounding box in degrees, sampled along its edges. */
function boxOutline(box: BBox): number[][] {
  const points: number[][] = [];
  for (let i = 0; i <= EDGE_SAMPLES; i++) {
    const x = box.west + ((box.east - box.west) * i) / EDGE_SAMPLES;
    const y = box.south + ((box.north - box.south) * i) / EDGE_SAMPLES;
    points.push([x, box.south], [x, box.north], [box.west, y], [box.east, y]);
  }
  return points;
}

/** Every position of a GeoJSON `coordinates` nesting. */
function positionsOf(coordinates: unknown, out: number[][]): void {
  if (!Array.isArray(coordinates)) return;
  if (coordinates.length >= 2 && typeof coordinates[0] === 'number' && typeof coordinates[1] === 'number')
    out.push(coordinates as number[]);
  else for (const item of coordinates) positionsOf(item, out);
}

/** Positions in EPSG:4326 of the geometries and degree bounding boxes in an argument value. */
function collectPositions(value: unknown, out: number[][]): void {
  if (Array.isArray(value)) {
    for (const item of value) collectPositions(item, out);
    return;
  }
  // Callbacks are visited as nodes of their own.
  if (!isPlainObject(value) || isPlainObject(value.process_graph)) return;
  if (typeof value.type === 'string' && Array.isArray(value.coordinates)) {
    positionsOf(value.coordinates, out);
    return;
  }
  const { west, south, east, north, crs } = value;
  const degrees =
    crs === undefined || crs === null || crs === 4326 || (typeof crs === 'string' && /(^|:)4326$/.test(crs));
  if ([west, south, east, north].every((v) => typeof v === 'number') && degrees) {
    out.push(...boxOutline({ west, south, east, north } as BBox));
    return;
  }
  for (const item of Object.values(value)) collectPositions(item, out);
}

/**
 * The grid a result of `graph` over `area` (EPSG:4326) is written in, or `null` to keep
 * EPSG:4326 (an area too wide or too close to a pole for one UTM zone).
 */
export function utmGridFor(graph: ProcessGraph, area: BBox): { epsg: number; bbox: BBox } | null {
  const epsg = utmEpsgFor(area);
  if (epsg === null) return null;
  const positions: number[][] = [];
  for (const { node } of walkNodes(graph)) collectPositions(node.arguments ?? {}, positions);
  const toUtm = proj4('EPSG:4326', utmDefinition(epsg));
  let bbox: BBox | null = null;
  for (const position of positions) {
    const [x, y] = toUtm.forward([position[0], position[1]]);
    if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
    bbox = bbox
      ? {
          west: Math.min(bbox.west, x),
          south: Math.min(bbox.south, y),
          east: Math.max(bbox.east, x),
          north: Math.max(bbox.north, y),
        }
      : { west: x, south: y, east: x, north: y };
  }
  return bbox && bbox.east > bbox.west && bbox.north > bbox.south ? { epsg, bbox } : null;
}
