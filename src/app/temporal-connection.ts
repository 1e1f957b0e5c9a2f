/**
 * Where the Temporal server is. Read with Temporal's own environment configuration, so the same
 * variables as the `temporal` CLI work: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY,
 * TEMPORAL_TLS, TEMPORAL_TLS_CLIENT_CERT_PATH, … and profiles in the CLI's config file.
 */
import { loadClientConnectConfig } from '@temporalio/envconfig';
import type { NativeConnectionOptions } from '@temporalio/worker';

/** The task queue the worker listens on and batches are started on, unless told otherwise. */
export const DEFAULT_TASK_QUEUE = 'openeo';

export interface TemporalTarget {
  connectionOptions: NativeConnectionOptions;
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
