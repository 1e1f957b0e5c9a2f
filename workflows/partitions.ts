/**
 * Very large batches as a two-level tree: the batch runs partition workflows one after the
 * other, each a sliding window over `tilesPerPartition` tiles. Every run stays far below
 * Temporal's history limits, and because one partition runs at a time, the backends' slots are
 * never shared, so `parallelJobs` stays exact. The price is a short tail at each partition's end.
 */
import {
  ParentClosePolicy,
  allHandlersFinished,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  proxyActivities,
  setCurrentDetails,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import type { OpenEOActivities, PreparedBatch } from '../activities';
import { emptyCounts, type FailedTile, type StatusCounts } from '../src/records';
import type { BackendSpec } from '../src/spec/schema';
import type { Tile } from '../src/spec/tile-types';
import { initialWindowState, MAX_LISTED_FAILURES, type WindowState } from './batch-state';
import { invalidChange, registerBatchHandlers, type BatchHandlers } from './control';
import { controlPartition, type BatchControl, type BatchProgress } from './messages';
import { MAX_ADDED_WAITING, runWindow } from './window';

const { normalizeAddedTiles } = proxyActivities<OpenEOActivities>({
  startToCloseTimeout: '2m',
  retry: { initialInterval: '2s', maximumInterval: '30s', maximumAttempts: 10 },
});

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
}

/** A sliding window over one range of a partitioned batch's tiles. */
export async function partitionWorkflow(input: PartitionInput, carried?: WindowState): Promise<PartitionResult> {
  const { spec, totalTiles, tileFingerprint } = input.prepared;
  const handlers = registerBatchHandlers(input.batchId);
  let state = carried;
  if (!state) {
    state = initialWindowState(input.range, input.backends);
    state.paused = input.paused;
    state.pausedBackends = { ...input.pausedBackends };
    state.added = [...input.added];
    state.addedCount = input.added.length;
  }
  const result = await runWindow({
    batchId: input.batchId,
    spec,
    sourceTiles: totalTiles + input.addedBefore,
    tileFingerprint,
    state,
    handlers,
    continueAsNew: (window) => continueAsNew<typeof partitionWorkflow>(input, window),
  });
  const s = result.state;
  return {
    ended: s.ended,
    failedTiles: s.failedTiles,
    costs: s.costs,
    totalTiles: result.totalTiles,
    backends: s.backends,
    paused: s.paused,
    pausedBackends: s.pausedBackends,
    addedCount: s.addedCount,
  };
}

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

function partitionId(batchId: string, index: number): string {
  return `${batchId}/partition-${index}`;
}

/** Runs the partitions in order and adds up their results. */
export async function runPartitions(input: PartitionsInput): Promise<PartitionsState & { totalTiles: number }> {
  const { batchId, prepared } = input;
  const { spec, totalTiles } = prepared;
  const perPartition = spec.scheduling.tilesPerPartition;
  const state: PartitionsState = input.state ?? {
    next: 0,
    count: Math.ceil(totalTiles / perPartition),
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
  let current: string | undefined;

  // Changes go to the running partition, and into the settings the next partitions start with.
  input.handlers.attach({
    async apply(c: BatchControl) {
      let result: BackendSpec[] | string[] = state.backends;
      if (c.type === 'setParallelJobs') {
        const backend = state.backends.find((b) => b.name === c.backend);
        if (!backend) throw invalidChange(`backend "${c.backend}" is not part of this batch`);
        backend.parallelJobs = c.parallelJobs;
        if (c.maxQueued !== undefined) backend.maxQueued = c.maxQueued;
      } else if (c.type === 'pause' || c.type === 'resume') {
        state.paused = c.type === 'pause';
      } else if (c.type === 'resumeBackend') {
        delete state.pausedBackends[c.backend];
      } else {
        if (c.features.length > MAX_ADDED_WAITING) throw invalidChange(`features: add at most ${MAX_ADDED_WAITING} tiles at once`);
        const tiles = await normalizeAddedTiles({ features: c.features, firstIndex: totalTiles + state.addedCount });
        state.addedCount += tiles.length;
        result = tiles.map((t) => t.id);
        // The running partition numbers them itself; without one they wait for the next.
        if (!current) {
          state.added.push(...tiles);
          return result;
        }
      }
      if (current) await getExternalWorkflowHandle(current).signal(controlPartition, c);
      return result;
    },
    progress: (): BatchProgress => {
      const counts = { ...state.ended };
      counts.not_started += Math.max(0, totalTiles + state.addedCount - state.doneTiles);
      return {
        batchId,
        totalTiles: totalTiles + state.addedCount,
        counts,
        failedTiles: state.failedTiles,
        outputDir: `${spec.outputDir}/${batchId}`,
        costs: state.costs,
        inFlight: [],
        run: 0,
        paused: state.paused,
        pausedBackends: state.pausedBackends,
        backends: state.backends,
        partitions: { done: state.next, total: state.count, current },
      };
    },
  });

  // Added tiles that arrive after the last partition get one more partition of their own.
  while (state.next < state.count || state.added.length > 0) {
    const index = state.next;
    const start = Math.min(index * perPartition, totalTiles);
    const range = { start, end: Math.min(totalTiles, start + perPartition) };
    setCurrentDetails(`**Partition ${index + 1} / ${Math.max(state.count, index + 1)}** (tiles ${range.start}–${range.end - 1}); open it for the tiles' progress`);
    const handle = await startChild(partitionWorkflow, {
      workflowId: partitionId(batchId, index),
      args: [
        {
          batchId,
          prepared,
          range,
          backends: state.backends,
          paused: state.paused,
          pausedBackends: state.pausedBackends,
          added: state.added,
          addedBefore: state.addedCount - state.added.length,
        },
      ],
      parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
      staticSummary: `partition ${index + 1}: tiles ${range.start}–${range.end - 1}`,
    });
    state.added = [];
    current = handle.workflowId;
    const result = await handle.result();
    current = undefined;
    for (const status of Object.keys(result.ended) as (keyof StatusCounts)[]) state.ended[status] += result.ended[status];
    state.failedTiles.push(...result.failedTiles.slice(0, MAX_LISTED_FAILURES - state.failedTiles.length));
    state.costs += result.costs;
    state.backends = result.backends;
    state.paused = result.paused;
    state.pausedBackends = result.pausedBackends;
    state.doneTiles += result.totalTiles;
    state.next = Math.max(state.next + 1, index + 1);
    if (state.next >= state.count && state.added.length === 0) break;
    if (workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > spec.scheduling.maxEventsPerRun) {
      await condition(allHandlersFinished);
      await input.continueAsNew(state);
    }
  }
  return { ...state, totalTiles: totalTiles + state.addedCount };
}
