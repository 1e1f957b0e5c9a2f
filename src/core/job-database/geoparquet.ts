/**
 * The job database as GeoParquet 1.1: a Parquet file (written by `hyparquet-writer`) whose
 * `geometry` column holds each outline as ISO WKB and whose `geo` file metadata says so, so
 * `geopandas.read_parquet` (what the job manager's `ParquetJobDatabase` reads with) gives a
 * GeoDataFrame. Outlines are lon/lat and the metadata names no CRS, which GeoParquet defines as
 * OGC:CRS84 (EPSG:4326 with lon/lat order).
 *
 * Column types: text as UTF-8 strings, `costs` as double, `attempts` as int32, `files` as a list
 * of strings; every column but `tile_id`, `status` and `attempts` may be null.
 */
import { outlineWkb } from './geometry';
import { JOB_DATABASE_COLUMNS, type JobDatabaseColumn, type JobDatabaseRow } from './job-database';

/** The parts of Parquet's schema element this file uses (hyparquet-writer's `SchemaElement`). */
interface SchemaElement {
  name: string;
  type?: 'BYTE_ARRAY' | 'DOUBLE' | 'INT32';
  converted_type?: 'UTF8' | 'LIST';
  repetition_type?: 'REQUIRED' | 'OPTIONAL' | 'REPEATED';
  num_children?: number;
}

/** Columns a tile always has. */
const REQUIRED = new Set<keyof JobDatabaseRow>(['tile_id', 'status', 'attempts']);

function schemaElements(column: JobDatabaseColumn): SchemaElement[] {
  const repetition_type = REQUIRED.has(column.name) ? 'REQUIRED' : 'OPTIONAL';
  const name = column.name;
  switch (column.kind) {
    case 'text':
      return [{ name, type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type }];
    case 'real':
      return [{ name, type: 'DOUBLE', repetition_type }];
    case 'count':
      return [{ name, type: 'INT32', repetition_type }];
    case 'geometry':
      return [{ name, type: 'BYTE_ARRAY', repetition_type }];
    case 'texts':
      // Parquet's three-level LIST: what pyarrow and arrow-rs read as list<string>.
      return [
        { name, converted_type: 'LIST', repetition_type, num_children: 1 },
        { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
        { name: 'element', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'REQUIRED' },
      ];
  }
}

function columnValues(rows: readonly JobDatabaseRow[], column: JobDatabaseColumn): unknown[] {
  if (column.kind === 'geometry') return rows.map((row) => (row.geometry ? outlineWkb(row.geometry) : null));
  return rows.map((row) => row[column.name]);
}

/** The `geo` file metadata of GeoParquet 1.1.0 for the outlines present. */
export function geoMetadata(rows: readonly JobDatabaseRow[]): Record<string, unknown> {
  const types = [...new Set(rows.flatMap((row) => (row.geometry ? [row.geometry.type] : [])))].sort();
  return {
    version: '1.1.0',
    primary_column: 'geometry',
    columns: { geometry: { encoding: 'WKB', geometry_types: types } },
  };
}

export async function jobDatabaseGeoParquet(rows: readonly JobDatabaseRow[]): Promise<Uint8Array> {
  // hyparquet-writer is an ES module; this package is CommonJS, so it is imported dynamically.
  const { parquetWriteBuffer } = await import('hyparquet-writer');
  const schema: SchemaElement[] = [
    { name: 'root', num_children: JOB_DATABASE_COLUMNS.length },
    ...JOB_DATABASE_COLUMNS.flatMap(schemaElements),
  ];
  const buffer = parquetWriteBuffer({
    // The writer types column data loosely (DecodedArray); values match the schema above.
    columnData: JOB_DATABASE_COLUMNS.map((column) => ({
      name: column.name,
      data: columnValues(rows, column) as string[],
    })),
    schema,
    kvMetadata: [{ key: 'geo', value: JSON.stringify(geoMetadata(rows)) }],
    createdBy: 'openeo-temporal (hyparquet-writer)',
  });
  return new Uint8Array(buffer);
}
