/**
 * The batch saving its own job database beside its results (see `saved.ts`): at checkpoints
 * while it runs and once when it ends. The records are read the way every view reads them
 * (`readBatchRecords`, through the worker's Temporal client), so the file holds what `export`
 * would show, and tiles whose workflows retention deleted keep their earlier saved record.
 */
import { Context } from '@temporalio/activity';
import { readBatchRecords } from './read';
import { saveRecords } from './saved';

/** @inline */
export interface SaveRecordsInput {
  batchId: string;
  /** The batch has ended: the last save. */
  complete: boolean;
}

/** @inline */
export interface SavedRecordsAnswer {
  /** Where the records went: a path on the worker or an `s3://` URL. */
  location: string;
  /** Tiles in them. */
  tiles: number;
}

export function createRecordsActivities() {
  return {
    /** Reads every tile's record of the batch and writes both files beside its results. */
    async saveBatchRecords(input: SaveRecordsInput): Promise<SavedRecordsAnswer> {
      const records = await readBatchRecords(Context.current().client, input.batchId);
      const location = await saveRecords(records, input.complete, new Date());
      return { location, tiles: records.tiles.length };
    },
  };
}
