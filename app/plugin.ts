/**
 * `createOpenEOPlugin`: the openEO workflows and activities, packaged as a Temporal plugin that
 * any TypeScript worker can load next to its own work.
 */
import { SimplePlugin } from '@temporalio/plugin';
import { createActivities, type ActivityDependencies } from '../activities';
import { credentialsFromEnv } from '../core/openeo/credentials';

/** Where the compiled workflows live; the worker bundles them from here. */
export const WORKFLOWS_PATH = require.resolve('../workflows');

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
 * @experimental Temporal plugins are experimental in the SDK.
 */
export function createOpenEOPlugin(options: OpenEOPluginOptions = {}): SimplePlugin {
  const activities = createActivities({ ...options, credentials: options.credentials ?? credentialsFromEnv() });
  return new SimplePlugin({
    name: 'openeo-temporal',
    workflowsPath: (existing) => existing ?? WORKFLOWS_PATH,
    activities,
  });
}
