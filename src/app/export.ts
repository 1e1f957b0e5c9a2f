/**
 * A batch exported like the Python job manager's job database: one row per tile in CSV,
 * GeoJSON or GeoParquet, read from Temporal with `readBatchRecords` (the one way this project
 * reads a batch's records).
 */
import type { Client } from '@temporalio/client';
import { writeFileAtomically } from '../core/write-atomically';
import { readBatchRecords } from '../../activities/records/read';
import { encodeJobDatabase, jobDatabaseRows, parseExportFormat, type ExportFormat } from '../core/job-database';

/** Options of {@link OpenEOBatchClient.exportTiles}. */
export interface ExportOptions {
  /** The format to encode the rows in. */
  format: ExportFormat;
  /** Write the export to this file (replaced whole, never left half-written). */
  out?: string;
  /** The batch's `outputDir`, read when Temporal no longer holds the batch (see `OpenEOBatchClient.records`). */
  savedIn?: string;
}

/** A batch's tiles, exported: the encoded bytes and what went into them. */
export interface TileExport {
  /** The format the rows are encoded in. */
  format: ExportFormat;
  /** The encoded export: UTF-8 text for CSV and GeoJSON, a Parquet file for parquet. */
  bytes: Uint8Array;
  /** Tiles exported (one row each). */
  rows: number;
  /** The file written, when `out` was given. */
  path?: string;
  /** Why some outlines are missing (e.g. the batch's tile file is not readable here). */
  problem?: string;
}

/** Reads every tile of the batch and encodes it; writes the file when `options.out` is given. */
export async function exportBatch(client: Client, batchId: string, options: ExportOptions): Promise<TileExport> {
  const format = parseExportFormat(options.format);
  const records = await readBatchRecords(client, batchId, options.savedIn ? { savedIn: options.savedIn } : {});
  const bytes = await encodeJobDatabase(jobDatabaseRows(records.tiles), format);
  const result: TileExport = {
    format,
    bytes,
    rows: records.tiles.length,
    ...(records.problem ? { problem: records.problem } : {}),
  };
  if (options.out) {
    // A reader never sees half a file.
    await writeFileAtomically(options.out, bytes);
    result.path = options.out;
  }
  return result;
}
