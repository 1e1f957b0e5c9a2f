/**
 * Local Temporal dev server: obtaining the `temporal` CLI and running `temporal server start-dev`.
 *
 * @module openeo-temporal/devserver
 */
export {
  TEMPORAL_CLI_VERSION,
  TEMPORAL_CLI_GO_PACKAGE,
  FALLBACK_GO_TOOLCHAIN,
  type TemporalCliOptions,
  temporalCacheDir,
  cachedTemporalCliPath,
  findTemporalCli,
  ensureTemporalCli,
} from './temporal-cli';
export {
  type DevServerOptions,
  DEV_SERVER_DYNAMIC_CONFIG,
  startDevServer,
  findRunningDevServer,
  startOrReuseDevServer,
} from './dev-server';
export { DevServer, type DevServerInfo } from './dev-server-handle';
export {
  DEFAULT_RETENTION_DAYS,
  type DevSearchAttributeType,
  type DevSearchAttributes,
  type NamespaceSetup,
  ensureNamespaceSetup,
  isServerHealthy,
} from './namespace-setup';
export { type DevServerState, devServerFiles, readDevServerState } from './state-file';
