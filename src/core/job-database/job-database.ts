/**
 * A batch's tiles as rows of the openEO Python client's job database (the table
 * `MultiBackendJobManager` keeps in CSV or Parquet), so scripts and notebooks written for it
 * read our exports unchanged. Pure functions: the writers (CSV, GeoJSON, GeoParquet) and the
 * tests share them.
 *
 * The job manager's columns come first, with its names and value formats (its `cpu`, `memory`
 * and `duration` are text such as "225 cpu-seconds"; times are RFC 3339 UTC to the second);
 * ours follow.
 */
import type { OpenEOJobStatus, TileRecord, UsageMetric } from '../records';
import type { MultiPolygonGeometry, PolygonGeometry } from '../batch-spec/tile-types';
import type { TileRow } from '../records';

/**
 * The job manager's status vocabulary (its `status` column). `queued_for_start` is left out:
 * it names a moment of the job manager's own start thread, which has no counterpart here.
 */
export type JobManagerStatus =
  'not_started' | 'created' | 'queued' | 'running' | 'finished' | 'error' | 'skipped' | 'start_failed' | 'canceled';

/**
 * A tile's outline: a GeoJSON Polygon or MultiPolygon, in EPSG:4326.
 *
 * @inline
 */
export type TileOutline = PolygonGeometry | MultiPolygonGeometry;

/** One tile as a job-database row. `null` is a missing value (empty in CSV, null in GeoJSON and Parquet). */
export interface JobDatabaseRow {
  /** The openEO job id of the tile's latest job. */
  id: string | null;
  /** The backend the tile ran on. */
  backend_name: string | null;
  /** The job manager's status, made of ours and the backend's (see {@link jobManagerStatus}). */
  status: JobManagerStatus;
  /** When the tile's first job was created (RFC 3339, UTC). */
  start_time: string | null;
  /** When one of the tile's jobs was first seen running (RFC 3339, UTC). */
  running_start_time: string | null;
  /** The latest job's CPU usage as `<value> <unit>`, e.g. "225 cpu-seconds". */
  cpu: string | null;
  /** The latest job's memory usage as `<value> <unit>`, e.g. "1200 mb-seconds". */
  memory: string | null;
  /** The latest job's duration as `<value> <unit>`, e.g. "95 seconds". */
  duration: string | null;
  /** Credits of all the tile's jobs together. */
  costs: number | null;
  /** The tile's id (the columns from here on are ours, not the job manager's). */
  tile_id: string;
  /** The latest job's status as the backend reports it. */
  backend_status: OpenEOJobStatus | null;
  /** openEO jobs submitted for the tile. */
  attempts: number;
  /** Why the tile failed: the backend's error code, or ours. */
  error_code: string | null;
  /** The message that goes with `error_code`; for a skipped tile, why it was skipped. */
  error_message: string | null;
  /** The tile's folder in the result store: a path on the worker, or an `s3://` URL. */
  output_dir: string | null;
  /** Files written for the tile, relative to `output_dir`. */
  files: string[];
  /** What happened to the tile that its status does not say, e.g. a job that disappeared from its backend. */
  notes: string[];
  /** Files kept on their size alone, each as `<file>: <why its checksum could not be checked>`. */
  unchecked_checksums: string[];
  /** The tile's outline, in EPSG:4326 (lon/lat). */
  geometry: TileOutline | null;
}

/**
 * How a column is stored: the writers pick their encoding from this.
 *
 * @inline
 */
export type ColumnKind = 'text' | 'real' | 'count' | 'texts' | 'geometry';

/**
 * One column of the job database: its name, how it is stored, and what it means.
 *
 * @inline
 */
export interface JobDatabaseColumn {
  /** The column's name, a key of {@link JobDatabaseRow}. */
  name: keyof JobDatabaseRow;
  /** How the column is stored. */
  kind: ColumnKind;
  /** What it holds (docs/export.md's table says the same). */
  meaning: string;
}

/** Every column, in the order the exports write them. */
export const JOB_DATABASE_COLUMNS: readonly JobDatabaseColumn[] = [
  { name: 'id', kind: 'text', meaning: "the openEO job id (the tile's latest job)" },
  { name: 'backend_name', kind: 'text', meaning: 'the backend the tile ran on' },
  {
    name: 'status',
    kind: 'text',
    meaning: "the job manager's status, derived from ours and the backend's (see jobManagerStatus)",
  },
  { name: 'start_time', kind: 'text', meaning: "when the tile's first job was created" },
  { name: 'running_start_time', kind: 'text', meaning: 'when a job of the tile was first seen running' },
  { name: 'cpu', kind: 'text', meaning: 'usage of the latest job, as "<value> <unit>" (usually cpu-seconds)' },
  { name: 'memory', kind: 'text', meaning: 'usage of the latest job, as "<value> <unit>" (usually mb-seconds)' },
  { name: 'duration', kind: 'text', meaning: 'usage of the latest job, as "<value> <unit>" (usually seconds)' },
  { name: 'costs', kind: 'real', meaning: "credits of all the tile's jobs" },
  { name: 'tile_id', kind: 'text', meaning: 'the tile id' },
  { name: 'backend_status', kind: 'text', meaning: "the latest job's status as the backend reports it" },
  { name: 'attempts', kind: 'count', meaning: 'openEO jobs submitted for the tile' },
  { name: 'error_code', kind: 'text', meaning: "why the tile failed: the backend's code or ours" },
  {
    name: 'error_message',
    kind: 'text',
    meaning: 'the message that goes with error_code; for a skipped tile, why it was skipped',
  },
  { name: 'output_dir', kind: 'text', meaning: "the tile's folder on the worker" },
  { name: 'files', kind: 'texts', meaning: 'files written there, relative to output_dir' },
  {
    name: 'notes',
    kind: 'texts',
    meaning: 'what happened to the tile that its status does not say, such as a job that disappeared from the backend',
  },
  {
    name: 'unchecked_checksums',
    kind: 'texts',
    meaning: 'files kept on their size alone, as "<file>: <why its file:checksum could not be checked>"',
  },
  { name: 'geometry', kind: 'geometry', meaning: "the tile's outline, EPSG:4326 (lon/lat)" },
];

/**
 * The job manager's status of a tile. Ours says whether the tile's work is done, the backend's
 * what its job does; the job manager has one column for both:
 *
 * | our status  | backend status                | job manager |
 * |-------------|-------------------------------|-------------|
 * | not_started | –                             | not_started |
 * | running     | none yet (no job created)     | not_started |
 * | running     | created / queued / running    | the same    |
 * | running     | finished / error / canceled   | running: results or logs are being fetched, or the tile resubmits; it is not done |
 * | finished    | any                           | finished    |
 * | postprocessed | any                         | finished: the job manager has no post-processing |
 * | error       | none, or created (never ran)  | start_failed: the job could not be created or started |
 * | error       | queued / running / finished / error / canceled | error |
 * | canceled    | any                           | canceled    |
 * | skipped     | any                           | skipped     |
 *
 * A tile stays among the job manager's active statuses (not_started, created, queued, running)
 * until its work is done, so a notebook that waits for them to drain waits for our downloads too.
 */
export function jobManagerStatus(
  record: Pick<TileRecord, 'status' | 'backendStatus' | 'openeoJobId'>,
): JobManagerStatus {
  const backend = record.openeoJobId ? record.backendStatus : undefined;
  switch (record.status) {
    case 'running':
      if (!backend) return 'not_started';
      return backend === 'created' || backend === 'queued' ? backend : 'running';
    case 'error':
      return !backend || backend === 'created' ? 'start_failed' : 'error';
    case 'postprocessed':
      return 'finished';
    default:
      return record.status;
  }
}

/**
 * A usage metric the way the job manager writes it: value and unit in one text, "225 cpu-seconds".
 * The value loses the noise of floating-point sums (see `tidyNumber`).
 */
export function usageText(metric: UsageMetric | undefined): string | null {
  if (!metric || typeof metric.value !== 'number' || !Number.isFinite(metric.value)) return null;
  return `${tidyNumber(metric.value)} ${metric.unit ?? ''}`.trim();
}

/**
 * A number without floating-point noise: 12 significant digits, so a sum of credits such as
 * 0.1 + 0.2 reads 0.3 and 14.400000000000004 reads 14.4, while every digit a backend reports
 * (they report a few decimals) is kept.
 */
export function tidyNumber(value: number): number {
  return Number.isFinite(value) ? Number(value.toPrecision(12)) : value;
}

/** An ISO timestamp in the job manager's format: RFC 3339, UTC, to the second ("2024-11-05T14:22:06Z"). */
export function rfc3339Seconds(iso: string | undefined): string | null {
  if (!iso) return null;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? null : `${new Date(ms).toISOString().slice(0, 19)}Z`;
}

export function jobDatabaseRow(tile: TileRow): JobDatabaseRow {
  const usage = tile.usage ?? {};
  return {
    id: tile.openeoJobId ?? null,
    backend_name: tile.backend ?? null,
    status: jobManagerStatus(tile),
    start_time: rfc3339Seconds(tile.createdAt),
    running_start_time: rfc3339Seconds(tile.runningAt),
    cpu: usageText(usage.cpu),
    memory: usageText(usage.memory),
    duration: usageText(usage.duration),
    costs: typeof tile.costs === 'number' ? tidyNumber(tile.costs) : null,
    tile_id: tile.tileId,
    backend_status: tile.backendStatus ?? null,
    attempts: tile.attempts,
    error_code: tile.error?.code ?? null,
    // A skipped tile's reason (from its job factory) goes where the job manager keeps reasons.
    error_message: tile.error?.message ?? tile.skipReason ?? null,
    output_dir: tile.outputDir ?? null,
    files: tile.files ?? [],
    notes: tile.notes ?? [],
    unchecked_checksums: (tile.uncheckedChecksums ?? []).map((unchecked) => `${unchecked.file}: ${unchecked.reason}`),
    geometry: tile.geometry,
  };
}

/** Tiles as job-database rows, in the same order (see {@link JOB_DATABASE_COLUMNS}). */
export function jobDatabaseRows(tiles: readonly TileRow[]): JobDatabaseRow[] {
  return tiles.map(jobDatabaseRow);
}
