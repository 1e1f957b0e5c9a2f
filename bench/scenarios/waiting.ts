/**
 * Worker slots held by waiting jobs: 500 tiles whose jobs all run for an hour, so every tile
 * waits on its job at once. Once every job is running and every tile waits, the worker is asked
 * how many activity slots it holds: a wait hands its job to the worker's job tracker and frees
 * its slot, so the answer should be 0. The batch is cancelled afterwards (each tile cancels its job).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Report } from '../report';
import { gridSpec } from '../specs';
import type { BenchWorld } from '../world';

export interface WaitingFigures {
  tiles: number;
  jobsRunning: number;
  /** Tiles whose wait activity is started (from their pending activities). */
  tilesWaiting: number;
  slotsInUse: number;
  workerRssMb: number;
}

const RUNNING_MS = 3_600_000;

/** Tiles of the batch whose wait for a job status change is running now. */
async function waitingTiles(world: BenchWorld, workflowIds: string[]): Promise<number> {
  let waiting = 0;
  for (const id of workflowIds) {
    const described = await world.temporal.workflow.getHandle(id).describe();
    const pending = described.raw.pendingActivities ?? [];
    if (pending.some((a) => a.activityType?.name === 'waitForJobStatusChange' && a.lastStartedTime)) waiting += 1;
  }
  return waiting;
}

export async function waitingSlots(world: BenchWorld, report: Report, tiles: number): Promise<WaitingFigures> {
  const backend = await world.startBackend(`waiting${tiles}`, {
    jobDurations: { queuedMs: 0, runningMs: RUNNING_MS },
    maxRunningJobsPerUser: tiles,
    rasterSize: 8,
  });
  try {
    const spec = gridSpec({
      batchId: `bench-waiting-${tiles}`,
      backend: { name: backend.name, url: backend.emulator.url },
      parallelJobs: tiles,
      tiles,
      tileSize: 1000,
      outputDir: backend.outputDir,
    });
    report.note(`waiting: ${tiles} tiles, parallelJobs ${tiles}, every job runs an hour; slots counted once all wait`);
    const { handle } = await backend.client.start(spec);
    const deadline = Date.now() + 15 * 60_000;
    let running = 0;
    let waiting = 0;
    let ids: string[] = [];
    while (Date.now() < deadline) {
      running = backend.emulator.admin.jobs().filter((j) => j.status === 'running').length;
      if (running === tiles) {
        if (ids.length < tiles) ids = (await backend.client.tiles(spec.batchId!)).map((t) => t.workflowId);
        waiting = await waitingTiles(world, ids);
        if (waiting === tiles) break;
      }
      await sleep(2_000);
    }
    const slots = await backend.worker.slotsInUse();
    const { rss } = await backend.worker.memory();
    report.figure('waiting.jobsRunning', `waiting: jobs running on the emulator`, running);
    report.figure('waiting.tilesWaiting', `waiting: tiles whose wait activity is started`, waiting);
    report.figure('waiting.slotsInUse', `waiting: activity slots the worker holds meanwhile`, slots);
    report.figure('waiting.workerRssMb', `waiting: worker RSS meanwhile`, rss / 1024 / 1024, 'MiB');
    await handle.cancel();
    await handle.result().catch(() => undefined);
    return { tiles, jobsRunning: running, tilesWaiting: waiting, slotsInUse: slots, workerRssMb: rss / 1024 / 1024 };
  } finally {
    await backend.close();
  }
}
