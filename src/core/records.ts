/**
 * The records users see everywhere (CLI table, export, Temporal UI): one per tile, one summary
 * per batch. Pure types and pure functions only: workflows import this module.
 */

/**
 * Our view of a tile. It is never the backend's status: that one is kept apart in
 * `TileRecord.backendStatus`, so "the job finished but the download failed" stays visible.
 */
export type TileStatus = 'not_started' | 'running' | 'finished' | 'error' | 'canceled' | 'skipped' | 'postprocessed';

/** Every status, in the order views list them. */
export const TILE_STATUSES: readonly TileStatus[] = ['not_started', 'running', 'finished', 'postprocessed', 'error', 'canceled', 'skipped'];

/** The statuses of a tile that reached its end: finished (and post-processed), failed, canceled or skipped. */
export const ENDED_TILE_STATUSES: readonly TileStatus[] = ['finished', 'postprocessed', 'error', 'canceled', 'skipped'];

export function isEnded(status: TileStatus): boolean {
  return ENDED_TILE_STATUSES.includes(status);
}

/** openEO batch job statuses, as the backend reports them (API 1.2). */
export type OpenEOJobStatus = 'created' | 'queued' | 'running' | 'canceled' | 'finished' | 'error';

export const TERMINAL_JOB_STATUSES: readonly OpenEOJobStatus[] = ['canceled', 'finished', 'error'];

/** A usage or cost figure as openEO reports it, e.g. `{ value: 12.5, unit: 'cpu-seconds' }`. */
export interface UsageMetric {
  value: number;
  unit: string;
}

export interface TileError {
  /** The backend's error code (e.g. `ProcessParameterRequired`) or one of ours. */
  code: string;
  message: string;
}

/** A downloaded file kept on its size alone: its `file:checksum` could not be parsed, or names a hash function the worker lacks. */
export interface UncheckedChecksum {
  /** Relative to the tile's `outputDir`, as in `files`. */
  file: string;
  reason: string;
}

/** The query a running tile answers with its record (so far). */
export const TILE_PROGRESS_QUERY = 'tileProgress';

export interface TileRecord {
  batchId: string;
  tileId: string;
  status: TileStatus;
  backend?: string;
  openeoJobId?: string;
  backendStatus?: OpenEOJobStatus;
  attempts: number;
  /** ISO timestamps, from the workflow clock. */
  createdAt?: string;
  runningAt?: string;
  finishedAt?: string;
  costs?: number;
  usage?: Record<string, UsageMetric>;
  /** Folder with this tile's assets, job metadata and error logs. */
  outputDir?: string;
  /**
   * Files written, relative to `outputDir`: the result assets, `job.json`, and `quicklook.png`
   * with `quicklook.json` when the result has a GeoTIFF that could be shown.
   */
  files?: string[];
  /** Files whose `file:checksum` could not be checked (only their size was), and why. Absent when all were. */
  uncheckedChecksums?: UncheckedChecksum[];
  error?: TileError;
  /**
   * What happened to the tile that its status alone does not say, oldest first: a job that
   * disappeared from its backend and what the tile did about it, for one.
   */
  notes?: string[];
  /** Why a tile was `skipped`: its job factory's reason. */
  skipReason?: string;
  /** A `postprocessed` tile's post-processing result (small JSON), as its post-processor returned it. */
  postprocessResult?: unknown;
}

export type StatusCounts = Record<TileStatus, number>;

export function emptyCounts(): StatusCounts {
  return { not_started: 0, running: 0, finished: 0, error: 0, canceled: 0, skipped: 0, postprocessed: 0 };
}

/**
 * Counts carried by an older build (before `postprocessed` existed, or any later status), with
 * every missing status at 0.
 */
export function decodeCounts(carried: Partial<StatusCounts> | undefined): StatusCounts {
  return { ...emptyCounts(), ...carried };
}

export interface FailedTile {
  tileId: string;
  error: TileError;
}

/** What a batch returns when it ends, and what its progress query answers meanwhile. */
export interface BatchSummary {
  batchId: string;
  totalTiles: number;
  counts: StatusCounts;
  /** Failed tiles with their reasons (the first 1,000; `counts.error` has the full number). */
  failedTiles: FailedTile[];
  outputDir: string;
  /** Total credits reported by the backends for this batch's jobs. */
  costs: number;
  /**
   * Never-started duplicate jobs deleted at the batch's end: a create the backend carried out
   * only after its retry had made the job again (see activities/duplicate-jobs.ts). Absent when none.
   */
  duplicateJobsDeleted?: number;
}
