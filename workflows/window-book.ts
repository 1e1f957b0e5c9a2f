/**
 * The window's bookkeeping: which tiles are in flight on which backend (and whether they still
 * hold a slot), what has ended, which backends are paused, and where the next tile comes from.
 * Its state is plain data (`window-state.ts`), so it crosses continue-as-new as is; its logic is
 * pure, so it is tested without a server.
 */
import { addCosts } from '../src/core/costs';
import { assembleProgress, summaryOf, type BatchProgress } from '../src/core/progress';
import type { StatusCounts, TileRecord } from '../src/core/records';
import type { BackendSpec, BatchSpec } from '../src/core/batch-spec/schema';
import { periodIds } from '../src/core/batch-spec/tile-periods';
import { allowedBackends, type Tile } from '../src/core/batch-spec/tile-types';
import type { PendingTiles } from './added-tiles';
import { budgetStop, recordSpend, type SpendingNow } from './budget';
import { Lines } from './lines';
import type { WindowState } from './window-state';

/** Tiles the window fetches per page, and at most this many fetched tiles wait for a backend. */
export const TILE_PAGE_SIZE = 100;
export const MAX_DEFERRED = 200;

/**
 * Tiles in flight at most, lined-up ones included: Temporal allows a workflow run 2,000 pending
 * child workflows (`parallelJobs` is capped at the same number).
 */
export const MAX_TILES_IN_FLIGHT = 2_000;

/** At most this many failed tiles are listed with their reason; all are counted. */
export const MAX_LISTED_FAILURES = 1000;

// Where a tile may go is read the same way by the batch's placement and by its checks before any job.
export { allowedBackends };

/**
 * A failure of the user's own hooks (job factory, post-processor): not the backend's doing, so it
 * neither pauses the backend nor moves the tile to another one.
 */
export function isTileLocalFailure(error: TileRecord['error']): boolean {
  return error?.code === 'JobFactoryFailed' || error?.code === 'PostprocessFailed';
}

export class WindowBook {
  /** Tiles lined up behind in-flight ones. */
  readonly lines = new Lines(this);
  /**
   * The budget holds back tiles: set by the window when the batch has a budget and its patch
   * holds (see `BUDGET_PATCH`); off in plans and in batches without a budget.
   */
  budgeted = false;

  constructor(
    readonly state: WindowState,
    /** Pause a backend after this many tiles failed on it in a row. */
    private readonly pauseAfterErrors: number,
  ) {}

  inFlightCount(): number {
    return Object.keys(this.state.inFlight).length;
  }

  hasRoomInFlight(): boolean {
    return this.inFlightCount() < MAX_TILES_IN_FLIGHT;
  }

  slotsInUse(backend: string): number {
    return Object.values(this.state.inFlight).filter((t) => t.backend === backend && t.holdsSlot).length;
  }

  waitingOn(backend: string): number {
    return Object.values(this.state.inFlight).filter((t) => t.backend === backend && t.waiting).length;
  }

  /** Free slots of a backend, zero while it is paused or its queue is full. */
  freeSlots(backend: BackendSpec): number {
    if (this.state.paused || backend.name in this.state.pausedBackends || this.budgetStop(backend.name) !== undefined)
      return 0;
    const free = backend.parallelJobs - this.slotsInUse(backend.name);
    if (backend.maxQueued === undefined) return Math.max(0, free);
    return Math.max(0, Math.min(free, backend.maxQueued - this.waitingOn(backend.name)));
  }

  /** What the budget projects from: reported costs and the tiles in flight per backend. */
  private spendingNow(): SpendingNow {
    const inFlight: Record<string, number> = {};
    // A tile whose job ended with its costs (it still downloads) has spent them, no longer expected.
    const spend = Object.fromEntries(Object.entries(this.state.spend ?? {}).map(([name, s]) => [name, { ...s }]));
    let costs = this.state.costs;
    for (const t of Object.values(this.state.inFlight)) {
      if (t.costs === undefined) inFlight[t.backend] = (inFlight[t.backend] ?? 0) + 1;
      else {
        recordSpend(spend, t.backend, t.costs);
        costs = addCosts(costs, t.costs);
      }
    }
    return { spend, costs, inFlight };
  }

  /** Why one more tile may not start on `backend` for the budget, if it may not. */
  budgetStop(backend: string): string | undefined {
    if (!this.budgeted || !this.state.budget) return undefined;
    return budgetStop(this.state.budget, this.spendingNow(), backend);
  }

  /** The backend's slots are not held back by the budget. */
  budgetAllows(backend: BackendSpec): boolean {
    return this.budgetStop(backend.name) === undefined;
  }

  hasCapacity(): boolean {
    return this.state.backends.some((b) => this.freeSlots(b) > 0);
  }

  /**
   * The allowed backend with the most free slots (the first listed wins a tie), if any has one.
   * A tile being retried avoids the backends it failed on.
   */
  pickBackendFor(tile: Tile): BackendSpec | undefined {
    let best: BackendSpec | undefined;
    let bestFree = 0;
    for (const backend of this.eligibleBackends(tile)) {
      const free = this.freeSlots(backend);
      if (free > bestFree) [best, bestFree] = [backend, free];
    }
    return best;
  }

  /** The backends a tile may start (or line up) on: allowed by the tile, and not failed on before. */
  eligibleBackends(tile: Tile): BackendSpec[] {
    const allowed = allowedBackends(tile);
    const failedOn = this.state.retries[tile.id]?.failedOn ?? [];
    return this.state.backends.filter((b) => (!allowed || allowed.includes(b.name)) && !failedOn.includes(b.name));
  }

  /** A tile that names no backend of this batch can never start. */
  unknownBackendOf(tile: Tile): string | undefined {
    return allowedBackends(tile)?.find((name) => !this.state.backends.some((b) => b.name === name));
  }

  /** Takes a slot for `tileId`; call before the child starts, so no report is missed. */
  markStarted(tileId: string, backend: string, keepTile?: Tile): void {
    this.state.inFlight[tileId] = { backend, holdsSlot: true, waiting: true, ...(keepTile ? { tile: keepTile } : {}) };
  }

  /**
   * After a failed job: if the tile has attempts left and another allowed backend exists, takes
   * it out of flight (uncounted) and returns it, to be started again elsewhere.
   */
  takeForRetryElsewhere(
    record: Pick<TileRecord, 'tileId' | 'status' | 'attempts' | 'error' | 'costs'>,
    maxAttempts: number,
  ): Tile | undefined {
    const inFlight = this.state.inFlight[record.tileId];
    if (
      !inFlight?.tile ||
      record.status !== 'error' ||
      record.attempts >= maxAttempts ||
      isTileLocalFailure(record.error)
    )
      return undefined;
    const failedOn = [...(this.state.retries[record.tileId]?.failedOn ?? []), inFlight.backend];
    const allowed = allowedBackends(inFlight.tile) ?? this.state.backends.map((b) => b.name);
    if (!allowed.some((name) => !failedOn.includes(name))) return undefined;
    this.lines.leave(record.tileId);
    delete this.state.inFlight[record.tileId];
    // The failed jobs were paid for: the budget counts them, though the tile has not ended.
    recordSpend((this.state.spend ??= {}), inFlight.backend, record.costs);
    this.state.retries[record.tileId] = { attempts: record.attempts, failedOn };
    return inFlight.tile;
  }

  markRunning(tileId: string): boolean {
    const tile = this.state.inFlight[tileId];
    if (!tile || !tile.waiting) return false;
    tile.waiting = false;
    return true;
  }

  /**
   * The tile's job ended on the backend: its slot is free even though the download goes on. The
   * job's outcome counts for the backend's error streak now, so a failing backend is paused
   * before another tile can take the freed slot.
   */
  markJobEnded(tileId: string, jobStatus: string, error?: TileRecord['error'], costs?: number): boolean {
    const tile = this.state.inFlight[tileId];
    if (!tile || !tile.holdsSlot) return false;
    tile.holdsSlot = false;
    if (costs !== undefined) tile.costs = costs;
    tile.waiting = false;
    this.lines.handOn(tileId);
    this.noteOutcome(tile.backend, jobStatus === 'error' ? 'error' : 'finished', error);
    return true;
  }

  /**
   * Records a tile's end. Returns false, and changes nothing, for a tile that is not in flight:
   * a duplicate or late report, so every tile is counted exactly once.
   */
  recordEnd(record: Pick<TileRecord, 'tileId' | 'status' | 'error' | 'costs'>): boolean {
    const tile = this.state.inFlight[record.tileId];
    if (!tile) return false;
    this.lines.leave(record.tileId);
    delete this.state.inFlight[record.tileId];
    delete this.state.retries[record.tileId];
    this.countEnd(record);
    // Plain data, no command: kept with or without a budget, so a budget set later knows the costs per backend.
    recordSpend((this.state.spend ??= {}), tile.backend, record.costs);
    // A tile that never got a job to its end (e.g. the backend refused it) counts for the streak now.
    if (
      tile.holdsSlot &&
      (record.status === 'finished' || record.status === 'error') &&
      !isTileLocalFailure(record.error)
    )
      this.noteOutcome(tile.backend, record.status, record.error);
    return true;
  }

  /** Counts a tile that ended without ever being in flight (e.g. it named an unknown backend). */
  countEnd(record: Pick<TileRecord, 'tileId' | 'status' | 'error' | 'costs'>): void {
    this.state.ended[record.status] += 1;
    this.state.costs = addCosts(this.state.costs, record.costs ?? 0);
    if (record.status === 'error' && this.state.failedTiles.length < MAX_LISTED_FAILURES) {
      this.state.failedTiles.push({
        tileId: record.tileId,
        error: record.error ?? { code: 'Unknown', message: 'no reason given' },
      });
    }
  }

  private noteOutcome(backend: string, outcome: 'finished' | 'error', error: TileRecord['error']): void {
    if (outcome === 'finished') {
      this.state.errorStreak[backend] = 0;
      return;
    }
    const streak = (this.state.errorStreak[backend] ?? 0) + 1;
    this.state.errorStreak[backend] = streak;
    if (streak >= this.pauseAfterErrors && !(backend in this.state.pausedBackends)) {
      this.state.pausedBackends[backend] =
        `${streak} tiles in a row failed on this backend (last: ${error?.code ?? 'Unknown'}: ${error?.message ?? 'no reason'}); ` +
        'fix the cause, then resume it with the resumeBackend update';
    }
  }

  /** Tiles this window is responsible for: its range and the tiles added to it. */
  totalTiles(): number {
    return this.state.endTileIndex - this.state.firstTileIndex + this.state.addedCount;
  }

  /** True when no tile is left to start (in flight ones may still run). */
  nothingLeftToStart(): boolean {
    return (
      this.state.nextTileIndex >= this.state.endTileIndex &&
      this.state.deferred.length === 0 &&
      this.state.added.length === 0
    );
  }

  /** Counts over the window's tiles: ended by status, in flight as running, the rest not started. */
  counts(totalTiles: number): StatusCounts {
    const counts = { ...this.state.ended };
    counts.running += this.inFlightCount();
    const ended = Object.values(this.state.ended).reduce((a, b) => a + b, 0);
    counts.not_started = Math.max(0, totalTiles - ended - this.inFlightCount());
    return counts;
  }

  /** The window's progress as the batch query and the Temporal UI show it. */
  progress(batchId: string, spec: BatchSpec, totalTiles: number, problem?: string): BatchProgress {
    const { state } = this;
    const budgetPauses = this.budgetPauses();
    // Every backend held back, one at least by the budget: the batch as a whole waits for a higher one.
    const held = state.backends.every((b) => b.name in state.pausedBackends || b.name in budgetPauses);
    const budgetProblem = held ? Object.values(budgetPauses)[0] : undefined;
    problem ??= budgetProblem;
    const tally = { ended: this.counts(totalTiles), failedTiles: state.failedTiles, costs: state.costs };
    return assembleProgress(summaryOf(batchId, spec, tally, totalTiles), {
      inFlight: Object.entries(state.inFlight).map(([tileId, t]) => ({ tileId, backend: t.backend })),
      run: state.run,
      paused: state.paused,
      pausedBackends: { ...state.pausedBackends, ...budgetPauses },
      backends: state.backends,
      problem,
    });
  }

  /** Backends the budget holds back, with the reason (the batch's own pause shows apart). */
  private budgetPauses(): Record<string, string> {
    const pauses: Record<string, string> = {};
    if (!this.budgeted) return pauses;
    for (const backend of this.state.backends) {
      const stop = backend.name in this.state.pausedBackends ? undefined : this.budgetStop(backend.name);
      if (stop) pauses[backend.name] = stop;
    }
    return pauses;
  }

  /** Tiles known and not ended (in flight, fetched and waiting, added and waiting), for checking added ones. */
  pendingTiles(periods: BatchSpec['periods']): PendingTiles {
    const { inFlight, deferred, added } = this.state;
    const ids = new Set([...Object.keys(inFlight), ...deferred.map((t) => t.id), ...added.map((t) => t.id)]);
    const ofPeriods = periodIds(periods);
    return { ids, addedWaiting: added.length, ...(ofPeriods ? { periodIds: ofPeriods } : {}) };
  }
}
