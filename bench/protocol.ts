/**
 * Messages between the benchmark and its worker child process. The worker runs in its own
 * process so that its memory figure is the worker's alone, not the emulator's or the client's.
 */
import type { CredentialStore } from '../src/core/openeo/credentials';

/** What the child needs to start a worker; sent as JSON in its environment. */
export interface WorkerChildConfig {
  address: string;
  namespace: string;
  taskQueue: string;
  credentials: CredentialStore;
  /** Activities the worker runs at once (its `activitySlots`); unset: the worker's default. */
  activitySlots?: number;
}

/** Parent → child. */
export type ToWorker = { type: 'reset-peak' } | { type: 'memory' } | { type: 'slots' } | { type: 'shutdown' };

/** Child → parent. */
export type FromWorker =
  | { type: 'ready'; startupPeakRss: number }
  | { type: 'memory'; rss: number; peakRss: number }
  /** Activity slots in use now (the worker's own count, `Worker.getStatus()`). */
  | { type: 'slots'; activitiesInFlight: number }
  | { type: 'failed'; message: string };

/** Environment variable that carries the {@link WorkerChildConfig}. */
export const WORKER_CONFIG_ENV = 'OPENEO_TEMPORAL_BENCH_WORKER';
