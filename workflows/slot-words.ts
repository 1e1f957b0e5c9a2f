/**
 * The window's words to lined-up tiles: `slotGiven`, sent once a tile holds its slot (see
 * `Lines.takeWordsDue`). A run of the window waits for the words on their way before it ends or
 * continues as new, so none is lost with it; since {@link WORDS_AGAIN_PATCH} a new run also says
 * the word again to every tile that holds its slot and waits, in case one still went out with the
 * continue-as-new.
 */
import { getExternalWorkflowHandle } from '@temporalio/workflow';
import { tileWorkflowId } from '../src/core/ids';
import { slotGiven } from './messages';
import type { WindowState } from './window-state';

/**
 * Patch id: a run that carries tiles holding their slot and waiting for their job's start tells
 * each of them again that the slot is theirs. A word sent in the same workflow task as the
 * previous run's continue-as-new is dropped by the server (its sender has closed), and a tile
 * that asked for it would wait for ever. A tile that has its word already, or never asked,
 * ignores the second one.
 */
export const WORDS_AGAIN_PATCH = 'slot-words-again';

/** Carried tiles that hold their slot and wait for their job's start: those a word may be owed to. */
export function tilesOwedWord(inFlight: WindowState['inFlight']): string[] {
  return Object.entries(inFlight)
    .filter(([, tile]) => tile.holdsSlot && tile.waiting && tile.behind === undefined)
    .map(([tileId]) => tileId);
}

export class SlotWords {
  private readonly onTheirWay = new Set<Promise<void>>();

  constructor(private readonly batchId: string) {}

  /** Tells these tiles that their slot is theirs now. */
  send(tileIds: readonly string[]): void {
    for (const tileId of tileIds) {
      const sent = getExternalWorkflowHandle(tileWorkflowId(this.batchId, tileId))
        .signal(slotGiven)
        .catch(() => {
          // The tile ended meanwhile (e.g. cancelled): it needs no word.
        });
      this.onTheirWay.add(sent);
      void sent.finally(() => this.onTheirWay.delete(sent));
    }
  }

  /** Words still on their way have gone out. */
  async allSent(): Promise<void> {
    await Promise.all([...this.onTheirWay]);
  }
}
