/**
 * Makespan efficiency: N tiles, P at a time, every job running exactly D s on the emulator, whose
 * own limit is P running jobs: a perfect scheduler needs ceil(N/P) × D. What is lost on top of
 * that is the time each slot sits idle between two jobs: noticing the end, handing the slot on,
 * creating and starting the next job. The same run counts the openEO requests per tile and how
 * soon after each job finished its results were on disk.
 *
 * Each run is the first batch of the scenario's fresh worker, at the spec's default settings, as
 * a user starting a worker and a batch would see it: the worker's first workflow tasks and its
 * first login to the backend count.
 */
import type { TileRecord } from '../../src/core/records';
import { runBatch } from '../batches';
import { measureHistories } from '../histories';
import type { Report } from '../report';
import { gridSpec } from '../specs';
import type { BenchWorld } from '../world';

export interface MakespanSettings {
  /** Figure keys start with this, e.g. `makespan64`. */
  key: string;
  tiles: number;
  parallelJobs: number;
  runningMs: number;
}

export interface MakespanFigures {
  key: string;
  tiles: number;
  parallelJobs: number;
  runningSeconds: number;
  makespanSeconds: number;
  idealSeconds: number;
  ratio: number;
  finished: number;
  slotIdlePerTileSeconds: number;
  /** Batch start request → the first job running (on a fresh worker); the last job finished → the batch's result. */
  startupSeconds: number;
  tailSeconds: number;
  /** Idle slot time per tile between the first job's start and the last job's end: the hand-over. */
  handoverPerTileSeconds: number;
  /** openEO requests on job routes (create, start, status, listings, results, assets) per tile. */
  requestsPerTile: number;
  /** Job finished on the backend → the tile's record finished (results on disk), seconds. */
  resultsLagP95Seconds: number | undefined;
  /** Events per tile workflow, max over all tiles (fetched). */
  tileEventsMax: number;
}

/** The `q`-quantile of `xs` (nearest rank). */
export function quantile(xs: number[], q: number): number | undefined {
  if (xs.length === 0) return undefined;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
}

/** Requests per route on the emulator's job routes. */
function jobRequests(byRoute: Record<string, Record<string, number>>): Record<string, number> {
  return Object.fromEntries(
    Object.entries(byRoute)
      .filter(([route]) => route.includes('/jobs'))
      .map(([route, perStatus]) => [route, Object.values(perStatus).reduce((a, b) => a + b, 0)]),
  );
}

export async function makespan(world: BenchWorld, report: Report, s: MakespanSettings): Promise<MakespanFigures> {
  const backend = await world.startBackend(s.key, {
    jobDurations: { queuedMs: 0, runningMs: s.runningMs },
    maxRunningJobsPerUser: s.parallelJobs,
  });
  try {
    const grid = {
      batchId: `bench-${s.key}`,
      backend: { name: backend.name, url: backend.emulator.url },
      parallelJobs: s.parallelJobs,
      tiles: s.tiles,
      tileSize: 5000,
      outputDir: backend.outputDir,
    };
    const spec = gridSpec(grid);
    report.note(
      `${s.key}: ${s.tiles} tiles, parallelJobs ${s.parallelJobs}, jobs run ${s.runningMs / 1000} s (queued 0 s, emulator limit ${s.parallelJobs} running), default settings, the scenario's fresh worker`,
    );
    backend.emulator.admin.resetStats();
    const runningSeconds = s.runningMs / 1000;
    const idealSeconds = Math.ceil(s.tiles / s.parallelJobs) * runningSeconds;
    const run = await runBatch(backend, spec, (2 * idealSeconds + 600) * 1000);
    const makespanSeconds = run.wallMs / 1000;
    const slotIdle = (s.parallelJobs * makespanSeconds) / s.tiles - runningSeconds;
    const byRoute = jobRequests(backend.emulator.admin.stats().requests.byRoute);
    const requests = Object.values(byRoute).reduce((a, b) => a + b, 0);
    const phases = jobPhases(backend.emulator.admin.jobs(), s, run.startedAt, run.startedAt + run.wallMs);
    const { lags, noticed } = await resultsLags(
      world,
      backend.emulator.admin.jobs(),
      await backend.client.tiles(spec.batchId!),
    );
    const histories = await measureHistories(world.temporal, spec.batchId!, s.tiles, s.tiles);
    const k = (name: string) => `${s.key}.${name}`;
    const label = `${s.key}`;
    report.figure(k('finished'), `${label}: tiles finished`, run.summary.counts.finished);
    report.figure(k('seconds'), `${label}: wall time (start request → batch result)`, makespanSeconds, 's');
    report.figure(
      k('idealSeconds'),
      `${label}: ideal ceil(${s.tiles}/${s.parallelJobs}) × ${runningSeconds} s`,
      idealSeconds,
      's',
    );
    report.figure(k('ratio'), `${label}: ratio to ideal`, makespanSeconds / idealSeconds);
    report.figure(
      k('slotIdlePerTileSeconds'),
      `${label}: idle slot time per tile (${s.parallelJobs} × makespan / ${s.tiles} − ${runningSeconds} s)`,
      slotIdle,
      's',
    );
    report.figure(
      k('startupSeconds'),
      `${label}: start request → first job running (the worker's first batch)`,
      phases.startupSeconds,
      's',
    );
    report.figure(k('tailSeconds'), `${label}: last job finished → batch result`, phases.tailSeconds, 's');
    report.figure(
      k('handoverPerTileSeconds'),
      `${label}: idle slot time per tile between first start and last end (hand-over)`,
      phases.handoverPerTileSeconds,
      's',
    );
    const noticedMean = noticed.length ? noticed.reduce((a, b) => a + b, 0) / noticed.length : null;
    report.figure(
      k('endNoticedMeanSeconds'),
      `${label}: job finished → its wait completed (the end noticed), mean over ${noticed.length} jobs`,
      noticedMean,
      's',
    );
    report.figure(k('requestsPerTile'), `${label}: openEO requests on job routes per tile`, requests / s.tiles);
    report.figure(k('requestsByRoute'), `${label}: openEO requests on job routes`, byRoute);
    const p95 = quantile(lags, 0.95);
    report.figure(
      k('resultsLagP95Seconds'),
      `${label}: job finished → results on disk (tile record finished), p95 over ${lags.length} jobs`,
      p95 ?? null,
      's',
    );
    report.figure(
      k('resultsLagMaxSeconds'),
      `${label}: job finished → results on disk, max`,
      lags.length ? Math.max(...lags) : null,
      's',
    );
    report.figure(k('tileEvents'), `${label}: events per tile workflow (mean/max over all ${s.tiles})`, [
      histories.sampleEventsMean,
      histories.sampleEventsMax,
    ]);
    report.figure(k('tileEventTypes'), `${label}: events per tile by type (mean)`, histories.sampleEventTypes);
    report.figure(
      k('tileSteps'),
      `${label}: a sampled tile's steps, per tile and mean ms waiting for a worker / working`,
      histories.sampleSteps,
    );
    return {
      key: s.key,
      tiles: s.tiles,
      parallelJobs: s.parallelJobs,
      runningSeconds,
      makespanSeconds,
      idealSeconds,
      ratio: makespanSeconds / idealSeconds,
      finished: run.summary.counts.finished,
      slotIdlePerTileSeconds: slotIdle,
      ...phases,
      requestsPerTile: requests / s.tiles,
      resultsLagP95Seconds: p95,
      tileEventsMax: histories.sampleEventsMax,
    };
  } finally {
    await backend.close();
  }
}

/**
 * Where the time outside the jobs went. The emulator runs every job exactly `runningMs`, so a
 * finished job ran from `updated − runningMs` to `updated`.
 */
function jobPhases(
  jobs: { status: string; updated: string }[],
  s: MakespanSettings,
  startedAt: number,
  endedAt: number,
) {
  const ends = jobs.filter((j) => j.status === 'finished').map((j) => Date.parse(j.updated));
  if (ends.length === 0) return { startupSeconds: 0, tailSeconds: 0, handoverPerTileSeconds: 0 };
  const firstStart = Math.min(...ends) - s.runningMs;
  const lastEnd = Math.max(...ends);
  const busy = ends.length * s.runningMs;
  return {
    startupSeconds: (firstStart - startedAt) / 1000,
    tailSeconds: (endedAt - lastEnd) / 1000,
    handoverPerTileSeconds: (s.parallelJobs * (lastEnd - firstStart) - busy) / ends.length / 1000,
  };
}

/** When the wait that saw a tile's job end completed: the last completed wait in its history. */
async function endNoticedAt(world: BenchWorld, workflowId: string): Promise<number | undefined> {
  const events = (await world.temporal.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
  const waits = new Set(
    events
      .filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'waitForJobStatusChange')
      .map((e) => Number(e.eventId)),
  );
  const done = events.filter((e) => waits.has(Number(e.activityTaskCompletedEventAttributes?.scheduledEventId ?? -1)));
  const time = done[done.length - 1]?.eventTime;
  return time ? Number(time.seconds ?? 0) * 1000 + Math.round((time.nanos ?? 0) / 1e6) : undefined;
}

/**
 * Per finished job, seconds from its end on the emulator to its tile's record saying finished
 * (results on disk), and to its wait completing in the tile's history (the end noticed).
 */
async function resultsLags(
  world: BenchWorld,
  jobs: { id: string; status: string; updated: string }[],
  tiles: { workflowId: string }[],
) {
  const endOf = new Map(jobs.filter((j) => j.status === 'finished').map((j) => [j.id, Date.parse(j.updated)]));
  const lags: number[] = [];
  const noticed: number[] = [];
  for (const tile of tiles) {
    const record: TileRecord = await world.temporal.workflow.getHandle(tile.workflowId).result();
    const end = record.openeoJobId ? endOf.get(record.openeoJobId) : undefined;
    if (end === undefined) continue;
    if (record.finishedAt) lags.push((Date.parse(record.finishedAt) - end) / 1000);
    const seen = await endNoticedAt(world, tile.workflowId);
    if (seen !== undefined) noticed.push((seen - end) / 1000);
  }
  return { lags, noticed };
}
