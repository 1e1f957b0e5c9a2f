/**
 * The job database as a GeoJSON FeatureCollection (RFC 7946, lon/lat): one feature per tile,
 * its outline as geometry (null when it is not known here), the other columns as properties and
 * the tile id as feature id. `geopandas.read_file` reads it as a GeoDataFrame with the same columns.
 */
import { JOB_DATABASE_COLUMNS, type JobDatabaseRow } from './job-database';

const PROPERTY_COLUMNS = JOB_DATABASE_COLUMNS.filter((c) => c.kind !== 'geometry').map((c) => c.name);

export function jobDatabaseGeoJson(rows: readonly JobDatabaseRow[]): string {
  const features = rows.map((row) => ({
    type: 'Feature',
    id: row.tile_id,
    geometry: row.geometry,
    properties: Object.fromEntries(PROPERTY_COLUMNS.map((name) => [name, row[name]])),
  }));
  return `${JSON.stringify({ type: 'FeatureCollection', features })}\n`;
}
