/**
 * Where the Temporal server is. Read with Temporal's own environment configuration, so the same
 * variables as the `temporal` CLI work: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY,
 * TEMPORAL_TLS, TEMPORAL_TLS_CLIENT_CERT_PATH, … and profiles in the CLI's config file.
 */
import { loadClientConnectConfig } from '@temporalio/envconfig';
import type { NativeConnectionOptions } from '@temporalio/worker';

/** The task queue the worker listens on and batches are started on, unless told otherwise. */
export const DEFAULT_TASK_QUEUE = 'openeo';

/** Where a Temporal server is and which namespace to use: what a client or a worker connects with. */
export interface TemporalTarget {
  /** The server's address, TLS and API key, as Temporal's connections take them. */
  connectionOptions: NativeConnectionOptions;
  /** The Temporal namespace batches run in. */
  namespace: string;
}

/** Environment and config-file settings, with explicit overrides (e.g. the dev server's address). */
export function temporalTarget(overrides: { address?: string; namespace?: string } = {}): TemporalTarget {
  const config = loadClientConnectConfig();
  return {
    connectionOptions: { ...config.connectionOptions, ...(overrides.address ? { address: overrides.address } : {}) },
    namespace: overrides.namespace ?? config.namespace ?? 'default',
  };
}
