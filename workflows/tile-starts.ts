/**
 * Starting a tile's workflow: its input, as the window hands it over, and the child start, which
 * never runs a tile twice under one batch id and waits for a moved tile's previous run to close.
 * And cancelling the tiles in flight when the window itself is cancelled.
 */
import { ParentClosePolicy, condition, getExternalWorkflowHandle, sleep, startChild } from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy } from '@temporalio/common';
import { tileWorkflowId } from '../src/core/ids';
import { quotaLimitsOf } from '../src/core/quota/limits';
import type { TileRecord } from '../src/core/records';
import { BACKEND, BATCH_ID, TILE_STATUS } from '../src/core/search-attributes';
import type { BackendSpec, BatchSpec } from '../src/core/batch-spec/schema';
import { stacSettings } from '../src/core/batch-spec/stac-settings';
import type { Tile } from '../src/core/batch-spec/tile-types';
import type { TileStart } from './placement';
import { tileWorkflow, type TileWorkflowInput } from './tile';
import type { WindowBook } from './window-book';
import type { WindowState } from './window-state';
import { TILE_VERSION } from './tile-version';

/** A moved tile waits this long for its previous workflow to close, between tries, and tries this often. */
const RESTART_WAIT = '1 second';
const RESTART_TRIES = 120;

/** The input of a tile's workflow, as the window starts it. */
export function tileInput(
  batchId: string,
  spec: BatchSpec,
  state: WindowState,
  tile: Tile,
  backend: BackendSpec,
  behind?: string,
): TileWorkflowInput {
  return {
    batchId,
    tile,
    // The backend's quotas ride along (only when set), so its activities lease their requests.
    backend: { name: backend.name, url: backend.url, ...quotaLimitsOf(backend) },
    process: spec.process,
    parameterDefaults: spec.parameterDefaults,
    parameterMapping: spec.parameterMapping,
    jobOptions: spec.jobOptions,
    ...(spec.jobOptionsProperty !== undefined ? { jobOptionsProperty: spec.jobOptionsProperty } : {}),
    outputDir: spec.outputDir,
    outputPath: spec.outputPath,
    polling: spec.polling,
    reportRunning: backend.maxQueued !== undefined,
    // With retryOnOtherBackend the window moves a failed tile itself, one job per start.
    maxAttempts: spec.retryOnOtherBackend ? 1 : spec.maxAttempts,
    firstAttempt: (state.retries[tile.id]?.attempts ?? spec.rerun?.previousAttempts[tile.id] ?? 0) + 1,
    ...(spec.rerun?.finishedJobs?.[tile.id] !== undefined && !(tile.id in state.retries)
      ? { finishedJobId: spec.rerun.finishedJobs[tile.id] }
      : {}),
    timeouts: spec.timeouts,
    // Only specs that name hooks carry them: tiles of other batches start as before.
    ...(spec.jobFactory !== undefined ? { jobFactory: spec.jobFactory } : {}),
    ...(spec.postprocess !== undefined ? { postprocess: spec.postprocess } : {}),
    ...(spec.rerun?.postprocessOnly?.[tile.id] !== undefined
      ? { postprocessOnly: spec.rerun.postprocessOnly[tile.id] as unknown as TileRecord }
      : {}),
    // Data only (no new command): the tile's download activity writes and pushes its STAC item.
    stac: stacSettings(batchId, spec.stac),
    ...(behind !== undefined ? { behind: { tileId: behind } } : {}),
    // Data only: the tile's history holds its version, which decides its branches (tile-version.ts).
    tileVersion: TILE_VERSION,
    // A lined-up tile takes the slot the moment the job ahead ends; a post-processor may be long.
    jobEndWanted: spec.scheduling.lineUpJobs !== true || spec.postprocess !== undefined,
  };
}

/**
 * How a start went: `ran-before` for a tile that ran under this batch id already (never twice),
 * `still-open` for a tile started again whose previous workflow did not close in time.
 */
export type TileStartOutcome = 'started' | 'ran-before' | 'still-open';

/**
 * Starts a tile's workflow. A tile moved to another backend (or retried, or re-run) reuses its
 * workflow id, so it waits for its previous workflow to close, trying again every second.
 */
export async function startTileWorkflow(
  batchId: string,
  spec: BatchSpec,
  state: WindowState,
  { tile, backend, behind }: TileStart,
): Promise<TileStartOutcome> {
  const again = spec.rerun !== undefined || tile.id in state.retries;
  for (let tries = 1; ; tries++) {
    if (await tryStartTile(tileInput(batchId, spec, state, tile, backend, behind), backend, again)) return 'started';
    if (!again) return 'ran-before';
    if (tries >= RESTART_TRIES) return 'still-open';
    await sleep(RESTART_WAIT);
  }
}

/** False when a workflow with the tile's id is open, or (for a first start) ever ran. */
async function tryStartTile(input: TileWorkflowInput, backend: BackendSpec, again: boolean): Promise<boolean> {
  const { batchId, tile } = input;
  try {
    await startChild(tileWorkflow, {
      workflowId: tileWorkflowId(batchId, tile.id),
      args: [input],
      // Tiles outlive a window run: they report back by signal to whichever run is current.
      parentClosePolicy: ParentClosePolicy.ABANDON,
      // A tile that already ran under this batch id never runs again, unless this run retries failed tiles.
      workflowIdReusePolicy: again ? WorkflowIdReusePolicy.ALLOW_DUPLICATE : WorkflowIdReusePolicy.REJECT_DUPLICATE,
      staticSummary: `tile ${tile.id} on ${backend.name}`,
      typedSearchAttributes: [
        { key: BATCH_ID, value: batchId },
        { key: BACKEND, value: backend.name },
        { key: TILE_STATUS, value: 'running' },
      ],
    });
    return true;
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
    return false;
  }
}

/** Asks every in-flight tile (started by this run or an earlier one) to cancel, and waits for their reports. */
export async function cancelTilesInFlight(batchId: string, book: WindowBook): Promise<void> {
  await Promise.all(
    Object.keys(book.state.inFlight).map((tileId) =>
      getExternalWorkflowHandle(tileWorkflowId(batchId, tileId))
        .cancel()
        .catch(() => book.recordEnd({ tileId, status: 'canceled' })),
    ),
  );
  await condition(() => book.inFlightCount() === 0, '10 minutes');
}
