/**
 * Many workers: one batch of instant jobs on 3 worker processes sharing the task queue, compared
 * with the single worker of the throughput scenario; then the same batch again with one of the
 * three killed (SIGKILL) a third of the way through. A killed worker may cost time (its tasks
 * time out and move on) but nothing else: every tile finishes, with one job each.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { runBatch } from '../batches';
import type { Report } from '../report';
import { gridSpec } from '../specs';
import type { BenchWorld } from '../world';

export interface WorkersFigures {
  tiles: number;
  workers: number;
  tilesPerSecond: number;
  killed: { tilesPerSecond: number; finished: number; jobs: number; wallSeconds: number };
}

const WORKERS = 3;

export async function manyWorkers(world: BenchWorld, report: Report, tiles: number): Promise<WorkersFigures> {
  const backend = await world.startBackend(`workers${tiles}`, { jobDurations: { queuedMs: 0, runningMs: 0 }, maxRunningJobsPerUser: 100_000, rasterSize: 8 }, { workers: WORKERS });
  try {
    const spec = (batchId: string) => gridSpec({ batchId, backend: { name: backend.name, url: backend.emulator.url }, parallelJobs: 100, tiles, tileSize: 1000, outputDir: backend.outputDir });
    report.note(`workers: ${tiles} instant tiles, parallelJobs 100, on ${WORKERS} worker processes; then again with one killed a third of the way`);
    const all = await runBatch(backend, spec('bench-workers'), 60 * 60_000);
    const tilesPerSecond = tiles / (all.wallMs / 1000);
    report.figure('workers.tilesPerSecond', `workers: ${tiles} tiles on ${WORKERS} workers, throughput`, tilesPerSecond, 'tiles/s');

    const batchId = 'bench-workers-killed';
    const jobsBefore = backend.emulator.admin.jobs().length;
    const killing = (async () => {
      while (backend.emulator.admin.jobs().length - jobsBefore < tiles / 3) await sleep(200);
      backend.workers[WORKERS - 1].kill();
    })();
    const run = await runBatch(backend, spec(batchId), 60 * 60_000);
    await killing;
    const jobs = backend.emulator.admin.jobs().length - jobsBefore;
    const killed = { tilesPerSecond: tiles / (run.wallMs / 1000), finished: run.summary.counts.finished, jobs, wallSeconds: run.wallMs / 1000 };
    report.figure('workers.killed', `workers: the same with one of ${WORKERS} killed (SIGKILL) a third of the way`, killed);
    return { tiles, workers: WORKERS, tilesPerSecond, killed };
  } finally {
    await backend.close();
  }
}
