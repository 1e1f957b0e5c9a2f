/**
 * Scenario: what a tile costs on Temporal Cloud, in billable Actions. A batch at the spec's
 * default settings (default polling and timeouts) whose jobs run 10 minutes, all at once (8 tiles,
 * `parallelJobs` 8): Actions per finished tile by kind, from the histories and from the server's
 * own `action` counter, which alone sees heartbeats and queries (nobody watches this batch, so its
 * queries are its lined-up tiles' hand-overs asking the tile ahead). Run alone: the counter is the server's.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  ACTION_KINDS,
  actionsBetween,
  CHANGE_VERSION_UPSERT,
  addCounts,
  billableTotal,
  historyActions,
  readServerActions,
  rounded,
  serverKinds,
  type ActionCounts,
} from '../actions';
import { runBatch } from '../batches';
import { cpuMeter } from '../cpu';
import type { Report } from '../report';
import { gridSpec } from '../specs';
import type { BenchWorld } from '../world';

export interface ActionsFigures {
  tiles: number;
  /** The batch's parallelJobs: below `tiles`, tiles were lined up behind running ones. */
  parallelJobs: number;
  finished: number;
  runningMs: number;
  wallSeconds: number;
  /** Billable Actions per finished tile by kind: the histories', plus heartbeats and queries from the server. */
  perTile: Record<string, number>;
  perTileTotal: number;
  /** The same from the server's counter alone. */
  serverPerTile: Record<string, number>;
  serverPerTileTotal: number;
  /** The batch's own runs (and partitions), per finished tile. */
  batchSharePerTile: Record<string, number>;
  /** The server's raw `action_type` counts over the batch. */
  serverRaw: Record<string, number>;
  serverCpuSecondsPerTile: number | undefined;
}

export const ACTIONS_TILES = 8;
export const ACTIONS_JOB_MS = 600_000;

/** Per finished tile: `counts` divided by the tiles. */
function perTile(counts: ActionCounts, finished: number): ActionCounts {
  return addCounts({}, counts, 1 / Math.max(1, finished));
}

/** Where the two counts of a kind differ, for the report: `kind history/server`. */
function disagreements(history: ActionCounts, server: ActionCounts): string[] {
  const out: string[] = [];
  for (const kind of ACTION_KINDS) {
    if (kind === 'heartbeat' || kind === 'query' || kind === CHANGE_VERSION_UPSERT) continue;
    // The server counts versioning's own upserts too; the Cloud does not bill them.
    const exempt = kind === 'search attribute upsert' ? (history[CHANGE_VERSION_UPSERT] ?? 0) : 0;
    const [h, s] = [(history[kind] ?? 0) + exempt, server[kind] ?? 0];
    if (Math.abs(h - s) > 1e-9) out.push(`${kind} ${h}/${s}`);
  }
  return out;
}

/**
 * `parallel` below 8 runs the tiles in waves: while a wave runs, the next tiles are lined up behind
 * it (the default `lineUpJobs`), and their hand-overs' heartbeats are counted too.
 */
export async function actionsScenario(
  world: BenchWorld,
  report: Report,
  runningMs = ACTIONS_JOB_MS,
  parallel = ACTIONS_TILES,
): Promise<ActionsFigures> {
  // The batch's parallelJobs alone limit the jobs: the emulator's own per-user limit (2 by default) would queue them.
  const backend = await world.startBackend('actions', {
    jobDurations: { queuedMs: 0, runningMs },
    maxRunningJobsPerUser: ACTIONS_TILES,
  });
  try {
    const spec = gridSpec({
      batchId: 'bench-actions',
      backend: { name: backend.name, url: backend.emulator.url },
      parallelJobs: parallel,
      tiles: ACTIONS_TILES,
      tileSize: 5000,
      outputDir: backend.outputDir,
    });
    report.note(
      `actions: ${ACTIONS_TILES} tiles, parallelJobs ${parallel}, jobs run ${runningMs / 1000} s, the spec's default polling and timeouts`,
    );
    const before = await readServerActions(world.metricsUrl);
    const cpu = await cpuMeter(world.server.pid);
    const waves = Math.ceil(ACTIONS_TILES / parallel);
    const run = await runBatch(backend, spec, waves * runningMs + 10 * 60_000);
    const serverCpu = await cpu.stop();
    // Heartbeats and completions of the last waits are counted when their requests end.
    await sleep(2_000);
    const serverRaw = actionsBetween(before, await readServerActions(world.metricsUrl));
    const finished = run.summary.counts.finished;
    const fromHistories = await historyActions(world.temporal, spec.batchId!, ACTIONS_TILES);
    const fromServer = serverKinds(serverRaw);
    // What histories cannot show: heartbeats, and queries (nobody watches this batch, so each is
    // a lined-up tile's hand-over asking the tile ahead for its job).
    const unseen: ActionCounts = {};
    if (fromServer.heartbeat) unseen.heartbeat = fromServer.heartbeat;
    if (fromServer.query) unseen.query = fromServer.query;
    const combined = perTile(addCounts(fromHistories.total, unseen), finished);
    const server = perTile(fromServer, finished);
    const figures: ActionsFigures = {
      tiles: ACTIONS_TILES,
      parallelJobs: parallel,
      finished,
      runningMs,
      wallSeconds: run.wallMs / 1000,
      perTile: rounded(combined),
      perTileTotal: Math.round(billableTotal(combined, { unwatched: true }) * 100) / 100,
      serverPerTile: rounded(server),
      serverPerTileTotal: Math.round(billableTotal(server, { unwatched: true }) * 100) / 100,
      batchSharePerTile: rounded(perTile(fromHistories.batchShare, finished)),
      serverRaw,
      serverCpuSecondsPerTile: serverCpu === undefined ? undefined : serverCpu / Math.max(1, finished),
    };
    reportActions(report, figures, disagreements(fromHistories.total, fromServer));
    return figures;
  } finally {
    await backend.close();
  }
}

function reportActions(report: Report, f: ActionsFigures, differ: string[]): void {
  report.figure(
    'actions.wallSeconds',
    `actions: batch of ${f.finished}/${f.tiles} finished tiles took`,
    f.wallSeconds,
    's',
  );
  report.figure(
    'actions.perTile',
    "actions: billable Actions per finished tile by kind (histories + the server's heartbeats and queries)",
    f.perTile,
  );
  report.figure('actions.perTileTotal', 'actions: billable Actions per finished tile', f.perTileTotal);
  report.figure('actions.batchSharePerTile', "actions: of which the batch's own runs, per tile", f.batchSharePerTile);
  report.figure(
    'actions.serverPerTile',
    "actions: the server's action counter per finished tile by kind",
    f.serverPerTile,
  );
  report.figure(
    'actions.serverPerTileTotal',
    "actions: the server's count per finished tile (nobody watches: queries are the hand-overs')",
    f.serverPerTileTotal,
  );
  report.figure(
    'actions.serverRaw',
    "actions: the server's action counter over the batch, by action_type",
    f.serverRaw,
  );
  report.figure(
    'actions.serverCpuSecondsPerTile',
    'actions: dev server CPU per finished tile',
    f.serverCpuSecondsPerTile === undefined ? null : Math.round(f.serverCpuSecondsPerTile * 1000) / 1000,
    's',
  );
  report.note(
    differ.length === 0
      ? 'actions: the histories and the server agree on every kind they both see'
      : `actions: histories/server differ on ${differ.join(', ')} (per batch)`,
  );
}
