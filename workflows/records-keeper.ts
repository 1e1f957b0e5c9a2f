/**
 * The batch keeps its job database beside its results (activities/records/saved.ts): Temporal
 * deletes a closed tile workflow, and the record in it, once the namespace's retention has
 * passed, while the batch's results stay. A window saves the records at checkpoints as tiles
 * end (at most every `scheduling.saveRecordsEveryMinutes`), the batch once more when it ends.
 */
import { log, patched } from '@temporalio/workflow';
import { durably, recordsActivities } from './activity-options';

/**
 * Patch id of 0.11.0's saved records. Batches that ran before replay without saving; one
 * still running when its worker is upgraded saves from its next checkpoint on.
 */
export const SAVE_RECORDS_PATCH = 'records-beside-results';

/** Minutes between checkpoints when the spec sets none. */
export const DEFAULT_SAVE_RECORDS_MINUTES = 60;

/** What a window carries across continue-as-new about its checkpoints. */
export interface RecordsCheckpoint {
  /** Workflow time (ms) of the last save, or of the window's start before any. */
  savedAtMs: number;
  /** Tiles that ended since then. */
  unsavedEnds: number;
}

export function initialCheckpoint(): RecordsCheckpoint {
  return { savedAtMs: Date.now(), unsavedEnds: 0 };
}

/** A window's checkpoints: one save at a time, in the background, finished before the run ends. */
export class RecordsKeeper {
  private saving?: Promise<void>;
  private saves?: boolean;

  constructor(
    private readonly batchId: string,
    private readonly everyMinutes: number | undefined,
    private readonly checkpoint: RecordsCheckpoint,
  ) {}

  tileEnded(): void {
    this.checkpoint.unsavedEnds += 1;
  }

  /** Starts a save when tiles ended since the last one and the interval has passed. */
  saveIfDue(): void {
    const { checkpoint } = this;
    const everyMs = (this.everyMinutes ?? DEFAULT_SAVE_RECORDS_MINUTES) * 60_000;
    if (this.saving || checkpoint.unsavedEnds === 0 || Date.now() - checkpoint.savedAtMs < everyMs) return;
    // Asked once a save is due, so histories of batches from before the patch replay unchanged.
    this.saves ??= patched(SAVE_RECORDS_PATCH);
    if (!this.saves) return;
    const ends = checkpoint.unsavedEnds;
    checkpoint.unsavedEnds = 0;
    checkpoint.savedAtMs = Date.now();
    this.saving = recordsActivities
      .saveBatchRecords({ batchId: this.batchId, complete: false })
      .then(
        () => undefined,
        (err: unknown) => {
          // A checkpoint that failed is taken at the next one; the batch goes on meanwhile.
          checkpoint.unsavedEnds += ends;
          log.warn(`could not save the batch's records: ${err instanceof Error ? err.message : String(err)}`);
        },
      )
      .finally(() => {
        this.saving = undefined;
      });
  }

  /** The save under way, if any, has ended. */
  async settled(): Promise<void> {
    await this.saving;
  }
}

/**
 * The batch's last save, once every tile has ended. An outage of the output location is waited
 * out (shown in the batch's details), as any batch-level call is.
 */
export async function saveRecordsAtEnd(batchId: string, show: (problem: string | undefined) => void): Promise<void> {
  if (!patched(SAVE_RECORDS_PATCH)) return;
  try {
    await durably(() => recordsActivities.saveBatchRecords({ batchId, complete: true }), show);
  } catch (err) {
    // Only a failure retrying cannot fix gets here: the batch's results stand without the file.
    log.warn(`could not save the batch's records: ${err instanceof Error ? err.message : String(err)}`);
  }
}
