/**
 * A batch: every tile of a spec, each in its own tile workflow, never more in flight per backend
 * than its `parallelJobs`. Small and medium batches run one sliding window (continuing as new
 * as often as needed); very large ones run partitions, each a window over a range of tiles.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  continueAsNew,
  proxyActivities,
  workflowInfo,
} from '@temporalio/workflow';
import type { OpenEOActivities, PreparedBatch } from '../activities';
import type { BatchSummary } from '../src/records';
import type { BatchSpecInput } from '../src/spec/schema';
import { initialWindowState, type WindowState } from './batch-state';
import { registerBatchHandlers } from './control';
import { runPartitions, type PartitionsState } from './partitions';
import { runWindow } from './window';

export { tileWorkflowId } from './window';

/** What a batch hands to its next run when it continues as new. */
export interface BatchCarryOver {
  prepared: PreparedBatch;
  window?: WindowState;
  partitions?: PartitionsState;
}

const { prepareBatch } = proxyActivities<OpenEOActivities>({
  startToCloseTimeout: '5m',
  // prepareBatch itself gives up early on a backend that is not there (see activities/batch.ts).
  retry: { initialInterval: '2s', maximumInterval: '30s', maximumAttempts: 10 },
});

/** Validates the spec in the worker; a spec problem fails the batch with the problem itself. */
async function prepare(spec: BatchSpecInput): Promise<PreparedBatch> {
  try {
    return await prepareBatch(spec);
  } catch (err) {
    throw err instanceof ActivityFailure && err.cause instanceof ApplicationFailure ? err.cause : err;
  }
}

/**
 * Runs every tile of the spec and returns the counts per status. A failed tile never fails the
 * batch; an invalid spec fails it at once, before any openEO job exists.
 */
export async function batchWorkflow(spec: BatchSpecInput, carried?: BatchCarryOver): Promise<BatchSummary> {
  const batchId = workflowInfo().workflowId;
  if (!carried && spec.batchId !== undefined && spec.batchId !== batchId) {
    throw ApplicationFailure.nonRetryable(
      `batchId: the spec says "${spec.batchId}" but the workflow id is "${batchId}": start it with --workflow-id ${spec.batchId}, or drop batchId from the spec`,
      'InvalidBatchSpec',
    );
  }
  const handlers = registerBatchHandlers(batchId);
  const prepared = carried?.prepared ?? (await prepare(spec));
  const { spec: batch, totalTiles } = prepared;
  const summaryOf = (s: { ended: BatchSummary['counts']; failedTiles: BatchSummary['failedTiles']; costs: number }, total: number): BatchSummary => ({
    batchId,
    totalTiles: total,
    counts: s.ended,
    failedTiles: s.failedTiles,
    outputDir: `${batch.outputDir}/${batchId}`,
    costs: s.costs,
  });

  if (carried?.partitions || totalTiles > batch.scheduling.partitionAboveTiles) {
    const result = await runPartitions({
      batchId,
      prepared,
      state: carried?.partitions,
      handlers,
      continueAsNew: (partitions) => continueAsNew<typeof batchWorkflow>(batch, { prepared, partitions }),
    });
    return summaryOf(result, result.totalTiles);
  }

  const result = await runWindow({
    batchId,
    spec: batch,
    sourceTiles: totalTiles,
    tileFingerprint: prepared.tileFingerprint,
    state: carried?.window ?? initialWindowState({ start: 0, end: totalTiles }, batch.backends),
    handlers,
    continueAsNew: (window) => continueAsNew<typeof batchWorkflow>(batch, { prepared, window }),
  });
  return summaryOf(result.state, result.totalTiles);
}
