/**
 * A hook worker written against the contract alone (src/core/hooks/contract.ts), in TypeScript:
 * plain activities on their own task queue, plus the probe every hook worker registers. It
 * stands for a worker in another language where the test is about the workflow's side (the
 * recorded histories, the workflow's checks); the Python package's own worker is tested with
 * real Python (test/integration/python-hooks.test.ts).
 */
import { NativeConnection, Worker } from '@temporalio/worker';
import { DESCRIBE_HOOKS_ACTIVITY, HOOK_CONTRACT_VERSION, type DescribeHooksAnswer } from '../../src/core/hooks/remote';

/** An activity of the contract: one JSON argument, one JSON answer. */
export type ContractActivity = (request: Record<string, unknown>) => Promise<unknown>;

export interface RemoteHookWorkerOptions {
  address: string;
  namespace: string;
  taskQueue: string;
  jobFactories?: Record<string, ContractActivity>;
  postprocessors?: Record<string, ContractActivity>;
}

/** Starts the worker; stop it with `shutdown()` and await `running`. */
export async function startRemoteHookWorker(options: RemoteHookWorkerOptions): Promise<{
  worker: Worker;
  running: Promise<void>;
}> {
  const { jobFactories = {}, postprocessors = {} } = options;
  const describe = async (): Promise<DescribeHooksAnswer> => ({
    contractVersion: HOOK_CONTRACT_VERSION,
    jobFactories: Object.keys(jobFactories),
    postprocessors: Object.keys(postprocessors),
    worker: 'openeo-temporal test hook worker (TypeScript)',
  });
  const connection = await NativeConnection.connect({ address: options.address });
  const worker = await Worker.create({
    connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    activities: { ...jobFactories, ...postprocessors, [DESCRIBE_HOOKS_ACTIVITY]: describe },
  });
  const running = worker.run().finally(() => connection.close());
  return { worker, running };
}
