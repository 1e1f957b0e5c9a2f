/**
 * The window's lines: tiles lined up behind in-flight ones, whose jobs are created ahead and
 * take the slot ahead the moment its job ends (see `lineUpTiles`). The lines are plain data in
 * the window's state (`behind`, `next` and `needsWord` of in-flight tiles), so they cross
 * continue-as-new as they are; this class keeps both ends of each line consistent.
 */
import type { BackendSpec } from '../src/core/batch-spec/schema';
import type { Tile } from '../src/core/batch-spec/tile-types';
import type { WindowState } from './window-state';

/** What the lines need to know of the window's slots (the window's book). */
export interface Slots {
  readonly state: WindowState;
  slotsInUse(backend: string): number;
  freeSlots(backend: BackendSpec): number;
  /** Another tile may go in flight: Temporal's limit of pending children is not reached. */
  hasRoomInFlight(): boolean;
}

export class Lines {
  /** Tiles to be told they hold their slot now (see `askForWord`); not carried over, sent at once. */
  private readonly wordsDue: string[] = [];

  constructor(private readonly slots: Slots) {}

  private get inFlight(): WindowState['inFlight'] {
    return this.slots.state.inFlight;
  }

  /**
   * Lines `tileId` up behind `aheadId`, a tile that holds a slot of `backend`: it takes that slot
   * when the job ahead ends. Call before the child starts, so no report is missed.
   */
  add(tileId: string, backend: string, aheadId: string, keepTile?: Tile): void {
    this.inFlight[tileId] = {
      backend,
      holdsSlot: false,
      waiting: false,
      behind: aheadId,
      ...(keepTile ? { tile: keepTile } : {}),
    };
    this.inFlight[aheadId].next = tileId;
  }

  /**
   * Tiles of `backend` a waiting tile may line up behind: they hold a slot and have no tile lined
   * up yet. Only while exactly all `parallelJobs` are taken (a free slot is filled at once; after
   * `parallelJobs` was lowered, a lined-up tile would keep the excess), and while the backend's
   * last job did not fail: a failing backend gets no job created ahead, so at most the tiles
   * lined up before its first failure start there before it is paused. None while paused.
   */
  spots(backend: BackendSpec): string[] {
    const { state } = this.slots;
    if (state.paused || backend.name in state.pausedBackends || (state.errorStreak[backend.name] ?? 0) > 0) return [];
    if (this.slots.slotsInUse(backend.name) !== backend.parallelJobs || !this.slots.hasRoomInFlight()) return [];
    return Object.entries(this.inFlight)
      .filter(([, t]) => t.backend === backend.name && t.holdsSlot && t.next === undefined)
      .map(([id]) => id);
  }

  /** Some tile is lined up behind another. */
  any(): boolean {
    return Object.values(this.inFlight).some((t) => t.behind !== undefined);
  }

  /**
   * The tile ahead gave its slot up: the tile lined up behind it, if any, holds it now, and gets
   * the window's word if it asked for it (its job was not started for it).
   */
  handOn(aheadId: string): void {
    const ahead = this.inFlight[aheadId];
    const nextId = ahead?.next;
    if (nextId === undefined) return;
    delete ahead.next;
    const next = this.inFlight[nextId];
    if (next?.behind !== aheadId) return;
    delete next.behind;
    next.holdsSlot = true;
    next.waiting = true;
    if (!next.needsWord) return;
    delete next.needsWord;
    this.wordsDue.push(nextId);
  }

  /** A tile leaves flight: the tile behind it takes its slot, and the tile ahead forgets it. */
  leave(tileId: string): void {
    this.handOn(tileId);
    const aheadId = this.inFlight[tileId]?.behind;
    if (aheadId !== undefined && this.inFlight[aheadId]?.next === tileId) delete this.inFlight[aheadId].next;
  }

  /**
   * Moves tiles lined up on `backend` to its free slots: a slot that would stay idle (no other
   * tile is left to take it) is better used now than after the job ahead, which may be long or
   * stuck. Each moved tile holds its slot at once and gets the window's word; it calls its
   * hand-over off and starts its job itself. Call after placing tiles, so waiting tiles come first.
   */
  moveToFreeSlots(backend: BackendSpec): number {
    let free = this.slots.freeSlots(backend);
    let moved = 0;
    for (const [id, tile] of Object.entries(this.inFlight)) {
      if (free === 0) break;
      if (tile.backend !== backend.name || tile.behind === undefined) continue;
      const ahead = this.inFlight[tile.behind];
      if (ahead?.next === id) delete ahead.next;
      delete tile.behind;
      delete tile.needsWord;
      tile.holdsSlot = true;
      tile.waiting = true;
      this.wordsDue.push(id);
      free--;
      moved++;
    }
    return moved;
  }

  /**
   * A lined-up tile says its job was not started for it (the job ahead did not finish, or the
   * start failed): it starts the job itself once it holds the slot. It gets the window's word
   * at once if it holds the slot already, else when the tile ahead gives the slot up.
   */
  askForWord(tileId: string): void {
    const tile = this.inFlight[tileId];
    if (!tile) return;
    if (tile.behind !== undefined) tile.needsWord = true;
    else if (tile.holdsSlot) this.wordsDue.push(tileId);
  }

  /** Lined-up tiles that hold their slot now and wait for the window's word to start their job. */
  takeWordsDue(): string[] {
    return this.wordsDue.splice(0);
  }
}
