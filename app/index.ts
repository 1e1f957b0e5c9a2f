/** The public API of openeo-temporal. */
export { OpenEOBatchClient, type TileListing, type StartedBatch } from './client';
export { createOpenEOPlugin, WORKFLOWS_PATH, type OpenEOPluginOptions } from './plugin';
export { createOpenEOWorker, type OpenEOWorkerOptions } from './worker';
export { createActivities, type ActivityDependencies } from '../activities';
export { credentialsFromEnv, envPrefix, findCredentials, type BackendAuth, type BackendCredentials, type CredentialStore } from '../core/openeo/credentials';
export { deviceLogin, type DeviceLoginOptions, type DeviceLoginPrompt, type DeviceLoginResult } from '../core/openeo/oidc/device-login';
export { RefreshTokenStore, ourTokenStorePath, pythonTokenStorePath } from '../core/openeo/oidc/token-store';
export { BatchFailedError } from './batch-failure';
export { temporalTarget, DEFAULT_TASK_QUEUE, type TemporalTarget } from './temporal-connection';
export { parseBatchSpec, InvalidSpecError } from '../core/spec/validate';
export { checkSpecOffline, type PreparedBatch } from '../core/spec/prepare';
export type { BatchSpec, BatchSpecInput, BackendSpec } from '../core/spec/schema';
export type { TileRecord, TileStatus, BatchSummary, StatusCounts } from '../core/records';
export { batchProgress, tileCompleted, tileProgress } from '../workflows/messages';
export type { BatchProgress } from '../core/progress';
export { createDashboard, createPlanMap, STATUS_COLOURS, type DashboardHandler, type DashboardOptions, type PlanMapOptions, type PlannedTile, type MapStatus } from './dashboard';
