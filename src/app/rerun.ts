/**
 * Building the spec that retries a finished batch's failed tiles: the batch's own spec, with its
 * tiles replaced by the failed ones (read back from their tile workflows' inputs) and their job
 * attempt counts, so new jobs continue the numbering and nothing is created twice.
 */
import type { Client } from '@temporalio/client';
import { latestTileExecutions, startInput } from '../../activities/records/lookup';
import type { TileRecord } from '../core/records';
import { TILE_STATUS } from '../core/search-attributes';
import type { BatchSpec } from '../core/batch-spec/schema';
import type { TileWorkflowInput } from '../../workflows/tile';

/** At most this many tiles are retried in one run (they travel in the workflow input). */
export const MAX_RERUN_TILES = 2_000;

export async function specForFailedTiles(client: Client, batchId: string): Promise<{ spec: BatchSpec; tiles: number }> {
  const description = await client.workflow.getHandle(batchId).describe();
  if (description.status.name === 'RUNNING') {
    throw new Error(`batch ${batchId} is still running: retry its failed tiles once it has ended`);
  }
  const spec = await startInput<BatchSpec>(client, batchId, description.runId);
  const features: { type: 'Feature'; [key: string]: unknown }[] = [];
  const previousAttempts: Record<string, number> = { ...spec.rerun?.previousAttempts };
  const finishedJobs: Record<string, string> = {};
  // A retried tile has several executions; only its latest says whether it still failed.
  const latest = (await latestTileExecutions(client, batchId)).filter(
    (wf) => wf.typedSearchAttributes.get(TILE_STATUS) === 'error',
  );
  for (const wf of latest) {
    if (features.length >= MAX_RERUN_TILES) {
      throw new Error(
        `batch ${batchId} has more than ${MAX_RERUN_TILES} failed tiles: start a new batch for them from a tile file`,
      );
    }
    const { tile } = await startInput<TileWorkflowInput>(client, wf.workflowId, wf.runId);
    const record: TileRecord = await client.workflow.getHandle(wf.workflowId, wf.runId).result();
    features.push({ type: 'Feature', id: tile.id, geometry: tile.geometry, properties: tile.properties });
    previousAttempts[tile.id] = record.attempts;
    // The job did its work; only its download failed: fetch the results again, pay for no new job.
    if (record.backendStatus === 'finished' && record.openeoJobId) finishedJobs[tile.id] = record.openeoJobId;
  }
  if (features.length === 0) throw new Error(`batch ${batchId} has no failed tiles`);
  return {
    spec: {
      ...spec,
      tiles: { type: 'FeatureCollection', features },
      rerun: { previousAttempts, ...(Object.keys(finishedJobs).length > 0 ? { finishedJobs } : {}) },
    },
    tiles: features.length,
  };
}
