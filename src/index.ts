/** The public API of openeo-temporal. */
export { OpenEOBatchClient, type TileListing, type StartedBatch } from './client';
export { createOpenEOPlugin, WORKFLOWS_PATH, type OpenEOPluginOptions } from './plugin';
export { createOpenEOWorker, type OpenEOWorkerOptions } from './worker';
export { createActivities, type ActivityDependencies } from '../activities';
export { credentialsFromEnv, type BackendAuth, type BackendCredentials, type CredentialStore } from './openeo/credentials';
export { temporalTarget, DEFAULT_TASK_QUEUE, type TemporalTarget } from './temporal-connection';
export { parseBatchSpec, InvalidSpecError } from './spec/validate';
export { checkSpecOffline, type PreparedBatch } from './spec/prepare';
export type { BatchSpec, BatchSpecInput, BackendSpec } from './spec/schema';
export type { TileRecord, TileStatus, BatchSummary, StatusCounts } from './records';
export { batchProgress, tileCompleted, tileProgress, type BatchProgress } from '../workflows/messages';
export { startEmulator } from './emulator';
