/**
 * The job database: a batch's tiles as rows of the openEO Python client's job database, and the
 * formats they are encoded in (CSV, GeoJSON, GeoParquet). Pure: the exports, and the records a
 * batch saves beside its results, share them.
 */
import { jobDatabaseCsv } from './csv';
import { jobDatabaseGeoJson } from './geojson';
import { jobDatabaseGeoParquet } from './geoparquet';
import type { JobDatabaseRow } from './job-database';

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
