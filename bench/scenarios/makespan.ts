/**
 * Scenario 2: makespan efficiency. 64 tiles, 4 at a time, every job running exactly D = 5 s:
 * a perfect scheduler needs ceil(64/4) × D = 80 s. What is lost on top of that is the time each
 * slot sits idle between two jobs: noticing the end (polling), downloading, handing the slot on.
 */
import { runBatch } from '../batches';
import { measureHistories } from '../histories';
import { jobLags } from '../lags';
import type { Report } from '../report';
import { gridSpec } from '../specs';
import type { BenchWorld } from '../world';

export interface MakespanFigures {
  makespanSeconds: number;
  idealSeconds: number;
  ratio: number;
  finished: number;
  /** Events per tile workflow, max over all 64 (fetched). */
  tileEventsMax: number;
}

const TILES = 64;
const PARALLEL_JOBS = 4;
const RUNNING_MS = 5000;
const POLLING = { initialIntervalSeconds: 0.5, maxIntervalSeconds: 5 };

export async function makespan(world: BenchWorld, report: Report): Promise<MakespanFigures> {
  const backend = await world.startBackend(
    'makespan',
    { jobDurations: { queuedMs: 0, runningMs: RUNNING_MS }, maxRunningJobsPerUser: PARALLEL_JOBS },
    { logRequests: true },
  );
  try {
    const spec = gridSpec({
      batchId: 'bench-makespan',
      backend: { name: backend.name, url: backend.emulator.url },
      parallelJobs: PARALLEL_JOBS,
      tiles: TILES,
      tileSize: 5000,
      outputDir: backend.outputDir,
      polling: POLLING,
    });
    report.note(
      `makespan: ${TILES} tiles, parallelJobs ${PARALLEL_JOBS}, jobs run ${RUNNING_MS / 1000} s (queued 0 s, emulator limit ${PARALLEL_JOBS} running), polling initial ${POLLING.initialIntervalSeconds} s, max ${POLLING.maxIntervalSeconds} s`,
    );
    const run = await runBatch(backend, spec, 15 * 60_000);
    const idealSeconds = Math.ceil(TILES / PARALLEL_JOBS) * (RUNNING_MS / 1000);
    const makespanSeconds = run.wallMs / 1000;
    const lags = jobLags(backend).flatMap((l) => (l.resultsLagMs === undefined ? [] : [l.resultsLagMs]));
    const slotIdle = (PARALLEL_JOBS * makespanSeconds) / TILES - RUNNING_MS / 1000;
    report.figure('makespan.finished', 'makespan: tiles finished', run.summary.counts.finished);
    report.figure('makespan.seconds', 'makespan: wall time (start request → batch result)', makespanSeconds, 's');
    report.figure('makespan.idealSeconds', 'makespan: ideal ceil(64/4) × 5 s', idealSeconds, 's');
    report.figure('makespan.ratio', 'makespan: ratio to ideal', makespanSeconds / idealSeconds);
    report.figure('makespan.slotIdlePerTileSeconds', 'makespan: idle slot time per tile (4 × makespan / 64 − 5 s)', slotIdle, 's');
    if (lags.length > 0) {
      report.figure('makespan.endToResultsMeanSeconds', 'makespan: job finished → results requested, mean', lags.reduce((a, b) => a + b, 0) / lags.length / 1000, 's');
      report.figure('makespan.endToResultsMaxSeconds', 'makespan: job finished → results requested, max', Math.max(...lags) / 1000, 's');
    }
    const histories = await measureHistories(world.temporal, spec.batchId!, TILES, TILES);
    report.figure('makespan.tileEvents', 'makespan: events per tile workflow (mean/max over all 64)', [histories.sampleEventsMean, histories.sampleEventsMax]);
    return {
      makespanSeconds,
      idealSeconds,
      ratio: makespanSeconds / idealSeconds,
      finished: run.summary.counts.finished,
      tileEventsMax: histories.sampleEventsMax,
    };
  } finally {
    await backend.close();
  }
}
