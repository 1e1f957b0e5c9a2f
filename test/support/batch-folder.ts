/** What a batch's output folder holds beside its tile folders. */
import { SAVED_RECORDS_FILE, SAVED_RECORDS_PARQUET } from '../../activities/records/saved';

/** The batch's own files: its STAC collection and items, and its saved records. */
export const BATCH_FILES = ['collection.json', 'items', SAVED_RECORDS_FILE, SAVED_RECORDS_PARQUET] as const;

/** The tile folders among a batch folder's entries, sorted. */
export function tileFoldersIn(entries: readonly string[]): string[] {
  return entries.filter((name) => !(BATCH_FILES as readonly string[]).includes(name)).sort();
}
