/**
 * Many workers: one batch of instant jobs on 3 worker processes sharing the task queue, compared
 * with the single worker of the throughput scenario; then the same batch again with one of the
 * three killed (SIGKILL) a third of the way through. A killed worker may cost time (its tasks
 * time out and move on) but nothing else: every tile finishes, with one job each.
 *
 * Instant jobs are bound by the dev server's CPU, which more workers on the same 2 cores cannot
 * raise. So the scale is shown where the workers are the limit, as with slow downloads: each
 * result takes {@link SLOW_DOWNLOAD_MS} to arrive and a worker runs {@link SLOTS_PER_WORKER}
 * activities at once, and the same batch runs on one worker, then on three.
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
  /** Tiles per second when the workers' slots are the limit: one worker, then {@link WORKERS}. */
  slotBound: SlotBound;
}

/** A type, not an interface, so it is a report figure as it is. */
type SlotBound = { tiles: number; oneWorker: number; manyWorkers: number; scale: number };

const WORKERS = 3;
const SLOW_DOWNLOAD_MS = 3_000;
const SLOTS_PER_WORKER = 1;
/** About two minutes on one worker: long enough that the batch's start and end are a small part. */
const SLOT_BOUND_TILES = 36;

/** Tiles per second of a batch whose downloads are slow, on `workers` workers of few slots. */
async function slotBoundRun(world: BenchWorld, workers: number): Promise<number> {
  const backend = await world.startBackend(
    `slots${workers}`,
    {
      jobDurations: { queuedMs: 0, runningMs: 0 },
      maxRunningJobsPerUser: 100_000,
      rasterSize: 8,
      faults: {
        routes: [
          { route: 'GET /jobs/{job_id}/results/assets/{asset_key}', fault: { type: 'latency', ms: SLOW_DOWNLOAD_MS } },
        ],
      },
    },
    { workers, activitySlots: SLOTS_PER_WORKER },
  );
  try {
    const spec = gridSpec({
      batchId: `bench-slots-${workers}`,
      backend: { name: backend.name, url: backend.emulator.url },
      parallelJobs: 100,
      tiles: SLOT_BOUND_TILES,
      tileSize: 1000,
      outputDir: backend.outputDir,
    });
    const run = await runBatch(backend, spec, 30 * 60_000);
    return SLOT_BOUND_TILES / (run.wallMs / 1000);
  } finally {
    await backend.close();
  }
}

async function slotBound(world: BenchWorld, report: Report): Promise<SlotBound> {
  const oneWorker = await slotBoundRun(world, 1);
  const manyWorkers = await slotBoundRun(world, WORKERS);
  const figures = { tiles: SLOT_BOUND_TILES, oneWorker, manyWorkers, scale: manyWorkers / oneWorker };
  report.figure(
    'workers.slotBound',
    `workers: ${SLOT_BOUND_TILES} tiles with ${SLOW_DOWNLOAD_MS / 1000} s downloads and ${SLOTS_PER_WORKER} activity slots per worker, tiles/s on 1 and ${WORKERS} workers`,
    figures,
  );
  return figures;
}

/** Instant tiles on {@link WORKERS} workers, then again with one of them killed. */
async function instantOnMany(
  world: BenchWorld,
  report: Report,
  tiles: number,
): Promise<Omit<WorkersFigures, 'slotBound'>> {
  const backend = await world.startBackend(
    `workers${tiles}`,
    { jobDurations: { queuedMs: 0, runningMs: 0 }, maxRunningJobsPerUser: 100_000, rasterSize: 8 },
    { workers: WORKERS },
  );
  try {
    const spec = (batchId: string) =>
      gridSpec({
        batchId,
        backend: { name: backend.name, url: backend.emulator.url },
        parallelJobs: 100,
        tiles,
        tileSize: 1000,
        outputDir: backend.outputDir,
      });
    report.note(
      `workers: ${tiles} instant tiles, parallelJobs 100, on ${WORKERS} worker processes; then again with one killed a third of the way`,
    );
    const all = await runBatch(backend, spec('bench-workers'), 60 * 60_000);
    const tilesPerSecond = tiles / (all.wallMs / 1000);
    report.figure(
      'workers.tilesPerSecond',
      `workers: ${tiles} tiles on ${WORKERS} workers, throughput`,
      tilesPerSecond,
      'tiles/s',
    );

    const batchId = 'bench-workers-killed';
    const jobsBefore = backend.emulator.admin.jobs().length;
    const killing = (async () => {
      while (backend.emulator.admin.jobs().length - jobsBefore < tiles / 3) await sleep(200);
      backend.workers[WORKERS - 1].kill();
    })();
    const run = await runBatch(backend, spec(batchId), 60 * 60_000);
    await killing;
    const jobs = backend.emulator.admin.jobs().length - jobsBefore;
    const killed = {
      tilesPerSecond: tiles / (run.wallMs / 1000),
      finished: run.summary.counts.finished,
      jobs,
      wallSeconds: run.wallMs / 1000,
    };
    report.figure(
      'workers.killed',
      `workers: the same with one of ${WORKERS} killed (SIGKILL) a third of the way`,
      killed,
    );
    return { tiles, workers: WORKERS, tilesPerSecond, killed };
  } finally {
    await backend.close();
  }
}

export async function manyWorkers(world: BenchWorld, report: Report, tiles: number): Promise<WorkersFigures> {
  const instant = await instantOnMany(world, report, tiles);
  return { ...instant, slotBound: await slotBound(world, report) };
}
