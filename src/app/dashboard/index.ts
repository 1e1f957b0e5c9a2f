/** The live map of a batch (and of planned tiles): request handlers to serve or mount. */
export {
  createDashboard,
  DEFAULT_TEMPORAL_UI_URL,
  type DashboardHandler,
  type DashboardOptions,
  type PageConfig,
} from './server';
export { createPlanMap, type PlanMapOptions, type PlannedTile, type PlannedTiles } from './plan-map';
export { mapStatus, STATUS_COLOURS, type MapStatus, type TileView } from './tile-view';
export type { Snapshot, Summary, Update } from './feed';
