/**
 * Very large batches as a two-level tree: the batch runs partition workflows one after the
 * other, each a sliding window over `tilesPerPartition` tiles. Every run stays far below
 * Temporal's history limits, and because one partition runs at a time, the backends' slots are
 * never shared, so `parallelJobs` stays exact. The price is a short tail at each partition's end.
 */
import { detailsWithHeadline } from '../src/core/batch-headline';
import {
  ParentClosePolicy,
  allHandlersFinished,
  condition,
  getExternalWorkflowHandle,
  patched,
  setCurrentDetails,
  startChild,
  type SignalDefinition,
} from '@temporalio/workflow';
import { partitionWorkflowId } from '../src/core/ids';
import type { PreparedBatch } from '../src/core/batch-spec/prepare';
import type { BackendSpec } from '../src/core/batch-spec/schema';
import { periodIds } from '../src/core/batch-spec/tile-periods';
import type { Tile } from '../src/core/batch-spec/tile-types';
import { AddedTiles, type PendingTiles } from './added-tiles';
import { applyControl, type SettingsControl } from './controls';
import type { BatchController, BatchHandlers } from './handlers';
import { controlPartition, partitionTilesAdded } from './messages';
import { partitionWorkflow, type PartitionInput, type PartitionResult } from './partition';
import {
  addPartitionResult,
  decodePartitionsState,
  initialPartitionsState,
  partitionRange,
  partitionsProgress,
  type PartitionsState,
} from './partitions-state';
import { historyIsLong } from './window';

export interface PartitionsInput {
  batchId: string;
  prepared: PreparedBatch;
  state?: PartitionsState;
  handlers: BatchHandlers;
  continueAsNew(state: PartitionsState): Promise<never>;
}

/**
 * Patch id of 0.6.0: the batch's own pause and slots win over an ended partition's, and the batch
 * signals its partition one change at a time, in order. Before, a resume the partition took in
 * the very task it completed in was missing from its result, which paused the batch again; and
 * a change forwarded after a partition's start could overtake one made during the start.
 */
export const OWN_SETTINGS_PATCH = 'partition-settings-owned';

/**
 * Patch id of 0.7.0: a partition counts the changes its batch forwarded, and the batch applies
 * again those its result predates. Before, a `resumeBackend` the partition took in the very task
 * it completed in was missing from its result, and the next partition started with the backend
 * paused.
 */
export const COUNTED_CONTROLS_PATCH = 'partition-controls-counted';

/**
 * The batch's side of its partitions: it owns the settings and numbers added tiles for all, and
 * hands changes to the running partition. A change that cannot reach a partition (it is still
 * starting, or has just closed) is kept and applied later, never lost.
 */
class PartitionRunner {
  /** The running partition's workflow id. */
  private current?: string;
  private starting = false;
  /** Settings changes made while a partition started: forwarded once it runs. */
  private forwardLater: SettingsControl[] = [];
  /** Settings changes the running partition never got (it closed first): applied over its result. */
  private undelivered: SettingsControl[] = [];
  private readonly additions: AddedTiles;
  /** Signals to the running partition go one after the other (see {@link OWN_SETTINGS_PATCH}). */
  private outbox: Promise<unknown> = Promise.resolve();
  /** Settings changes the running partition was sent, in order (see {@link COUNTED_CONTROLS_PATCH}). */
  private forwarded: SettingsControl[] = [];

  constructor(
    private readonly input: PartitionsInput,
    readonly state: PartitionsState,
    /** {@link OWN_SETTINGS_PATCH} holds for this run. */
    private readonly ownSettings: boolean,
    /** {@link COUNTED_CONTROLS_PATCH} holds for this run. */
    private readonly countedControls: boolean,
  ) {
    this.additions = new AddedTiles(input.batchId, input.prepared.spec.periods, {
      pendingTiles: () => this.pendingTiles(),
      nextAddedIndex: () => input.prepared.totalTiles + state.addedCount,
      takeAdded: async (tiles) => {
        state.addedCount += tiles.length;
        await this.handOver(tiles);
      },
    });
  }

  controller(): BatchController {
    return {
      progress: () => partitionsProgress(this.input.batchId, this.input.prepared, this.state, this.current),
      settings: () => this.state,
      pendingTiles: () => this.pendingTiles(),
      apply: (control) =>
        control.type === 'addTiles' ? this.additions.add(control.features) : this.changeSettings(control),
    };
  }

  /** Added tiles waiting for a partition (the running one's tiles are checked by the activity). */
  private pendingTiles(): PendingTiles {
    const periods = periodIds(this.input.prepared.spec.periods);
    return {
      ids: new Set(this.state.added.map((t) => t.id)),
      addedWaiting: this.state.added.length,
      ...(periods ? { periodIds: periods } : {}),
    };
  }

  private async changeSettings(control: SettingsControl): Promise<BackendSpec[]> {
    applyControl(this.state, control);
    if (this.starting) this.forwardLater.push(control);
    else if (this.current && !(await this.forward(control))) this.undelivered.push(control);
    return this.state.backends;
  }

  /** Forwards a settings change to the running partition; false when it has closed meanwhile. */
  private forward(control: SettingsControl): Promise<boolean> {
    // Signals are sent in order, so the changes are noted in the order the partition takes them.
    const forwarded = this.forwarded;
    return this.signal(controlPartition, control).then((sent) => {
      if (sent) forwarded.push(control);
      return sent;
    });
  }

  /** Gives numbered tiles to the running partition, or keeps them for the next one. */
  private async handOver(tiles: Tile[]): Promise<void> {
    if (this.current && !this.starting && (await this.signal(partitionTilesAdded, { tiles }))) return;
    this.state.added.push(...tiles);
  }

  /** Signals the running partition, after the signals before; false when it has closed meanwhile. */
  private signal<T extends unknown[]>(definition: SignalDefinition<T>, ...args: T): Promise<boolean> {
    if (!this.ownSettings) return this.signalNow(definition, ...args);
    const sent = this.outbox.then(() => this.signalNow(definition, ...args));
    this.outbox = sent;
    return sent;
  }

  private async signalNow<T extends unknown[]>(definition: SignalDefinition<T>, ...args: T): Promise<boolean> {
    // A signal that waited its turn may find the partition ended: the caller keeps what it carried.
    if (this.current === undefined) return false;
    try {
      await getExternalWorkflowHandle(this.current).signal(definition, ...args);
      return true;
    } catch {
      return false;
    }
  }

  /** Runs partition `index` to its end and adds up its result. */
  async runPartition(index: number): Promise<void> {
    const { batchId, prepared } = this.input;
    const { state } = this;
    const range = partitionRange(index, prepared.spec.scheduling.tilesPerPartition, prepared.totalTiles);
    setCurrentDetails(
      detailsWithHeadline(
        `**Partition ${index + 1} / ${Math.max(state.count, index + 1)}** (tiles ${range.start}–${range.end - 1}); open it for the tiles' progress`,
        prepared.spec,
        batchId,
      ),
    );
    const handedOver = state.added.length;
    const partitionInput: PartitionInput = {
      batchId,
      prepared,
      range,
      backends: state.backends,
      paused: state.paused,
      pausedBackends: state.pausedBackends,
      added: state.added.slice(0, handedOver),
      addedBefore: state.addedCount - handedOver,
      // One partition runs at a time: handed what the batch spent so far, its window holds the batch's budget.
      ...(state.budget ? { budget: state.budget } : {}),
      ...(state.spend ? { spend: state.spend } : {}),
    };
    this.starting = true;
    this.forwarded = [];
    // Changes kept from an earlier partition are in this one's input already.
    if (this.countedControls) this.undelivered = [];
    const handle = await startChild(partitionWorkflow, {
      workflowId: partitionWorkflowId(batchId, index),
      args: [partitionInput],
      parentClosePolicy: ParentClosePolicy.REQUEST_CANCEL,
      staticSummary: `partition ${index + 1}: tiles ${range.start}–${range.end - 1}`,
      // A worker that takes a partition over replays its run first: thousands of events, which on a
      // busy 2-core machine took 17 s, past the default 10 s. A task that times out is replayed from
      // the start again, so the partition could go on missing its deadline. Continued runs keep it.
      workflowTaskTimeout: '60s',
    });
    this.current = handle.workflowId;
    this.starting = false;
    await this.catchUp(handedOver);
    const result = await handle.result();
    this.current = undefined;
    // What the partition took too late for its result, then what never reached it (it had closed),
    // still holds for the batch and the next partitions.
    addPartitionResult(state, index, result, this.ownSettings, [
      ...this.unseenBy(result),
      ...this.undelivered.splice(0),
    ]);
    state.added.unshift(...(result.unstarted ?? []));
  }

  /** The changes forwarded to a partition that its result predates. */
  private unseenBy(result: PartitionResult): SettingsControl[] {
    // Partitions started by older code did not count what they took.
    if (!this.countedControls || result.controlsTaken === undefined) return [];
    return this.forwarded.slice(result.controlsTaken);
  }

  /** Hands the partition what arrived while it started: later added tiles and settings changes. */
  private async catchUp(handedOver: number): Promise<void> {
    const arrived = this.state.added.splice(0).slice(handedOver);
    if (arrived.length > 0) await this.handOver(arrived);
    for (const control of this.forwardLater.splice(0)) {
      if (!(await this.forward(control))) this.undelivered.push(control);
    }
  }
}

/** Runs the partitions in order and adds up their results. */
export async function runPartitions(input: PartitionsInput): Promise<PartitionsState & { totalTiles: number }> {
  const { spec, totalTiles } = input.prepared;
  const state0 = input.state
    ? decodePartitionsState(input.prepared, input.state)
    : initialPartitionsState(input.prepared);
  const runner = new PartitionRunner(input, state0, patched(OWN_SETTINGS_PATCH), patched(COUNTED_CONTROLS_PATCH));
  const { state } = runner;
  input.handlers.attach(runner.controller());

  // Added tiles that arrive after the last partition get one more partition of their own.
  while (state.next < state.count || state.added.length > 0) {
    await runner.runPartition(state.next);
    if (state.next >= state.count && state.added.length === 0) {
      // Changes accepted as the last partition ended are applied first: tiles added now still run.
      await condition(allHandlersFinished);
      continue;
    }
    if (historyIsLong(spec.scheduling.maxEventsPerRun)) {
      await condition(allHandlersFinished);
      await input.continueAsNew(state);
    }
  }
  return { ...state, totalTiles: totalTiles + state.addedCount };
}
