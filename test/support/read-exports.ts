/**
 * Reading exports back with readers that share no code with the writers: csv-parse for CSV;
 * for Parquet, parquet-wasm (the Rust `parquet` crate, compiled to WebAssembly) into an Arrow
 * table for the columns and file metadata, and hyparquet's GeoParquet support to decode the
 * WKB outlines into GeoJSON (the writer encodes them with wkx).
 */
import { tableFromIPC, type Table } from 'apache-arrow';
import { parse } from 'csv-parse/sync';
import { readParquet } from 'parquet-wasm';

/** CSV rows as objects keyed by the header; every value as text, empty for a missing one. */
export function parseCsv(text: string): Record<string, string>[] {
  return parse(text, { columns: true }) as Record<string, string>[];
}

/** The Parquet file as an Arrow table (columns, types, and the file's key-value metadata). */
export function readParquetTable(bytes: Uint8Array): Table {
  // intoIPCStream hands the data over and frees the WebAssembly table.
  return tableFromIPC(readParquet(bytes).intoIPCStream());
}

/** One Arrow row as plain values (lists as arrays). */
export function arrowRow(table: Table, index: number): Record<string, unknown> {
  const row = table.get(index)?.toJSON() ?? {};
  return Object.fromEntries(
    Object.entries(row).map(([key, value]) => [
      key,
      value && typeof value === 'object' && 'toArray' in value ? [...(value as Iterable<unknown>)] : value,
    ]),
  );
}

/** The rows as a GeoParquet reader sees them: the `geo` metadata's WKB columns decoded to GeoJSON. */
export async function readGeoParquetObjects(bytes: Uint8Array): Promise<Record<string, unknown>[]> {
  const { parquetReadObjects } = await import('hyparquet');
  const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  return parquetReadObjects({ file });
}
