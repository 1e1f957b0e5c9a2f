/**
 * The job database as CSV, the way the job manager's `CsvJobDatabase` writes it with pandas:
 * a header of column names, missing values as empty fields, the outline as WKT. Quoting follows
 * RFC 4180 (csv-stringify): a field with a comma, quote or line break is quoted, quotes doubled,
 * so error messages come back intact. `files` is a JSON array (`["result.tif","job.json"]`): a
 * list needs a separator no file name can contain.
 */
import { stringify } from 'csv-stringify/sync';
import { outlineWkt } from './geometry';
import { JOB_DATABASE_COLUMNS, type JobDatabaseColumn, type JobDatabaseRow } from './job-database';

function csvCell(row: JobDatabaseRow, column: JobDatabaseColumn): string {
  const value = row[column.name];
  if (value === null) return '';
  switch (column.kind) {
    case 'texts':
      return JSON.stringify(value);
    case 'geometry':
      return outlineWkt(value as NonNullable<JobDatabaseRow['geometry']>);
    default:
      return String(value);
  }
}

export function jobDatabaseCsv(rows: readonly JobDatabaseRow[]): string {
  const header = JOB_DATABASE_COLUMNS.map((c) => c.name);
  const records = rows.map((row) => JOB_DATABASE_COLUMNS.map((column) => csvCell(row, column)));
  return stringify([header, ...records]);
}
