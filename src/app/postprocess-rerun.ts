/**
 * Re-running only the post-processing of a batch's tiles: the batch's own spec, with its tiles
 * replaced by the chosen ones and their records (results on disk), so each tile workflow runs its
 * post-processor again, with no openEO job and no download. Like retry-failed, it runs as a new
 * run of the batch, and the tiles' new records (memo, search attributes) replace the old ones.
 */
import type { Client } from '@temporalio/client';
import { latestTileExecutions, startInput } from '../../activities/records/lookup';
import { MAX_RERUN_TILES } from './rerun';
import type { TileRecord } from '../core/records';
import type { BatchSpec } from '../core/batch-spec/schema';
import type { TileWorkflowInput } from '../../workflows/tile';

/** Options of {@link OpenEOBatchClient.postprocess}: which tiles' post-processing runs again. */
export interface PostprocessRerunOptions {
  /** These tiles (by id); each must have downloaded results. */
  tiles?: string[];
  /** Only tiles whose post-processing failed (the default when no `tiles` are given). */
  failed?: boolean;
}

/** A tile whose results are on disk: its job finished and its files were downloaded. */
function hasResults(record: TileRecord): boolean {
  return record.backendStatus === 'finished' && record.outputDir !== undefined && (record.files?.length ?? 0) > 0;
}

function wanted(record: TileRecord, options: PostprocessRerunOptions): boolean {
  const failedPostprocess = record.status === 'error' && record.error?.code === 'PostprocessFailed';
  if (options.tiles) return options.tiles.includes(record.tileId) && (!options.failed || failedPostprocess);
  return failedPostprocess;
}

export async function specForPostprocess(
  client: Client,
  batchId: string,
  options: PostprocessRerunOptions = {},
): Promise<{ spec: BatchSpec; tiles: number }> {
  const description = await client.workflow.getHandle(batchId).describe();
  if (description.status.name === 'RUNNING')
    throw new Error(`batch ${batchId} is still running: post-process its tiles again once it has ended`);
  const spec = await startInput<BatchSpec>(client, batchId, description.runId);
  if (!spec.postprocess)
    throw new Error(`batch ${batchId} has no post-processor: its spec names none in "postprocess"`);
  const features: { type: 'Feature'; [key: string]: unknown }[] = [];
  const postprocessOnly: NonNullable<NonNullable<BatchSpec['rerun']>['postprocessOnly']> = {};
  for (const wf of await latestTileExecutions(client, batchId)) {
    if (wf.status.name === 'RUNNING') continue;
    const record: TileRecord = await client.workflow.getHandle(wf.workflowId, wf.runId).result();
    if (!wanted(record, options)) continue;
    if (!hasResults(record) || record.outputDir === undefined || record.files === undefined)
      throw new Error(
        `tile ${record.tileId} of batch ${batchId} has no downloaded results (status ${record.status}): use retry-failed for it`,
      );
    if (features.length >= MAX_RERUN_TILES)
      throw new Error(`more than ${MAX_RERUN_TILES} tiles to post-process: choose some with --tiles`);
    const { tile } = await startInput<TileWorkflowInput>(client, wf.workflowId, wf.runId);
    // The tile goes back to the backend that ran its job, where its window slot is counted.
    features.push({
      type: 'Feature',
      id: tile.id,
      geometry: tile.geometry,
      properties: { ...tile.properties, backend: record.backend },
    });
    postprocessOnly[tile.id] = { ...record, tileId: record.tileId, outputDir: record.outputDir, files: record.files };
  }
  const missing = (options.tiles ?? []).filter((id) => !(id in postprocessOnly));
  if (missing.length > 0)
    throw new Error(
      `batch ${batchId} has no ended tile ${missing.map((id) => `"${id}"`).join(', ')}${options.failed ? ' whose post-processing failed' : ''}`,
    );
  if (features.length === 0)
    throw new Error(
      `batch ${batchId} has no tiles whose post-processing failed: name tiles with --tiles to post-process them again`,
    );
  const previousAttempts = Object.fromEntries(
    Object.values(postprocessOnly).map((r) => [r.tileId, Number(r.attempts ?? 0)]),
  );
  return {
    spec: { ...spec, tiles: { type: 'FeatureCollection', features }, rerun: { previousAttempts, postprocessOnly } },
    tiles: features.length,
  };
}
