/**
 * Your own worker with the example hooks: `node dist/examples/hooks/worker.js` after the build.
 * Temporal settings come from TEMPORAL_* variables, backend credentials from OPENEO_BACKEND_*.
 *
 * In your own project, import from 'openeo-temporal' instead of '../../app'.
 */
import { createOpenEOWorker } from '../../src/app';
import { jobFactories, postprocessors } from './hooks';

async function main(): Promise<void> {
  const worker = await createOpenEOWorker({
    taskQueue: process.env.OPENEO_TASK_QUEUE ?? 'openeo',
    jobFactories,
    postprocessors,
  });
  console.log('worker with job factory "s1s2" and post-processor "stats"; Ctrl-C stops it');
  await worker.run();
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
