/**
 * What the batch hands a tile workflow: one JSON document in the child's history, so every field
 * added later is optional and an older input still reads the same.
 */
import type { BackendRef } from '../src/core/openeo/connections';
import type { QuotaLimits } from '../src/core/quota/limits';
import type { TileRecord } from '../src/core/records';
import type { Tile } from '../src/core/batch-spec/arguments';
import type { BatchSpec } from '../src/core/batch-spec/schema';
import type { HookName } from '../src/core/hooks/remote';
import type { StacSettings } from '../src/core/batch-spec/stac-settings';
import type { TileVersioned } from './tile-version';

/** Everything a tile needs, as the batch hands it over (`tileVersion`: see tile-version.ts). */
export interface TileWorkflowInput extends TileVersioned {
  batchId: string;
  tile: Tile;
  backend: BackendRef & QuotaLimits;
  /** Absent only when a job factory builds every job. */
  process: BatchSpec['process'];
  parameterDefaults: BatchSpec['parameterDefaults'];
  parameterMapping: BatchSpec['parameterMapping'];
  jobOptions?: BatchSpec['jobOptions'];
  /** The tile property whose object of job options is merged over `jobOptions` (absent in older inputs). */
  jobOptionsProperty?: string;
  outputDir: string;
  /** Where the tile's files go under `outputDir`; today's layout when absent (batches of older releases). */
  outputPath?: string;
  polling: BatchSpec['polling'];
  /** Tell the batch when the job starts running (its backend limits queued jobs). */
  reportRunning?: boolean;
  /** openEO jobs for this tile at most, in this run. @default 1 */
  maxAttempts?: number;
  /** Number of this tile's first job (above 1 when failed tiles are retried). @default 1 */
  firstAttempt?: number;
  /** A job of this tile that finished but whose results were not downloaded: download them, create no job. */
  finishedJobId?: string;
  timeouts?: BatchSpec['timeouts'];
  /** The spec's create-job hook: asked for each job of this tile (a name, or an activity on another queue). */
  jobFactory?: HookName;
  /** The spec's post-processing hook: run after the download. */
  postprocess?: HookName;
  /** `postprocess` re-run: the tile's record with its downloaded files; only the post-processing runs again. */
  postprocessOnly?: TileRecord;
  /** The batch's STAC settings; absent in tiles started before STAC items were written. */
  stac?: StacSettings;
  /**
   * Lined up behind this tile of the batch: the first job is created at once and started the
   * moment the job ahead finishes, taking over its slot. Absent in tiles that start at once.
   */
  behind?: { tileId: string };
  /**
   * Tell the window when a finished job's results start downloading, so its slot is free
   * meanwhile (tiles of version 1 on). Asked for when nothing else hands the slot on at the
   * job's end: without lined-up tiles, or when a post-processor follows the download.
   */
  jobEndWanted?: boolean;
}
