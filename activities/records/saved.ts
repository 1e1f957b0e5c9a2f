/**
 * A batch's job database kept beside its results, so it outlives Temporal's retention: a closed
 * tile workflow (its memo, its result) is deleted once the namespace's retention has passed, but
 * the batch's output location keeps what it held for as long as its results are kept.
 *
 * Under `<outputDir>/<batchId>/`, where the batch's STAC collection is too:
 * - `job-database.json.gz`: every tile's record as the views read it (the rows of
 *   `readBatchRecords`, outlines included) and the spec, for this project to read back;
 * - `job-database.parquet`: the same rows as the export's GeoParquet, for people and their tools
 *   (geopandas, QGIS, the Python job manager's `ParquetJobDatabase`).
 */
import { buffer } from 'node:stream/consumers';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { BatchSpec } from '../../src/core/batch-spec/schema';
import { encodeJobDatabase, jobDatabaseRows } from '../../src/core/job-database';
import type { BatchRecords, TileRow } from '../../src/core/records';
import { resultStore } from '../store';

/** The file's layout; readers skip a file of a newer one rather than misread it. */
export const SAVED_RECORDS_VERSION = 1;

export const SAVED_RECORDS_FILE = 'job-database.json.gz';
export const SAVED_RECORDS_PARQUET = 'job-database.parquet';

/** What `job-database.json.gz` holds. */
export interface SavedRecords {
  version: typeof SAVED_RECORDS_VERSION;
  batchId: string;
  /** When it was written (RFC 3339). */
  savedAt: string;
  /** Written when the batch ended: no tile changes any more. */
  complete: boolean;
  spec: BatchSpec;
  tiles: TileRow[];
}

/** The keys of a batch's two files in its result store. */
const keysOf = (batchId: string) => ({
  records: `${batchId}/${SAVED_RECORDS_FILE}`,
  parquet: `${batchId}/${SAVED_RECORDS_PARQUET}`,
});

/** Where a batch's saved records are, for people and messages: a path or an `s3://` URL. */
export function savedRecordsLocation(outputDir: string, batchId: string): string {
  return resultStore(outputDir).location(keysOf(batchId).records);
}

/** Writes both files, each replaced whole; answers where the records went. */
export async function saveRecords(records: BatchRecords, complete: boolean, savedAt: Date): Promise<string> {
  const { batchId, spec } = records;
  const store = resultStore(spec.outputDir);
  const keys = keysOf(batchId);
  const saved: SavedRecords = {
    version: SAVED_RECORDS_VERSION,
    batchId,
    savedAt: savedAt.toISOString(),
    complete,
    spec,
    tiles: records.tiles,
  };
  // The GeoParquet first: the JSON is what readers trust, so it is written last.
  const parquet = await encodeJobDatabase(jobDatabaseRows(records.tiles), 'parquet');
  await store.put(keys.parquet, Buffer.from(parquet), {
    contentType: 'application/vnd.apache.parquet',
  });
  await store.put(keys.records, gzipSync(JSON.stringify(saved)), {
    contentType: 'application/gzip',
  });
  return store.location(keys.records);
}

/**
 * The batch's saved records, or `undefined` when it has none yet. Throws when they are there but
 * cannot be read (the message says where), so a view can say why tiles are missing.
 */
export async function readSavedRecords(outputDir: string, batchId: string): Promise<SavedRecords | undefined> {
  const stored = await resultStore(outputDir).get(keysOf(batchId).records);
  if (!stored) return undefined;
  return decodeSavedRecords(gunzipSync(await buffer(stored.body)).toString('utf8'), batchId);
}

/** Parses the file, keeping only well-formed rows; `undefined` for another batch's or a newer layout. */
export function decodeSavedRecords(text: string, batchId: string): SavedRecords | undefined {
  const doc = JSON.parse(text) as Partial<SavedRecords> | null;
  if (!doc || doc.version !== SAVED_RECORDS_VERSION || doc.batchId !== batchId || !Array.isArray(doc.tiles))
    return undefined;
  const tiles = doc.tiles.filter(
    (row): row is TileRow =>
      typeof row === 'object' && row !== null && typeof row.tileId === 'string' && typeof row.status === 'string',
  );
  return {
    version: SAVED_RECORDS_VERSION,
    batchId,
    savedAt: String(doc.savedAt ?? ''),
    complete: doc.complete === true,
    spec: doc.spec as BatchSpec,
    tiles: tiles.map((row) => ({ ...row, geometry: row.geometry ?? null })),
  };
}

/**
 * Rows Temporal still holds, completed from saved ones: a tile whose workflow is gone (retention
 * deleted it) reads as not started from Temporal alone; its saved record is the truth. Tiles that
 * only the saved records know (added tiles whose workflows are gone) come last, in their order.
 */
export function withSavedRows(live: readonly TileRow[], saved: readonly TileRow[]): TileRow[] {
  const savedById = new Map(saved.map((row) => [row.tileId, row]));
  const rows = live.map((row) => {
    const kept = savedById.get(row.tileId);
    savedById.delete(row.tileId);
    if (!kept || row.workflowId !== undefined || kept.status === 'not_started') return row;
    return { ...kept, geometry: row.geometry ?? kept.geometry };
  });
  return [...rows, ...savedById.values()];
}
