/**
 * Scenario 1: throughput with instant jobs. The emulator finishes every job as it is started,
 * so what is measured is the orchestration itself: Temporal, the workflows, the worker.
 */
import { measureHistories, type HistoryFigures } from '../histories';
import { runBatch } from '../batches';
import { MB, type Report } from '../report';
import { gridSpec } from '../specs';
import type { BenchWorld } from '../world';

export interface ThroughputFigures {
  tiles: number;
  finished: number;
  wallSeconds: number;
  tilesPerSecond: number;
  workerPeakRssMb: number;
  workerStartupPeakRssMb: number;
  histories: HistoryFigures;
}

const PARALLEL_JOBS = 100;

export async function throughput(world: BenchWorld, tiles: number, report: Report): Promise<ThroughputFigures> {
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
    // 10,000 tiles take minutes; an hour means something is broken.
    const run = await runBatch(backend, spec, 60 * 60_000);
    const memory = await backend.worker.memory();
    const key = `throughput${tiles}`;
    const wallSeconds = run.wallMs / 1000;
    const k = (name: string) => `${key}.${name}`;
    report.figure(k('tiles'), `${tiles} tiles: tiles finished`, run.summary.counts.finished);
    report.figure(k('wallSeconds'), `${tiles} tiles: wall time`, wallSeconds, 's');
    report.figure(k('tilesPerSecond'), `${tiles} tiles: throughput`, tiles / wallSeconds, 'tiles/s');
    report.figure(k('workerPeakRssMb'), `${tiles} tiles: worker peak RSS while running (child process)`, memory.peakRss / MB, 'MiB');
    report.figure(k('workerStartupPeakRssMb'), `${tiles} tiles: worker peak RSS at start-up (bundling workflows)`, backend.worker.startupPeakRss / MB, 'MiB');
    const histories = await measureHistories(world.temporal, spec.batchId!, tiles);
    report.figure(k('batchRuns'), `${tiles} tiles: batch workflow runs (continue-as-new)`, histories.batchRuns);
    report.figure(k('batchEventsPerRun'), `${tiles} tiles: events per batch run`, histories.batchEventsPerRun);
    if (histories.partitionRuns > 0) {
      report.figure(k('partitionRuns'), `${tiles} tiles: partition workflow runs (max events)`, [histories.partitionRuns, histories.partitionEventsMax]);
    }
    report.figure(k('tileEventsMax'), `${tiles} tiles: events per tile workflow, max over all ${histories.tiles}`, histories.tileEventsMax);
    report.figure(k('tileEventsMean'), `${tiles} tiles: events per tile workflow, mean over all`, histories.tileEventsMean);
    report.figure(k('sampleEvents'), `${tiles} tiles: events per tile, fetched sample of ${histories.sampleSize} (mean/max)`, [histories.sampleEventsMean, histories.sampleEventsMax]);
    report.figure(k('longestRunEvents'), `${tiles} tiles: longest history of any workflow run (${histories.longestRun})`, histories.longestRunEvents, 'events');
    return {
      tiles,
      finished: run.summary.counts.finished,
      wallSeconds,
      tilesPerSecond: tiles / wallSeconds,
      workerPeakRssMb: memory.peakRss / MB,
      workerStartupPeakRssMb: backend.worker.startupPeakRss / MB,
      histories,
    };
  } finally {
    await backend.close();
  }
}
