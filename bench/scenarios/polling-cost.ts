/**
 * Scenario 3: what one long job costs in requests. One tile whose job runs 10 minutes on the
 * emulator, with the spec's default polling (initial 1 s, max 60 s: what users get). Counts
 * every openEO request of the batch and how soon after the job ended its results were fetched.
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { TileRecord } from '../../src/core/records';
import { runBatch } from '../batches';
import { ASSET_ROUTE, jobLags, STATUS_ROUTE } from '../lags';
import type { Report } from '../report';
import { gridSpec } from '../specs';
import type { BenchWorld } from '../world';

export interface PollingCostFigures {
  requestsTotal: number;
  /** Requests on `/jobs/…` routes and asset downloads: what the tile itself sends. */
  requestsForTheJob: number;
  byRoute: Record<string, number>;
  statusPolls: number;
  /** Job finished → last asset request, seconds. */
  resultsLagSeconds: number | undefined;
  /** Job finished → `job.json` written (the last file of the download), seconds. */
  jobJsonLagSeconds: number | undefined;
  tileEvents: number;
}

export const LONG_RUNNING_MS = 600_000;

export async function pollingCost(
  world: BenchWorld,
  report: Report,
  runningMs = LONG_RUNNING_MS,
): Promise<PollingCostFigures> {
  const backend = await world.startBackend(
    'longjob',
    { jobDurations: { queuedMs: 0, runningMs } },
    { logRequests: true },
  );
  try {
    const spec = gridSpec({
      batchId: 'bench-polling',
      backend: { name: backend.name, url: backend.emulator.url },
      parallelJobs: 1,
      tiles: 1,
      tileSize: 5000,
      outputDir: backend.outputDir,
    });
    report.note(
      `polling: 1 tile, job runs ${runningMs / 1000} s (queued 0 s), the spec's default polling (initial 1 s, max 60 s)`,
    );
    backend.emulator.admin.resetStats();
    backend.requests.length = 0;
    await runBatch(backend, spec, runningMs + 10 * 60_000);

    const stats = backend.emulator.admin.stats();
    const byRoute = Object.fromEntries(
      Object.entries(stats.requests.byRoute).map(([route, perStatus]) => [
        route,
        Object.values(perStatus).reduce((a, b) => a + b, 0),
      ]),
    );
    const forTheJob = Object.entries(byRoute)
      .filter(([route]) => route.includes('/jobs'))
      .reduce((sum, [, n]) => sum + n, 0);
    const [job] = backend.emulator.admin.jobs();
    const lag = jobLags(backend).find((l) => l.jobId === job?.id);
    const started = backend.requests.find((r) => r.jobId === job?.id && r.route.startsWith('POST'))?.at ?? 0;
    const polls = backend.requests
      .filter((r) => r.jobId === job?.id && r.route === STATUS_ROUTE)
      .map((r) => (r.at - started) / 1000);

    const [tile] = await backend.client.tiles(spec.batchId!);
    const record: TileRecord = await world.temporal.workflow.getHandle(tile.workflowId).result();
    const tileEvents = (await world.temporal.workflow.getHandle(tile.workflowId).fetchHistory()).events?.length ?? 0;
    const jobJson = await stat(join(backend.outputDir, spec.batchId!, tile.tileId, 'job.json')).catch(() => undefined);
    const jobJsonLag = jobJson && lag ? (jobJson.mtimeMs - lag.finishedAt) / 1000 : undefined;
    const recordLag = record.finishedAt && lag ? (Date.parse(record.finishedAt) - lag.finishedAt) / 1000 : undefined;
    const assetLag = lag?.assetLagMs === undefined ? undefined : lag.assetLagMs / 1000;

    report.figure(
      'polling.requestsTotal',
      'polling: openEO requests in total (incl. connecting and validating)',
      stats.requests.total,
    );
    report.figure('polling.requestsForTheJob', 'polling: openEO requests on /jobs routes (the tile itself)', forTheJob);
    report.figure('polling.byRoute', 'polling: requests by route', byRoute);
    report.figure(
      'polling.statusPolls',
      'polling: status requests (GET /jobs/{id}) incl. start and download',
      polls.length,
    );
    report.figure(
      'polling.pollTimes',
      'polling: status requests, seconds after start',
      polls.map((s) => Math.round(s * 10) / 10),
    );
    report.figure('polling.resultsLagSeconds', 'polling: job finished → result asset requested', assetLag ?? null, 's');
    report.figure('polling.jobJsonLagSeconds', 'polling: job finished → job.json written', jobJsonLag ?? null, 's');
    report.figure(
      'polling.tileRecordLagSeconds',
      'polling: job finished → tile record finishedAt',
      recordLag ?? null,
      's',
    );
    report.figure('polling.tileEvents', 'polling: events in the tile workflow history', tileEvents);
    if (!byRoute[ASSET_ROUTE]) report.note('polling: no asset was downloaded');
    return {
      requestsTotal: stats.requests.total,
      requestsForTheJob: forTheJob,
      byRoute,
      statusPolls: polls.length,
      resultsLagSeconds: assetLag,
      jobJsonLagSeconds: jobJsonLag,
      tileEvents,
    };
  } finally {
    await backend.close();
  }
}
