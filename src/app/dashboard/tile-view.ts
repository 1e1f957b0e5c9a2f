/**
 * What the map page gets for one tile: its record, the colour it is drawn in, its link in the
 * Temporal UI and, for a finished tile with a quicklook, where the preview image is. Pure.
 */
import type { TileRow } from '../../core/records';
import type { TileRecord } from '../../core/records';

/**
 * The statuses a tile is coloured by: ours, with a running tile split by what the backend says of
 * its job (as the openEO Python client's job manager shows them), and `start_failed` for a tile
 * whose job never got to run.
 */
export type MapStatus =
  | 'not_started'
  | 'created'
  | 'queued'
  | 'running'
  | 'finished'
  | 'postprocessed'
  | 'error'
  | 'skipped'
  | 'start_failed'
  | 'canceled';

/** Colours users know from the Python client's job manager plots; canceled is ours. Legend order. */
export const STATUS_COLOURS: Readonly<Record<MapStatus, string>> = {
  not_started: 'lightgrey',
  created: 'gold',
  queued: 'lightsteelblue',
  running: 'navy',
  finished: 'lime',
  postprocessed: 'green',
  error: 'darkred',
  skipped: 'darkorange',
  start_failed: 'red',
  canceled: 'darkviolet',
};

/** The file a finished tile's preview is read from, and the one that says where it lies. */
export const QUICKLOOK_IMAGE = 'quicklook.png';
export const QUICKLOOK_INFO = 'quicklook.json';

/** `[west, south, east, north]` in EPSG:4326. */
export type Bounds = [number, number, number, number];

export interface TileView extends Omit<TileRow, 'geometry'> {
  /** Sent once, with the first event that names the tile. */
  geometry?: TileRow['geometry'];
  mapStatus: MapStatus;
  /** The tile workflow's page in the Temporal UI, once the tile started. */
  temporalUrl?: string;
  /** A finished tile's quicklook: its URL (relative to the page) and where to lay it. */
  preview?: { url: string; bounds: Bounds };
}

/** How a tile is coloured. */
export function mapStatus(record: Pick<TileRecord, 'status' | 'backendStatus'>): MapStatus {
  switch (record.status) {
    case 'running':
      // Before its job exists the tile is creating it; after the job ended it is downloading.
      if (record.backendStatus === 'queued') return 'queued';
      if (record.backendStatus === undefined || record.backendStatus === 'created') return 'created';
      return 'running';
    case 'error':
      // A job that never left `created` (or was never created) failed to start.
      return record.backendStatus === undefined || record.backendStatus === 'created' ? 'start_failed' : 'error';
    default:
      return record.status;
  }
}

/** The tile workflow's page in the Temporal UI. */
export function temporalWorkflowUrl(uiUrl: string, namespace: string, workflowId: string): string {
  return `${uiUrl.replace(/\/+$/, '')}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`;
}

/** Whether the tile's record lists a quicklook (only files listed in a record are ever served). */
export function hasQuicklook(row: Pick<TileRecord, 'status' | 'files' | 'outputDir'>): boolean {
  return (
    (row.status === 'finished' || row.status === 'postprocessed') &&
    row.outputDir !== undefined &&
    (row.files ?? []).includes(QUICKLOOK_IMAGE)
  );
}

/** The bounding box of a tile's outline (where a preview goes when its quicklook does not say). */
export function outlineBounds(geometry: TileRow['geometry']): Bounds | undefined {
  if (!geometry) return undefined;
  const bounds: Bounds = [Infinity, Infinity, -Infinity, -Infinity];
  const rings = geometry.type === 'Polygon' ? geometry.coordinates : geometry.coordinates.flat();
  for (const ring of rings) {
    for (const [lon, lat] of ring) {
      bounds[0] = Math.min(bounds[0], lon!);
      bounds[1] = Math.min(bounds[1], lat!);
      bounds[2] = Math.max(bounds[2], lon!);
      bounds[3] = Math.max(bounds[3], lat!);
    }
  }
  return bounds[0] <= bounds[2] ? bounds : undefined;
}

export interface ViewContext {
  uiUrl: string;
  namespace: string;
  /** The page's URL of a tile's quicklook image. */
  previewUrl(row: TileRow): string;
  /** Where a tile's quicklook lies, when its `quicklook.json` says. */
  previewBounds?: Bounds;
}

/** A tile for the page; `withGeometry` for the first event that names it. */
export function tileView(row: TileRow, context: ViewContext, withGeometry: boolean): TileView {
  const { geometry, ...record } = row;
  const view: TileView = { ...record, mapStatus: mapStatus(row) };
  if (withGeometry) view.geometry = geometry;
  if (row.workflowId) view.temporalUrl = temporalWorkflowUrl(context.uiUrl, context.namespace, row.workflowId);
  const bounds = context.previewBounds ?? outlineBounds(geometry);
  if (hasQuicklook(row) && bounds) view.preview = { url: context.previewUrl(row), bounds };
  return view;
}
