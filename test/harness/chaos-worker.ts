/**
 * A worker in its own process, so the chaos run can kill it with SIGKILL mid-flight. Configured by the
 * environment variable OPENEO_TEST_WORKER (JSON: address, namespace, taskQueue, credentials,
 * requestTimeoutMs); prints "ready" once it polls.
 */
import './quiet-logs';
import { createOpenEOWorker } from '../../src/app/worker';
import type { CredentialStore } from '../../src/core/openeo/credentials';

interface WorkerProcessConfig {
  address: string;
  namespace: string;
  taskQueue: string;
  credentials: CredentialStore;
  requestTimeoutMs?: number;
  /** The upgraded build's workflows (see upgraded-workflows.ts), when the run upgrades. */
  workflowsPath?: string;
}

async function main(): Promise<void> {
  const config = JSON.parse(process.env.OPENEO_TEST_WORKER ?? '{}') as WorkerProcessConfig;
  const worker = await createOpenEOWorker({
    temporal: { connectionOptions: { address: config.address }, namespace: config.namespace },
    taskQueue: config.taskQueue,
    credentials: config.credentials,
    requestTimeoutMs: config.requestTimeoutMs,
    downloadIdleTimeoutMs: config.requestTimeoutMs,
    ...(config.workflowsPath ? { workflowsPath: config.workflowsPath } : {}),
  });
  const running = worker.run();
  console.log('ready');
  await running;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
