/**
 * The STAC Item of one finished tile (one per tile and period when the batch has periods):
 * geometry and bbox from the tile, time from its period or from the job, one asset per result
 * file with its real href, `file:` and `proj:` fields. Pure: every fact comes in as a parameter.
 */
import { bbox as turfBbox } from '@turf/turf';
import type { MultiPolygonGeometry, PolygonGeometry } from '../../src/core/batch-spec/tile-types';
import type { ProjectionFields } from './raster-info';

export const STAC_VERSION = '1.1.0';
export const PROJECTION_EXTENSION = 'https://stac-extensions.github.io/projection/v2.0.0/schema.json';
export const FILE_EXTENSION = 'https://stac-extensions.github.io/file/v2.1.0/schema.json';

export type TileGeometry = PolygonGeometry | MultiPolygonGeometry;

/** A tile's time period, as the spec's `periods` give it (`end` exclusive, like openEO's). */
export interface TilePeriod {
  id: string;
  start: string;
  end: string;
}

/** The tile as the item needs it. */
export interface ItemTile {
  id: string;
  /** EPSG:4326. */
  geometry: TileGeometry;
  properties?: { period?: TilePeriod } & Record<string, unknown>;
}

/** One result file of the tile. */
export interface ItemAssetInput {
  /** The asset's key in the openEO results document (or the worker's own name for its files). */
  key: string;
  /** Where the file is: relative to the item's own location, or an absolute URL. */
  href: string;
  type?: string;
  title?: string;
  roles?: string[];
  size?: number;
  /** Multihash, hex (`1220…` for SHA-256). */
  checksum?: string;
  projection?: ProjectionFields;
}

export interface ItemInput {
  tile: ItemTile;
  collectionId: string;
  /** The openEO job that made the results, and the backend that ran it. */
  job: { id: string; backend: string; backendUrl: string };
  /** When the results were made (RFC 3339): the item's time when the tile has no period. */
  resultTime: string;
  assets: ItemAssetInput[];
  /** Links besides the collection's, e.g. `self` where the item is published. */
  links?: StacLink[];
  /** Where the Collection is, relative to the item. @default "../collection.json" */
  collectionHref?: string;
}

export interface StacLink {
  rel: string;
  href: string;
  type?: string;
  title?: string;
}

export interface StacItem {
  type: 'Feature';
  stac_version: string;
  stac_extensions: string[];
  id: string;
  collection: string;
  geometry: TileGeometry;
  bbox: number[];
  properties: Record<string, unknown>;
  assets: Record<string, Record<string, unknown>>;
  links: StacLink[];
}

/** Instant or interval: a period gives start/end (with `datetime: null`), else the result time. */
function timeProperties(tile: ItemTile, resultTime: string): Record<string, string | null> {
  const period = tile.properties?.period;
  if (!period) return { datetime: new Date(resultTime).toISOString() };
  // STAC's end_datetime is inclusive; the period's end is not: the last instant before it.
  const end = new Date(Date.parse(period.end) - 1).toISOString();
  return { datetime: null, start_datetime: new Date(period.start).toISOString(), end_datetime: end };
}

export function assetDocument(asset: ItemAssetInput): Record<string, unknown> {
  const doc: Record<string, unknown> = { href: asset.href };
  if (asset.type !== undefined) doc.type = asset.type;
  if (asset.title !== undefined) doc.title = asset.title;
  if (asset.roles !== undefined && asset.roles.length > 0) doc.roles = asset.roles;
  if (asset.size !== undefined) doc['file:size'] = asset.size;
  if (asset.checksum !== undefined) doc['file:checksum'] = asset.checksum;
  if (asset.projection) Object.assign(doc, asset.projection);
  return doc;
}

/** The extensions the item's fields use, so validators check them too. */
export function extensionsOf(assets: ItemAssetInput[]): string[] {
  const extensions: string[] = [];
  if (assets.some((a) => a.projection)) extensions.push(PROJECTION_EXTENSION);
  if (assets.some((a) => a.size !== undefined || a.checksum !== undefined)) extensions.push(FILE_EXTENSION);
  return extensions;
}

/** The `[west, south, east, north]` around a geometry. */
export function geometryBbox(geometry: TileGeometry): number[] {
  return turfBbox(geometry);
}

export function stacItem(input: ItemInput): StacItem {
  const { tile, job } = input;
  const period = tile.properties?.period;
  return {
    type: 'Feature',
    stac_version: STAC_VERSION,
    stac_extensions: extensionsOf(input.assets),
    id: tile.id,
    collection: input.collectionId,
    geometry: tile.geometry,
    bbox: geometryBbox(tile.geometry),
    properties: {
      ...timeProperties(tile, input.resultTime),
      'openeo:job_id': job.id,
      'openeo:backend': job.backend,
      'openeo:backend_url': job.backendUrl,
      ...(period ? { 'openeo_temporal:period': period.id } : {}),
    },
    assets: Object.fromEntries(input.assets.map((asset) => [asset.key, assetDocument(asset)])),
    links: [
      { rel: 'collection', href: input.collectionHref ?? '../collection.json', type: 'application/json' },
      { rel: 'parent', href: input.collectionHref ?? '../collection.json', type: 'application/json' },
      ...(input.links ?? []),
    ],
  };
}
