/**
 * A batch exported like the Python job manager's job database: one row per tile in CSV,
 * GeoJSON or GeoParquet, read from Temporal with `readBatchRecords` (the one way this project
 * reads a batch's records).
 */
import type { Client } from '@temporalio/client';
import { writeFileAtomically } from '../../core/write-atomically';
import { readBatchRecords } from '../batch-records';
import { jobDatabaseCsv } from './csv';
import { jobDatabaseGeoJson } from './geojson';
import { jobDatabaseGeoParquet } from './geoparquet';
import { jobDatabaseRows, type JobDatabaseRow } from './job-database';

export {
  JOB_DATABASE_COLUMNS,
  jobDatabaseRow,
  jobDatabaseRows,
  jobManagerStatus,
  type JobDatabaseRow,
  type JobManagerStatus,
} from './job-database';

/** The formats a batch exports to: CSV, GeoJSON and GeoParquet (`parquet`). */
export const EXPORT_FORMATS = ['csv', 'geojson', 'parquet'] as const;
/** One of {@link EXPORT_FORMATS}. */
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** Options of {@link OpenEOBatchClient.exportTiles}. */
export interface ExportOptions {
  /** The format to encode the rows in. */
  format: ExportFormat;
  /** Write the export to this file (replaced whole, never left half-written). */
  out?: string;
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

/** The format named by `value`; a clear error otherwise. */
export function parseExportFormat(value: string, field = 'format'): ExportFormat {
  const format = value.trim().toLowerCase();
  if (format === 'geoparquet') return 'parquet';
  if ((EXPORT_FORMATS as readonly string[]).includes(format)) return format as ExportFormat;
  throw new Error(`${field}: unknown export format "${value}": use ${EXPORT_FORMATS.join(', ')}`);
}

/** The format a file name implies (`jobs.csv`, `tiles.geojson`, `db.parquet`), if any. */
export function formatOfPath(path: string): ExportFormat | undefined {
  const extension = /\.([a-z]+)$/i.exec(path)?.[1]?.toLowerCase();
  if (extension === 'csv') return 'csv';
  if (extension === 'geojson' || extension === 'json') return 'geojson';
  if (extension === 'parquet' || extension === 'geoparquet') return 'parquet';
  return undefined;
}

/** Encodes job-database rows in one of the formats. */
export async function encodeJobDatabase(rows: readonly JobDatabaseRow[], format: ExportFormat): Promise<Uint8Array> {
  switch (format) {
    case 'csv':
      return Buffer.from(jobDatabaseCsv(rows), 'utf8');
    case 'geojson':
      return Buffer.from(jobDatabaseGeoJson(rows), 'utf8');
    case 'parquet':
      return jobDatabaseGeoParquet(rows);
  }
}

/** Reads every tile of the batch and encodes it; writes the file when `options.out` is given. */
export async function exportBatch(client: Client, batchId: string, options: ExportOptions): Promise<TileExport> {
  const format = parseExportFormat(options.format);
  const records = await readBatchRecords(client, batchId);
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
