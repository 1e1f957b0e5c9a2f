/**
 * A tile's journal: its record (the row users see everywhere) kept up to date from what the
 * backend reports about its jobs, and rendered as the tile's current details in the Temporal UI.
 * Pure (the clock is the workflow's), so it is tested without a server.
 */
import type { JobSnapshot } from '../activities/openeo-jobs';
import type { TileRecord } from '../src/core/records';
import { addCosts } from '../src/core/costs';

function nowIso(): string {
  // The workflow clock: deterministic on replay.
  return new Date().toISOString();
}

export class TileJournal {
  readonly record: TileRecord;
  /** When the current job was first seen running (workflow clock, ms). */
  private runningSinceMs?: number;
  private leftQueue = false;
  /** Credits per openEO job of this tile: a tile that needed two jobs paid for both. */
  private readonly costsByJob: Record<string, number> = {};

  constructor(
    batchId: string,
    tileId: string,
    backend: string,
    firstAttempt: number,
    /** The number of the tile's last allowed job. */
    readonly lastAttempt: number,
  ) {
    this.record = { batchId, tileId, status: 'running', backend, attempts: firstAttempt - 1 };
  }

  get runningSince(): number | undefined {
    return this.runningSinceMs;
  }

  /** A new job was created for the next attempt. */
  jobCreated(jobId: string): void {
    this.record.openeoJobId = jobId;
    this.record.createdAt ??= nowIso();
    this.record.backendStatus = 'created';
    this.runningSinceMs = undefined;
  }

  /**
   * Notes what the backend says about the current job. Returns true the first time any job of
   * this tile has left the backend's queue (running or ended).
   */
  observe(job: JobSnapshot): boolean {
    const record = this.record;
    record.backendStatus = job.status;
    if (job.status === 'running') {
      this.runningSinceMs ??= Date.now();
      record.runningAt ??= nowIso();
    }
    if (job.costs !== undefined && record.openeoJobId) {
      this.costsByJob[record.openeoJobId] = job.costs;
      record.costs = addCosts(...Object.values(this.costsByJob));
    }
    if (job.usage) record.usage = job.usage;
    const justLeft = !this.leftQueue && job.status !== 'created' && job.status !== 'queued';
    if (justLeft) this.leftQueue = true;
    return justLeft;
  }

  /** Keeps a line of what happened in the record's notes. */
  note(text: string): void {
    (this.record.notes ??= []).push(text);
  }

  /** The tile's current details while it runs (markdown). */
  details(): string {
    const r = this.record;
    return (
      `**Tile** ${r.tileId} on **${r.backend}**: ${r.status}, attempt ${r.attempts} of ${this.lastAttempt}` +
      (r.openeoJobId ? `\n\nopenEO job \`${r.openeoJobId}\`: ${r.backendStatus ?? 'unknown'}` : '') +
      (r.error ? `\n\nError ${r.error.code}: ${r.error.message}` : '')
    );
  }

  /** Stamps the end; returns the tile's final details (markdown). */
  finish(): string {
    const r = this.record;
    r.finishedAt = nowIso();
    return `**Tile** ${r.tileId}: ${r.status}${r.error ? ` (${r.error.code}: ${r.error.message})` : ''}`;
  }
}
