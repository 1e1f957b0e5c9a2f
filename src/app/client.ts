/**
 * The typed client API: start a batch, follow it, list its tiles, cancel it. For services that
 * embed openeo-temporal, and used by the project's own CLI.
 */
import { Client, Connection, WorkflowNotFoundError, type WorkflowHandle } from '@temporalio/client';
import { TILE_PROGRESS_QUERY, type BatchSummary, type TileRecord, type TileStatus } from '../core/records';
import { BACKEND, OPENEO_JOB_ID, TILE_STATUS } from '../core/search-attributes';
import type { BatchSpecInput } from '../core/batch-spec/schema';
import { batchHeadline } from '../core/batch-headline';
import { specForFailedTiles } from './rerun';
import { specForPostprocess, type PostprocessRerunOptions } from './postprocess-rerun';
import { latestTileExecutions } from '../../activities/records/lookup';
import { inBatches, readBatchRecords, type ReadRecordsOptions } from '../../activities/records/read';
import type { BatchRecords } from '../core/records';
import { exportBatch, type ExportOptions, type TileExport } from './export';
import { MAX_TILES } from '../core/batch-spec/limits';
import { checkBeforeStart, planBatch, type BatchPlan, type PlanOptions } from './plan';
import { DEFAULT_TASK_QUEUE, temporalTarget, type TemporalTarget } from './temporal-connection';
import {
  addTiles,
  batchProgress,
  pauseBatch,
  resumeBackend,
  resumeBatch,
  setBudget,
  setParallelJobs,
} from '../../workflows/messages';
import { idleProgress, progressBeforeStart, withPartition, type BatchProgress } from '../core/progress';
import { tileIdOf } from '../core/ids';
import type { BackendSpec, BudgetSpec } from '../core/batch-spec/schema';
import type { TileFeature } from '../core/batch-spec/tile-types';
import type { batchWorkflow } from '../../workflows/batch';
import { asBatchFailure, BatchCancelledError, failureReason, isCancelledBatch } from './batch-failure';
import { describeCancellation } from './batch-cancellation';
import type { TileError } from '../core/records';

/** The batch's page in the Temporal UI: its summary and details (see src/core/batch-headline.ts). */
function staticHeadline(spec: BatchSpecInput, batchId: string): { staticSummary: string; staticDetails: string } {
  const { summary, details } = batchHeadline(spec, batchId);
  return { staticSummary: summary, staticDetails: details };
}

/** A tile as visibility knows it: enough for a status table without asking every workflow. */
export interface TileListing {
  /** The tile's id in its batch. */
  tileId: string;
  /** The tile workflow's id. */
  workflowId: string;
  /**
   * The tile's status as its workflow last reported it; a tile whose workflow closed without saying so counts
   * as `canceled`.
   */
  status: TileStatus;
  /** The backend the tile runs or ran on, once it has one. */
  backend?: string;
  /**
   * The id of the tile's current (or last) openEO job: its search attribute, set when the tile
   * ends (since 0.13.0); a running tile's is read from the tile with `{ liveJobIds: true }`.
   */
  openeoJobId?: string;
  /** When the tile workflow started. */
  startTime: Date;
  /** When the tile workflow closed; absent while it runs. */
  closeTime?: Date;
}

/** A batch that was just started: its id and its workflow's handle. */
export interface StartedBatch {
  /** The batch's id, which is also its workflow id. */
  batchId: string;
  /** The batch workflow's handle; its `result()` is the batch's {@link BatchSummary}. */
  handle: WorkflowHandle<typeof batchWorkflow>;
}

/**
 * The typed client of openEO batches on Temporal: starts a batch, follows it, lists and exports
 * its tiles, steers it while it runs (pause, parallel jobs, budget, added tiles), re-runs failed
 * tiles and cancels it. It needs a Temporal server; a worker ({@link createOpenEOWorker}) does the
 * work. Make one with {@link OpenEOBatchClient.connect}, or from a Temporal `Client` of your own.
 *
 * ```ts
 * const client = await OpenEOBatchClient.connect();
 * const { batchId } = await client.start(spec);
 * const summary = await client.wait(batchId, (p) => console.log(p.counts));
 * ```
 */
export class OpenEOBatchClient {
  constructor(
    /** The Temporal client that batches are started and read with. */
    readonly client: Client,
    /**
     * The task queue batches start on; the workers must poll the same one.
     * @default DEFAULT_TASK_QUEUE ('openeo')
     */
    readonly taskQueue: string = DEFAULT_TASK_QUEUE,
  ) {}

  /** Connects with the environment's Temporal settings (see `temporalTarget`). */
  static async connect(options: { temporal?: TemporalTarget; taskQueue?: string } = {}): Promise<OpenEOBatchClient> {
    const target = options.temporal ?? temporalTarget();
    const connection = await Connection.connect(target.connectionOptions);
    return new OpenEOBatchClient(new Client({ connection, namespace: target.namespace }), options.taskQueue);
  }

  /**
   * Validates the spec here (so mistakes surface before anything starts: every problem at once,
   * the remote process's namespace included) and starts the batch. The batch id is the spec's
   * `batchId`, else `options.batchId`; it becomes the workflow id. A batch with more tiles than
   * its `maxTiles` starts only with `confirmSize` (which raises `maxTiles` to the hard limit).
   */
  async start(spec: BatchSpecInput, options: { batchId?: string; confirmSize?: boolean } = {}): Promise<StartedBatch> {
    const batchId = spec.batchId ?? options.batchId;
    if (!batchId) throw new Error('batchId: give the spec a "batchId" or pass one when starting');
    const input = { ...spec, batchId, ...(options.confirmSize ? { maxTiles: MAX_TILES } : {}) };
    await checkBeforeStart(input);
    const handle = await this.client.workflow.start<typeof batchWorkflow>('batchWorkflow', {
      workflowId: batchId,
      taskQueue: this.taskQueue,
      args: [input],
      ...staticHeadline(input, batchId),
    });
    return { batchId, handle };
  }

  /**
   * Checks a batch and works out its tiles, backends and size without starting anything (no
   * workflow, no openEO job); see {@link planBatch}. Needs no Temporal server.
   */
  plan(spec: BatchSpecInput, options: PlanOptions = {}): Promise<BatchPlan> {
    return planBatch(spec, options);
  }

  /** The batch workflow's Temporal handle, for what this client does not wrap (e.g. `describe()`). */
  handle(batchId: string): WorkflowHandle<typeof batchWorkflow> {
    return this.client.workflow.getHandle<typeof batchWorkflow>(batchId);
  }

  /**
   * Live progress of a running batch, or the summary of a closed one. For a partitioned batch,
   * the running partition's live counts are folded into the batch's.
   * @returns the progress, with `closed` set once the batch's workflow has closed, and `failure`
   * saying why when the batch failed as a whole.
   */
  async progress(batchId: string): Promise<BatchProgress & { closed: boolean; failure?: TileError }> {
    const handle = this.handle(batchId);
    const description = await handle.describe();
    if (description.status.name === 'COMPLETED') return { ...idleProgress(await handle.result()), closed: true };
    if (['FAILED', 'TERMINATED', 'TIMED_OUT'].includes(description.status.name)) {
      // A batch that failed as a whole (bad spec, refused login): its reason, not its counts.
      const failure = await handle.result().then(
        () => undefined,
        (err: unknown) => failureReason(err),
      );
      return { ...progressBeforeStart(batchId), closed: true, ...(failure ? { failure } : {}) };
    }
    const progress = await handle.query(batchProgress);
    const current = progress.partitions?.current;
    const live = current
      ? withPartition(progress, await this.client.workflow.getHandle(current).query(batchProgress))
      : progress;
    return { ...live, closed: description.status.name !== 'RUNNING' };
  }

  /**
   * Waits for the batch to end, calling `onProgress` every `intervalMs` meanwhile. A batch that
   * failed as a whole throws a `BatchFailedError` that says why; a cancelled one throws a
   * `BatchCancelledError` with when, by whom and its tiles' counts, as far as they are known.
   */
  async wait(batchId: string, onProgress?: (p: BatchProgress) => void, intervalMs = 1000): Promise<BatchSummary> {
    const handle = this.handle(batchId);
    let ended = false;
    let lastSeen: BatchProgress | undefined;
    const result = handle
      .result()
      .catch(async (err: unknown) => {
        if (!isCancelledBatch(err)) throw asBatchFailure(batchId, err);
        const cancellation = await describeCancellation(this.client, batchId, () => this.progress(batchId), lastSeen);
        throw new BatchCancelledError(batchId, cancellation, { cause: err });
      })
      .finally(() => {
        ended = true;
      });
    // Handled below (raced, then returned); this keeps a failure meanwhile from counting as unhandled.
    result.catch(() => undefined);
    while (!ended && onProgress) {
      try {
        lastSeen = await this.progress(batchId);
        onProgress(lastSeen);
      } catch (err) {
        // The first run may not have processed its first task yet; anything else is real.
        if (err instanceof WorkflowNotFoundError) throw err;
      }
      await Promise.race([result.catch(() => undefined), new Promise((r) => setTimeout(r, intervalMs))]);
    }
    return result;
  }

  /**
   * Every tile workflow of the batch, from Temporal's visibility store (no worker needed).
   * `liveJobIds` asks each running tile for its job's id (a query each, which a worker answers
   * and Temporal Cloud bills as an Action); a tile that cannot answer is listed without it.
   */
  async tiles(batchId: string, options: { liveJobIds?: boolean } = {}): Promise<TileListing[]> {
    const tiles: TileListing[] = [];
    // A tile retried by retry-failed has several executions; the latest one is the tile's state.
    for (const wf of await latestTileExecutions(this.client, batchId)) {
      const status = wf.typedSearchAttributes.get(TILE_STATUS) as TileStatus | undefined;
      tiles.push({
        tileId: tileIdOf(batchId, wf.workflowId),
        workflowId: wf.workflowId,
        // A tile that was cancelled or terminated before it could say so is canceled.
        status:
          status && !(wf.status.name !== 'RUNNING' && status === 'running')
            ? status
            : wf.status.name === 'RUNNING'
              ? 'running'
              : 'canceled',
        backend: wf.typedSearchAttributes.get(BACKEND),
        openeoJobId: wf.typedSearchAttributes.get(OPENEO_JOB_ID),
        startTime: wf.startTime,
        closeTime: wf.closeTime,
      });
    }
    if (options.liveJobIds) await this.fillLiveJobIds(tiles);
    return tiles.sort((a, b) => a.tileId.localeCompare(b.tileId));
  }

  /** Running tiles' job ids, from the tiles themselves (their search attribute comes at their end). */
  private async fillLiveJobIds(tiles: TileListing[]): Promise<void> {
    const running = tiles.filter((t) => t.status === 'running' && t.openeoJobId === undefined);
    await inBatches(running, async (tile) => {
      try {
        const record = await this.client.workflow.getHandle(tile.workflowId).query<TileRecord>(TILE_PROGRESS_QUERY);
        tile.openeoJobId = record.openeoJobId;
      } catch {
        // No worker answers, or the tile just ended: listed without it.
      }
    });
  }

  /**
   * Every tile of the batch with its whole record and outline (EPSG:4326), not-started tiles
   * included: the batch's job database, for maps and exports. Tiles whose workflows retention
   * deleted come from the records the batch saved beside its results; a batch whose own
   * workflow is gone too is read from there when `options.savedIn` names its `outputDir`.
   */
  async records(batchId: string, options: ReadRecordsOptions = {}): Promise<BatchRecords> {
    return readBatchRecords(this.client, batchId, options);
  }

  /**
   * The batch as a job database like the openEO Python job manager's: one row per tile, in CSV,
   * GeoJSON or GeoParquet (see `JOB_DATABASE_COLUMNS`); written to `options.out` when given.
   */
  async exportTiles(batchId: string, options: ExportOptions): Promise<TileExport> {
    return exportBatch(this.client, batchId, options);
  }

  /** Changes how many jobs a backend may have at once; returns the backends as configured now. */
  async setParallelJobs(
    batchId: string,
    backend: string,
    parallelJobs: number,
    maxQueued?: number,
  ): Promise<BackendSpec[]> {
    return this.handle(batchId).executeUpdate(setParallelJobs, {
      args: [{ backend, parallelJobs, ...(maxQueued !== undefined ? { maxQueued } : {}) }],
    });
  }

  /** Stops starting new tiles; tiles in flight go on. */
  async pause(batchId: string): Promise<void> {
    await this.handle(batchId).executeUpdate(pauseBatch);
  }

  /** Starts new tiles again after {@link OpenEOBatchClient.pause}. */
  async resume(batchId: string): Promise<void> {
    await this.handle(batchId).executeUpdate(resumeBatch);
  }

  /** Lets a backend that the batch paused after repeated failures take tiles again. */
  async resumeBackend(batchId: string, backend: string): Promise<void> {
    await this.handle(batchId).executeUpdate(resumeBackend, { args: [{ backend }] });
  }

  /**
   * Changes the batch's budget in credits (`credits` for the batch, `backends` for those named;
   * the others keep theirs): tiles held back by the old one start once the new one allows.
   * Returns the budget as it is now.
   */
  async setBudget(batchId: string, budget: BudgetSpec): Promise<BudgetSpec> {
    return this.handle(batchId).executeUpdate(setBudget, { args: [budget] });
  }

  /** Adds tiles (GeoJSON features in EPSG:4326) to a running batch; returns their ids. */
  async addTiles(batchId: string, features: TileFeature[]): Promise<string[]> {
    return this.handle(batchId).executeUpdate(addTiles, { args: [{ features }] });
  }

  /**
   * Runs the failed tiles of an ended batch again, as a new run of the same batch id (same
   * output folders); their new jobs continue each tile's attempt count.
   * @returns the new run, and `tiles`: how many tiles it runs again.
   */
  async retryFailed(batchId: string): Promise<StartedBatch & { tiles: number }> {
    const { spec, tiles } = await specForFailedTiles(this.client, batchId);
    const handle = await this.client.workflow.start<typeof batchWorkflow>('batchWorkflow', {
      workflowId: batchId,
      taskQueue: this.taskQueue,
      args: [spec],
      ...staticHeadline(spec, batchId),
    });
    return { batchId, handle, tiles };
  }

  /**
   * Runs the post-processing of an ended batch's tiles again (those whose post-processing
   * failed, or `tiles`), with no new openEO job and no new download.
   * @returns the new run, and `tiles`: how many tiles it post-processes again.
   */
  async postprocess(batchId: string, options: PostprocessRerunOptions = {}): Promise<StartedBatch & { tiles: number }> {
    const { spec, tiles } = await specForPostprocess(this.client, batchId, options);
    const handle = await this.client.workflow.start<typeof batchWorkflow>('batchWorkflow', {
      workflowId: batchId,
      taskQueue: this.taskQueue,
      args: [spec],
      ...staticHeadline(spec, batchId),
    });
    return { batchId, handle, tiles };
  }

  /** Cancels the batch; each in-flight tile cancels its openEO job before it ends. */
  async cancel(batchId: string): Promise<void> {
    await this.handle(batchId).cancel();
  }
}
