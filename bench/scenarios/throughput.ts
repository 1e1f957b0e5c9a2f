/**
 * Scenario 1: throughput with instant jobs. The emulator finishes every job as it is started,
 * so what is measured is the orchestration itself: Temporal, the workflows, the worker.
 */
import { measureHistories, type HistoryFigures } from '../histories';
import { finishedSoFar, runBatchFor } from '../batches';
import { MB, type Report } from '../report';
import { gridSpec } from '../specs';
import type { BenchBackend, BenchWorld, WorkerChild } from '../world';
import type { BatchSpecInput } from '../../src/core/batch-spec/schema';
import { allLegs, readLongRun, writeLongRun, type Leg, type LongRun } from '../long-run';
import { availableParallelism } from 'node:os';
import { cpuMeter } from '../cpu';

export interface ThroughputFigures {
  tiles: number;
  finished: number;
  wallSeconds: number;
  tilesPerSecond: number;
  /** CPU milliseconds per tile of the dev server, the worker process and the bench (emulator, client). */
  cpuMsPerTile: CpuPerTile;
  workerPeakRssMb: number;
  workerStartupPeakRssMb: number;
  /** Worker RSS (MiB) once a minute while the batch ran: flat means bounded. */
  workerRssMbPerMinute: number[];
  /** Stopped by `--stop-after-minutes` before its end: the figures are as far as it got. */
  stopped: boolean;
  /** Bench runs that carried the batch (`--state-dir`), each with a fresh worker; 1 otherwise. */
  legs: number;
  histories: HistoryFigures;
}

/** Samples the worker's RSS once a minute until stopped. */
function rssEveryMinute(worker: WorkerChild) {
  const samples: number[] = [];
  const timer = setInterval(() => {
    worker.memory().then(
      (m) => samples.push(Math.round(m.rss / MB)),
      () => undefined,
    );
  }, 60_000);
  return {
    stop: () => {
      clearInterval(timer);
      return samples;
    },
  };
}

const PARALLEL_JOBS = 100;

/** A type, not an interface, so it is a report figure as it is. */
type CpuPerTile = { server: number | null; worker: number | null; bench: number | null };

function perTile(cpu: Record<keyof CpuPerTile, number | undefined>, tiles: number): CpuPerTile {
  const ms = (seconds: number | undefined) => (seconds === undefined ? null : Math.round((seconds * 1000) / tiles));
  return { server: ms(cpu.server), worker: ms(cpu.worker), bench: ms(cpu.bench) };
}

/**
 * CPU per tile, and the throughput it allows: the machine's cores divided by the CPU one tile
 * costs over every process. Where that ceiling sits is what limits tiles per second.
 */
function reportCpu(
  report: Report,
  k: (name: string) => string,
  tiles: number,
  cpu: Record<keyof CpuPerTile, number | undefined>,
): void {
  const figures = perTile(cpu, tiles);
  report.figure(
    k('cpuMsPerTile'),
    `${tiles} tiles: CPU per tile, ms (dev server, worker, bench with the emulator)`,
    figures,
  );
  const total = (figures.server ?? 0) + (figures.worker ?? 0) + (figures.bench ?? 0);
  const cores = availableParallelism();
  if (total > 0)
    report.figure(
      k('cpuCeilingTilesPerSecond'),
      `${tiles} tiles: most tiles/s ${cores} cores allow at that CPU per tile`,
      (cores * 1000) / total,
      'tiles/s',
    );
}

/**
 * One bench process's run of the batch: started, or carried on when an earlier bench left it
 * running in the kept state directory; to its end or the time limit.
 */
async function runLeg(
  world: BenchWorld,
  backend: BenchBackend,
  spec: BatchSpecInput,
  limitMinutes: number,
  carryOn: boolean,
): Promise<Leg> {
  const finishedBefore = carryOn ? await finishedSoFar(backend, spec.batchId!) : 0;
  backend.worker.resetPeak();
  const [serverCpu, workerCpu, benchCpu] = await Promise.all([
    cpuMeter(world.server.pid),
    cpuMeter(backend.worker.pid),
    cpuMeter(process.pid),
  ]);
  const rss = rssEveryMinute(backend.worker);
  const run = await runBatchFor(backend, spec, limitMinutes * 60_000, { attach: carryOn, leaveRunning: world.kept });
  const workerRssMbPerMinute = rss.stop();
  const cpuSeconds = { server: await serverCpu.stop(), worker: await workerCpu.stop(), bench: await benchCpu.stop() };
  const memory = await backend.worker.memory();
  return {
    startedAt: new Date(run.startedAt).toISOString(),
    wallSeconds: run.wallMs / 1000,
    finishedBefore,
    finishedAfter: run.finished,
    workerRssMbPerMinute,
    workerPeakRssMb: memory.peakRss / MB,
    workerStartupPeakRssMb: backend.worker.startupPeakRss / MB,
    cpuSeconds,
    ended: !run.stopped,
  };
}

/** This leg, and with a kept state directory every earlier leg of the same batch. */
async function legsOf(
  world: BenchWorld,
  tiles: number,
  batchId: string,
  runThisLeg: (carryOn: boolean) => Promise<Leg>,
): Promise<LongRun> {
  if (!world.kept) return { version: 1, batchId, tiles, legs: [await runThisLeg(false)] };
  const record = await readLongRun(world.workDir, tiles, batchId);
  record.legs.push(await runThisLeg(record.legs.length > 0));
  await writeLongRun(world.workDir, record);
  return record;
}

export async function throughput(
  world: BenchWorld,
  tiles: number,
  report: Report,
  stopAfterMinutes?: number,
): Promise<ThroughputFigures> {
  const backend = await world.startBackend(`instant${tiles}`, {
    jobDurations: { queuedMs: 0, runningMs: 0 },
    maxRunningJobsPerUser: 100_000,
    // Tiny rasters: the emulator shares the benchmark's process and memory.
    rasterSize: 8,
  });
  try {
    const spec = gridSpec({
      batchId: `bench-throughput-${tiles}`,
      backend: { name: backend.name, url: backend.emulator.url },
      parallelJobs: PARALLEL_JOBS,
      tiles,
      tileSize: 1000,
      outputDir: backend.outputDir,
    });
    // 10,000 tiles take minutes; past the time given (or hours) the batch is measured as far as it got.
    const limitMinutes = stopAfterMinutes ?? 24 * 60;
    const record = await legsOf(world, tiles, spec.batchId!, (carryOn) =>
      runLeg(world, backend, spec, limitMinutes, carryOn),
    );
    const whole = allLegs(record);
    const key = `throughput${tiles}`;
    const k = (name: string) => `${key}.${name}`;
    const done = whole.finished;
    const stopped = whole.ended
      ? ''
      : world.kept
        ? ` (leg ${whole.legs} left running after ${limitMinutes} min)`
        : ` (stopped after ${limitMinutes} min)`;
    if (whole.legs > 1)
      report.note(
        `${tiles} tiles: ${whole.legs} legs, a fresh worker each (${record.legs.map((leg) => `${leg.finishedBefore}→${leg.finishedAfter} in ${(leg.wallSeconds / 60).toFixed(0)} min`).join(', ')}); figures add up every leg`,
      );
    report.figure(k('tiles'), `${tiles} tiles: tiles finished${stopped}`, done);
    report.figure(k('wallSeconds'), `${tiles} tiles: wall time${stopped}`, whole.wallSeconds, 's');
    report.figure(k('tilesPerSecond'), `${tiles} tiles: throughput`, done / whole.wallSeconds, 'tiles/s');
    if (!whole.ended && done > 0)
      report.figure(
        k('projectedHours'),
        `${tiles} tiles: the whole batch at that rate`,
        (tiles * whole.wallSeconds) / done / 3600,
        'h',
      );
    report.figure(
      k('workerRssMbPerMinute'),
      `${tiles} tiles: worker RSS once a minute, MiB`,
      whole.workerRssMbPerMinute,
    );
    reportCpu(report, k, Math.max(1, done), whole.cpuSeconds);
    report.figure(
      k('workerPeakRssMb'),
      `${tiles} tiles: worker peak RSS while running (child process)`,
      whole.workerPeakRssMb,
      'MiB',
    );
    report.figure(
      k('workerStartupPeakRssMb'),
      `${tiles} tiles: worker peak RSS at start-up (bundling workflows)`,
      whole.workerStartupPeakRssMb,
      'MiB',
    );
    const histories = await measureHistories(world.temporal, spec.batchId!, done);
    report.figure(k('batchRuns'), `${tiles} tiles: batch workflow runs (continue-as-new)`, histories.batchRuns);
    report.figure(k('batchEventsPerRun'), `${tiles} tiles: events per batch run`, histories.batchEventsPerRun);
    if (histories.partitionRuns > 0) {
      report.figure(k('partitionRuns'), `${tiles} tiles: partition workflow runs (max events)`, [
        histories.partitionRuns,
        histories.partitionEventsMax,
      ]);
    }
    report.figure(
      k('tileEventsMax'),
      `${tiles} tiles: events per tile workflow, max over all ${histories.tiles}`,
      histories.tileEventsMax,
    );
    report.figure(
      k('tileEventsMean'),
      `${tiles} tiles: events per tile workflow, mean over all`,
      histories.tileEventsMean,
    );
    report.figure(
      k('sampleEvents'),
      `${tiles} tiles: events per tile, fetched sample of ${histories.sampleSize} (mean/max)`,
      [histories.sampleEventsMean, histories.sampleEventsMax],
    );
    report.figure(
      k('tileSteps'),
      `${tiles} tiles: a sampled tile's steps, per tile and mean ms waiting for a worker / working`,
      histories.sampleSteps,
    );
    report.figure(
      k('longestRunEvents'),
      `${tiles} tiles: longest history of any workflow run (${histories.longestRun})`,
      histories.longestRunEvents,
      'events',
    );
    return {
      tiles,
      finished: done,
      wallSeconds: whole.wallSeconds,
      tilesPerSecond: done / whole.wallSeconds,
      cpuMsPerTile: perTile(whole.cpuSeconds, Math.max(1, done)),
      workerPeakRssMb: whole.workerPeakRssMb,
      workerStartupPeakRssMb: whole.workerStartupPeakRssMb,
      workerRssMbPerMinute: whole.workerRssMbPerMinute,
      stopped: !whole.ended,
      legs: whole.legs,
      histories,
    };
  } finally {
    await backend.close();
  }
}
