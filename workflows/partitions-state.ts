/**
 * What a partitioned batch carries across continue-as-new (`PartitionsState`), and how an ended
 * partition's result adds to it. Plain data and pure functions, so they are tested without a
 * server; `partition-runner.ts` runs the partitions.
 */
import { addCosts } from '../src/core/costs';
import { assembleProgress, summaryOf, type BatchProgress, type BatchTally } from '../src/core/progress';
import { emptyCounts, type StatusCounts } from '../src/core/records';
import type { PreparedBatch } from '../src/core/batch-spec/prepare';
import type { Tile } from '../src/core/batch-spec/tile-types';
import type { Spend } from './budget';
import { applyControl, type BatchSettings, type SettingsControl } from './controls';
import type { PartitionResult } from './partition';
import { MAX_LISTED_FAILURES } from './window-book';

/** The batch's own state while it runs partitions; small, so it crosses continue-as-new. */
export interface PartitionsState extends BatchTally, BatchSettings {
  /** 1 when written by this code; absent in state carried by older code. */
  version?: number;
  /** The next partition to run, and the number of partitions of the source tiles. */
  next: number;
  count: number;
  /** Added tiles waiting for the next partition. */
  added: Tile[];
  addedCount: number;
  /** Tiles the ended partitions were responsible for. */
  doneTiles: number;
  /** What the ended partitions spent per backend, handed to the next one for the budget. */
  spend?: Spend;
}

export function initialPartitionsState(prepared: PreparedBatch): PartitionsState {
  const { spec, totalTiles } = prepared;
  return {
    version: 1,
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
    ...(spec.budget ? { budget: spec.budget } : {}),
  };
}

/** Partitions state carried by any earlier run, with defaults for what older code did not carry. */
export function decodePartitionsState(prepared: PreparedBatch, carried: Partial<PartitionsState>): PartitionsState {
  const fresh = initialPartitionsState(prepared);
  return { ...fresh, ...carried, ended: { ...fresh.ended, ...carried.ended }, version: 1 };
}

/** The source tiles of partition `index`. */
export function partitionRange(
  index: number,
  perPartition: number,
  totalTiles: number,
): { start: number; end: number } {
  const start = Math.min(index * perPartition, totalTiles);
  return { start, end: Math.min(totalTiles, start + perPartition) };
}

/**
 * Adds an ended partition's counts to the batch's, and takes over the backends it paused. With
 * `ownSettings` the batch keeps its own pause and slots: every change of those passes through
 * the batch first, while a partition's result may predate the last change it was sent. `unseen`
 * are the changes its result does not show (taken too late for it, or never delivered): applied
 * on top, in the order they were made.
 */
export function addPartitionResult(
  state: PartitionsState,
  index: number,
  result: PartitionResult,
  ownSettings = false,
  unseen: SettingsControl[] = [],
): void {
  for (const status of Object.keys(result.ended) as (keyof StatusCounts)[]) state.ended[status] += result.ended[status];
  state.failedTiles.push(...result.failedTiles.slice(0, MAX_LISTED_FAILURES - state.failedTiles.length));
  state.costs = addCosts(state.costs, result.costs);
  if (!ownSettings) {
    state.backends = result.backends;
    state.paused = result.paused;
  }
  state.pausedBackends = result.pausedBackends;
  for (const control of unseen) applyControl(state, control);
  if (result.spend) state.spend = result.spend;
  state.doneTiles += result.totalTiles;
  state.next = Math.max(state.next + 1, index + 1);
}

/** The partition runner's progress: ended partitions counted, the rest not started. */
export function partitionsProgress(
  batchId: string,
  prepared: PreparedBatch,
  state: PartitionsState,
  current: string | undefined,
): BatchProgress {
  const { spec, totalTiles } = prepared;
  const counts = { ...state.ended };
  counts.not_started += Math.max(0, totalTiles + state.addedCount - state.doneTiles);
  const tally = { ended: counts, failedTiles: state.failedTiles, costs: state.costs };
  return assembleProgress(summaryOf(batchId, spec, tally, totalTiles + state.addedCount), {
    paused: state.paused,
    pausedBackends: state.pausedBackends,
    backends: state.backends,
    partitions: { done: state.next, total: state.count, current },
  });
}
