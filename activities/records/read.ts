/**
 * A batch's "job database", read back from Temporal: one row per tile, with its outline, our
 * status and the backend's, job id, attempts, timings, usage, costs, files and error. The map
 * page and the exports are built on it.
 *
 * Where each part comes from:
 * - every tile's outline: the batch's spec (its first argument), tiled again the way the
 *   worker tiles it, plus the inputs of tile workflows that are not in it (added tiles, which
 *   are listed once they start: until then only the batch workflow holds them);
 * - tiles that ended: their record in the tile workflow's memo, from one visibility listing
 *   (tiles that ended before that memo existed: their workflow result);
 * - tiles that run: the `tileProgress` query, for the backend's live status (needs a worker;
 *   without one, what visibility knows);
 * - tiles whose workflows retention deleted: the records the batch saved beside its results
 *   (`saved.ts`).
 */
import { WorkflowNotFoundError, type Client, type WorkflowExecutionInfo } from '@temporalio/client';
import { createTilePageActivities } from '../tile-pages';
import { tileIdOf } from '../../src/core/ids';
import {
  TILE_PROGRESS_QUERY,
  type BatchRecords,
  type TileRecord,
  type TileRow,
  type TileStatus,
} from '../../src/core/records';
import { BACKEND, OPENEO_JOB_ID, TILE_RECORD_MEMO, TILE_STATUS } from '../../src/core/search-attributes';
import type { BatchSpec, BatchSpecInput } from '../../src/core/batch-spec/schema';
import type { Tile } from '../../src/core/batch-spec/tile-types';
import { parseBatchSpec } from '../../src/core/batch-spec/validate';
import { latestTileExecutions, startInput } from './lookup';
import { readSavedRecords, savedRecordsLocation, withSavedRows } from './saved';

/** How many workflows are asked at once for a query or a result. */
const CONCURRENCY = 16;

/** Options of `OpenEOBatchClient.records` (and of `readBatchRecords`). */
export interface ReadRecordsOptions {
  /**
   * The batch's `outputDir`, where it saved its records: read from there when Temporal no longer
   * holds the batch itself (retention deleted its workflow too).
   */
  savedIn?: string;
}

/** Every tile of the batch, in the spec's order, then tiles added while it ran. */
export async function readBatchRecords(
  client: Client,
  batchId: string,
  options: ReadRecordsOptions = {},
): Promise<BatchRecords> {
  let spec: BatchSpec;
  try {
    spec = await batchSpec(client, batchId);
  } catch (err) {
    if (!(err instanceof WorkflowNotFoundError)) throw err;
    return savedBatch(batchId, options.savedIn);
  }
  const [{ tiles: sourceTiles, problem }, executions] = await Promise.all([
    specTiles(spec),
    latestTileExecutions(client, batchId),
  ]);
  const started = new Map(executions.map((wf) => [tileIdOf(batchId, wf.workflowId), wf]));
  const rows: TileRow[] = sourceTiles.map((tile) => {
    const wf = started.get(tile.id);
    started.delete(tile.id);
    return wf ? { ...visibleRecord(batchId, wf), geometry: tile.geometry } : notStarted(batchId, tile);
  });
  // Tiles that are not in the spec's source: added while the batch ran (or a source that moved).
  const added = [...started.values()].map((wf) => ({ ...visibleRecord(batchId, wf), geometry: null }));
  await fillAddedOutlines(client, added);
  const live = [...rows, ...added];
  await fillRecords(client, live);
  const { tiles, problem: savedProblem } = await withSavedRecords(spec, batchId, live);
  const problems = [problem, savedProblem].filter(Boolean).join('; ');
  return { batchId, spec, tiles, ...(problems ? { problem: problems } : {}) };
}

/** A batch Temporal no longer holds, from the records it saved in `outputDir`. */
async function savedBatch(batchId: string, outputDir: string | undefined): Promise<BatchRecords> {
  if (outputDir === undefined)
    throw new WorkflowNotFoundError(
      `batch "${batchId}" is not in Temporal (retention deletes a closed batch): give the batch's outputDir (--output-dir) to read the records it saved there`,
      batchId,
      undefined,
    );
  const saved = await readSavedRecords(outputDir, batchId);
  if (!saved)
    throw new WorkflowNotFoundError(
      `batch "${batchId}" is not in Temporal, and ${savedRecordsLocation(outputDir, batchId)} holds no records of it: check --output-dir`,
      batchId,
      undefined,
    );
  return { batchId, spec: saved.spec, tiles: saved.tiles };
}

/**
 * Tiles Temporal no longer holds (their workflows closed before the namespace's retention) come
 * from the records the batch saved beside its results. Read only when some tile has no workflow.
 */
async function withSavedRecords(
  spec: BatchSpec,
  batchId: string,
  live: TileRow[],
): Promise<{ tiles: TileRow[]; problem?: string }> {
  if (live.every((row) => row.workflowId !== undefined)) return { tiles: live };
  try {
    const saved = await readSavedRecords(spec.outputDir, batchId);
    return { tiles: saved ? withSavedRows(live, saved.tiles) : live };
  } catch (err) {
    const where = savedRecordsLocation(spec.outputDir, batchId);
    const why = err instanceof Error ? err.message : String(err);
    return { tiles: live, problem: `the batch's saved records (${where}) cannot be read here: ${why}` };
  }
}

/**
 * Rows of the tiles that ran or ended since `since` (a refreshing page asks for these only):
 * outlines are not filled in, the caller has them from the first read.
 */
export async function readChangedTiles(client: Client, batchId: string, since: Date): Promise<TileRow[]> {
  const executions = await latestTileExecutions(client, batchId, { closedSince: since });
  const rows: TileRow[] = executions.map((wf) => ({ ...visibleRecord(batchId, wf), geometry: null }));
  await fillRecords(client, rows);
  return rows;
}

/**
 * The records of the tiles that ended since `since` (the rate the ETA goes by): one visibility
 * listing; only tiles from builds that kept no record in the memo are asked for their result.
 */
export async function readEndedTiles(client: Client, batchId: string, since: Date): Promise<TileRecord[]> {
  // Running tiles are listed too: a retried tile's latest execution may be running again.
  const executions = await latestTileExecutions(client, batchId, { closedSince: since });
  const rows: TileRow[] = executions
    .filter((wf) => wf.status.name !== 'RUNNING')
    .map((wf) => ({ ...visibleRecord(batchId, wf), geometry: null }));
  await fillRecords(client, rows);
  return rows;
}

/** The spec of the batch's latest run: every run starts with it, checked, as first argument. */
async function batchSpec(client: Client, batchId: string): Promise<BatchSpec> {
  const { runId } = await client.workflow.getHandle(batchId).describe();
  const input = await startInput<BatchSpecInput>(client, batchId, runId);
  // The first run has the spec as the user gave it; parsing fills in the defaults later runs carry.
  return parseBatchSpec({ ...input, batchId });
}

/** The spec's tiles, tiled as the worker tiles them; none (and why) when the source is unreadable here. */
async function specTiles(spec: BatchSpec): Promise<{ tiles: Tile[]; problem?: string }> {
  try {
    const periods = spec.periods ? { periods: spec.periods } : {};
    return {
      tiles: await createTilePageActivities().listTiles({
        tiles: spec.tiles,
        offset: 0,
        limit: Number.MAX_SAFE_INTEGER,
        ...periods,
      }),
    };
  } catch (err) {
    return {
      tiles: [],
      problem: `the batch's tiles cannot be read here: ${err instanceof Error ? err.message : String(err)}`,
    };
  }
}

function notStarted(batchId: string, tile: Tile): TileRow {
  return { batchId, tileId: tile.id, status: 'not_started', attempts: 0, geometry: tile.geometry };
}

/** What visibility alone says of a tile workflow (its memo has the whole record once it ended). */
function visibleRecord(batchId: string, wf: WorkflowExecutionInfo): Omit<TileRow, 'geometry'> {
  const memo = wf.memo?.[TILE_RECORD_MEMO] as TileRecord | undefined;
  const base = { workflowId: wf.workflowId, runId: wf.runId };
  if (memo) return { ...memo, ...base };
  const status = wf.typedSearchAttributes.get(TILE_STATUS) as TileStatus | undefined;
  return {
    ...base,
    batchId,
    tileId: tileIdOf(batchId, wf.workflowId),
    // A tile that was cancelled or terminated before it could say so is canceled.
    status: wf.status.name === 'RUNNING' ? 'running' : status && status !== 'running' ? status : 'canceled',
    backend: wf.typedSearchAttributes.get(BACKEND),
    openeoJobId: wf.typedSearchAttributes.get(OPENEO_JOB_ID),
    attempts: 0,
    createdAt: wf.startTime.toISOString(),
  };
}

/** Completes rows that visibility knew only in part: live records of running tiles, results of old ones. */
async function fillRecords(client: Client, rows: TileRow[]): Promise<void> {
  const partial = rows.filter((row) => row.workflowId && (row.status === 'running' || row.attempts === 0));
  await inBatches(partial, async (row) => {
    const handle = client.workflow.getHandle(row.workflowId!, row.runId);
    try {
      const record: TileRecord =
        row.status === 'running' ? await handle.query<TileRecord>(TILE_PROGRESS_QUERY) : await handle.result();
      Object.assign(row, record);
    } catch {
      // No worker to answer, or a tile terminated without a result: visibility's view stands.
    }
  });
}

/** Outlines of tiles added while the batch ran, from their workflows' inputs. */
async function fillAddedOutlines(client: Client, rows: TileRow[]): Promise<void> {
  await inBatches(rows, async (row) => {
    try {
      row.geometry = (await startInput<{ tile: Tile }>(client, row.workflowId!, row.runId)).tile.geometry;
    } catch {
      // Its history is gone (retention): the row stays without an outline.
    }
  });
}

/** Does `work` on every item, at most {@link CONCURRENCY} at once (calls to the Temporal server). */
export async function inBatches<T>(items: T[], work: (item: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += CONCURRENCY) await Promise.all(items.slice(i, i + CONCURRENCY).map(work));
}
