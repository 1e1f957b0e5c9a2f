/**
 * A batch: a sliding window of tile workflows over all tiles of a spec, never more in flight
 * per backend than its `parallelJobs`. Children are abandoned on close and report back by
 * signal, so the batch can continue-as-new with a small state and no size limit.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  ParentClosePolicy,
  allHandlersFinished,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  isCancellation,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import type { OpenEOActivities, PreparedBatch } from '../activities';
import type { BatchSummary } from '../src/records';
import { BACKEND, BATCH_ID, TILE_STATUS } from '../src/search-attributes';
import type { Tile } from '../src/spec/arguments';
import type { BatchSpecInput } from '../src/spec/schema';
import { BatchBook, initialBatchState, type BatchState } from './batch-state';
import { batchProgress, tileCompleted, type BatchProgress } from './messages';
import { tileWorkflow } from './tile';

/** What a batch hands to its next run when it continues as new. */
export interface BatchCarryOver {
  prepared: PreparedBatch;
  state: BatchState;
}

/** Continue-as-new at the latest after this many history events, whatever the server suggests. */
const MAX_HISTORY_EVENTS = 10_000;
const TILE_PAGE_SIZE = 100;

const { prepareBatch, listTiles } = proxyActivities<OpenEOActivities>({
  startToCloseTimeout: '2m',
  retry: { initialInterval: '2s', maximumInterval: '30s', maximumAttempts: 3 },
});

/** Validates the spec in the worker; a spec problem fails the batch with the problem itself. */
async function prepare(spec: BatchSpecInput): Promise<PreparedBatch> {
  try {
    return await prepareBatch(spec);
  } catch (err) {
    throw err instanceof ActivityFailure && err.cause instanceof ApplicationFailure ? err.cause : err;
  }
}

/** Ids of tile workflows: stable and readable, `antwerp-bap/tile-E590000-N5660000`. */
export function tileWorkflowId(batchId: string, tileId: string): string {
  return `${batchId}/tile-${tileId}`;
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
  const prepared = carried?.prepared ?? (await prepare(spec));
  const { spec: batch, totalTiles } = prepared;
  const book = new BatchBook(carried ? { ...carried.state, run: carried.state.run + 1 } : initialBatchState(), batch.backends);
  const state = book.state;
  let buffered: Tile[] = [];
  let changed = false;

  const summary = (): BatchSummary => ({
    batchId,
    totalTiles,
    counts: book.counts(totalTiles),
    failedTiles: state.failedTiles,
    outputDir: `${batch.outputDir}/${batchId}`,
    costs: state.costs,
  });
  const progress = (): BatchProgress => ({
    ...summary(),
    inFlight: Object.entries(state.inFlight).map(([tileId, backend]) => ({ tileId, backend })),
    run: state.run,
  });
  const show = () => {
    const c = book.counts(totalTiles);
    const done = c.finished + c.error + c.canceled + c.skipped;
    setCurrentDetails(
      `**${done} / ${totalTiles} tiles done** — finished ${c.finished}, error ${c.error}, canceled ${c.canceled}, ` +
        `skipped ${c.skipped}, running ${c.running}, not started ${c.not_started}\n\n` +
        batch.backends.map((b) => `- ${b.name}: ${book.inFlightOn(b.name)} / ${b.parallelJobs} jobs in flight`).join('\n'),
    );
  };

  setHandler(tileCompleted, (record) => {
    if (book.recordEnd(record)) {
      changed = true;
      show();
    }
  });
  setHandler(batchProgress, progress);

  const nextTile = async (): Promise<Tile | undefined> => {
    if (state.nextTileIndex >= totalTiles) return undefined;
    if (buffered.length === 0) {
      buffered = await listTiles({ tiles: batch.tiles, offset: state.nextTileIndex, limit: TILE_PAGE_SIZE });
    }
    state.nextTileIndex += 1;
    return buffered.shift();
  };

  const startTile = async (tile: Tile, backend: (typeof batch.backends)[number]) => {
    try {
      await startChild(tileWorkflow, {
        workflowId: tileWorkflowId(batchId, tile.id),
        args: [
          {
            batchId,
            tile,
            backend: { name: backend.name, url: backend.url },
            process: batch.process,
            parameterDefaults: batch.parameterDefaults,
            parameterMapping: batch.parameterMapping,
            jobOptions: batch.jobOptions,
            outputDir: batch.outputDir,
            polling: batch.polling,
          },
        ],
        parentClosePolicy: ParentClosePolicy.ABANDON,
        staticSummary: `tile ${tile.id} on ${backend.name}`,
        typedSearchAttributes: [
          { key: BATCH_ID, value: batchId },
          { key: BACKEND, value: backend.name },
          { key: TILE_STATUS, value: 'running' },
        ],
      });
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      // This tile ran under this batch id before (an earlier batch with the same id): never twice.
      book.recordEnd({ tileId: tile.id, status: 'skipped' });
    }
  };

  /** Fills every free slot; the children start concurrently. */
  const fillWindow = async () => {
    const starts: Promise<void>[] = [];
    for (let backend = book.pickBackend(); backend; backend = book.pickBackend()) {
      const tile = await nextTile();
      if (!tile) break;
      book.markStarted(tile.id, backend.name);
      starts.push(startTile(tile, backend));
    }
    await Promise.all(starts);
    show();
  };

  try {
    for (;;) {
      await fillWindow();
      if (state.nextTileIndex >= totalTiles && book.inFlightCount() === 0) break;
      const info = workflowInfo();
      if (info.continueAsNewSuggested || info.historyLength > MAX_HISTORY_EVENTS) {
        await condition(allHandlersFinished);
        await continueAsNew<typeof batchWorkflow>(batch, { prepared, state });
      }
      await condition(() => changed);
      changed = false;
    }
  } catch (err) {
    if (isCancellation(err)) await CancellationScope.nonCancellable(() => cancelInFlight(batchId, book));
    throw err;
  }
  show();
  return summary();
}

/** Asks every in-flight tile (of this run or earlier ones) to cancel, and waits for their reports. */
async function cancelInFlight(batchId: string, book: BatchBook): Promise<void> {
  await Promise.all(
    Object.keys(book.state.inFlight).map((tileId) =>
      getExternalWorkflowHandle(tileWorkflowId(batchId, tileId))
        .cancel()
        .catch(() => book.recordEnd({ tileId, status: 'canceled' })),
    ),
  );
  await condition(() => book.inFlightCount() === 0, '10 minutes');
}
