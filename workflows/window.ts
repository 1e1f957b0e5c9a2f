/**
 * The sliding window over a range of tiles: start a tile workflow whenever a backend has a free
 * slot, count each tile's end once, take live changes, and continue as new before the run's
 * history grows large. Used by `batchWorkflow` for a whole batch and by `partitionWorkflow` for
 * one partition of a very large one.
 */
import {
  CancellationScope,
  ParentClosePolicy,
  allHandlersFinished,
  condition,
  getExternalWorkflowHandle,
  isCancellation,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  startChild,
  workflowInfo,
} from '@temporalio/workflow';
import { WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy } from '@temporalio/common';
import type { OpenEOActivities } from '../activities';
import type { BatchSpec, BackendSpec } from '../src/spec/schema';
import type { Tile, TileFeatureCollection } from '../src/spec/tile-types';
import { BACKEND, BATCH_ID, TILE_STATUS } from '../src/search-attributes';
import { WindowBook, type WindowState } from './batch-state';
import { invalidChange, type BatchHandlers } from './control';
import { tileCompleted, tileJobEnded, tileJobRunning, type BatchControl, type BatchProgress } from './messages';
import { tileWorkflow } from './tile';

/** Tiles fetched per page, and at most this many fetched tiles wait for a backend. */
const TILE_PAGE_SIZE = 100;
const MAX_DEFERRED = 200;
/** Tiles that may wait in the added queue; more must wait for a new batch. */
export const MAX_ADDED_WAITING = 500;

const { listTiles, normalizeAddedTiles } = proxyActivities<OpenEOActivities>({
  startToCloseTimeout: '2m',
  retry: { initialInterval: '2s', maximumInterval: '30s', maximumAttempts: 10 },
});

/** Ids of tile workflows: stable and readable, `antwerp-bap/tile-E590000-N5660000`. */
export function tileWorkflowId(batchId: string, tileId: string): string {
  return `${batchId}/tile-${tileId}`;
}

export interface WindowInput {
  batchId: string;
  spec: BatchSpec;
  /** Tiles in the whole source (for the ids of added tiles). */
  sourceTiles: number;
  tileFingerprint?: string;
  state: WindowState;
  /** The workflow's query and update handlers, which this window serves while it runs. */
  handlers: BatchHandlers;
  /** Continues the calling workflow as new with this state. */
  continueAsNew(state: WindowState): Promise<never>;
}

export interface WindowResult {
  state: WindowState;
  /** Tiles this window was responsible for: its range and the tiles added to it. */
  totalTiles: number;
}

/** Applies a live change to the window; throws (rejecting the update) when it makes no sense. */
function applyControl(book: WindowBook, control: Exclude<BatchControl, { type: 'addTiles' }>): void {
  const state = book.state;
  const backendNamed = (name: string): BackendSpec => {
    const backend = state.backends.find((b) => b.name === name);
    if (!backend) throw invalidChange(`backend "${name}" is not part of this batch; it has ${state.backends.map((b) => b.name).join(', ')}`);
    return backend;
  };
  switch (control.type) {
    case 'setParallelJobs': {
      if (!Number.isInteger(control.parallelJobs) || control.parallelJobs < 0) throw invalidChange('parallelJobs must be a whole number ≥ 0');
      const backend = backendNamed(control.backend);
      backend.parallelJobs = control.parallelJobs;
      if (control.maxQueued !== undefined) backend.maxQueued = control.maxQueued;
      return;
    }
    case 'pause':
      state.paused = true;
      return;
    case 'resume':
      state.paused = false;
      return;
    case 'resumeBackend':
      backendNamed(control.backend);
      delete state.pausedBackends[control.backend];
      state.errorStreak[control.backend] = 0;
      return;
  }
}

/** Runs the window until every tile of its range (and every added tile) has ended. */
export async function runWindow(input: WindowInput): Promise<WindowResult> {
  const { batchId, spec, state } = input;
  const book = new WindowBook(state, spec.scheduling.pauseBackendAfterErrors);
  const rangeSize = state.endTileIndex - state.firstTileIndex;
  const total = () => rangeSize + state.addedCount;
  let changed = false;
  const touch = () => {
    changed = true;
  };

  const show = () => {
    const c = book.counts(total());
    const done = c.finished + c.error + c.canceled + c.skipped;
    const lines = [
      `**${done} / ${total()} tiles done**${state.paused ? ' — **paused**' : ''}: finished ${c.finished}, error ${c.error}, ` +
        `canceled ${c.canceled}, skipped ${c.skipped}, running ${c.running}, not started ${c.not_started}`,
      '',
      ...state.backends.map((b) => {
        const pause = state.pausedBackends[b.name];
        return `- ${b.name}: ${book.slotsInUse(b.name)} / ${b.parallelJobs} jobs${pause ? ` — **paused**: ${pause}` : ''}`;
      }),
    ];
    setCurrentDetails(lines.join('\n'));
  };

  setHandler(tileCompleted, (record) => {
    const previous = spec.rerun?.previousAttempts[record.tileId] ?? 0;
    const again = spec.retryOnOtherBackend ? book.takeForRetryElsewhere(record, previous + spec.maxAttempts) : undefined;
    if (again) state.deferred.unshift(again);
    if (again || book.recordEnd(record)) touch();
  });
  setHandler(tileJobEnded, ({ tileId, jobStatus, error }) => {
    if (book.markJobEnded(tileId, jobStatus, error)) touch();
  });
  setHandler(tileJobRunning, ({ tileId }) => {
    if (book.markRunning(tileId)) touch();
  });
  input.handlers.attach({
    progress: (): BatchProgress => ({
      batchId,
      totalTiles: total(),
      counts: book.counts(total()),
      failedTiles: state.failedTiles,
      outputDir: `${spec.outputDir}/${batchId}`,
      costs: state.costs,
      inFlight: Object.entries(state.inFlight).map(([tileId, t]) => ({ tileId, backend: t.backend })),
      run: state.run,
      paused: state.paused,
      pausedBackends: state.pausedBackends,
      backends: state.backends,
    }),
    async apply(control) {
      if (control.type === 'addTiles') return queueAddedTiles(control.features);
      applyControl(book, control);
      touch();
      return state.backends;
    },
  });

  async function queueAddedTiles(features: TileFeatureCollection['features']): Promise<string[]> {
    if (state.added.length + features.length > MAX_ADDED_WAITING) {
      throw invalidChange(`features: at most ${MAX_ADDED_WAITING} added tiles may wait at once; add fewer now and more later`);
    }
    const tiles = await normalizeAddedTiles({ features, firstIndex: input.sourceTiles + state.addedCount });
    state.added.push(...tiles);
    state.addedCount += tiles.length;
    touch();
    return tiles.map((t) => t.id);
  }

  const startTile = async (tile: Tile, backend: BackendSpec): Promise<void> => {
    try {
      await startChild(tileWorkflow, {
        workflowId: tileWorkflowId(batchId, tile.id),
        args: [
          {
            batchId,
            tile,
            backend: { name: backend.name, url: backend.url },
            process: spec.process,
            parameterDefaults: spec.parameterDefaults,
            parameterMapping: spec.parameterMapping,
            jobOptions: spec.jobOptions,
            outputDir: spec.outputDir,
            polling: spec.polling,
            reportRunning: backend.maxQueued !== undefined,
            // With retryOnOtherBackend the window moves a failed tile itself, one job per start.
            maxAttempts: spec.retryOnOtherBackend ? 1 : spec.maxAttempts,
            firstAttempt: (state.retries[tile.id]?.attempts ?? spec.rerun?.previousAttempts[tile.id] ?? 0) + 1,
            timeouts: spec.timeouts,
          },
        ],
        // Tiles outlive a window run: they report back by signal to whichever run is current.
        parentClosePolicy: ParentClosePolicy.ABANDON,
        // A tile that already ran under this batch id never runs again, unless this run retries failed tiles.
        workflowIdReusePolicy:
          spec.rerun || tile.id in state.retries ? WorkflowIdReusePolicy.ALLOW_DUPLICATE : WorkflowIdReusePolicy.REJECT_DUPLICATE,
        staticSummary: `tile ${tile.id} on ${backend.name}`,
        typedSearchAttributes: [
          { key: BATCH_ID, value: batchId },
          { key: BACKEND, value: backend.name },
          { key: TILE_STATUS, value: 'running' },
        ],
      });
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      // This tile ran under this batch id before: never twice.
      book.recordEnd({ tileId: tile.id, status: 'skipped' });
      touch();
    }
  };

  /** Starts tiles while backends have free slots; the children start concurrently. */
  const fillWindow = async (): Promise<void> => {
    const starts: Promise<void>[] = [];
    const place = (queue: Tile[]) => {
      for (let i = 0; i < queue.length && book.hasCapacity(); ) {
        const tile = queue[i];
        const unknown = book.unknownBackendOf(tile);
        const backend = unknown === undefined ? book.pickBackendFor(tile) : undefined;
        if (unknown !== undefined) {
          queue.splice(i, 1);
          book.countEnd({ tileId: tile.id, status: 'error', error: { code: 'UnknownBackend', message: `the tile asks for backend "${unknown}", which the batch does not list` } });
        } else if (backend) {
          queue.splice(i, 1);
          book.markStarted(tile.id, backend.name, spec.retryOnOtherBackend ? tile : undefined);
          starts.push(startTile(tile, backend));
        } else {
          i++;
        }
      }
    };
    while (!state.paused && book.hasCapacity()) {
      place(state.deferred);
      place(state.added);
      const room = Math.min(TILE_PAGE_SIZE, MAX_DEFERRED - state.deferred.length, state.endTileIndex - state.nextTileIndex);
      if (!book.hasCapacity() || room <= 0) break;
      const tiles = 'features' in spec.tiles
        ? { ...spec.tiles, features: spec.tiles.features.slice(state.nextTileIndex, state.nextTileIndex + room) }
        : spec.tiles;
      const page = await listTiles({ tiles, offset: state.nextTileIndex, limit: room, fingerprint: input.tileFingerprint });
      state.nextTileIndex += page.length;
      state.deferred.push(...page);
      if (page.length === 0) break;
    }
    await Promise.all(starts);
    show();
  };

  try {
    for (;;) {
      await fillWindow();
      if (book.nothingLeftToStart() && book.inFlightCount() === 0) break;
      const info = workflowInfo();
      if (info.continueAsNewSuggested || info.historyLength > spec.scheduling.maxEventsPerRun) {
        await condition(allHandlersFinished);
        return await input.continueAsNew({ ...state, run: state.run + 1 });
      }
      await condition(() => changed);
      changed = false;
    }
  } catch (err) {
    if (isCancellation(err)) await CancellationScope.nonCancellable(() => cancelInFlight(batchId, book));
    throw err;
  }
  show();
  return { state, totalTiles: total() };
}

/** Asks every in-flight tile (started by this run or an earlier one) to cancel, and waits for their reports. */
async function cancelInFlight(batchId: string, book: WindowBook): Promise<void> {
  await Promise.all(
    Object.keys(book.state.inFlight).map((tileId) =>
      getExternalWorkflowHandle(tileWorkflowId(batchId, tileId))
        .cancel()
        .catch(() => book.recordEnd({ tileId, status: 'canceled' })),
    ),
  );
  await condition(() => book.inFlightCount() === 0, '10 minutes');
}
