/**
 * The public API of openeo-temporal: the client that starts and steers batches, the worker and
 * its plugin, the batch spec and its checks, the hooks a deployment registers, exports and the
 * dashboard.
 *
 * @module openeo-temporal
 */
export { OpenEOBatchClient, type TileListing, type StartedBatch } from './client';
export {
  EXPORT_FORMATS,
  JOB_DATABASE_COLUMNS,
  encodeJobDatabase,
  jobDatabaseRows,
  jobManagerStatus,
  type ExportFormat,
  type JobDatabaseRow,
  type JobManagerStatus,
} from '../core/job-database';
export type { ExportOptions, TileExport } from './export';
export type { ReadRecordsOptions } from '../../activities/records/read';
export { createOpenEOPlugin, WORKFLOWS_PATH, type OpenEOPluginOptions } from './plugin';
export { createOpenEOWorker, type OpenEOWorkerOptions } from './worker';
export { createActivities, type ActivityDependencies } from '../../activities';
export {
  credentialsFromEnv,
  envPrefix,
  findCredentials,
  type BackendAuth,
  type BackendCredentials,
  type CredentialStore,
} from '../core/openeo/credentials';
export {
  deviceLogin,
  type DeviceLoginOptions,
  type DeviceLoginPrompt,
  type DeviceLoginResult,
} from '../core/openeo/oidc/device-login';
export { RefreshTokenStore, ourTokenStorePath, pythonTokenStorePath } from '../core/openeo/oidc/token-store';
export { BatchCancelledError, BatchFailedError, type BatchCancellation } from './batch-failure';
export { temporalTarget, DEFAULT_TASK_QUEUE, type TemporalTarget } from './temporal-connection';
export { parseBatchSpec, InvalidSpecError } from '../core/batch-spec/validate';
export { batchSpecJsonSchema } from '../core/batch-spec/json-schema';
export {
  checkSpecOffline,
  inspectSpecOffline,
  type PreparedBatch,
  type SpecInspection,
} from '../core/batch-spec/prepare';
export {
  planBatch,
  type BatchPlan,
  type BackendPlan,
  type PlanEstimate,
  type PlanOptions,
  type PlannedTiles,
  type PlannedTileFeature,
} from './plan';
export type { BatchSpec, BatchSpecInput, BackendSpec } from '../core/batch-spec/schema';
export type { TileRecord, TileStatus, BatchSummary, StatusCounts } from '../core/records';
export {
  loadCollectionGraph,
  type JobFactory,
  type JobFactoryContext,
  type JobFactoryHelpers,
  type JobPlan,
  type LoadCollectionOptions,
  type ProcessRef,
  type SkipTile,
  type TileJobPlan,
} from '../core/hooks/job-factory';
export {
  MAX_POSTPROCESS_RESULT_BYTES,
  type Postprocessor,
  type PostprocessInput,
  type TileFile,
} from '../core/hooks/postprocess';
export type { Tile } from '../core/batch-spec/tile-types';
export type { PostprocessRerunOptions } from './postprocess-rerun';
export { batchProgress, tileCompleted, tileProgress } from '../../workflows/messages';
export type { BatchProgress } from '../core/progress';
export {
  createDashboard,
  createPlanMap,
  STATUS_COLOURS,
  type DashboardHandler,
  type DashboardOptions,
  type PlanMapOptions,
  type PlannedTile,
  type MapStatus,
} from './dashboard';
