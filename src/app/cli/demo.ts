/**
 * `openeo-temporal demo` (what `npm start` runs): the whole system on one machine. A local
 * Temporal dev server (started, or reused from an earlier run), the openEO emulator, a worker,
 * and the Antwerp best-available-pixel batch, followed with a progress bar until it ends.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { OpenEOBatchClient } from '../client';
import { startOrReuseDevServer, type DevServer } from '../../tools/devserver';
import { startEmulator } from '../../tools/emulator';
import { DEV_SERVER_SEARCH_ATTRIBUTES } from '../../core/search-attributes';
import type { BatchSpecInput } from '../../core/batch-spec/schema';
import { createOpenEOWorker } from '../worker';
import { followBatch, summaryText } from './progress';
import { workflowUiLink } from './ui-link';

export interface DemoOptions {
  specPath: string;
  dataDir: string;
  port: number;
  uiPort: number;
}

export async function startLocalDevServer(
  options: Pick<DemoOptions, 'dataDir' | 'port' | 'uiPort'>,
): Promise<DevServer> {
  return startOrReuseDevServer({
    dataDir: resolve(options.dataDir),
    port: options.port,
    uiPort: options.uiPort,
    detached: true,
    searchAttributes: DEV_SERVER_SEARCH_ATTRIBUTES,
    log: (line) => console.log(line),
  });
}

function timestamp(): string {
  return new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-');
}

export async function runDemo(options: DemoOptions): Promise<void> {
  const spec = JSON.parse(await readFile(options.specPath, 'utf8')) as BatchSpecInput;
  const backend = spec.backends[0];
  const server = await startLocalDevServer(options);
  console.log(
    `Temporal dev server ${server.reused ? '(reused)' : '(started)'}: ${server.address}, UI ${server.uiUrl ?? 'off'}`,
  );

  // The demo's emulator plays the backend the spec names, on the port its URL gives.
  const emulator = await startEmulator({
    port: Number(new URL(backend.url).port),
    jobDurations: { queuedMs: 1000, runningMs: 4000 },
    maxRunningJobsPerUser: backend.parallelJobs ?? 2,
  });
  console.log(`openEO emulator: ${emulator.url}`);

  const credentials = {
    [backend.name]: { url: backend.url, auth: { type: 'basic' as const, username: 'demo', password: 'demo-password' } },
  };
  const temporal = { connectionOptions: { address: server.address }, namespace: server.namespace };
  const worker = await createOpenEOWorker({ temporal, credentials });
  const client = await OpenEOBatchClient.connect({ temporal });
  try {
    await worker.runUntil(async () => {
      const batchId = `${spec.batchId ?? 'demo'}-${timestamp()}`;
      const { handle } = await client.start({ ...spec, batchId });
      console.log(
        `Batch ${batchId} started. Watch it in the Temporal UI:\n  ${workflowUiLink(server.uiUrl, server.namespace, handle.workflowId) ?? '(UI off)'}`,
      );
      console.log(summaryText(await followBatch(client, batchId)));
      console.log(`\nThe dev server keeps running (state in ${server.dataDir}); stop it with: kill ${server.pid}`);
    });
  } finally {
    await client.client.connection.close();
    await emulator.close();
  }
}
