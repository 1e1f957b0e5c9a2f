/**
 * Splits an area of interest into a grid of square tiles.
 *
 * Layout (same as the Python openEO client's `split_area`):
 * - the origin is the AOI's west/south corner in the AOI CRS; columns of
 *   `tileSize` go eastwards and rows go northwards;
 * - every tile is full-size, so the last column/row may reach past the AOI's
 *   east/north edge (geographic CRSs are clipped at 180°E and 90°N instead);
 * - tiles are ordered column-major: index = col × rows + row (x outer, y inner).
 *
 * Any tile can therefore be computed from its index alone, which lets a
 * workflow page through millions of tiles without storing or computing them.
 */
import { resolveCrs, type ResolvedCrs } from './crs';
import { SpecError } from './errors';
import { ID_DECIMALS, gridTileId } from './grid-ids';
import { MAX_TILES } from './limits';
import { antimeridianJump, roundLonLat } from './tile-geometry';
import type {
  AoiTiling,
  BoundingBox,
  GridTileProperties,
  PolygonGeometry,
  Position,
  Tile,
  TilePlan,
} from './tile-types';

export { MAX_TILES, gridTileId };

/**
 * Segments per tile edge when reprojecting. Straight edges in a projected CRS
 * are curves in lon/lat; 8 segments keep the error far below a pixel for
 * realistic tile sizes while keeping geometries small.
 */
export const EDGE_SEGMENTS = 8;

/** Segments per AOI edge when checking that the whole grid reprojects cleanly. */
const BOUNDARY_SEGMENTS = 64;

/** Tolerance when counting tiles, so float noise like 4.0000000000000001 columns doesn't add a column. */
const COUNT_EPSILON = 1e-9;

export interface Grid {
  crs: ResolvedCrs;
  west: number;
  south: number;
  tileSize: number;
  cols: number;
  rows: number;
}

const FIELD = 'tiles';

function specError(field: string, problem: string, fix: string, code: string): SpecError {
  return new SpecError({ field: `${FIELD}${field}`, problem, fix, code });
}

function requireFinite(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw specError(
      field,
      `must be a finite number, got ${JSON.stringify(value) ?? String(value)}`,
      'give the coordinate as a plain number in the AOI CRS',
      'invalid_number',
    );
  }
  return value;
}

/** Runs one check; a {@link SpecError} joins `problems` (and gives undefined), anything else is a bug. */
function attempt<T>(problems: SpecError[], check: () => T): T | undefined {
  try {
    return check();
  } catch (err) {
    if (!(err instanceof SpecError)) throw err;
    problems.push(err);
    return undefined;
  }
}

function requireTileSize(value: unknown, crs: ResolvedCrs | undefined): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    const units = crs
      ? `the units of ${crs.name} (${crs.geographic ? 'degrees' : 'e.g. metres'})`
      : "the units of the AOI's CRS";
    throw specError(
      '.tileSize',
      `must be a positive number, got ${JSON.stringify(value) ?? String(value)}`,
      `give the tile edge length in ${units}`,
      'invalid_tile_size',
    );
  }
  return value;
}

/** The AOI's extent and the tile size, once each is a usable number. */
export interface Extent {
  west: number;
  south: number;
  east: number;
  north: number;
  tileSize: number;
}

/** Checks of the extent that need the CRS: lon/lat ranges, order of the sides, smallest tile. */
export function extentProblems(crs: ResolvedCrs, { west, south, east, north, tileSize }: Extent): SpecError[] {
  const problems: SpecError[] = [];
  if (crs.geographic) attempt(problems, () => checkLonLatAoi(west, south, east, north));
  if (problems.length > 0) return problems;
  if (west >= east) {
    problems.push(
      specError(
        '.aoi',
        `west (${west}) must be less than east (${east})`,
        'swap west and east, or give the AOI a non-zero width',
        'invalid_aoi',
      ),
    );
  }
  if (south >= north) {
    problems.push(
      specError(
        '.aoi',
        `south (${south}) must be less than north (${north})`,
        'swap south and north, or give the AOI a non-zero height',
        'invalid_aoi',
      ),
    );
  }
  // Below this, neighbouring tiles could round to the same id.
  const minTileSize = 10 * 10 ** -ID_DECIMALS[crs.geographic ? 'geographic' : 'projected'];
  if (tileSize < minTileSize) {
    problems.push(
      specError(
        '.tileSize',
        `${tileSize} is too small`,
        `use a tileSize of at least ${minTileSize}`,
        'invalid_tile_size',
      ),
    );
  }
  return problems;
}

/** The grid of a checked extent, or why it is unusable: too many tiles, or not mappable to lon/lat. */
export function gridOf(crs: ResolvedCrs, { west, south, east, north, tileSize }: Extent): Grid | SpecError {
  const cols = Math.max(1, Math.ceil((east - west) / tileSize - COUNT_EPSILON));
  const rows = Math.max(1, Math.ceil((north - south) / tileSize - COUNT_EPSILON));
  const count = cols * rows;
  if (count > MAX_TILES) {
    const suggested = tileSize * Math.sqrt(count / MAX_TILES);
    return specError(
      '.tileSize',
      `the AOI would be split into ${cols} × ${rows} = ${count} tiles, more than the limit of ${MAX_TILES}`,
      `use a larger tileSize (at least about ${Number(suggested.toPrecision(3))}) or split the AOI into several jobs`,
      'too_many_tiles',
    );
  }
  const grid: Grid = { crs, west, south, tileSize, cols, rows };
  const problems: SpecError[] = [];
  attempt(problems, () => checkGridReprojects(grid));
  return problems[0] ?? grid;
}

/**
 * Validates an AOI tiling and derives its grid, or lists every problem found: the CRS, each
 * coordinate and the tile size are checked independently, so one answer names them all.
 */
function collectGrid(tiling: AoiTiling): { grid?: Grid; problems: SpecError[] } {
  const aoi: unknown = tiling.aoi;
  if (typeof aoi !== 'object' || aoi === null) {
    return {
      problems: [
        specError('.aoi', 'missing AOI', 'give tiles.aoi as { west, south, east, north, crs }', 'invalid_aoi'),
      ],
    };
  }
  const problems: SpecError[] = [];
  const crs = attempt(problems, () => resolveCrs(tiling.aoi.crs, `${FIELD}.aoi.crs`));
  const west = attempt(problems, () => requireFinite(tiling.aoi.west, '.aoi.west'));
  const south = attempt(problems, () => requireFinite(tiling.aoi.south, '.aoi.south'));
  const east = attempt(problems, () => requireFinite(tiling.aoi.east, '.aoi.east'));
  const north = attempt(problems, () => requireFinite(tiling.aoi.north, '.aoi.north'));
  const tileSize = attempt(problems, () => requireTileSize(tiling.tileSize, crs));
  if (
    !crs ||
    west === undefined ||
    south === undefined ||
    east === undefined ||
    north === undefined ||
    tileSize === undefined
  )
    return { problems };
  const extent = { west, south, east, north, tileSize };
  problems.push(...extentProblems(crs, extent));
  if (problems.length > 0) return { problems };
  const grid = gridOf(crs, extent);
  return grid instanceof SpecError ? { problems: [grid] } : { grid, problems };
}

/** Validates an AOI tiling and derives its grid; throws the first {@link SpecError} found. */
function planGrid(tiling: AoiTiling): Grid {
  const { grid, problems } = collectGrid(tiling);
  if (!grid) throw problems[0];
  return grid;
}

/** Every problem of an AOI tiling (empty when it is valid), for messages that list them all. */
export function aoiTilingProblems(tiling: AoiTiling): SpecError[] {
  return collectGrid(tiling).problems;
}

/** Longitude/latitude AOIs: openEO cannot take a box across the antimeridian, so ask for two AOIs. */
function checkLonLatAoi(west: number, south: number, east: number, north: number): void {
  const splitFix = 'if the AOI crosses the antimeridian (180°), split it into two AOIs, one on each side of 180°';
  for (const [name, lon] of [
    ['west', west],
    ['east', east],
  ] as const) {
    if (lon < -180 || lon > 180) {
      throw specError(`.aoi.${name}`, `longitude ${lon} is outside [-180, 180]`, splitFix, 'antimeridian');
    }
  }
  if (west > east) {
    throw specError(
      '.aoi',
      `west (${west}) is greater than east (${east}), so the AOI crosses the antimeridian`,
      'split it into two AOIs, one from west to 180 and one from -180 to east',
      'antimeridian',
    );
  }
  for (const [name, lat] of [
    ['south', south],
    ['north', north],
  ] as const) {
    if (lat < -90 || lat > 90) {
      throw specError(
        `.aoi.${name}`,
        `latitude ${lat} is outside [-90, 90]`,
        'give latitudes between -90 and 90 (and check that west/south/east/north are not swapped)',
        'invalid_latitude',
      );
    }
  }
}

/** Grid line `k` along one axis; the single formula keeps shared edges bit-identical between neighbours. */
function gridLine(origin: number, k: number, tileSize: number): number {
  return origin + k * tileSize;
}

/** Native extent of tile (col, row); geographic grids are clipped at 180°E and 90°N. */
export function tileBounds(grid: Grid, col: number, row: number): BoundingBox {
  let east = gridLine(grid.west, col + 1, grid.tileSize);
  let north = gridLine(grid.south, row + 1, grid.tileSize);
  if (grid.crs.geographic) {
    east = Math.min(east, 180);
    north = Math.min(north, 90);
  }
  return {
    west: gridLine(grid.west, col, grid.tileSize),
    south: gridLine(grid.south, row, grid.tileSize),
    east,
    north,
  };
}

/**
 * `segments + 1` evenly spaced values from `from` to `to`, always ascending.
 * Shared edges are generated in the same direction by both tiles and reversed
 * afterwards where needed, because `a + (b - a) * t` is not bit-symmetric.
 */
function edgeStops(from: number, to: number, segments: number): number[] {
  const stops = [from];
  for (let k = 1; k < segments; k++) stops.push(from + ((to - from) * k) / segments);
  stops.push(to);
  return stops;
}

/** Closed counter-clockwise ring around `bounds` in native coordinates, with `segments` pieces per edge. */
export function nativeRing(bounds: BoundingBox, segments: number): Position[] {
  const xs = edgeStops(bounds.west, bounds.east, segments);
  const ys = edgeStops(bounds.south, bounds.north, segments);
  const ring: Position[] = [];
  for (let i = 0; i < segments; i++) ring.push([xs[i], bounds.south]);
  for (let j = 0; j < segments; j++) ring.push([bounds.east, ys[j]]);
  for (let i = segments; i > 0; i--) ring.push([xs[i], bounds.north]);
  for (let j = segments; j > 0; j--) ring.push([bounds.west, ys[j]]);
  ring.push([bounds.west, bounds.south]);
  return ring;
}

/** Reprojects a native ring to rounded lon/lat, dropping points that rounding made repeat. */
export function toLonLatRing(grid: Grid, ring: Position[], what: string): Position[] {
  const out: Position[] = [];
  for (const [x, y] of ring) {
    const [lon, lat] = grid.crs.toWgs84(x, y);
    if (!Number.isFinite(lon) || !Number.isFinite(lat) || Math.abs(lat) > 90) {
      throw specError(
        '.aoi',
        `${what} contains the point (${x}, ${y}), which ${grid.crs.name} cannot map to longitude/latitude`,
        `keep the AOI inside the area where ${grid.crs.name} is defined, or use a CRS suited to the area`,
        'outside_crs',
      );
    }
    const point = [roundLonLat(lon), roundLonLat(lat)];
    const last = out[out.length - 1];
    if (!last || last[0] !== point[0] || last[1] !== point[1]) out.push(point);
  }
  if (antimeridianJump(out) >= 0) {
    throw specError(
      '.aoi',
      `${what} crosses the antimeridian (180°) or a pole once converted to EPSG:4326`,
      'split the AOI into parts that each stay on one side of 180°',
      'antimeridian',
    );
  }
  return out;
}

/** The outer boundary of the whole grid in lon/lat, with `segments` points per edge. */
function outlineRing(grid: Grid, segments: number): Position[] {
  const last = tileBounds(grid, grid.cols - 1, grid.rows - 1);
  const extent = { west: grid.west, south: grid.south, east: last.east, north: last.north };
  return toLonLatRing(grid, nativeRing(extent, segments), 'the tiled area');
}

/** Fails early, at validation time, if the grid's outer boundary does not convert cleanly to lon/lat. */
function checkGridReprojects(grid: Grid): void {
  if (!grid.crs.isWgs84) outlineRing(grid, BOUNDARY_SEGMENTS);
}

/**
 * The area all tiles of an AOI grid cover together, as one polygon in EPSG:4326: its area is
 * the tiles' area, computed without building a single tile. Throws like {@link planAoiTiling}.
 */
export function gridOutline(tiling: AoiTiling): PolygonGeometry {
  const grid = planGrid(tiling);
  return { type: 'Polygon', coordinates: [outlineRing(grid, grid.crs.isWgs84 ? 1 : BOUNDARY_SEGMENTS)] };
}

/** Removes float noise (e.g. 4.800000000000001) from native coordinates shown to users. */
function tidy(value: number): number {
  return Number(value.toPrecision(12));
}

export function gridTileAt(grid: Grid, index: number): Tile {
  const col = Math.floor(index / grid.rows);
  const row = index - col * grid.rows;
  const bounds = tileBounds(grid, col, row);
  const id = gridTileId(bounds.west, bounds.south, grid.crs.geographic);
  // Straight lon/lat edges need no extra points.
  const segments = grid.crs.isWgs84 ? 1 : EDGE_SEGMENTS;
  const ring = toLonLatRing(grid, nativeRing(bounds, segments), `tile ${id}`);
  const properties: GridTileProperties = {
    index,
    col,
    row,
    bbox: { west: tidy(bounds.west), south: tidy(bounds.south), east: tidy(bounds.east), north: tidy(bounds.north) },
    crs: grid.crs.name,
  };
  return { id, geometry: { type: 'Polygon', coordinates: [ring] }, properties };
}

/** Validates an AOI tiling and returns its tile plan; throws {@link SpecError} naming the bad field. */
export function planAoiTiling(tiling: AoiTiling): TilePlan {
  const grid = planGrid(tiling);
  return { count: grid.cols * grid.rows, tileAt: (index) => gridTileAt(grid, index) };
}
