/**
 * Batch-job results: producing the GeoTIFF when a run finishes, and
 * describing it as the STAC Item served by `GET /jobs/{job_id}/results`.
 */
import { createHash } from 'node:crypto';
import { bboxPolygon, type BBox } from './area';
import { GEOTIFF_MEDIA_TYPE, STAC_VERSION } from './constants';
import { encodeGeoTiff, syntheticPixels } from './geotiff';
import type { JobRecord, JobResult, ResultAsset } from './jobs';

/** Key of the single data asset of every finished job. */
export const DATA_ASSET_KEY = 'openEO.tif';

/** Area used for the raster of jobs whose graph names no area. */
const WHOLE_WORLD: BBox = { west: -180, south: -90, east: 180, north: 90 };

const FILE_EXTENSION = 'https://stac-extensions.github.io/file/v2.1.0/schema.json';
const PROJECTION_EXTENSION = 'https://stac-extensions.github.io/projection/v1.1.0/schema.json';

/** Multihash of SHA-256: function code 0x12, digest length 0x20, then the digest. */
export function sha256Multihash(bytes: Buffer): string {
  return `1220${createHash('sha256').update(bytes).digest('hex')}`;
}

/**
 * Generates the result files of a run. The bytes depend only on the job id
 * and area, so a re-run yields the same file and checksum.
 */
export function produceResult(job: JobRecord, rasterSize: number, now: number): JobResult {
  const area = job.area ?? WHOLE_WORLD;
  const bytes = encodeGeoTiff({
    width: rasterSize,
    height: rasterSize,
    pixels: syntheticPixels(rasterSize, rasterSize, job.id),
    bbox: area,
  });
  const asset: ResultAsset = {
    key: DATA_ASSET_KEY,
    title: 'Result raster',
    type: GEOTIFF_MEDIA_TYPE,
    roles: ['data'],
    bytes,
    checksum: sha256Multihash(bytes),
    shape: [rasterSize, rasterSize],
  };
  return { generatedAt: now, assets: { [asset.key]: asset } };
}

/** Time properties of the item: the processed interval when known, else the finish time. */
function timeProperties(job: JobRecord, result: JobResult | undefined): Record<string, string> {
  const fallback = new Date(result?.generatedAt ?? job.updated).toISOString();
  const extent = job.temporalExtent;
  if (!extent) return { datetime: fallback };
  const [start, end] = extent.map((v) => (v === null ? null : new Date(v).toISOString()));
  const properties: Record<string, string> = { datetime: start ?? end ?? fallback };
  if (start) properties.start_datetime = start;
  if (end) properties.end_datetime = end;
  return properties;
}

/** Signed download link of one asset. */
export interface AssetLink {
  href: string;
  expiresAt: number;
}

/** Builds the STAC Item of a job's results; `assetLink` signs one asset's URL. */
export function resultItem(
  job: JobRecord,
  selfUrl: string,
  assetLink: (assetKey: string) => AssetLink,
): Record<string, unknown> {
  const assets: Record<string, unknown> = {};
  const area = job.area ?? WHOLE_WORLD;
  let earliestExpiry = Infinity;
  for (const asset of Object.values(job.result?.assets ?? {})) {
    const link = assetLink(asset.key);
    earliestExpiry = Math.min(earliestExpiry, link.expiresAt);
    assets[asset.key] = {
      href: link.href,
      title: asset.title,
      type: asset.type,
      roles: asset.roles,
      'file:size': asset.bytes.length,
      'file:checksum': asset.checksum,
      'proj:epsg': 4326,
      'proj:shape': asset.shape,
      'proj:bbox': [area.west, area.south, area.east, area.north],
    };
  }
  const item: Record<string, unknown> = {
    type: 'Feature',
    stac_version: STAC_VERSION,
    stac_extensions: [FILE_EXTENSION, PROJECTION_EXTENSION],
    id: job.id,
    geometry: job.area ? bboxPolygon(job.area) : null,
    properties: {
      ...timeProperties(job, job.result),
      title: job.title ?? undefined,
      description: job.description ?? undefined,
      created: new Date(job.created).toISOString(),
      'openeo:status': job.status,
      // When the signed links expire, so clients know when to re-request this document.
      expires: Number.isFinite(earliestExpiry) ? new Date(earliestExpiry).toISOString() : undefined,
    },
    links: [
      { rel: 'self', href: selfUrl, type: 'application/geo+json' },
      { rel: 'canonical', href: selfUrl, type: 'application/geo+json' },
    ],
    assets,
  };
  if (job.area) item.bbox = [job.area.west, job.area.south, job.area.east, job.area.north];
  return item;
}
