/**
 * Signals and queries between the batch, its tiles, and the outside world. Module-level
 * constants, so the client, the CLI and the workflows share one definition of each.
 */
import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { BatchSummary, TileRecord } from '../src/records';

/** A tile workflow tells its batch that it ended (finished, error or canceled). */
export const tileCompleted = defineSignal<[TileRecord]>('tileCompleted');

/** What is the batch's progress right now? */
export const batchProgress = defineQuery<BatchProgress>('batchProgress');

/** What is this tile's record right now? */
export const tileProgress = defineQuery<TileRecord>('tileProgress');

export interface BatchProgress extends BatchSummary {
  /** The tiles in flight, with their backend. */
  inFlight: { tileId: string; backend: string }[];
  /** Number of this batch's workflow runs so far (continue-as-new starts a new run). */
  run: number;
}
