/**
 * Batch-job results: producing the GeoTIFF when a run finishes. The file
 * covers the job's footprint, in the projected CRS of its bounding box when
 * the process graph gave one, else in EPSG:4326.
 */
import { createHash } from 'node:crypto';
import type { BBox } from './area';
import { GEOTIFF_MEDIA_TYPE } from './constants';
import { encodeGeoTiff, syntheticPixels } from './geotiff';
import type { JobRecord, JobResult, ResultAsset } from './jobs';

/** Key of the single data asset of every finished job. */
export const DATA_ASSET_KEY = 'openEO.tif';

/** Area used for the raster of jobs whose graph names no area. */
export const WHOLE_WORLD: BBox = { west: -180, south: -90, east: 180, north: 90 };

/** Multihash of SHA-256: function code 0x12, digest length 0x20, then the digest. */
export function sha256Multihash(bytes: Buffer): string {
  return `1220${createHash('sha256').update(bytes).digest('hex')}`;
}

/** The CRS and extent the job's raster is written in. */
function rasterGrid(job: Pick<JobRecord, 'area' | 'projected'>): { epsg: number; bbox: BBox } {
  return job.projected ? { epsg: job.projected.epsg, bbox: job.projected.bbox } : { epsg: 4326, bbox: job.area ?? WHOLE_WORLD };
}

/**
 * Generates the result files of a run. The bytes depend only on the job id,
 * its footprint and the raster size, so a re-run (or a restart from a state
 * file) yields the same file and checksum.
 */
export function produceResult(job: JobRecord, rasterSize: number, now: number): JobResult {
  const grid = rasterGrid(job);
  const bytes = encodeGeoTiff({
    width: rasterSize,
    height: rasterSize,
    pixels: syntheticPixels(rasterSize, rasterSize, job.id),
    bbox: grid.bbox,
    epsg: grid.epsg,
  });
  const asset: ResultAsset = {
    key: DATA_ASSET_KEY,
    title: 'Result raster',
    type: GEOTIFF_MEDIA_TYPE,
    roles: ['data'],
    bytes,
    checksum: sha256Multihash(bytes),
    shape: [rasterSize, rasterSize],
    epsg: grid.epsg,
    bbox: { ...grid.bbox },
  };
  return { generatedAt: now, assets: { [asset.key]: asset } };
}

/** Size in bytes of the file a successful run of `job` will produce (for estimates). */
export function expectedResultSize(job: Pick<JobRecord, 'area' | 'projected'>, rasterSize: number): number {
  // The header does not depend on the raster's dimensions, so a 1×1 file measures it.
  const grid = rasterGrid(job);
  const header = encodeGeoTiff({ width: 1, height: 1, pixels: new Uint16Array(1), ...grid }).length - 2;
  return header + rasterSize * rasterSize * 2;
}
