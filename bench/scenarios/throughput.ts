/**
 * Scenario 1: throughput with instant jobs. The emulator finishes every job as it is started,
 * so what is measured is the orchestration itself: Temporal, the workflows, the worker.
 */
import { measureHistories, type HistoryFigures } from '../histories';
import { runBatchFor } from '../batches';
import { MB, type Report } from '../report';
import { gridSpec } from '../specs';
import type { BenchWorld, WorkerChild } from '../world';
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
function reportCpu(report: Report, k: (name: string) => string, tiles: number, cpu: Record<keyof CpuPerTile, number | undefined>): void {
  const figures = perTile(cpu, tiles);
  report.figure(k('cpuMsPerTile'), `${tiles} tiles: CPU per tile, ms (dev server, worker, bench with the emulator)`, figures);
  const total = (figures.server ?? 0) + (figures.worker ?? 0) + (figures.bench ?? 0);
  const cores = availableParallelism();
  if (total > 0) report.figure(k('cpuCeilingTilesPerSecond'), `${tiles} tiles: most tiles/s ${cores} cores allow at that CPU per tile`, (cores * 1000) / total, 'tiles/s');
}

export async function throughput(world: BenchWorld, tiles: number, report: Report, stopAfterMinutes?: number): Promise<ThroughputFigures> {
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
    backend.worker.resetPeak();
    const [serverCpu, workerCpu, benchCpu] = await Promise.all([cpuMeter(world.server.pid), cpuMeter(backend.worker.pid), cpuMeter(process.pid)]);
    const rss = rssEveryMinute(backend.worker);
    // 10,000 tiles take minutes; past the time given (or hours) the batch is measured as far as it got.
    const limitMinutes = stopAfterMinutes ?? 24 * 60;
    const run = await runBatchFor(backend, spec, limitMinutes * 60_000);
    const workerRssMbPerMinute = rss.stop();
    const cpu = { server: await serverCpu.stop(), worker: await workerCpu.stop(), bench: await benchCpu.stop() };
    const memory = await backend.worker.memory();
    const key = `throughput${tiles}`;
    const wallSeconds = run.wallMs / 1000;
    const k = (name: string) => `${key}.${name}`;
    const done = run.finished;
    const stopped = run.stopped ? ` (stopped after ${limitMinutes} min)` : '';
    report.figure(k('tiles'), `${tiles} tiles: tiles finished${stopped}`, done);
    report.figure(k('wallSeconds'), `${tiles} tiles: wall time${stopped}`, wallSeconds, 's');
    report.figure(k('tilesPerSecond'), `${tiles} tiles: throughput`, done / wallSeconds, 'tiles/s');
    if (run.stopped && done > 0) report.figure(k('projectedHours'), `${tiles} tiles: the whole batch at that rate`, (tiles * wallSeconds) / done / 3600, 'h');
    report.figure(k('workerRssMbPerMinute'), `${tiles} tiles: worker RSS once a minute, MiB`, workerRssMbPerMinute);
    reportCpu(report, k, Math.max(1, done), cpu);
    report.figure(k('workerPeakRssMb'), `${tiles} tiles: worker peak RSS while running (child process)`, memory.peakRss / MB, 'MiB');
    report.figure(k('workerStartupPeakRssMb'), `${tiles} tiles: worker peak RSS at start-up (bundling workflows)`, backend.worker.startupPeakRss / MB, 'MiB');
    const histories = await measureHistories(world.temporal, spec.batchId!, done);
    report.figure(k('batchRuns'), `${tiles} tiles: batch workflow runs (continue-as-new)`, histories.batchRuns);
    report.figure(k('batchEventsPerRun'), `${tiles} tiles: events per batch run`, histories.batchEventsPerRun);
    if (histories.partitionRuns > 0) {
      report.figure(k('partitionRuns'), `${tiles} tiles: partition workflow runs (max events)`, [histories.partitionRuns, histories.partitionEventsMax]);
    }
    report.figure(k('tileEventsMax'), `${tiles} tiles: events per tile workflow, max over all ${histories.tiles}`, histories.tileEventsMax);
    report.figure(k('tileEventsMean'), `${tiles} tiles: events per tile workflow, mean over all`, histories.tileEventsMean);
    report.figure(k('sampleEvents'), `${tiles} tiles: events per tile, fetched sample of ${histories.sampleSize} (mean/max)`, [histories.sampleEventsMean, histories.sampleEventsMax]);
    report.figure(k('tileSteps'), `${tiles} tiles: a sampled tile's steps, per tile and mean ms waiting for a worker / working`, histories.sampleSteps);
    report.figure(k('longestRunEvents'), `${tiles} tiles: longest history of any workflow run (${histories.longestRun})`, histories.longestRunEvents, 'events');
    return {
      tiles,
      finished: done,
      wallSeconds,
      tilesPerSecond: done / wallSeconds,
      cpuMsPerTile: perTile(cpu, Math.max(1, done)),
      workerPeakRssMb: memory.peakRss / MB,
      workerStartupPeakRssMb: backend.worker.startupPeakRss / MB,
      workerRssMbPerMinute,
      stopped: run.stopped,
      histories,
    };
  } finally {
    await backend.close();
  }
}
