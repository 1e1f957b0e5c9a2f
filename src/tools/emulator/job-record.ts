/**
 * What the emulator knows about a batch job: its record, the fields a create supplies, and the
 * statuses that count as active.
 */
import type { BBox, ProjectedExtent, TemporalExtent } from './area';
import type { FailureVerdict } from './failure';
import type { JobLog, LogLevel } from './logs';
import type { ProcessGraph } from './process-graph';

/**
 * openEO batch-job status.
 *
 * @inline
 */
export type JobStatus = 'created' | 'queued' | 'running' | 'canceled' | 'finished' | 'error';

/** Statuses that count as "active" (they hold or wait for back-end capacity). */
export const ACTIVE_STATUSES: ReadonlySet<JobStatus> = new Set<JobStatus>(['created', 'queued', 'running']);

/** One usage metric as in the openEO `usage` object. */
export interface UsageMetric {
  value: number;
  unit: string;
}

/** Resource usage of a run. */
export type Usage = Record<'cpu' | 'memory' | 'duration', UsageMetric>;

/** One downloadable result file. */
export interface ResultAsset {
  key: string;
  title: string;
  type: string;
  roles: string[];
  bytes: Buffer;
  /** Multihash (hex) of the bytes: `1220` + SHA-256 digest. */
  checksum: string;
  /** Raster metadata for the STAC `proj:` fields: rows and columns, CRS, extent in that CRS. */
  shape: [number, number];
  epsg: number;
  bbox: BBox;
  /** Band names of a raster whose bands are known, in file order; absent for a single unnamed band. */
  bands?: string[];
}

/** The outcome of a finished run. */
export interface JobResult {
  generatedAt: number;
  assets: Record<string, ResultAsset>;
}

/** What fault injection decided for a job when it was created. */
export interface JobFate {
  /** Every run of the job ends in this error. */
  failure?: FailureVerdict;
  /** The job never leaves this status. */
  stuckIn?: 'queued' | 'created';
}

/** Everything the emulator knows about a job. Fields a PATCH may change are mutable. */
export interface JobRecord {
  readonly id: string;
  /** Creation order; newest jobs have the highest number. */
  readonly seq: number;
  readonly owner: string;
  title: string | null;
  description: string | null;
  /** The submitted `process`, as received. */
  process: Record<string, unknown>;
  graph: ProcessGraph;
  plan: string | null;
  budget: number | null;
  logLevel: LogLevel;
  /** Extra top-level properties of the create request (e.g. `job_options`). */
  options: Record<string, unknown>;
  /** Footprint in EPSG:4326. */
  area: BBox | null;
  /** The footprint in its projected CRS, when the graph gave one; results use that CRS. */
  projected: ProjectedExtent | null;
  temporalExtent: TemporalExtent | null;
  readonly created: number;
  readonly log: JobLog;
  readonly fate: JobFate;
  status: JobStatus;
  /** Time of the last status change. */
  updated: number;
  /** How many times the job was started. */
  runs: number;
  /** When the current run entered `queued`. */
  queuedAt: number | undefined;
  /** When the current run entered `running`. */
  runningSince: number | undefined;
  /** Decided when the run started, applied when it ends (`null`: it succeeds). */
  pendingFailure: FailureVerdict | null | undefined;
  /** When the current run ended (`finished`, `error` or `canceled`). */
  endedAt: number | undefined;
  /** Progress frozen when a run stopped early. */
  stoppedProgress: number | undefined;
  usage: Usage | undefined;
  costs: number | undefined;
  result: JobResult | undefined;
}

/** Fields supplied when creating a job. */
export type NewJob = Pick<
  JobRecord,
  | 'owner'
  | 'title'
  | 'description'
  | 'process'
  | 'graph'
  | 'plan'
  | 'budget'
  | 'logLevel'
  | 'options'
  | 'area'
  | 'projected'
  | 'temporalExtent'
  | 'log'
  | 'fate'
>;
