/**
 * A batch: every tile of a spec, each in its own tile workflow, never more in flight per backend
 * than its `parallelJobs`. Small and medium batches run one sliding window (continuing as new
 * as often as needed); very large ones run partitions, each a window over a range of tiles.
 */
import {
  ApplicationFailure,
  continueAsNew,
  getCurrentDetails,
  isCancellation,
  log,
  patched,
  setCurrentDetails,
  workflowInfo,
} from '@temporalio/workflow';
import { summaryOf } from '../src/core/progress';
import type { BatchSummary } from '../src/core/records';
import type { PreparedBatch } from '../src/core/batch-spec/prepare';
import type { BatchSpec, BatchSpecInput } from '../src/core/batch-spec/schema';
import { durably, specActivities, sweepActivities } from './activity-options';
import { BUDGET_PATCH } from './budget';
import { registerBatchHandlers, type BatchHandlers } from './handlers';
import { checkRemoteHooks, REMOTE_HOOKS_PATCH } from './remote-hooks';
import { SAVE_RECORDS_PATCH, saveRecordsAtEnd } from './records-keeper';
import { COUNTED_CONTROLS_PATCH, OWN_SETTINGS_PATCH, runPartitions } from './partition-runner';
import type { PartitionsState } from './partitions-state';
import { WORDS_AGAIN_PATCH } from './slot-words';
import { LINE_UP_PATCH, runWindow } from './window';
import { decodeWindowState, initialWindowState, type WindowState } from './window-state';

/**
 * What a batch hands to its next run when it continues as new. The spec itself is the next
 * run's first argument (checked and with defaults), so it is carried once.
 */
export interface BatchCarryOver {
  /** 1 since the spec stopped travelling twice; absent before. */
  version?: 1;
  totalTiles?: number;
  tileFingerprint?: string;
  /** Before version 1: the spec again, with its tile count and fingerprint. */
  prepared?: PreparedBatch;
  window?: WindowState;
  partitions?: PartitionsState;
}

/** The prepared batch of a continued run, from either shape of carried state. */
export function preparedFrom(spec: BatchSpecInput, carried: BatchCarryOver): PreparedBatch {
  if (carried.prepared) return carried.prepared;
  return { spec: spec as BatchSpec, totalTiles: carried.totalTiles ?? 0, tileFingerprint: carried.tileFingerprint };
}

/**
 * Validates the spec in the worker, and asks other task queues for the hooks it names there; a
 * spec problem fails the batch with the problem itself (`prepareBatch` gives up early on a
 * backend that is not there or refuses the login, see activities/spec-checks.ts). A busy backend
 * or tile source is waited for, with the reason shown.
 */
async function prepare(spec: BatchSpecInput, handlers: BatchHandlers): Promise<PreparedBatch> {
  const prepared = await durably(
    () => specActivities.prepareBatch(spec),
    (problem) => {
      handlers.noteProblem(problem);
      setCurrentDetails(problem ? `**Waiting to start**: ${problem}` : '**Starting**');
    },
  );
  await checkRemoteHooks(prepared.spec);
  return prepared;
}

/** A spec's batchId must be the workflow id: both name the batch's output folder and tiles. */
function checkBatchId(spec: BatchSpecInput, batchId: string): void {
  if (spec.batchId !== undefined && spec.batchId !== batchId) {
    throw ApplicationFailure.nonRetryable(
      `batchId: the spec says "${spec.batchId}" but the workflow id is "${batchId}": start it with --workflow-id ${spec.batchId}, or drop batchId from the spec`,
      'InvalidBatchSpec',
    );
  }
}

/**
 * Patch id of 0.8.0's sweep at the batch's end. A batch that ended before it replays without
 * the sweep; one still running when the worker is upgraded sweeps when it ends.
 */
export const DUPLICATE_SWEEP_PATCH = 'sweep-duplicate-jobs';

/**
 * Deletes the never-started twins that late creates left on each backend, and answers how many.
 * Best effort: every tile is done, so a backend that cannot be listed now leaves them to the user.
 */
async function sweepDuplicateJobs(batchId: string, batch: BatchSpec): Promise<number> {
  if (!patched(DUPLICATE_SWEEP_PATCH)) return 0;
  // The tiles' final counts come back once the sweep is over.
  const final = getCurrentDetails();
  let deleted = 0;
  for (const backend of batch.backends) {
    setCurrentDetails(`**Finishing**: looking for never-started duplicate jobs on ${backend.name}`);
    try {
      const swept = await sweepActivities.sweepDuplicateJobs({
        backend: { name: backend.name, url: backend.url },
        batchId,
      });
      deleted += swept.deleted.length;
      if (swept.deleted.length > 0)
        log.info(`deleted ${swept.deleted.length} never-started duplicate job(s) on ${backend.name}`, {
          titles: swept.deleted.slice(0, 20),
        });
    } catch (err) {
      // A batch cancelled meanwhile ends cancelled, as it would a moment earlier.
      if (isCancellation(err)) throw err;
      log.warn(
        `could not look for duplicate jobs on ${backend.name}: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
  }
  setCurrentDetails(final);
  return deleted;
}

/** The batch's summary, with the duplicates its end deleted; its records saved beside its results. */
async function finish(batchId: string, batch: BatchSpec, summary: BatchSummary): Promise<BatchSummary> {
  const duplicateJobsDeleted = await sweepDuplicateJobs(batchId, batch);
  const final = getCurrentDetails();
  await saveRecordsAtEnd(batchId, (problem) =>
    setCurrentDetails(problem ? `**Finishing**: saving the batch's records: ${problem}` : final),
  );
  setCurrentDetails(final);
  return duplicateJobsDeleted > 0 ? { ...summary, duplicateJobsDeleted } : summary;
}

/**
 * Patch id (0.13.0): a batch's run records the markers of every patch it may take in its first
 * workflow task. Temporal Cloud bills the markers of one workflow task as one Action; a batch
 * recorded its line-up's at its first tiles, its sweep's and its records' at its end: three.
 */
export const BATCH_MARKERS_UP_FRONT_PATCH = 'batch-markers-up-front';

/** The patches of earlier releases a run of the batch may take, in the order they came. */
const BATCH_PATCHES = [
  OWN_SETTINGS_PATCH,
  LINE_UP_PATCH,
  COUNTED_CONTROLS_PATCH,
  DUPLICATE_SWEEP_PATCH,
  BUDGET_PATCH,
  WORDS_AGAIN_PATCH,
  REMOTE_HOOKS_PATCH,
  SAVE_RECORDS_PATCH,
];

/**
 * Takes every patch up front (see {@link BATCH_MARKERS_UP_FRONT_PATCH}). A run that began before
 * it replays its first task without them and records each where it always did. Each patch only
 * says the run has this release's code; when it takes effect is still up to its own condition.
 */
function patchesUpFront(): void {
  if (!patched(BATCH_MARKERS_UP_FRONT_PATCH)) return;
  for (const id of BATCH_PATCHES) patched(id);
}

/**
 * Runs every tile of the spec and returns the counts per status. A failed tile never fails the
 * batch; an invalid spec fails it at once, before any openEO job exists.
 */
export async function batchWorkflow(spec: BatchSpecInput, carried?: BatchCarryOver): Promise<BatchSummary> {
  patchesUpFront();
  const batchId = workflowInfo().workflowId;
  if (!carried) checkBatchId(spec, batchId);
  const handlers = registerBatchHandlers(batchId);
  const prepared = carried ? preparedFrom(spec, carried) : await prepare(spec, handlers);
  const { spec: batch, totalTiles } = prepared;
  const carry = { version: 1, totalTiles, tileFingerprint: prepared.tileFingerprint } as const;

  if (carried?.partitions || totalTiles > batch.scheduling.partitionAboveTiles) {
    const result = await runPartitions({
      batchId,
      prepared,
      state: carried?.partitions,
      handlers,
      continueAsNew: (partitions) => continueAsNew<typeof batchWorkflow>(batch, { ...carry, partitions }),
    });
    return finish(batchId, batch, summaryOf(batchId, batch, result, result.totalTiles));
  }

  const result = await runWindow({
    batchId,
    spec: batch,
    sourceTiles: totalTiles,
    tileFingerprint: prepared.tileFingerprint,
    state: carried?.window
      ? decodeWindowState(carried.window)
      : initialWindowState({ start: 0, end: totalTiles }, batch.backends, batch.budget),
    handlers,
    continueAsNew: (window) => continueAsNew<typeof batchWorkflow>(batch, { ...carry, window }),
  });
  return finish(batchId, batch, summaryOf(batchId, batch, result.state, result.totalTiles));
}
