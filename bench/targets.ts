/** The issue's targets, judged from the scenarios' figures. */
import type { ChaosResult } from '../harness/chaos-run';
import type { Report } from './report';
import type { ExportedBatch } from './scenarios/export';
import type { DashboardFigures } from './scenarios/dashboard';
import type { MakespanFigures } from './scenarios/makespan';
import { LONG_RUNNING_MS, type PollingCostFigures } from './scenarios/polling-cost';
import type { ThroughputFigures } from './scenarios/throughput';

export interface Results {
  chaos?: ChaosResult & { maxAttempts: number };
  throughput: ThroughputFigures[];
  makespan?: MakespanFigures;
  polling?: PollingCostFigures & { runningMs: number };
  exports?: ExportedBatch[];
  dashboard?: DashboardFigures;
}

const HISTORY_LIMIT = 10_240;
const MAX_REQUESTS = 30;
const MAX_RESULTS_LAG_S = 15;
const MAX_MAKESPAN_RATIO = 1.1;
const MAX_MAP_FIRST_PAINT_S = 10;
const MAX_MAP_HEAP_MB = 150;
/** What one extra status (one wait activity) adds to a tile: 3 activity and 3 workflow-task events. */
const EVENTS_PER_WAIT = 6;
const MAX_EXPORT_SECONDS = 30;
const EXPORT_TARGET = `a 10,000-tile batch exports in each format (CSV, GeoJSON, GeoParquet) within ${MAX_EXPORT_SECONDS} s`;

export function judge(results: Results, report: Report): void {
  const big = results.throughput.find((t) => t.tiles === 10_000);
  const largest = [...results.throughput].sort((a, b) => b.tiles - a.tiles)[0];
  if (big) {
    report.target(
      '10,000 tiles finish, no workflow run over 10,240 events',
      big.finished === 10_000 && big.histories.longestRunEvents <= HISTORY_LIMIT,
      `${big.finished} finished; longest run ${big.histories.longestRunEvents} events (${big.histories.longestRun})`,
    );
  } else {
    report.target(
      '10,000 tiles finish, no workflow run over 10,240 events',
      undefined,
      largest ? `not run; largest batch ${largest.tiles} tiles, longest run ${largest.histories.longestRunEvents} events` : 'not run',
    );
  }

  const poll = results.polling;
  const m = results.makespan;
  if (poll && (largest || m)) {
    const instant = largest ? Math.max(largest.histories.tileEventsMax, largest.histories.sampleEventsMax) : undefined;
    const short = m?.tileEventsMax;
    const pass = (instant === undefined || poll.tileEvents <= instant + EVENTS_PER_WAIT) && (short === undefined || poll.tileEvents <= short);
    const compared = [
      instant === undefined ? '' : `instant jobs max ${instant} (+${EVENTS_PER_WAIT} allowed: the one wait activity an instant job skips)`,
      short === undefined ? '' : `5 s jobs max ${short}`,
    ].filter(Boolean);
    report.target('tile history does not grow with job duration', pass, `${poll.runningMs / 1000} s job: ${poll.tileEvents} events; ${compared.join('; ')}`);
  } else {
    report.target('tile history does not grow with job duration', undefined, 'needs the polling scenario and the throughput or makespan scenario');
  }

  report.target(
    'makespan ratio ≤ 1.10',
    m ? m.ratio <= MAX_MAKESPAN_RATIO : undefined,
    m ? `${m.makespanSeconds.toFixed(1)} s / ${m.idealSeconds} s = ${m.ratio.toFixed(3)}` : 'not run',
  );

  if (poll && poll.runningMs === LONG_RUNNING_MS) {
    const lag = poll.resultsLagSeconds;
    report.target(
      '≤ 30 openEO requests for the 10-minute job, results within 15 s',
      poll.requestsForTheJob <= MAX_REQUESTS && lag !== undefined && lag <= MAX_RESULTS_LAG_S,
      `${poll.requestsForTheJob} requests for the tile (${poll.statusPolls} of them GET /jobs/{id}; plus ${poll.requestsTotal - poll.requestsForTheJob} the worker spends once per backend to connect); results ${lag === undefined ? 'never' : `${lag.toFixed(1)} s`} after the job finished`,
    );
  } else {
    report.target('≤ 30 openEO requests for the 10-minute job, results within 15 s', undefined, poll ? `job ran ${poll.runningMs / 1000} s, not 600 s` : 'not run');
  }

  judgeExports(results.exports, report);
  judgeDashboard(results.dashboard, report);

  const c = results.chaos;
  if (c) {
    const ended = c.summary.counts.finished + c.summary.counts.error === c.summary.totalTiles;
    const oneJobPerAttempt = Object.values(c.jobsPerTitle).every((n) => n === 1);
    const withinAttempts = [...c.attemptsPerTile.values()].every((n) => n <= c.maxAttempts);
    report.target(
      'chaos: every tile ends once, one job per attempt, files verified, nothing left running',
      ended && oneJobPerAttempt && withinAttempts && c.checksumMismatches.length === 0 && c.activeJobs.length === 0,
      `${c.summary.counts.finished} finished + ${c.summary.counts.error} error of ${c.summary.totalTiles}; ` +
        `one job per attempt: ${oneJobPerAttempt}; checksum mismatches ${c.checksumMismatches.length}; jobs left running ${c.activeJobs.length}`,
    );
  } else {
    report.target('chaos: every tile ends once, one job per attempt, files verified, nothing left running', undefined, 'not run');
  }
}

function judgeExports(exports: ExportedBatch[] | undefined, report: Report): void {
  const big = exports?.filter((e) => e.tiles >= 10_000) ?? [];
  const times = (e: ExportedBatch) => Object.entries(e.seconds).map(([format, s]) => `${format} ${s.toFixed(1)} s`).join(', ');
  if (big.length === 0) {
    report.target(EXPORT_TARGET, undefined, exports?.length ? `not run at 10,000 tiles; ${exports.map((e) => `${e.batchId}, ${e.tiles} tiles: ${times(e)}`).join('; ')}` : 'not run');
    return;
  }
  const pass = big.every((e) => Object.values(e.seconds).every((s) => s <= MAX_EXPORT_SECONDS));
  report.target(EXPORT_TARGET, pass, big.map((e) => `${e.batchId} (${e.ended} of ${e.tiles} tiles ended): ${times(e)}`).join('; '));
}

function judgeDashboard(d: DashboardFigures | undefined, report: Report): void {
  const target = `map of 10,000 tiles: all painted within ${MAX_MAP_FIRST_PAINT_S} s, page JS heap ≤ ${MAX_MAP_HEAP_MB} MiB, live updates follow the batch`;
  if (!d) return report.target(target, undefined, 'not run');
  // The page may be one reading (2 s) behind the batch; it must not fall further back.
  const keepsUp = d.liveUpdates > 0 && d.finishedOnPage > 0 && d.finishedInBatch - d.finishedOnPage <= 200;
  report.target(
    target,
    d.tilesDrawn === d.tiles && d.firstPaintMs / 1000 <= MAX_MAP_FIRST_PAINT_S && d.jsHeapMb <= MAX_MAP_HEAP_MB && keepsUp,
    `${d.tilesDrawn} tiles painted ${(d.firstPaintMs / 1000).toFixed(1)} s after navigation (snapshot received at ${(d.snapshotMs / 1000).toFixed(1)} s); ` +
      `JS heap ${d.jsHeapMb.toFixed(1)} MiB; live: ${d.liveUpdates} updates, ${d.finishedOnPage} finished on the page vs ${d.finishedInBatch} in the batch`,
  );
}
