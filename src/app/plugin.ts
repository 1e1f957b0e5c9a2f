/**
 * `createOpenEOPlugin`: the openEO workflows and activities, packaged as a Temporal plugin that
 * any TypeScript worker can load next to its own work.
 */
import { SimplePlugin } from '@temporalio/plugin';
import { createWorkerActivities, type ActivityDependencies } from '../../activities';
import { credentialsFromEnv } from '../core/openeo/credentials';

/** Where the compiled workflows live; the worker bundles them from here. */
export const WORKFLOWS_PATH = require.resolve('../../workflows');

/** The activities' dependencies; credentials default to the worker's environment. */
export type OpenEOPluginOptions = Partial<ActivityDependencies>;

/**
 * A plugin that registers `batchWorkflow`, `tileWorkflow` and their activities.
 *
 * Credentials default to the worker's environment (`OPENEO_BACKEND_<NAME>_URL`, `…_USERNAME`,
 * `…_PASSWORD` or `…_TOKEN`). A worker that already has a `workflowsPath` keeps it; that
 * workflows module must then re-export `batchWorkflow` and `tileWorkflow` from
 * `openeo-temporal/workflows`.
 *
 * Create one per worker: when its worker stops, the plugin hands the waits its job tracker
 * follows to the other workers.
 *
 * @experimental Temporal plugins are experimental in the SDK.
 */
export function createOpenEOPlugin(options: OpenEOPluginOptions = {}): SimplePlugin {
  const { activities, releaseWaits } = createWorkerActivities({
    ...options,
    credentials: options.credentials ?? credentialsFromEnv(),
  });
  return new SimplePlugin({
    name: 'openeo-temporal',
    workflowsPath: (existing) => existing ?? WORKFLOWS_PATH,
    activities,
    // A worker that stops hands the jobs its tracker follows to the other workers at once,
    // rather than leaving them until their heartbeat times out.
    runContext: async (next) => {
      try {
        await next();
      } finally {
        await releaseWaits();
      }
    },
  });
}
