/**
 * Coordinate reference systems understood by the tiling code.
 *
 * openEO receives geometries in EPSG:4326, while users often describe an area
 * in a projected CRS (UTM, LAEA Europe). Definitions are built in, never
 * fetched: tiling runs inside Temporal workflows and must be deterministic and
 * offline.
 */
import proj4 from 'proj4';

import { SpecError } from './errors';

/** A CRS resolved to a proj4 definition and a converter to EPSG:4326. */
export interface ResolvedCrs {
  /** Normalised name: `EPSG:<code>` for EPSG codes, otherwise the trimmed proj4 string. */
  name: string;
  /** The proj4 definition string used for reprojection. */
  definition: string;
  /** True when coordinates are longitude/latitude in degrees (tile sizes are then degrees too). */
  geographic: boolean;
  /** True for EPSG:4326 itself, where reprojection is the identity. */
  isWgs84: boolean;
  /** Converts a point `(x, y)` in this CRS to `[longitude, latitude]` in EPSG:4326. */
  toWgs84(x: number, y: number): [number, number];
}

/** proj4 definition of EPSG:4326; axis order is treated as lon/lat, as GeoJSON does. */
export const WGS84_DEFINITION = '+proj=longlat +datum=WGS84 +no_defs';

/**
 * Definitions written from each projection's published parameters.
 * - 3857: spherical Mercator on a sphere with the WGS 84 semi-major axis;
 *   coordinates are interpreted as WGS 84 lon/lat without a datum shift.
 * - 3035: ETRS89 Lambert azimuthal equal-area centred at 52°N 10°E with false
 *   easting 4,321,000 m and false northing 3,210,000 m on GRS80; ETRS89 is
 *   treated as equal to WGS 84 (sub-metre difference, fine for tiling).
 */
const FIXED_DEFINITIONS: ReadonlyMap<number, string> = new Map([
  [4326, WGS84_DEFINITION],
  [3857, '+proj=merc +a=6378137 +b=6378137 +lat_ts=0 +lon_0=0 +x_0=0 +y_0=0 +k=1 +units=m +no_defs'],
  [
    3035,
    '+proj=laea +lat_0=52 +lon_0=10 +x_0=4321000 +y_0=3210000 +ellps=GRS80 +towgs84=0,0,0,0,0,0,0 +units=m +no_defs',
  ],
]);

const SUPPORTED_CRS_HINT =
  'use an EPSG code for WGS 84 (4326), Web Mercator (3857), LAEA Europe (3035), ' +
  'a UTM zone (326xx/327xx), or a proj4 string';

/** Returns the proj4 definition of a WGS 84 / UTM EPSG code (32601–32660 north, 32701–32760 south), if it is one. */
function utmDefinition(code: number): string | undefined {
  const hemisphere = Math.floor(code / 100);
  const zone = code % 100;
  if ((hemisphere !== 326 && hemisphere !== 327) || zone < 1 || zone > 60) return undefined;
  const south = hemisphere === 327 ? ' +south' : '';
  return `+proj=utm +zone=${zone}${south} +datum=WGS84 +units=m +no_defs`;
}

function unknownCrs(crs: string, field: string, detail = ''): SpecError {
  return new SpecError({
    field,
    problem: `unknown CRS '${crs}'${detail}`,
    fix: SUPPORTED_CRS_HINT,
    code: 'unknown_crs',
  });
}

/** Parsed CRSs by name; bounded because proj4 strings come from users. */
const cache = new Map<string, ResolvedCrs>();
const CACHE_LIMIT = 64;

/**
 * Resolves a CRS given as `EPSG:<code>` (case-insensitive) or a proj4 string
 * (`+proj=...`). Throws a {@link SpecError} for `field` when it is not supported.
 */
export function resolveCrs(crs: string, field = 'crs'): ResolvedCrs {
  if (typeof crs !== 'string' || crs.trim() === '') {
    throw new SpecError({
      field,
      problem: `CRS must be a non-empty string, got ${JSON.stringify(crs) ?? String(crs)}`,
      fix: SUPPORTED_CRS_HINT,
      code: 'unknown_crs',
    });
  }
  const trimmed = crs.trim();
  const epsg = /^EPSG:(\d+)$/i.exec(trimmed);
  const name = epsg ? `EPSG:${Number(epsg[1])}` : trimmed;
  const cached = cache.get(name);
  if (cached) return cached;

  let definition: string | undefined;
  if (epsg) {
    const code = Number(epsg[1]);
    definition = FIXED_DEFINITIONS.get(code) ?? utmDefinition(code);
  } else if (trimmed.startsWith('+proj=')) {
    definition = trimmed;
  }
  if (definition === undefined) throw unknownCrs(crs, field);

  const resolved = buildCrs(name, definition, crs, field);
  if (cache.size >= CACHE_LIMIT) cache.clear();
  cache.set(name, resolved);
  return resolved;
}

function buildCrs(name: string, definition: string, original: string, field: string): ResolvedCrs {
  let projection: InstanceType<typeof proj4.Proj>;
  let converter: proj4.Converter;
  try {
    projection = new proj4.Proj(definition);
    converter = proj4(definition, WGS84_DEFINITION);
  } catch (error) {
    // proj4 throws plain strings for unparsable definitions.
    const reason = error instanceof Error ? error.message : String(error);
    throw unknownCrs(original, field, ` (proj4 cannot parse it: ${reason})`);
  }
  const isWgs84 = name === 'EPSG:4326';
  return {
    name,
    definition,
    geographic: projection.names.includes('longlat'),
    isWgs84,
    toWgs84: isWgs84
      ? (x, y) => [x, y]
      : (x, y) => {
          const [lon, lat] = converter.forward([x, y]);
          return [lon, lat];
        },
  };
}

/** Converts points from one CRS to another (the identity when both are the same). */
export function crsConverter(from: ResolvedCrs, to: ResolvedCrs): (x: number, y: number) => [number, number] {
  if (from.name === to.name) return (x, y) => [x, y];
  const converter = proj4(from.definition, to.definition);
  return (x, y) => {
    const [cx, cy] = converter.forward([x, y]);
    return [cx, cy];
  };
}
