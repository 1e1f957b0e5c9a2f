/**
 * The STAC documents of `GET /jobs/{job_id}/results`: a STAC Item, or a
 * STAC Collection with collection-level assets (both allowed by openEO 1.2;
 * CDSE answers with a Collection). Assets are the same in both.
 */
import { bboxPolygon, type BBox } from './area';
import { STAC_VERSION } from './constants';
import type { JobRecord, JobResult } from './jobs';
import { WHOLE_WORLD } from './results';

const FILE_EXTENSION = 'https://stac-extensions.github.io/file/v2.1.0/schema.json';
const PROJECTION_EXTENSION = 'https://stac-extensions.github.io/projection/v1.1.0/schema.json';
const EO_EXTENSION = 'https://stac-extensions.github.io/eo/v1.1.0/schema.json';

/**
 * The band list of an asset whose bands are known: `eo:bands` (STAC 1.0 with
 * the EO extension) and `bands` (STAC 1.1), so clients of either find them.
 */
function bandFields(bands: readonly string[] | undefined): Record<string, unknown> {
  if (bands === undefined) return {};
  return { 'eo:bands': bands.map((name) => ({ name })), bands: bands.map((name) => ({ name })) };
}

/** Signed download link of one asset. */
export interface AssetLink {
  href: string;
  expiresAt: number;
}

function bboxArray(box: BBox): number[] {
  return [box.west, box.south, box.east, box.north];
}

/** The processed interval when known, else the finish time (as RFC 3339 strings). */
function timeRange(
  job: JobRecord,
  result: JobResult | undefined,
): { start: string | null; end: string | null; at: string } {
  const fallback = new Date(result?.generatedAt ?? job.updated).toISOString();
  const extent = job.temporalExtent;
  if (!extent) return { start: null, end: null, at: fallback };
  const [start, end] = extent.map((v) => (v === null ? null : new Date(v).toISOString()));
  return { start, end, at: start ?? end ?? fallback };
}

/** Signs every asset and describes it; also returns when the first link expires. */
function assetsOf(
  job: JobRecord,
  assetLink: (assetKey: string) => AssetLink,
  withFootprint: boolean,
): { assets: Record<string, unknown>; expires: string | undefined } {
  const assets: Record<string, unknown> = {};
  let earliest = Infinity;
  for (const asset of Object.values(job.result?.assets ?? {})) {
    const link = assetLink(asset.key);
    earliest = Math.min(earliest, link.expiresAt);
    assets[asset.key] = {
      href: link.href,
      title: asset.title,
      type: asset.type,
      roles: asset.roles,
      'file:size': asset.bytes.length,
      'file:checksum': asset.checksum,
      'proj:epsg': asset.epsg,
      'proj:shape': asset.shape,
      'proj:bbox': bboxArray(asset.bbox),
      ...bandFields(asset.bands),
      // Collection-level assets carry their own footprint, since there is no Item around them.
      ...(withFootprint && job.area ? { bbox: bboxArray(job.area), geometry: bboxPolygon(job.area) } : {}),
    };
  }
  return { assets, expires: Number.isFinite(earliest) ? new Date(earliest).toISOString() : undefined };
}

function links(selfUrl: string, type: string): Array<Record<string, string>> {
  return [
    { rel: 'self', href: selfUrl, type },
    { rel: 'canonical', href: selfUrl, type },
  ];
}

/** Builds the STAC Item of a job's results; `assetLink` signs one asset's URL. */
export function resultItem(
  job: JobRecord,
  selfUrl: string,
  assetLink: (assetKey: string) => AssetLink,
): Record<string, unknown> {
  const { assets, expires } = assetsOf(job, assetLink, false);
  const time = timeRange(job, job.result);
  const item: Record<string, unknown> = {
    type: 'Feature',
    stac_version: STAC_VERSION,
    stac_extensions: [FILE_EXTENSION, PROJECTION_EXTENSION, EO_EXTENSION],
    id: job.id,
    geometry: job.area ? bboxPolygon(job.area) : null,
    properties: {
      datetime: time.at,
      ...(time.start ? { start_datetime: time.start } : {}),
      ...(time.end ? { end_datetime: time.end } : {}),
      title: job.title ?? undefined,
      description: job.description ?? undefined,
      created: new Date(job.created).toISOString(),
      'openeo:status': job.status,
      // When the signed links expire, so clients know when to re-request this document.
      expires,
    },
    links: links(selfUrl, 'application/geo+json'),
    assets,
  };
  if (job.area) item.bbox = bboxArray(job.area);
  return item;
}

/** Builds the STAC Collection of a job's results, with all assets at collection level. */
export function resultCollection(
  job: JobRecord,
  selfUrl: string,
  assetLink: (assetKey: string) => AssetLink,
): Record<string, unknown> {
  const { assets, expires } = assetsOf(job, assetLink, true);
  const time = timeRange(job, job.result);
  return {
    type: 'Collection',
    stac_version: STAC_VERSION,
    stac_extensions: [FILE_EXTENSION, PROJECTION_EXTENSION, EO_EXTENSION],
    id: job.id,
    title: job.title ?? undefined,
    description: job.description ?? `Results of batch job ${job.id}.`,
    license: 'proprietary',
    extent: {
      spatial: { bbox: [bboxArray(job.area ?? WHOLE_WORLD)] },
      temporal: { interval: [[time.start ?? time.at, time.end ?? time.at]] },
    },
    'openeo:status': job.status,
    expires,
    links: links(selfUrl, 'application/json'),
    assets,
  };
}
