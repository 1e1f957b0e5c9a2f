/**
 * All activities of openeo-temporal, created once per worker with their dependencies:
 * connections (and so credentials) are injected here, never passed through workflow input.
 */
import type { Logger } from '@temporalio/common';
import { Runtime } from '@temporalio/worker';
import { OpenEOConnections, type ConnectionOptions } from '../src/core/openeo/connections';
import type { CredentialStore } from '../src/core/openeo/credentials';
import { createSpecCheckActivities } from './spec-checks';
import { createTilePageActivities } from './tile-pages';
import type { JobDescription } from './job-requests';
import {
  createJobActivities,
  DEFAULT_CANCEL_CONFIRMATION,
  trackerLookups,
  type CancelConfirmation,
} from './openeo-jobs';
import { createDuplicateSweepActivities } from './duplicate-jobs';
import { createHandOverActivities } from './hand-over';
import { JobTracker } from './job-tracker';
import { createResultActivities } from './results';
import { EndedJobDescriptions } from './ended-jobs';
import { LoginFailureReporter, useLoginReporter } from './login-failures';
import { quotaGateOptions, withBackendQuotas } from './quota-scope';
import type { JobFactory } from '../src/core/hooks/job-factory';
import type { Postprocessor } from '../src/core/hooks/postprocess';
import { createJobFactoryActivities } from './job-factory';
import { createPostprocessActivities } from './postprocess';
import { createTileExtrasActivities } from './stac/tile-extras';
import { createRecordsActivities } from './records/save';

export type { PreparedBatch } from './spec-checks';

/**
 * What the activities are created with: the worker's credentials, its connection settings and
 * the hooks it registers; each option has a default that suits a worker of its own.
 */
export interface ActivityDependencies extends ConnectionOptions {
  /** Credentials per backend name; see `credentialsFromEnv`. */
  credentials: CredentialStore;
  /**
   * Abort a result download when no byte arrives for this long.
   * @default 60_000
   */
  downloadIdleTimeoutMs?: number;
  /**
   * A result download holds its backend's request lease (backends with quotas) at most this
   * long: a worker killed mid-download blocks one request slot no longer than this.
   * @default 600_000
   */
  downloadLeaseMs?: number;
  /**
   * When a backend's login stops working mid-batch (a revoked or expired refresh token), a tile's
   * call (create, start, results) is tried again after this long, for as long as it takes; its
   * wait for a running job is not: the job tracker looks again as the spec's `polling` allows.
   * Meanwhile the batch pauses that backend until the user logs in again and resumes it.
   * @default 300_000 (5 minutes)
   */
  loginRetryDelayMs?: number;
  /**
   * Where the worker's job tracker logs what it meets while following jobs (a backend it cannot
   * log in to, a job it cannot read): news about a backend or a job, not about one activity.
   * @default the Temporal runtime's logger
   */
  logger?: Logger;
  /**
   * How often, and how far apart, a cancelled job's status is checked before the tile reports
   * that the backend still runs it.
   * @default { checks: 3, intervalMs: 1_000 } (checks after 1, 2 and 4 s)
   */
  cancelConfirmation?: CancelConfirmation;
  /**
   * Create-job hooks by name, for specs whose `jobFactory` names one. Every worker of the task
   * queue should register the same ones.
   */
  jobFactories?: Record<string, JobFactory>;
  /** Post-processing hooks by name, for specs whose `postprocess` names one. */
  postprocessors?: Record<string, Postprocessor>;
}

/**
 * Every activity of openeo-temporal, for a worker that registers them itself; most use
 * {@link createOpenEOWorker} or {@link createOpenEOPlugin} instead, which call this.
 */
export function createActivities(deps: ActivityDependencies) {
  return createWorkerActivities(deps).activities;
}

/**
 * The activities, and what the worker that runs them calls when it stops: `releaseWaits` hands
 * the waits its job tracker follows back to Temporal, to be taken up by another worker at once.
 */
export function createWorkerActivities(deps: ActivityDependencies) {
  const connections = new OpenEOConnections(deps.credentials, deps);
  useLoginReporter(connections, new LoginFailureReporter(deps.loginRetryDelayMs));
  // What the tracker read of a finished job, for the download that follows on this worker.
  const ended = new EndedJobDescriptions<JobDescription>();
  // The tracker follows the jobs of every activity that waits: it logs as the worker, not as one of them.
  const log = (message: string) => (deps.logger ?? Runtime.instance().logger).warn(message);
  const tracker = new JobTracker(trackerLookups(connections, ended), { log });
  const activities = {
    ...createSpecCheckActivities(connections, {
      jobFactories: deps.jobFactories ?? {},
      postprocessors: deps.postprocessors ?? {},
    }),
    ...createTilePageActivities(),
    ...createJobActivities(connections, deps.cancelConfirmation ?? DEFAULT_CANCEL_CONFIRMATION, tracker),
    ...createHandOverActivities(connections, tracker),
    ...createDuplicateSweepActivities(connections),
    ...createResultActivities(connections, { downloadIdleTimeoutMs: deps.downloadIdleTimeoutMs ?? 60_000, ended }),
    ...createJobFactoryActivities(deps.jobFactories ?? {}),
    ...createPostprocessActivities(deps.postprocessors ?? {}),
    ...createTileExtrasActivities(),
    ...createRecordsActivities(),
  };
  return {
    activities: withBackendQuotas(activities, quotaGateOptions(deps)),
    releaseWaits: (reason?: string) => tracker.release(reason),
  };
}

/** The activity interface workflows proxy (imported as a type only). */
export type OpenEOActivities = ReturnType<typeof createActivities>;
