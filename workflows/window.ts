/**
 * The sliding window over a range of tiles: start a tile workflow whenever a backend has a free
 * slot, count each tile's end once, take live changes, and continue as new before the run's
 * history grows large. Used by `batchWorkflow` for a whole batch and by `partitionWorkflow` for
 * one partition of a very large one.
 */
import {
  CancellationScope,
  allHandlersFinished,
  condition,
  isCancellation,
  patched,
  setCurrentDetails,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import { progressDetails, type BatchProgress } from '../src/core/progress';
import { detailsWithHeadline } from '../src/core/batch-headline';
import type { BackendSpec, BatchSpec } from '../src/core/batch-spec/schema';
import { pagePlaces } from '../src/core/batch-spec/tile-periods';
import type { Tile } from '../src/core/batch-spec/tile-types';
import { loginPauseReason } from '../src/core/openeo/login-failure';
import { durably, tilePageActivities } from './activity-options';
import { applyControl } from './controls';
import { BUDGET_PATCH } from './budget';
import { AddedTiles } from './added-tiles';
import type { BatchHandlers } from './handlers';
import {
  backendLoginFailed,
  tileCompleted,
  tileJobEnded,
  tileJobRunning,
  tileNeedsWord,
  type BatchControl,
} from './messages';
import { lineUpTiles, placeTiles, type TileStart } from './placement';
import { SlotWords, WORDS_AGAIN_PATCH, tilesOwedWord } from './slot-words';
import { cancelTilesInFlight, startTileWorkflow } from './tile-starts';
import { MAX_DEFERRED, TILE_PAGE_SIZE, WindowBook } from './window-book';
import type { WindowState } from './window-state';
import { initialCheckpoint, RecordsKeeper } from './records-keeper';

/**
 * Patch id of 0.6.0's lined-up tiles: while a backend's slots are all taken, the window starts
 * one waiting tile behind each running one, whose job is created ahead and started the moment
 * the job ahead finishes (see `lineUpTiles`). Windows of older runs never line tiles up.
 */
export const LINE_UP_PATCH = 'line-up';

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

/** One run of the window: its book, its handlers, and the work of filling free slots. */
class SlidingWindow {
  readonly book: WindowBook;
  private changed = false;
  /** What the window waits for right now, shown in its progress. */
  private problem?: string;
  private readonly additions: AddedTiles;
  /** Words to lined-up tiles: all sent before the run ends or continues as new. */
  private readonly words: SlotWords;
  /** Checkpoints of the batch's records: a save under way ends before the run does. */
  readonly records: RecordsKeeper;

  constructor(private readonly input: WindowInput) {
    this.book = new WindowBook(input.state, input.spec.scheduling.pauseBackendAfterErrors);
    this.words = new SlotWords(input.batchId);
    input.state.records ??= initialCheckpoint();
    this.records = new RecordsKeeper(input.batchId, input.spec.scheduling.saveRecordsEveryMinutes, input.state.records);
    this.additions = new AddedTiles(input.batchId, input.spec.periods, {
      pendingTiles: () => this.book.pendingTiles(this.input.spec.periods),
      nextAddedIndex: () => input.sourceTiles + this.state.addedCount,
      takeAdded: (tiles) => this.receiveTiles(tiles),
    });
  }

  private get state(): WindowState {
    return this.input.state;
  }

  /** Tiles this window is responsible for: its range and the tiles added to it. */
  total(): number {
    return this.book.totalTiles();
  }

  private touch(): void {
    this.changed = true;
  }

  /** Waits until a report or a change arrives. */
  async nextChange(): Promise<void> {
    await condition(() => this.changed);
    this.changed = false;
  }

  /** Takes the tiles' reports (by signal) and serves the batch's query and updates. */
  listen(): void {
    const { spec } = this.input;
    setHandler(tileCompleted, (record) => {
      const previous = spec.rerun?.previousAttempts[record.tileId] ?? 0;
      const again = spec.retryOnOtherBackend
        ? this.book.takeForRetryElsewhere(record, previous + spec.maxAttempts)
        : undefined;
      if (again) this.state.deferred.unshift(again);
      else this.records.tileEnded();
      if (again || this.book.recordEnd(record)) this.touch();
      this.sendWords();
    });
    setHandler(tileJobEnded, ({ tileId, jobStatus, error, costs }) => {
      if (this.book.markJobEnded(tileId, jobStatus, error, costs)) this.touch();
      this.sendWords();
    });
    setHandler(tileNeedsWord, ({ tileId }) => {
      this.book.lines.askForWord(tileId);
      this.sendWords();
    });
    setHandler(tileJobRunning, ({ tileId }) => {
      if (this.book.markRunning(tileId)) this.touch();
    });
    // Tiles in flight wait for a new login by themselves; no new tile starts there meanwhile.
    setHandler(backendLoginFailed, (failure) => {
      if (failure.backend in this.state.pausedBackends || !this.state.backends.some((b) => b.name === failure.backend))
        return;
      this.state.pausedBackends[failure.backend] = loginPauseReason(failure);
      this.touch();
    });
    this.input.handlers.attach({
      progress: () => this.progress(),
      settings: () => this.state,
      pendingTiles: () => this.book.pendingTiles(this.input.spec.periods),
      apply: (control) => this.apply(control),
      receiveTiles: (tiles) => this.receiveTiles(tiles),
    });
  }

  /** Tells lined-up tiles that their slot is theirs now. */
  private sendWords(): void {
    this.words.send(this.book.lines.takeWordsDue());
  }

  /** A run that took over tiles in flight says the word again to those it may be owed to (see {@link WORDS_AGAIN_PATCH}). */
  sayWordsAgain(): void {
    const owed = tilesOwedWord(this.state.inFlight);
    if (owed.length > 0 && patched(WORDS_AGAIN_PATCH)) this.words.send(owed);
  }

  /** Words still on their way have gone out. */
  async wordsSent(): Promise<void> {
    await this.words.allSent();
  }

  progress(): BatchProgress {
    return this.book.progress(this.input.batchId, this.input.spec, this.total(), this.problem);
  }

  private noteProblem(problem: string | undefined): void {
    this.problem = problem === undefined ? undefined : `reading tiles: ${problem}`;
    this.show();
  }

  show(): void {
    const details = progressDetails(this.progress(), (backend) => this.book.slotsInUse(backend));
    // The batch's own window also names the batch; a partition's page has its own summary.
    const own = workflowInfo().workflowId === this.input.batchId;
    setCurrentDetails(own ? detailsWithHeadline(details, this.input.spec, this.input.batchId) : details);
  }

  private async apply(control: BatchControl): Promise<BackendSpec[] | string[]> {
    if (control.type === 'addTiles') return this.additions.add(control.features);
    if (this.state.controlsTaken !== undefined) this.state.controlsTaken += 1;
    applyControl(this.state, control);
    this.touch();
    return this.state.backends;
  }

  /** Queues tiles numbered already (by this window, or by the batch for its partition). */
  private receiveTiles(tiles: Tile[]): void {
    this.state.added.push(...tiles);
    this.state.addedCount += tiles.length;
    this.touch();
  }

  /**
   * Starts a tile's workflow. A tile moved to another backend (or retried) reuses its workflow
   * id, so it waits for its previous workflow to close; a tile that ran under this batch id
   * before is skipped, never run twice.
   */
  private async startTile(start: TileStart): Promise<void> {
    const { batchId, spec } = this.input;
    const outcome = await startTileWorkflow(batchId, spec, this.state, start);
    if (outcome === 'started') return;
    const tileId = start.tile.id;
    if (outcome === 'ran-before') this.book.recordEnd({ tileId, status: 'skipped' });
    else
      this.book.recordEnd({
        tileId,
        status: 'error',
        error: {
          code: 'TileStillRunning',
          message: `the tile's previous workflow did not close; it was not started again`,
        },
      });
    this.touch();
  }

  /** The next page of source tiles, at most `room` of them. */
  private async nextPage(room: number): Promise<Tile[]> {
    const { spec, tileFingerprint } = this.input;
    const { periods } = spec;
    const state = this.state;
    // An inline collection is sliced here, so history never holds it whole for every page.
    // With periods a page's tiles are pairs: the slice holds the places they need.
    const tiles =
      'features' in spec.tiles
        ? { ...spec.tiles, features: spec.tiles.features.slice(...pagePlaces(periods, state.nextTileIndex, room)) }
        : spec.tiles;
    const page = await durably(
      () =>
        tilePageActivities.listTiles({
          tiles,
          offset: state.nextTileIndex,
          limit: room,
          fingerprint: tileFingerprint,
          ...(periods ? { periods } : {}),
        }),
      (problem) => this.noteProblem(problem),
    );
    state.nextTileIndex += page.length;
    return page;
  }

  /** Starts tiles while backends have free slots; the children start concurrently. */
  async fill(): Promise<void> {
    const state = this.state;
    const keepTiles = this.input.spec.retryOnOtherBackend;
    const starts: Promise<void>[] = [];
    // Asked only once a budget is set: batches without one run (and replay) as before.
    if (!this.book.budgeted && state.budget !== undefined) this.book.budgeted = patched(BUDGET_PATCH);
    while (!state.paused && this.book.hasCapacity()) {
      for (const queue of [state.deferred, state.added]) {
        for (const start of placeTiles(this.book, queue, keepTiles)) starts.push(this.startTile(start));
      }
      const room = this.pageRoom();
      if (!this.book.hasCapacity() || room <= 0) break;
      const page = await this.nextPage(room);
      state.deferred.push(...page);
      if (page.length === 0) break;
    }
    // Only windows past the line-up patch have lined-up tiles to move.
    if (this.book.lines.any()) this.moveLinedUp();
    if (this.mayLineUp() && patched(LINE_UP_PATCH))
      starts.push(...(await this.lineUp()).map((start) => this.startTile(start)));
    await Promise.all(starts);
    this.show();
  }

  /** Source tiles the next page may fetch. */
  private pageRoom(): number {
    const state = this.state;
    return Math.min(TILE_PAGE_SIZE, MAX_DEFERRED - state.deferred.length, state.endTileIndex - state.nextTileIndex);
  }

  /** Some running tile has room behind it, and some tile waits to start (or may be fetched). */
  private mayLineUp(): boolean {
    const state = this.state;
    // Specs carried by batches of older releases have no `lineUpJobs`: they do not line up.
    if (this.input.spec.scheduling.lineUpJobs !== true) return false;
    if (state.paused || !state.backends.some((b) => this.book.lines.spots(b).length > 0)) return false;
    return state.deferred.length > 0 || state.added.length > 0 || state.nextTileIndex < state.endTileIndex;
  }

  /** Lines waiting tiles up behind running ones, fetching a page first when none is fetched. */
  private async lineUp(): Promise<TileStart[]> {
    const state = this.state;
    const keepTiles = this.input.spec.retryOnOtherBackend;
    if (state.deferred.length === 0 && state.added.length === 0 && this.pageRoom() > 0)
      state.deferred.push(...(await this.nextPage(this.pageRoom())));
    return [state.deferred, state.added].flatMap((queue) => lineUpTiles(this.book, queue, keepTiles));
  }

  /** Gives slots no waiting tile took to tiles lined up behind a running job (see `moveLinedUp`). */
  private moveLinedUp(): void {
    if (this.state.paused) return;
    let moved = 0;
    for (const backend of this.state.backends) moved += this.book.lines.moveToFreeSlots(backend);
    if (moved > 0) this.sendWords();
  }

  /** Every tile of the range and every added tile has ended. */
  done(): boolean {
    return this.book.nothingLeftToStart() && this.book.inFlightCount() === 0;
  }

  /** The state the next run starts from. */
  carryOver(): WindowState {
    return { ...this.state, run: this.state.run + 1 };
  }
}

/** True when this run's history is long enough to continue as new. */
export function historyIsLong(maxEventsPerRun: number): boolean {
  const info = workflowInfo();
  return info.continueAsNewSuggested || info.historyLength > maxEventsPerRun;
}

/** Runs the window until every tile of its range (and every added tile) has ended. */
export async function runWindow(input: WindowInput): Promise<WindowResult> {
  const window = new SlidingWindow(input);
  window.listen();
  window.sayWordsAgain();
  try {
    for (;;) {
      await window.fill();
      window.records.saveIfDue();
      if (window.done()) {
        // Changes accepted as the last tiles ended are applied first: tiles added now still run.
        await condition(allHandlersFinished);
        await window.wordsSent();
        if (window.done()) break;
        continue;
      }
      if (historyIsLong(input.spec.scheduling.maxEventsPerRun)) {
        await condition(allHandlersFinished);
        await window.wordsSent();
        await window.records.settled();
        return await input.continueAsNew(window.carryOver());
      }
      await window.nextChange();
    }
  } catch (err) {
    if (isCancellation(err))
      await CancellationScope.nonCancellable(() => cancelTilesInFlight(input.batchId, window.book));
    throw err;
  }
  await window.records.settled();
  window.show();
  return { state: input.state, totalTiles: window.total() };
}
