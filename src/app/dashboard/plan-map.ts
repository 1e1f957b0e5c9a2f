/**
 * A map of planned tiles, before any batch exists (`openeo-temporal plan` opens it): the same
 * page, every tile not started, nothing live.
 */
import type { TileRow } from '../../core/records';
import type { TileFeature } from '../../core/batch-spec/tile-types';
import { StaticFeed } from './feed';
import { handler, type DashboardHandler } from './server';
import { STATUS_COLOURS, tileView } from './tile-view';

/** The name the plan is served under, as if it were a batch. */
export const PLAN_ID = 'plan';

/** Options of {@link createPlanMap}. */
export interface PlanMapOptions {
  /** Shown as the page's title. @default 'plan' */
  title?: string;
  /** A basemap's tile URL template; without it, a plain background (offline). */
  basemap?: string;
}

/** Tiles as `openeo-temporal plan` makes them: an id and an outline in EPSG:4326. */
export type PlannedTile = Pick<TileFeature, 'geometry' | 'properties'> & {
  /** The GeoJSON object type, when given. */
  type?: 'Feature';
  /** The tile's id; its position in the list when left out. */
  id?: string | number;
};

/**
 * A list of tiles, or a GeoJSON FeatureCollection of them.
 *
 * @inline
 */
export type PlannedTiles = readonly PlannedTile[] | { type?: 'FeatureCollection'; features: readonly PlannedTile[] };

/**
 * A map page of planned tiles, before any batch exists (what `openeo-temporal plan --map` serves):
 * the dashboard's page with every tile not started and nothing live. Serve it with `http.createServer`.
 */
export function createPlanMap(tiles: PlannedTiles, options: PlanMapOptions = {}): DashboardHandler {
  const list = 'features' in tiles ? tiles.features : tiles;
  const title = options.title ?? PLAN_ID;
  const rows: TileRow[] = list.map((tile, i) => {
    if (!tile.geometry)
      throw new Error(`tiles[${i}].geometry: a planned tile needs its outline (a GeoJSON Polygon in EPSG:4326)`);
    return {
      batchId: title,
      tileId: tile.id === undefined ? String(i) : String(tile.id),
      status: 'not_started',
      attempts: 0,
      geometry: tile.geometry,
    };
  });
  const view = (row: TileRow) => tileView(row, { uiUrl: '', namespace: '', previewUrl: () => '' }, true);
  const feed = new StaticFeed(title, rows, view);
  return handler(
    {
      config: {
        mode: 'plan',
        batchId: PLAN_ID,
        ...(options.basemap ? { basemap: options.basemap } : {}),
        colours: { ...STATUS_COLOURS },
      },
      feed: (batchId) => (batchId === PLAN_ID ? feed : undefined),
      close: () => feed.close(),
    },
    options.basemap,
  );
}
