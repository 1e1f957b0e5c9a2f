/**
 * The ready-made worker: connects to Temporal (see `temporalTarget`), loads the openEO plugin,
 * and runs until it is shut down (SIGINT/SIGTERM end it gracefully).
 */
import { NativeConnection, Worker, type WorkerPlugin } from '@temporalio/worker';
import { createOpenEOPlugin, type OpenEOPluginOptions } from './plugin';
import { DEFAULT_TASK_QUEUE, temporalTarget, type TemporalTarget } from './temporal-connection';

export interface OpenEOWorkerOptions extends OpenEOPluginOptions {
  /** @default "openeo" */
  taskQueue?: string;
  /** @default from the environment, see `temporalTarget` */
  temporal?: TemporalTarget;
  /** Lets a process that runs several things (the demo, tests) use one connection. */
  connection?: NativeConnection;
  /**
   * Workflows of your own that re-export (or wrap) `openeo-temporal/workflows`.
   * @default the package's workflows
   */
  workflowsPath?: string;
  /**
   * Activities this worker runs at once (calls to openEO, downloads, hooks). A job waiting on
   * its backend holds none: the worker's job tracker follows it.
   * @default the SDK's (100)
   */
  activitySlots?: number;
  /** Plugins of your own (interceptors, activities, sinks), applied after the openEO plugin. */
  plugins?: WorkerPlugin[];
}

/** Creates (but does not run) a worker with the openEO plugin. Call `run()` on the result. */
export async function createOpenEOWorker(options: OpenEOWorkerOptions = {}): Promise<Worker> {
  const target = options.temporal ?? temporalTarget();
  const connection = options.connection ?? (await NativeConnection.connect(target.connectionOptions));
  return Worker.create({
    connection,
    namespace: target.namespace,
    taskQueue: options.taskQueue ?? DEFAULT_TASK_QUEUE,
    ...(options.workflowsPath ? { workflowsPath: options.workflowsPath } : {}),
    ...(options.activitySlots ? { maxConcurrentActivityTaskExecutions: options.activitySlots } : {}),
    plugins: [createOpenEOPlugin(options), ...(options.plugins ?? [])],
  });
}
