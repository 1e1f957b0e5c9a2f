/**
 * Signals, queries and updates between a batch, its partitions, its tiles and the outside
 * world. Module-level constants, so the client, the CLI and the workflows share one definition.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { BatchProgress } from '../src/core/progress';
import { TILE_PROGRESS_QUERY, type TileError, type TileRecord } from '../src/core/records';
import type { BackendSpec, BudgetSpec } from '../src/core/batch-spec/schema';
import type { Tile, TileFeature } from '../src/core/batch-spec/tile-types';
import { BACKEND_LOGIN_FAILED_SIGNAL, type BackendLoginFailure } from '../src/core/openeo/login-failure';

/** A tile tells its window that it ended (finished, error or canceled), with its record. */
export const tileCompleted = defineSignal<[TileRecord]>('tileCompleted');
/**
 * A tile's openEO job ended on the backend: its slot is free while results download. `costs`:
 * what the tile's jobs cost, when the backend said (the budget counts them from now on).
 */
export const tileJobEnded =
  defineSignal<[{ tileId: string; jobStatus: string; error?: TileError; costs?: number }]>('tileJobEnded');
/** A tile's openEO job left the backend's queue (sent only for backends with `maxQueued`). */
export const tileJobRunning = defineSignal<[{ tileId: string }]>('tileJobRunning');

/**
 * A lined-up tile's job was not started for it when the job ahead ended (that job failed, or the
 * start did): the tile asks its window to say when the slot is its own.
 */
export const tileNeedsWord = defineSignal<[{ tileId: string }]>('tileNeedsWord');
/** The window to a lined-up tile that asked: the slot is yours, start your job. */
export const slotGiven = defineSignal('slotGiven');

/** A worker can no longer log in to a backend (sent by an activity): the window pauses that backend. */
export const backendLoginFailed = defineSignal<[BackendLoginFailure]>(BACKEND_LOGIN_FAILED_SIGNAL);

/** Changes to a running batch. The batch forwards them to its current partition. */
export type BatchControl =
  | { type: 'setParallelJobs'; backend: string; parallelJobs: number; maxQueued?: number }
  | { type: 'pause' }
  | { type: 'resume' }
  | { type: 'resumeBackend'; backend: string }
  | { type: 'setBudget'; budget: BudgetSpec }
  | { type: 'addTiles'; features: TileFeature[] };

/** The partition's copy of a settings change sent to its batch. */
export const controlPartition = defineSignal<[Exclude<BatchControl, { type: 'addTiles' }>]>('controlPartition');
/** Tiles added to a partitioned batch, numbered by the batch, for its running partition. */
export const partitionTilesAdded = defineSignal<[{ tiles: Tile[] }]>('partitionTilesAdded');

/** Change how many jobs a backend may have at once; returns the backends as configured now. */
export const setParallelJobs = defineUpdate<
  BackendSpec[],
  [{ backend: string; parallelJobs: number; maxQueued?: number }]
>('setParallelJobs');
/** Stop starting new tiles (running ones go on); resume with `resumeBatch`. */
export const pauseBatch = defineUpdate<void>('pauseBatch');
export const resumeBatch = defineUpdate<void>('resumeBatch');
/** Start tiles on a backend the batch paused after repeated failures. */
export const resumeBackend = defineUpdate<void, [{ backend: string }]>('resumeBackend');
/**
 * Change the batch's budget in credits: `credits` replaces the batch's, `backends` sets those
 * backends' limits (the others keep theirs). Returns the budget as it is now.
 */
export const setBudget = defineUpdate<BudgetSpec, [BudgetSpec]>('setBudget');
/** Add tiles (GeoJSON features in EPSG:4326) to the running batch; returns their ids. */
export const addTiles = defineUpdate<string[], [{ features: TileFeature[] }]>('addTiles');

/** What is the batch's progress right now? */
export const batchProgress = defineQuery<BatchProgress>('batchProgress');
/** What is this tile's record right now? */
export const tileProgress = defineQuery<TileRecord>(TILE_PROGRESS_QUERY);

export type { BatchProgress };
