/**
 * Very large batches as a two-level tree: the batch runs partition workflows one after the
 * other, each a sliding window over `tilesPerPartition` tiles. Every run stays far below
 * Temporal's history limits, and because one partition runs at a time, the backends' slots are
 * never shared, so `parallelJobs` stays exact. The price is a short tail at each partition's end.
 */
import { ParentClosePolicy, allHandlersFinished, condition, getExternalWorkflowHandle, setCurrentDetails, startChild } from '@temporalio/workflow';
import { partitionWorkflowId } from '../core/ids';
import { batchOutputDir, type BatchProgress } from '../core/progress';
import { emptyCounts, type FailedTile, type StatusCounts } from '../core/records';
import type { PreparedBatch } from '../core/spec/prepare';
import type { BackendSpec } from '../core/spec/schema';
import type { Tile, TileFeature } from '../core/spec/tile-types';
import { tilePageActivities } from './activity-options';
import { applyControl, invalidChange } from './controls';
import type { BatchHandlers } from './handlers';
import { controlPartition, type BatchControl } from './messages';
import { partitionWorkflow, type PartitionInput, type PartitionResult } from './partition';
import { MAX_ADDED_WAITING, historyIsLong } from './window';
import { MAX_LISTED_FAILURES } from './window-book';

/** The batch's own state while it runs partitions; small, so it crosses continue-as-new. */
export interface PartitionsState {
  next: number;
  count: number;
  ended: StatusCounts;
  failedTiles: FailedTile[];
  costs: number;
  backends: BackendSpec[];
  paused: boolean;
  pausedBackends: Record<string, string>;
  /** Added tiles waiting for the next partition. */
  added: Tile[];
  addedCount: number;
  /** Tiles the ended partitions were responsible for. */
  doneTiles: number;
}

export interface PartitionsInput {
  batchId: string;
  prepared: PreparedBatch;
  state?: PartitionsState;
  handlers: BatchHandlers;
  continueAsNew(state: PartitionsState): Promise<never>;
}

export function initialPartitionsState(prepared: PreparedBatch): PartitionsState {
  const { spec, totalTiles } = prepared;
  return {
    next: 0,
    count: Math.ceil(totalTiles / spec.scheduling.tilesPerPartition),
    ended: emptyCounts(),
    failedTiles: [],
    costs: 0,
    backends: spec.backends.map((b) => ({ ...b })),
    paused: false,
    pausedBackends: {},
    added: [],
    addedCount: 0,
    doneTiles: 0,
  };
}

/** The source tiles of partition `index`. */
export function partitionRange(index: number, perPartition: number, totalTiles: number): { start: number; end: number } {
  const start = Math.min(index * perPartition, totalTiles);
  return { start, end: Math.min(totalTiles, start + perPartition) };
}

/** Adds an ended partition's counts to the batch's, and takes over its settings. */
export function addPartitionResult(state: PartitionsState, index: number, result: PartitionResult): void {
  for (const status of Object.keys(result.ended) as (keyof StatusCounts)[]) state.ended[status] += result.ended[status];
  state.failedTiles.push(...result.failedTiles.slice(0, MAX_LISTED_FAILURES - state.failedTiles.length));
  state.costs += result.costs;
  state.backends = result.backends;
  state.paused = result.paused;
  state.pausedBackends = result.pausedBackends;
  state.doneTiles += result.totalTiles;
  state.next = Math.max(state.next + 1, index + 1);
}

/** The partition runner's progress: ended partitions counted, the rest not started. */
export function partitionsProgress(batchId: string, prepared: PreparedBatch, state: PartitionsState, current: string | undefined): BatchProgress {
  const { spec, totalTiles } = prepared;
  const counts = { ...state.ended };
  counts.not_started += Math.max(0, totalTiles + state.addedCount - state.doneTiles);
  return {
    batchId,
    totalTiles: totalTiles + state.addedCount,
    counts,
    failedTiles: state.failedTiles,
    outputDir: batchOutputDir(spec.outputDir, batchId),
    costs: state.costs,
    inFlight: [],
    run: 0,
    paused: state.paused,
    pausedBackends: state.pausedBackends,
    backends: state.backends,
    partitions: { done: state.next, total: state.count, current },
  };
}

/** Runs the partitions in order and adds up their results. */
export async function runPartitions(input: PartitionsInput): Promise<PartitionsState & { totalTiles: number }> {
  const { batchId, prepared } = input;
  const { spec, totalTiles } = prepared;
  const state = input.state ?? initialPartitionsState(prepared);
  let current: string | undefined;

  /** Numbers added tiles; without a running partition they wait for the next. */
  const addTiles = async (features: TileFeature[]): Promise<string[]> => {
    if (features.length > MAX_ADDED_WAITING) throw invalidChange(`features: add at most ${MAX_ADDED_WAITING} tiles at once`);
    const tiles = await tilePageActivities.normalizeAddedTiles({ features, firstIndex: totalTiles + state.addedCount });
    state.addedCount += tiles.length;
    if (!current) state.added.push(...tiles);
    return tiles.map((t) => t.id);
  };

  // Changes go to the running partition, and into the settings the next partitions start with.
  input.handlers.attach({
    async apply(control: BatchControl) {
      let result: BackendSpec[] | string[] = state.backends;
      if (control.type === 'addTiles') result = await addTiles(control.features);
      else applyControl(state, control);
      // The running partition numbers added tiles itself.
      if (current) await getExternalWorkflowHandle(current).signal(controlPartition, control);
      return result;
    },
    progress: () => partitionsProgress(batchId, prepared, state, current),
  });

  // Added tiles that arrive after the last partition get one more partition of their own.
  while (state.next < state.count || state.added.length > 0) {
    const index = state.next;
    const range = partitionRange(index, spec.scheduling.tilesPerPartition, totalTiles);
    setCurrentDetails(`**Partition ${index + 1} / ${Math.max(state.count, index + 1)}** (tiles ${range.start}–${range.end - 1}); open it for the tiles' progress`);
    const partitionInput: PartitionInput = {
      batchId,
      prepared,
      range,
      backends: state.backends,
      paused: state.paused,
      pausedBackends: state.pausedBackends,
      added: state.added,
      addedBefore: state.addedCount - state.added.length,
    };
    const handle = await startChild(partitionWorkflow, {
      workflowId: partitionWorkflowId(batchId, index),
      args: [partitionInput],
      parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
      staticSummary: `partition ${index + 1}: tiles ${range.start}–${range.end - 1}`,
    });
    state.added = [];
    current = handle.workflowId;
    const result = await handle.result();
    current = undefined;
    addPartitionResult(state, index, result);
    if (state.next >= state.count && state.added.length === 0) break;
    if (historyIsLong(spec.scheduling.maxEventsPerRun)) {
      await condition(allHandlersFinished);
      await input.continueAsNew(state);
    }
  }
  return { ...state, totalTiles: totalTiles + state.addedCount };
}
