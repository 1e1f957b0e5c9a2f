/**
 * A batch's progress, the one shape every view reads: the progress query, `status`, the progress
 * bar and the batch's current details in the Temporal UI. Built and rendered here only. Pure, so
 * workflows import it.
 */
import { addCosts } from './costs';
import {
  decodeCounts,
  emptyCounts,
  ENDED_TILE_STATUSES,
  type BatchSummary,
  type FailedTile,
  type StatusCounts,
  type TileStatus,
} from './records';
import { batchFolderKey, DEFAULT_OUTPUT_PATH } from './batch-spec/output-path';
import type { BackendSpec } from './batch-spec/schema';

/** A running batch's progress: its summary so far, with what is in flight, paused and configured now. */
export interface BatchProgress extends BatchSummary {
  /** The tiles in flight, with their backend (of the current partition, for partitioned batches). */
  inFlight: {
    /** The tile's id. */
    tileId: string;
    /** The backend its job runs on. */
    backend: string;
  }[];
  /** Workflow runs so far (continue-as-new starts a new run). */
  run: number;
  /** The batch is paused: it starts no new tiles. */
  paused: boolean;
  /** Backends paused for this batch, with the reason. */
  pausedBackends: Record<string, string>;
  /** The backends as configured now, changes made while the batch runs included. */
  backends: BackendSpec[];
  /** For partitioned batches: partitions done and in all, and the running one's workflow id. */
  partitions?: {
    /** Partitions that ended. */
    done: number;
    /** Partitions in all. */
    total: number;
    /** The running partition's workflow id. */
    current?: string;
  };
  /** What the batch is waiting for right now (e.g. a tile URL that does not answer), if anything. */
  problem?: string;
}

/** Tiles that reached an end (see `ENDED_TILE_STATUSES`). */
export function doneCount(counts: StatusCounts): number {
  // Counts from builds before `postprocessed` lack it.
  return ENDED_TILE_STATUSES.reduce((done, status) => done + (counts[status] ?? 0), 0);
}

/** The folder that holds all of a batch's results: `<outputDir>/<batchId>` for the default `outputPath`. */
export function batchOutputDir(outputDir: string, batchId: string, outputPath = DEFAULT_OUTPUT_PATH): string {
  const folder = batchFolderKey(outputPath, batchId);
  return folder ? `${outputDir}/${folder}` : outputDir;
}

/** What a window or the partition runner adds up as tiles end. */
export interface BatchTally {
  ended: StatusCounts;
  /** The first failed tiles with their reason; all are counted in `ended.error`. */
  failedTiles: FailedTile[];
  costs: number;
}

/** A tally as the batch's summary. */
export function summaryOf(
  batchId: string,
  output: { outputDir: string; outputPath?: string },
  tally: BatchTally,
  totalTiles: number,
): BatchSummary {
  const outputDir = batchOutputDir(output.outputDir, batchId, output.outputPath);
  return { batchId, totalTiles, counts: tally.ended, failedTiles: tally.failedTiles, outputDir, costs: tally.costs };
}

/** What a progress holds beyond the batch's summary: what is in flight, paused and waited for. */
export type ProgressLive = Omit<BatchProgress, keyof BatchSummary>;

/**
 * A batch's progress: its summary and what is live, nothing in flight and nothing paused unless
 * `live` says so. Every progress is put together here: the window's, the partition runner's, the
 * client's (the running partition folded in), and those of batches that ended or did not start.
 */
export function assembleProgress(summary: BatchSummary, live: Partial<ProgressLive> = {}): BatchProgress {
  const { partitions, problem } = live;
  return {
    ...summary,
    inFlight: live.inFlight ?? [],
    run: live.run ?? 0,
    paused: live.paused ?? false,
    pausedBackends: live.pausedBackends ?? {},
    backends: live.backends ?? [],
    ...(partitions ? { partitions } : {}),
    ...(problem ? { problem } : {}),
  };
}

/** A batch, or one that ended, with nothing in flight and nothing paused. */
export function idleProgress(summary: BatchSummary): BatchProgress {
  return assembleProgress(summary);
}

/** A batch that is still checking its spec: nothing has started; `problem` is what it waits for. */
export function progressBeforeStart(batchId: string, problem?: string): BatchProgress {
  const summary = { batchId, totalTiles: 0, counts: emptyCounts(), failedTiles: [], outputDir: '', costs: 0 };
  return assembleProgress(summary, problem ? { problem } : {});
}

/**
 * A partitioned batch's progress with its running partition's live progress folded in. The
 * batch counts the running partition's whole range as not started.
 */
export function withPartition(batch: BatchProgress, partition: BatchProgress): BatchProgress {
  const counts = decodeCounts(batch.counts);
  for (const status of Object.keys(partition.counts) as TileStatus[])
    counts[status] = (counts[status] ?? 0) + partition.counts[status];
  counts.not_started -= partition.totalTiles;
  const failedTiles = [...batch.failedTiles, ...partition.failedTiles];
  return assembleProgress(
    { ...batch, counts, failedTiles, costs: addCosts(batch.costs, partition.costs) },
    {
      ...batch,
      inFlight: partition.inFlight,
      // What holds the running partition back (a backend paused there, its budget) holds the batch back.
      pausedBackends: { ...batch.pausedBackends, ...partition.pausedBackends },
      problem: batch.problem ?? partition.problem,
    },
  );
}

/** The batch's current details in the Temporal UI (markdown): counts, then each backend's slots. */
export function progressDetails(progress: BatchProgress, slotsInUse: (backend: string) => number): string {
  const c = progress.counts;
  // Only batches that post-process have post-processed tiles; the others read as before.
  const postprocessed = c.postprocessed ? `postprocessed ${c.postprocessed}, ` : '';
  const lines = [
    `**${doneCount(c)} / ${progress.totalTiles} tiles done**${progress.paused ? ' — **paused**' : ''}: finished ${c.finished}, ${postprocessed}error ${c.error}, ` +
      `canceled ${c.canceled}, skipped ${c.skipped}, running ${c.running}, not started ${c.not_started}`,
    '',
    ...(progress.problem ? [`**Waiting**: ${progress.problem}`, ''] : []),
    ...progress.backends.map((b) => {
      const pause = progress.pausedBackends[b.name];
      return `- ${b.name}: ${slotsInUse(b.name)} / ${b.parallelJobs} jobs${pause ? ` — **paused**: ${pause}` : ''}`;
    }),
  ];
  return lines.join('\n');
}
