/**
 * One workflow bundle per test process. A worker bundles its workflows with webpack when it is
 * created (about 2 s on a busy machine); a test file that starts several workers, or a worker
 * again after a stop, would pay that each time for the same code. This plugin hands every
 * worker of the process the bundle made for its first one.
 */
import {
  bundleWorkflowCode,
  DefaultLogger,
  type WorkerOptions,
  type WorkerPlugin,
  type WorkflowBundle,
} from '@temporalio/worker';

const bundles = new Map<string, Promise<WorkflowBundle>>();

/** The workflows at `workflowsPath`, bundled once per test process. */
export function workflowBundleOf(workflowsPath: string): Promise<WorkflowBundle> {
  let bundle = bundles.get(workflowsPath);
  if (!bundle) {
    bundle = bundleWorkflowCode({ workflowsPath, logger: new DefaultLogger('ERROR') });
    // A failed bundle is not kept: the next worker tries again (and shows the error).
    bundle.catch(() => bundles.delete(workflowsPath));
    bundles.set(workflowsPath, bundle);
  }
  return bundle;
}

/**
 * Put last among a worker's plugins: replaces its `workflowsPath` by that path's shared bundle.
 * A worker whose bundle would differ (workflow interceptors, converters, bundler options) keeps
 * bundling its own.
 */
export const sharedWorkflowBundle: WorkerPlugin = {
  name: 'test-shared-workflow-bundle',
  async configureWorker(options: WorkerOptions): Promise<WorkerOptions> {
    const { workflowsPath, ...rest } = options;
    const ownBundle =
      options.workflowBundle ||
      options.bundlerOptions ||
      options.interceptors?.workflowModules?.length ||
      options.dataConverter;
    if (!workflowsPath || ownBundle) return options;
    return { ...rest, workflowBundle: await workflowBundleOf(workflowsPath) };
  },
};
