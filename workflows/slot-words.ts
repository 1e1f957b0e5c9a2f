/**
 * The window's words to lined-up tiles: `slotGiven`, sent once a tile holds its slot (see
 * `Lines.takeWordsDue`). A run of the window waits for the words on their way before it ends or
 * continues as new, so none is lost with it.
 */
import { getExternalWorkflowHandle } from '@temporalio/workflow';
import { tileWorkflowId } from '../core/ids';
import { slotGiven } from './messages';

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
