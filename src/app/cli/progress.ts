/** Terminal views of a batch: a live progress bar and a table of tiles. */
import { SingleBar, Presets } from 'cli-progress';
import Table from 'cli-table3';
import { resolve } from 'node:path';
import type { OpenEOBatchClient, TileListing } from '../client';
import type { BatchSummary, StatusCounts, TileError } from '../../core/records';
import { doneCount, idleProgress, type BatchProgress } from '../../core/progress';
import { estimateEta, etaBatch, formatEta, RATE_WINDOW_MS, type EtaTile } from '../eta';
import { readEndedTiles } from '../../../activities/records/read';
import { formatCosts } from '../../core/costs';
import type { BatchCancelledError } from '../batch-failure';

export function countsLine(c: StatusCounts): string {
  const postprocessed = c.postprocessed ? ` · postprocessed ${c.postprocessed}` : '';
  return `finished ${c.finished}${postprocessed} · error ${c.error} · canceled ${c.canceled} · skipped ${c.skipped} · running ${c.running} · not started ${c.not_started}`;
}

/**
 * What holds tiles back, for the end of the progress line: a paused batch, and each paused
 * backend with its reason (a backend waiting for a login says which login and what to run).
 */
export function pausedNote(p: Pick<BatchProgress, 'paused' | 'pausedBackends'>): string {
  const notes = Object.entries(p.pausedBackends).map(([backend, reason]) => `${backend} paused: ${reason}`);
  if (p.paused) notes.unshift('batch paused');
  return notes.map((note) => ` · ${note}`).join('');
}

/**
 * What the bar shows beside its count: tiles in flight and failed, time left (see `estimateEta`,
 * from the tiles that ended recently), costs so far, pauses.
 */
export function barPayload(p: BatchProgress, ended: Iterable<EtaTile>, now: Date): Record<string, string> {
  // Not `eta`: cli-progress fills a token of that name itself (bare seconds), over the payload's.
  return {
    counts: `running ${p.counts.running}, error ${p.counts.error}`,
    timeLeft: formatEta(estimateEta(etaBatch(p), ended, now)?.seconds),
    costs: `${formatCosts(p.costs)} credits`,
    paused: pausedNote(p),
  };
}

/**
 * A progress bar fed by batch progress snapshots and the tiles that ended recently; `stop()`
 * leaves the last state on screen. Its total is the batch's own: a batch reads its tile file or
 * URL before it knows how many tiles it has (and tiles may be added while it runs), so the bar
 * appears once the batch says, and follows the total as it changes.
 */
export function progressBar(now: () => number = Date.now): {
  update(p: BatchProgress, ended: Iterable<EtaTile>): void;
  stop(): void;
} {
  const bar = new SingleBar(
    {
      format: 'tiles [{bar}] {value}/{total} | {counts} | ETA {timeLeft} | costs {costs}{paused}',
      hideCursor: true,
      noTTYOutput: !process.stderr.isTTY,
      notTTYSchedule: 5000,
    },
    Presets.shades_classic,
  );
  let started = false;
  return {
    update(p, ended) {
      if (p.totalTiles <= 0) return;
      const done = doneCount(p.counts);
      const payload = barPayload(p, ended, new Date(now()));
      if (!started) {
        started = true;
        bar.start(p.totalTiles, done, payload);
        return;
      }
      bar.setTotal(p.totalTiles);
      bar.update(done, payload);
    },
    stop: () => {
      if (started) bar.stop();
    },
  };
}

/** How often the bar reads again which tiles ended recently (one visibility listing each time). */
const ENDED_REFRESH_MS = 10_000;

/**
 * The batch's tiles that ended within the ETA's window, as last read. Read in the background at
 * most every `ENDED_REFRESH_MS`, so the bar's one-second ticks do not list the batch each time;
 * a failed reading keeps the last one.
 */
class RecentlyEnded {
  tiles: EtaTile[] = [];
  private readAt = -Infinity;
  private reading?: Promise<void>;

  constructor(
    private readonly read: (since: Date) => Promise<EtaTile[]>,
    private readonly now: () => number = Date.now,
  ) {}

  refresh(): void {
    const now = this.now();
    if (this.reading || now - this.readAt < ENDED_REFRESH_MS) return;
    this.readAt = now;
    this.reading = this.read(new Date(now - RATE_WINDOW_MS))
      .then(
        (tiles) => {
          this.tiles = tiles;
        },
        () => undefined,
      )
      .finally(() => {
        this.reading = undefined;
      });
  }

  /** Resolves once no reading is under way (before the connection closes). */
  async settled(): Promise<void> {
    await this.reading;
  }
}

/**
 * Follows a batch with a progress bar until it ends. The bar ends on the batch's final counts,
 * and is stopped (the cursor back) also when the batch failed.
 */
export async function followBatch(client: OpenEOBatchClient, batchId: string): Promise<BatchSummary> {
  const bar = progressBar();
  const ended = new RecentlyEnded((since) => readEndedTiles(client.client, batchId, since));
  try {
    const summary = await client.wait(batchId, (p) => {
      ended.refresh();
      bar.update(p, ended.tiles);
    });
    bar.update(idleProgress(summary), []);
    return summary;
  } finally {
    bar.stop();
    await ended.settled();
  }
}

export function summaryText(
  summary: BatchSummary & Partial<Pick<BatchProgress, 'pausedBackends' | 'problem'>> & { failure?: TileError },
): string {
  if (summary.failure) return `batch ${summary.batchId} failed: ${summary.failure.code}: ${summary.failure.message}`;
  const lines = [
    `batch ${summary.batchId}: ${doneCount(summary.counts)}/${summary.totalTiles} tiles done`,
    `  ${countsLine(summary.counts)}`,
  ];
  if (summary.problem) lines.push(`  waiting: ${summary.problem}`);
  for (const [backend, reason] of Object.entries(summary.pausedBackends ?? {}))
    lines.push(`  backend ${backend} paused: ${reason}`);
  if (summary.costs > 0) lines.push(`  costs reported by the backends: ${formatCosts(summary.costs)} credits`);
  if (summary.duplicateJobsDeleted)
    lines.push(`  never-started duplicate jobs deleted: ${summary.duplicateJobsDeleted}`);
  for (const failed of summary.failedTiles.slice(0, 20)) {
    lines.push(`  error ${failed.tileId}: ${failed.error.code}: ${failed.error.message}`);
  }
  if (summary.failedTiles.length > 20) lines.push(`  … and ${summary.failedTiles.length - 20} more failed tiles`);
  // Object storage (`s3://…`) is shown as it is; a local folder as an absolute path.
  lines.push(`  results: ${/^s3:\/\//i.test(summary.outputDir) ? summary.outputDir : resolve(summary.outputDir)}`);
  return lines.join('\n');
}

/** A cancelled batch: when and by whom (as far as known), and where its tiles stand. */
export function cancelledText(err: BatchCancelledError): string {
  const { closedAt, requestedBy, requestedAt, summary } = err.cancellation;
  const request =
    requestedBy || requestedAt
      ? ` (requested${requestedBy ? ` by ${requestedBy}` : ''}${requestedAt ? ` at ${requestedAt.toISOString()}` : ''})`
      : '';
  const lines = [`batch ${err.batchId} was cancelled${closedAt ? ` at ${closedAt.toISOString()}` : ''}${request}`];
  if (summary)
    lines.push(`  ${doneCount(summary.counts)}/${summary.totalTiles} tiles done`, `  ${countsLine(summary.counts)}`);
  return lines.join('\n');
}

export function tileTable(tiles: TileListing[]): string {
  const table = new Table({ head: ['tile', 'status', 'backend', 'openEO job', 'started', 'ended'] });
  for (const t of tiles) {
    table.push([
      t.tileId,
      t.status,
      t.backend ?? '',
      t.openeoJobId ?? '',
      t.startTime.toISOString(),
      t.closeTime?.toISOString() ?? '',
    ]);
  }
  return table.toString();
}
