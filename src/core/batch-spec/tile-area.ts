/**
 * An area given by its outline (a country, a catchment) under a grid: the grid is laid over the
 * outline's bounding box in the grid's CRS, exactly as for a bounding-box AOI (same ids, same
 * column-major order, same `col`/`row`), and only the cells that share some area with the outline
 * become tiles. With `clip`, a tile's geometry is its cell ∩ the area.
 *
 * The cells that meet the area are found once per plan (a row band of the outline at a time,
 * then each cell of the band, with turf's `bboxClip`) and kept as an Int32Array of cell
 * indices, so `tileAt(i)` stays as cheap as for a plain grid.
 */
import { bbox as turfBbox, bboxClip, featureCollection, intersect, multiPolygon, polygon } from '@turf/turf';
import type { Feature, MultiPolygon, Polygon } from 'geojson';
import { crsConverter, resolveCrs, type ResolvedCrs } from './crs';
import { SpecError } from './errors';
import { readArea } from './area-outline';
import {
  EDGE_SEGMENTS,
  extentProblems,
  gridOf,
  gridTileAt,
  nativeRing,
  tileBounds,
  toLonLatRing,
  type Grid,
} from './tile-grid';
import type {
  AoiTiling,
  AreaTiling,
  MultiPolygonGeometry,
  PolygonGeometry,
  Position,
  Tile,
  TilePlan,
} from './tile-types';

type AreaFeature = Feature<Polygon | MultiPolygon>;

/** The area's outline, in the grid's CRS, and the grid over its bounding box. */
interface AreaGrid {
  grid: Grid;
  area: AreaFeature;
}

/** True when the tiles are an outline under a grid (its `aoi` is GeoJSON, not a bounding box). */
export function isAreaTiling(source: unknown): source is AreaTiling {
  const aoi = (source as { aoi?: unknown } | null)?.aoi;
  return typeof aoi === 'object' && aoi !== null && typeof (aoi as { type?: unknown }).type === 'string';
}

function specError(problem: string, fix: string, code: string, field = 'tiles.aoi'): SpecError {
  return new SpecError({ field, problem, fix, code });
}

/** Planar area of a (multi)polygon in its own coordinates: outer rings minus holes. */
export function planarArea(geometry: Polygon | MultiPolygon): number {
  const polygons = geometry.type === 'Polygon' ? [geometry.coordinates] : geometry.coordinates;
  let total = 0;
  for (const rings of polygons) {
    rings.forEach((ring, k) => {
      let twice = 0;
      for (let i = 0; i + 1 < ring.length; i++) twice += ring[i][0] * ring[i + 1][1] - ring[i + 1][0] * ring[i][1];
      total += (k === 0 ? 1 : -1) * Math.abs(twice / 2);
    });
  }
  return total;
}

function reproject(
  polygons: Position[][][],
  convert: (x: number, y: number) => [number, number],
  crs: ResolvedCrs,
): Position[][][] {
  return polygons.map((rings) =>
    rings.map((ring) =>
      ring.map(([x, y]) => {
        const point = convert(x, y);
        if (!Number.isFinite(point[0]) || !Number.isFinite(point[1])) {
          throw specError(
            `the outline's point (${x}, ${y}) cannot be converted to ${crs.name}`,
            `use a grid CRS (tiles.crs) defined over the whole area, or check the outline's CRS`,
            'outside_crs',
          );
        }
        return point;
      }),
    ),
  );
}

/** The bounding box of the outline in the grid's CRS, as a bounding-box tiling (for the size checks). */
function boundingTiling(area: AreaFeature, crs: ResolvedCrs, tileSize: number): AoiTiling {
  const [west, south, east, north] = turfBbox(area);
  return { aoi: { west, south, east, north, crs: crs.name }, tileSize };
}

/** The outline in the grid's CRS and the grid over it; throws {@link SpecError}. */
function areaGrid(tiling: AreaTiling): AreaGrid & { bounding: AoiTiling } {
  const crs = resolveCrs(tiling.crs ?? 'EPSG:4326', 'tiles.crs');
  if (typeof tiling.tileSize !== 'number' || !Number.isFinite(tiling.tileSize) || tiling.tileSize <= 0) {
    throw specError(
      `must be a positive number, got ${JSON.stringify(tiling.tileSize)}`,
      `give the tile edge length in the units of ${crs.name}`,
      'invalid_tile_size',
      'tiles.tileSize',
    );
  }
  const outline = readArea(tiling.aoi);
  const polygons = reproject(outline.polygons, crsConverter(outline.crs, crs), crs);
  const area = multiPolygon(polygons);
  const bounding = boundingTiling(area, crs, tiling.tileSize);
  // The grid's lines fall on multiples of the tile size: round ids, and the same cells when the outline changes a little.
  const snap = (value: number) => Math.floor(value / tiling.tileSize + 1e-9) * tiling.tileSize;
  const extent = {
    ...bounding.aoi,
    west: snap(bounding.aoi.west),
    south: snap(bounding.aoi.south),
    tileSize: tiling.tileSize,
  };
  const problems = extentProblems(crs, extent);
  if (problems.length > 0) throw problems[0];
  const grid = gridOf(crs, extent);
  if (grid instanceof SpecError) throw grid;
  return { grid, area, bounding };
}

/** The bounding-box tiling of an area (for size checks), or undefined when the area cannot be read. */
export function areaBoundingTiling(tiling: AreaTiling): AoiTiling | undefined {
  try {
    return areaGrid(tiling).bounding;
  } catch (err) {
    if (err instanceof SpecError) return undefined;
    throw err;
  }
}

/** A cell shares area with the outline when their intersection is more than float noise. */
function meets(piece: AreaFeature, cellArea: number): boolean {
  return planarArea(piece.geometry) > cellArea * 1e-9;
}

/** The cells that meet the area, and the area cut into one band per grid row (for clipping tiles). */
interface Cells {
  /** Cell indices (column-major, as the grid's tile indices), ascending. */
  cells: Int32Array;
  bands: (AreaFeature | undefined)[];
}

function selectCells({ grid, area }: AreaGrid): Cells {
  const cellArea = grid.tileSize * grid.tileSize;
  const picked: number[] = [];
  const bands: (AreaFeature | undefined)[] = [];
  const east = tileBounds(grid, grid.cols - 1, 0).east;
  for (let row = 0; row < grid.rows; row++) {
    const { south, north } = tileBounds(grid, 0, row);
    // One band of the outline per row keeps each cell's clip small, whatever the outline's size.
    const band = bboxClip(area, [grid.west, south, east, north]) as AreaFeature;
    if (!meets(band, cellArea)) continue;
    bands[row] = band;
    const [bandWest, , bandEast] = turfBbox(band);
    const firstCol = Math.max(0, Math.floor((bandWest - grid.west) / grid.tileSize));
    const lastCol = Math.min(grid.cols - 1, Math.floor((bandEast - grid.west) / grid.tileSize));
    for (let col = firstCol; col <= lastCol; col++) {
      const cell = tileBounds(grid, col, row);
      if (meets(bboxClip(band, [cell.west, cell.south, cell.east, cell.north]) as AreaFeature, cellArea))
        picked.push(col * grid.rows + row);
    }
  }
  return { cells: Int32Array.from(picked).sort(), bands };
}

/** The cell ∩ the area in EPSG:4326; the whole cell when it lies inside the area. */
function clippedGeometry(
  grid: Grid,
  bands: Cells['bands'],
  cellIndex: number,
  cellTile: Tile,
): PolygonGeometry | MultiPolygonGeometry {
  const col = Math.floor(cellIndex / grid.rows);
  const row = cellIndex - col * grid.rows;
  const band = bands[row];
  if (!band) return cellTile.geometry;
  const bounds = tileBounds(grid, col, row);
  const piece = bboxClip(band, [bounds.west, bounds.south, bounds.east, bounds.north]) as AreaFeature;
  const cellArea = (bounds.east - bounds.west) * (bounds.north - bounds.south);
  if (planarArea(piece.geometry) >= cellArea * (1 - 1e-9)) return cellTile.geometry;
  const cell = polygon([nativeRing(bounds, grid.crs.isWgs84 ? 1 : EDGE_SEGMENTS)]);
  const cut = intersect(featureCollection([cell, piece]));
  if (!cut) return cellTile.geometry;
  const parts = cut.geometry.type === 'Polygon' ? [cut.geometry.coordinates] : cut.geometry.coordinates;
  const lonLat = parts.map((rings) => rings.map((ring) => toLonLatRing(grid, ring, `tile ${cellTile.id}`)));
  return lonLat.length === 1
    ? { type: 'Polygon', coordinates: lonLat[0] }
    : { type: 'MultiPolygon', coordinates: lonLat };
}

/** Plans of recently planned areas: every page of tiles plans the area again, so the cells are found once. */
const recentPlans = new Map<string, TilePlan>();
const RECENT_PLANS = 4;

function buildPlan(tiling: AreaTiling): TilePlan {
  const { grid, area } = areaGrid(tiling);
  const { cells, bands } = selectCells({ grid, area });
  if (cells.length === 0) {
    throw specError(
      'no grid cell shares any area with the outline (is it a polygon of zero area?)',
      'give the outline of an area (a Polygon or MultiPolygon with an inside)',
      'empty_area',
    );
  }
  return {
    count: cells.length,
    tileAt(index: number): Tile {
      const tile = gridTileAt(grid, cells[index]);
      const geometry = tiling.clip ? clippedGeometry(grid, bands, cells[index], tile) : tile.geometry;
      return { id: tile.id, geometry, properties: { ...tile.properties, index } };
    },
  };
}

/** Validates an area tiling and returns its tile plan; throws {@link SpecError} naming the bad field. */
export function planAreaTiling(tiling: AreaTiling): TilePlan {
  const key = JSON.stringify(tiling);
  const known = recentPlans.get(key);
  if (known) return known;
  const plan = buildPlan(tiling);
  if (recentPlans.size >= RECENT_PLANS) recentPlans.delete(recentPlans.keys().next().value as string);
  recentPlans.set(key, plan);
  return plan;
}
