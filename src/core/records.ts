/**
 * The records users see everywhere (CLI table, export, Temporal UI): one per tile, one summary
 * per batch. Pure types and pure functions only: workflows import this module.
 */
import type { BatchSpec } from './batch-spec/schema';
import type { Tile } from './batch-spec/tile-types';

/**
 * Our view of a tile. It is never the backend's status: that one is kept apart in
 * `TileRecord.backendStatus`, so "the job finished but the download failed" stays visible.
 */
export type TileStatus = 'not_started' | 'running' | 'finished' | 'error' | 'canceled' | 'skipped' | 'postprocessed';

/** Every status, in the order views list them. */
export const TILE_STATUSES: readonly TileStatus[] = [
  'not_started',
  'running',
  'finished',
  'postprocessed',
  'error',
  'canceled',
  'skipped',
];

/** The statuses of a tile that reached its end: finished (and post-processed), failed, canceled or skipped. */
export const ENDED_TILE_STATUSES: readonly TileStatus[] = ['finished', 'postprocessed', 'error', 'canceled', 'skipped'];

/** Whether a tile with this status has reached its end (see {@link ENDED_TILE_STATUSES}). */
export function isEnded(status: TileStatus): boolean {
  return ENDED_TILE_STATUSES.includes(status);
}

/**
 * openEO batch job statuses, as the backend reports them (API 1.2).
 *
 * @inline
 */
export type OpenEOJobStatus = 'created' | 'queued' | 'running' | 'canceled' | 'finished' | 'error';

/** The job statuses after which a job never changes again. */
export const TERMINAL_JOB_STATUSES: readonly OpenEOJobStatus[] = ['canceled', 'finished', 'error'];

/**
 * A usage or cost figure as openEO reports it, e.g. `{ value: 12.5, unit: 'cpu-seconds' }`.
 *
 * @inline
 */
export interface UsageMetric {
  /** The amount, in `unit`s. */
  value: number;
  /** What `value` counts, as the backend names it (e.g. `cpu-seconds`, `gb-hours`). */
  unit: string;
}

/**
 * Why a tile failed: the backend's error, or ours when the failure was not the job's.
 *
 * @inline
 */
export interface TileError {
  /** The backend's error code (e.g. `ProcessParameterRequired`) or one of ours. */
  code: string;
  /** What went wrong, in words: the backend's message, or ours. */
  message: string;
}

/**
 * A downloaded file kept on its size alone: its `file:checksum` could not be parsed, or names a
 * hash function the worker lacks.
 *
 * @inline
 */
export interface UncheckedChecksum {
  /** Relative to the tile's `outputDir`, as in `files`. */
  file: string;
  /** Why the checksum could not be checked. */
  reason: string;
}

/** The query a running tile answers with its record (so far). */
export const TILE_PROGRESS_QUERY = 'tileProgress';

/**
 * A tile as the batch reports it: what the tile workflow knows about its job, its files and its
 * outcome. The tile workflow keeps it, its progress query answers it, and exports write it.
 */
export interface TileRecord {
  /** The batch the tile belongs to. */
  batchId: string;
  /** The tile's id, unique in its batch (with periods: `<placeId>_<periodId>`). */
  tileId: string;
  /** Where the tile stands, in our terms; the backend's own status is `backendStatus`. */
  status: TileStatus;
  /** Name of the backend (from the spec's `backends`) that runs or ran the tile's job. */
  backend?: string;
  /** The id of the tile's current (or last) openEO job on `backend`. */
  openeoJobId?: string;
  /** That job's status, as the backend last reported it. */
  backendStatus?: OpenEOJobStatus;
  /** openEO jobs made for the tile so far, the current one included; a rerun continues the count. */
  attempts: number;
  /** When the tile's first job was created (ISO timestamp, from the workflow clock). */
  createdAt?: string;
  /** When the backend first reported one of the tile's jobs running (ISO timestamp, from the workflow clock). */
  runningAt?: string;
  /** When the tile reached its final status (ISO timestamp, from the workflow clock). */
  finishedAt?: string;
  /** Credits the backend reported for the tile's jobs, all attempts added up; absent when none reported any. */
  costs?: number;
  /** The last job's usage figures by metric, as the backend reported them. */
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
  /** Why the tile failed (status `error`); absent otherwise. */
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

/** Tiles per status: every status has a count, 0 when no tile has it. */
export type StatusCounts = Record<TileStatus, number>;

/** Counts of no tiles: every status at 0. */
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

/**
 * A failed tile and why it failed.
 *
 * @inline
 */
export interface FailedTile {
  /** The tile's id. */
  tileId: string;
  /** Its error, as in its record. */
  error: TileError;
}

/** What a batch returns when it ends, and what its progress query answers meanwhile. */
export interface BatchSummary {
  /** The batch's id (its workflow id). */
  batchId: string;
  /** Tiles in the batch, whatever their status. */
  totalTiles: number;
  /** Tiles per status. */
  counts: StatusCounts;
  /** Failed tiles with their reasons (the first 1,000; `counts.error` has the full number). */
  failedTiles: FailedTile[];
  /** The folder (or `s3://` prefix) the batch writes its results to. */
  outputDir: string;
  /** Total credits reported by the backends for this batch's jobs. */
  costs: number;
  /**
   * Never-started duplicate jobs deleted at the batch's end: a create the backend carried out
   * only after its retry had made the job again (see activities/duplicate-jobs.ts). Absent when none.
   */
  duplicateJobsDeleted?: number;
}

/**
 * One tile of a batch: its record (as the tile workflow keeps it) and where it is.
 *
 * @inline
 */
export interface TileRow extends TileRecord {
  /** Tile outline in EPSG:4326; null when its source cannot be read from here. */
  geometry: Tile['geometry'] | null;
  /** The tile workflow, once the tile started. */
  workflowId?: string;
  /** The run of that workflow the record comes from. */
  runId?: string;
}

/**
 * A batch's tiles as the client reads them back from Temporal: every tile's record and outline,
 * in the spec's order, then the tiles added while the batch ran.
 *
 * @inline
 */
export interface BatchRecords {
  /** The batch's id (its workflow id). */
  batchId: string;
  /** The spec as the batch runs it (defaults filled in). */
  spec: BatchSpec;
  /** Every tile, started or not. */
  tiles: TileRow[];
  /** Why some outlines are missing (e.g. the tile file is not readable on this machine). */
  problem?: string;
}
