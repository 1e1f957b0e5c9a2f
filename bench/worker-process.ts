/**
 * The benchmark's worker, run as a child process (`fork`): the project's ready-made worker
 * with credentials for one emulator, sampling its own resident memory so the parent can report
 * the worker's peak RSS.
 */
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { createOpenEOWorker } from '../src/app/worker';
import { WORKER_CONFIG_ENV, type FromWorker, type ToWorker, type WorkerChildConfig } from './protocol';

/** Often enough to catch short peaks, rarely enough to cost nothing measurable. */
const SAMPLE_MS = 100;

function send(message: FromWorker): void {
  process.send?.(message);
}

async function main(): Promise<void> {
  // Routine SDK state changes would drown the benchmark's own output.
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const config = JSON.parse(process.env[WORKER_CONFIG_ENV] ?? '{}') as WorkerChildConfig;
  let peak = process.memoryUsage().rss;
  const sample = () => {
    peak = Math.max(peak, process.memoryUsage().rss);
  };
  const sampler = setInterval(sample, SAMPLE_MS);

  const worker = await createOpenEOWorker({
    temporal: { connectionOptions: { address: config.address }, namespace: config.namespace },
    taskQueue: config.taskQueue,
    credentials: config.credentials,
    ...(config.activitySlots ? { activitySlots: config.activitySlots } : {}),
  });
  const running = worker.run();
  sample();
  send({ type: 'ready', startupPeakRss: peak });

  process.on('message', (message: ToWorker) => {
    sample();
    if (message.type === 'reset-peak') peak = process.memoryUsage().rss;
    else if (message.type === 'memory') send({ type: 'memory', rss: process.memoryUsage().rss, peakRss: peak });
    else if (message.type === 'slots')
      send({ type: 'slots', activitiesInFlight: worker.getStatus().numInFlightNonLocalActivities });
    else if (message.type === 'shutdown') worker.shutdown();
  });
  await running;
  clearInterval(sampler);
  process.disconnect?.();
}

main().catch((err: unknown) => {
  send({ type: 'failed', message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  process.exitCode = 1;
  process.disconnect?.();
});
