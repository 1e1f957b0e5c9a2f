/**
 * What a tile says to the window that started it: that its job ended, that it waits for its slot,
 * and its finished record. A window that is gone is not the tile's error.
 */
import {
  condition,
  getExternalWorkflowHandle,
  patched,
  setCurrentDetails,
  setHandler,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import { tileWorkflowId } from '../src/core/ids';
import { OPENEO_JOB_ID, TILE_RECORD_MEMO, TILE_STATUS } from '../src/core/search-attributes';
import { slotGiven, tileCompleted, tileNeedsWord } from './messages';
import { LEAN_TILE_PATCH, type AttemptContext } from './tile-attempt';
import type { TileJournal } from './tile-journal';
import { tileIsAtLeast, tileTakes, type TileVersioned } from './tile-version';

/**
 * How a lined-up tile waits for its slot when its job was not started for it: it asks its window,
 * which answers once the tile ahead gave the slot up (at once if it has).
 */
export function lineUpBehind(
  tile: TileVersioned,
  batchId: string,
  tileId: string,
  aheadTileId: string,
): NonNullable<AttemptContext['lineUp']> {
  let slotIsOurs = false;
  setHandler(slotGiven, () => {
    slotIsOurs = true;
  });
  return {
    aheadWorkflowId: tileWorkflowId(batchId, aheadTileId),
    slotIsOurs: () => slotIsOurs,
    awaitSlot: async () => {
      await tellParent(tile, (parent) => parent.signal(tileNeedsWord, { tileId }));
      await condition(() => slotIsOurs);
    },
  };
}

/**
 * Patch id: the finished record is also kept in the tile workflow's memo, so one visibility
 * listing gives every ended tile's row (map, exports) without reading each history.
 */
export const RECORD_MEMO_PATCH = 'tile-record-memo';

/**
 * Patch id (0.11.0): a tile records the markers of the patches every tile of this release takes
 * ({@link LEAN_TILE_PATCH}, {@link RECORD_MEMO_PATCH}) in its first workflow task. Temporal Cloud
 * bills the markers of one workflow task as one Action: before, the memo's marker came with the
 * tile's last task, a second Action per tile.
 */
export const MARKERS_UP_FRONT_PATCH = 'tile-markers-up-front';

/**
 * Takes 0.11.0's patches at the tile's start (see {@link MARKERS_UP_FRONT_PATCH}). A tile that
 * began before it replays its first task without them and records them where it always did; a
 * tile with a version (see tile-version.ts) records none.
 */
export function patchesUpFront(tile: TileVersioned): void {
  if (tileIsAtLeast(tile, 1) || !patched(MARKERS_UP_FRONT_PATCH)) return;
  patched(LEAN_TILE_PATCH);
  patched(RECORD_MEMO_PATCH);
}

/**
 * Stamps the end, makes it searchable, and tells the batch (which may have ended already). From
 * version 1 the job's id is made searchable here too, with the status: one upsert, one billed
 * Action, instead of one more per job.
 */
export async function finish(journal: TileJournal, tile: TileVersioned): Promise<void> {
  const details = journal.finish();
  const { status, openeoJobId } = journal.record;
  const jobId = tileIsAtLeast(tile, 1) && openeoJobId !== undefined ? [{ key: OPENEO_JOB_ID, value: openeoJobId }] : [];
  upsertSearchAttributes([{ key: TILE_STATUS, value: status }, ...jobId]);
  if (tileTakes(tile, 'tile-record-memo')) upsertMemo({ [TILE_RECORD_MEMO]: journal.record });
  setCurrentDetails(details);
  await tellParent(tile, (parent) => parent.signal(tileCompleted, journal.record), true);
}

/**
 * Signals the window that started this tile; a window that is gone is not an error. Since
 * {@link LEAN_TILE_PATCH} a tile that goes on afterwards does not wait for the signal to be
 * taken: it goes out with the tile's next step (e.g. the download) in the same workflow task.
 * The tile's last signal is always waited for: the server drops a signal whose sender has
 * closed by the time it would be delivered.
 */
export async function tellParent(
  tile: TileVersioned,
  send: (parent: ReturnType<typeof getExternalWorkflowHandle>) => Promise<void>,
  last = false,
): Promise<void> {
  const parent = workflowInfo().parent;
  if (!parent) return;
  const sent = send(getExternalWorkflowHandle(parent.workflowId)).catch(() => {
    // The batch ended or was terminated: the record stays in this workflow's result.
  });
  if (last || !tileTakes(tile, 'lean-tile')) await sent;
}
