/**
 * One partition of a very large batch: a sliding window over a range of the batch's tiles,
 * started by the batch's partition runner (see `partition-runner.ts`).
 */
import { continueAsNew } from '@temporalio/workflow';
import type { PreparedBatch } from '../src/core/batch-spec/prepare';
import type { FailedTile, StatusCounts } from '../src/core/records';
import type { BackendSpec, BudgetSpec } from '../src/core/batch-spec/schema';
import type { Spend } from './budget';
import type { Tile } from '../src/core/batch-spec/tile-types';
import { registerBatchHandlers } from './handlers';
import { runWindow } from './window';
import { decodeWindowState, initialWindowState, type WindowState } from './window-state';

export interface PartitionInput {
  batchId: string;
  prepared: PreparedBatch;
  range: { start: number; end: number };
  backends: BackendSpec[];
  paused: boolean;
  pausedBackends: Record<string, string>;
  /** Tiles added to the batch while no partition ran. */
  added: Tile[];
  /** Tiles added to the batch before this partition, for the ids of new ones. */
  addedBefore: number;
  /** The batch's budget now; absent when it has none. */
  budget?: BudgetSpec;
  /** What the partitions before this one spent, so the budget holds for the whole batch. */
  spend?: Spend;
}

export interface PartitionResult {
  ended: StatusCounts;
  failedTiles: FailedTile[];
  costs: number;
  totalTiles: number;
  backends: BackendSpec[];
  paused: boolean;
  pausedBackends: Record<string, string>;
  addedCount: number;
  /** Settings changes the partition took from its batch; absent from partitions of older code. */
  controlsTaken?: number;
  /** Added tiles the partition received but never started (none in practice): the batch runs them later. */
  unstarted?: Tile[];
  /** What the batch spent per backend, this partition's tiles included. */
  spend?: Spend;
}

/** The window a partition starts with: its range, with the batch's current settings and added tiles. */
export function partitionWindowState(input: PartitionInput): WindowState {
  const state = initialWindowState(input.range, input.backends);
  state.paused = input.paused;
  state.pausedBackends = { ...input.pausedBackends };
  state.added = [...input.added];
  state.addedCount = input.added.length;
  state.controlsTaken = 0;
  if (input.budget) state.budget = input.budget;
  if (input.spend) state.spend = input.spend;
  return state;
}

/** A sliding window over one range of a partitioned batch's tiles. */
export async function partitionWorkflow(input: PartitionInput, carried?: WindowState): Promise<PartitionResult> {
  const { spec, totalTiles, tileFingerprint } = input.prepared;
  const handlers = registerBatchHandlers(input.batchId, 'partition');
  const result = await runWindow({
    batchId: input.batchId,
    spec,
    sourceTiles: totalTiles + input.addedBefore,
    tileFingerprint,
    state: carried ? decodeWindowState(carried) : partitionWindowState(input),
    handlers,
    continueAsNew: (window) => continueAsNew<typeof partitionWorkflow>(input, window),
  });
  const s = result.state;
  return {
    ended: s.ended,
    failedTiles: s.failedTiles,
    costs: s.costs,
    totalTiles: result.totalTiles - s.added.length,
    backends: s.backends,
    paused: s.paused,
    pausedBackends: s.pausedBackends,
    addedCount: s.addedCount,
    ...(s.controlsTaken === undefined ? {} : { controlsTaken: s.controlsTaken }),
    unstarted: s.added,
    ...(s.spend ? { spend: s.spend } : {}),
  };
}
