/**
 * Types describing where a tiled job runs: either an area of interest split
 * into a square grid, or an explicit GeoJSON FeatureCollection of tiles.
 *
 * The GeoJSON shapes are declared here (rather than imported from
 * `@types/geojson`) so this module has no dependency beyond TypeScript; they
 * are structurally compatible with the `geojson` typings used by turf.
 */

/**
 * A GeoJSON position: `[longitude, latitude]` (extra members such as height are ignored).
 *
 * @inline
 */
export type Position = number[];

/**
 * GeoJSON Polygon: an exterior ring followed by optional holes, each ring closed.
 *
 * @inline
 */
export interface PolygonGeometry {
  /** The GeoJSON geometry type. */
  type: 'Polygon';
  /** The rings: the exterior first, then the holes; each ring a closed list of positions. */
  coordinates: Position[][];
}

/**
 * GeoJSON MultiPolygon.
 *
 * @inline
 */
export interface MultiPolygonGeometry {
  /** The GeoJSON geometry type. */
  type: 'MultiPolygon';
  /** The polygons, each a list of rings as in a Polygon's `coordinates`. */
  coordinates: Position[][][];
}

/**
 * A bounding box in some CRS; in EPSG:4326 west/east are longitudes, south/north latitudes.
 *
 * @inline
 */
export interface BoundingBox {
  /** The smallest x (easting or longitude). */
  west: number;
  /** The smallest y (northing or latitude). */
  south: number;
  /** The largest x. */
  east: number;
  /** The largest y. */
  north: number;
}

/** Area of interest: a bounding box in `crs`. */
export interface Aoi extends BoundingBox {
  /** `EPSG:<code>` (4326, 3857, 3035, 32601–32660, 32701–32760) or a proj4 string. */
  crs: string;
}

/** An AOI split into square tiles of `tileSize` (in the AOI CRS's units: metres, or degrees for EPSG:4326). */
export interface AoiTiling {
  aoi: Aoi;
  tileSize: number;
}

/** An area's outline in GeoJSON: a (Multi)Polygon, a Feature of one, or a FeatureCollection of them. */
export type AreaGeoJson =
  | PolygonGeometry
  | MultiPolygonGeometry
  | { type: 'Feature'; geometry: PolygonGeometry | MultiPolygonGeometry; properties?: Record<string, unknown> | null }
  | { type: 'FeatureCollection'; features: { type: 'Feature'; geometry: PolygonGeometry | MultiPolygonGeometry }[] };

/**
 * An area given by its outline with a grid laid over its bounding box: only the cells that
 * meet the area become tiles (a country's outline, not its bounding box), optionally clipped to it.
 */
export interface AreaTiling {
  /** Longitude/latitude (RFC 7946), unless the GeoJSON names another CRS in a `crs` member. */
  aoi: AreaGeoJson;
  /** The grid's CRS (`tileSize` is in its units). @default 'EPSG:4326' */
  crs?: string;
  tileSize: number;
  /** Tiles are the cell ∩ the area instead of the whole cell. @default false */
  clip?: boolean;
}

/**
 * One feature of a user-supplied tile collection; geometry in EPSG:4326.
 *
 * @inline
 */
export interface TileFeature {
  /** The GeoJSON object type. */
  type: 'Feature';
  /** The feature's id: the tile's id when given (else `properties.id`, else `tile-<index>`). */
  id?: string | number;
  /** The tile's outline, in lon/lat. */
  geometry: PolygonGeometry | MultiPolygonGeometry;
  /** The tile's own properties, which the spec's `parameterMapping` can pass to its job. */
  properties?: Record<string, unknown> | null;
}

/** A user-supplied GeoJSON FeatureCollection whose features are the tiles. */
export interface TileFeatureCollection {
  type: 'FeatureCollection';
  features: TileFeature[];
}

/** Where the tiles of a job come from. */
export type TileSource = AoiTiling | AreaTiling | TileFeatureCollection;

/**
 * Properties every tile carries, whatever its source.
 *
 * @inline
 */
export interface TileProperties extends Record<string, unknown> {
  /** Position of the tile in the source's deterministic order (0-based). */
  index: number;
  /** Extent in the tile's native CRS (for FeatureCollection tiles: the lon/lat extent). */
  bbox: BoundingBox;
  /** Native CRS of `bbox`. */
  crs: string;
  /** The tile's time range when the batch has `periods` (absent otherwise). */
  period?: {
    /** The period's id, the suffix of the tile's id. */
    id: string;
    /** Its start: an ISO date or date-time. */
    start: string;
    /** Its end (exclusive), in the same form. */
    end: string;
  };
}

/** Properties of a tile cut from an AOI grid. */
export interface GridTileProperties extends TileProperties {
  /** Column, counted eastwards from the AOI's west edge (0-based). */
  col: number;
  /** Row, counted northwards from the AOI's south edge (0-based). */
  row: number;
}

/** One unit of work: one openEO batch job runs per tile. */
export interface Tile {
  /** Stable, readable id; only letters, digits, `-`, `_` and `.`, so it can be part of a workflow id. */
  id: string;
  /** Tile outline in EPSG:4326 (lon/lat); grid tiles are always Polygons. */
  geometry: PolygonGeometry | MultiPolygonGeometry;
  /** The tile's properties: these, and whatever its source gave it (a feature's own properties). */
  properties: TileProperties;
}

/** The backends a tile may use: its `backend` property, its `backends` list, or any. */
export function allowedBackends(tile: Tile): string[] | undefined {
  const { backend, backends } = tile.properties;
  if (typeof backend === 'string') return [backend];
  if (Array.isArray(backends) && backends.every((b) => typeof b === 'string')) return backends as string[];
  return undefined;
}

/**
 * A validated tile source: how many tiles it has and how to build any one of
 * them by position, so a page never requires building the others.
 */
export interface TilePlan {
  readonly count: number;
  /** With periods: the places (tiles before pairing with periods); absent otherwise. */
  readonly places?: TilePlan;
  /** Builds the tile at `index` (0 ≤ index < count). */
  tileAt(index: number): Tile;
}
