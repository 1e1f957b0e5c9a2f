/** Terminal views of a batch: a live progress bar and a table of tiles. */
import { SingleBar, Presets } from 'cli-progress';
import Table from 'cli-table3';
import { resolve } from 'node:path';
import type { TileListing } from '../client';
import type { BatchSummary, StatusCounts, TileError } from '../../core/records';
import { doneCount, type BatchProgress } from '../../core/progress';
import { formatCosts } from '../../core/costs';

export function countsLine(c: StatusCounts): string {
  return `finished ${c.finished} · error ${c.error} · canceled ${c.canceled} · skipped ${c.skipped} · running ${c.running} · not started ${c.not_started}`;
}

/** A progress bar fed by batch progress snapshots; `stop()` leaves the last state on screen. */
export function progressBar(total: number): { update(p: BatchProgress): void; stop(): void } {
  const bar = new SingleBar(
    { format: 'tiles [{bar}] {value}/{total} | {counts}', hideCursor: true, noTTYOutput: !process.stdout.isTTY, notTTYSchedule: 5000 },
    Presets.shades_classic,
  );
  bar.start(total, 0, { counts: '' });
  return {
    update: (p) => bar.update(doneCount(p.counts), { counts: `running ${p.counts.running}, error ${p.counts.error}` }),
    stop: () => bar.stop(),
  };
}

export function summaryText(summary: BatchSummary & Partial<Pick<BatchProgress, 'pausedBackends' | 'problem'>> & { failure?: TileError }): string {
  if (summary.failure) return `batch ${summary.batchId} failed: ${summary.failure.code}: ${summary.failure.message}`;
  const lines = [`batch ${summary.batchId}: ${doneCount(summary.counts)}/${summary.totalTiles} tiles done`, `  ${countsLine(summary.counts)}`];
  if (summary.problem) lines.push(`  waiting: ${summary.problem}`);
  for (const [backend, reason] of Object.entries(summary.pausedBackends ?? {})) lines.push(`  backend ${backend} paused: ${reason}`);
  if (summary.costs > 0) lines.push(`  costs reported by the backends: ${formatCosts(summary.costs)} credits`);
  for (const failed of summary.failedTiles.slice(0, 20)) {
    lines.push(`  error ${failed.tileId}: ${failed.error.code}: ${failed.error.message}`);
  }
  if (summary.failedTiles.length > 20) lines.push(`  … and ${summary.failedTiles.length - 20} more failed tiles`);
  lines.push(`  results: ${resolve(summary.outputDir)}`);
  return lines.join('\n');
}

export function tileTable(tiles: TileListing[]): string {
  const table = new Table({ head: ['tile', 'status', 'backend', 'openEO job', 'started', 'ended'] });
  for (const t of tiles) {
    table.push([t.tileId, t.status, t.backend ?? '', t.openeoJobId ?? '', t.startTime.toISOString(), t.closeTime?.toISOString() ?? '']);
  }
  return table.toString();
}
