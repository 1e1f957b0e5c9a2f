/**
 * Batch-job results: producing the GeoTIFF when a run finishes. The file
 * covers the job's footprint, in the projected CRS of its bounding box when
 * the process graph gave one, else in the UTM zone of its area (utm-grid.ts),
 * else (no area, or one too wide for a zone) in EPSG:4326, with one band per
 * band of the process's result (result-bands.ts).
 */
import { createHash } from 'node:crypto';
import type { BBox } from './area';
import { GEOTIFF_MEDIA_TYPE } from './constants';
import { encodeGeoTiff, syntheticPixels } from './geotiff';
import type { JobRecord, JobResult, ResultAsset } from './jobs';
import { resultBandNames } from './result-bands';
import type { UdpRegistry } from './udp-registry';
import { utmGridFor } from './utm-grid';

/** Key of the single data asset of every finished job. */
export const DATA_ASSET_KEY = 'openEO.tif';

/** Area used for the raster of jobs whose graph names no area. */
export const WHOLE_WORLD: BBox = { west: -180, south: -90, east: 180, north: 90 };

/** Multihash of SHA-256: function code 0x12, digest length 0x20, then the digest. */
export function sha256Multihash(bytes: Buffer): string {
  return `1220${createHash('sha256').update(bytes).digest('hex')}`;
}

/** The `file:checksum` of a result, in the form the emulator is set to publish. */
export function resultChecksum(bytes: Buffer, form: 'sha2-256' | 'md5' | 'malformed'): string {
  if (form === 'sha2-256') return sha256Multihash(bytes);
  const md5 = createHash('md5').update(bytes).digest('hex');
  // MD5's code 0xd5 is the varint d5 01, then the length 0x10; the malformed form writes the
  // code as one byte and the digest's hex as text.
  return form === 'md5' ? `d50110${md5}` : `d510${Buffer.from(md5, 'ascii').toString('hex')}`;
}

/** The CRS and extent the job's raster is written in. */
function rasterGrid(job: Pick<JobRecord, 'area' | 'projected' | 'graph'>): { epsg: number; bbox: BBox } {
  if (job.projected) return { epsg: job.projected.epsg, bbox: job.projected.bbox };
  const utm = job.area ? utmGridFor(job.graph, job.area) : null;
  return utm ?? { epsg: 4326, bbox: job.area ?? WHOLE_WORLD };
}

/** The synthetic bands of a job's raster: each band has its own pattern, derived from the job id and its name. */
function syntheticBands(
  job: Pick<JobRecord, 'id'>,
  names: readonly string[] | null,
  rasterSize: number,
): Uint16Array[] {
  // A single unnamed band keeps the job id as its seed, so single-band results are as before.
  if (names === null) return [syntheticPixels(rasterSize, rasterSize, job.id)];
  return names.map((name) => syntheticPixels(rasterSize, rasterSize, `${job.id}/${name}`));
}

/**
 * Generates the result files of a run. The bytes depend only on the job id,
 * its graph, its footprint and the raster size, so a re-run (or a restart
 * from a state file) yields the same file and checksum.
 */
export function produceResult(
  job: JobRecord,
  rasterSize: number,
  now: number,
  registry: UdpRegistry,
  checksum: 'sha2-256' | 'md5' | 'malformed' = 'sha2-256',
): JobResult {
  const grid = rasterGrid(job);
  const bandNames = resultBandNames(job.graph, registry);
  const bytes = encodeGeoTiff({
    width: rasterSize,
    height: rasterSize,
    pixels: syntheticBands(job, bandNames, rasterSize),
    ...(bandNames ? { bandNames } : {}),
    bbox: grid.bbox,
    epsg: grid.epsg,
  });
  const asset: ResultAsset = {
    key: DATA_ASSET_KEY,
    title: 'Result raster',
    type: GEOTIFF_MEDIA_TYPE,
    roles: ['data'],
    bytes,
    checksum: resultChecksum(bytes, checksum),
    shape: [rasterSize, rasterSize],
    epsg: grid.epsg,
    bbox: { ...grid.bbox },
    bands: bandNames ?? undefined,
  };
  return { generatedAt: now, assets: { [asset.key]: asset } };
}

/** Size in bytes of the file a successful run of `job` will produce (for estimates). */
export function expectedResultSize(
  job: Pick<JobRecord, 'area' | 'projected' | 'graph'>,
  rasterSize: number,
  registry: UdpRegistry,
): number {
  // The header does not depend on the raster's dimensions, so a 1×1 file with the same bands measures it.
  const grid = rasterGrid(job);
  const bandNames = resultBandNames(job.graph, registry);
  const bands = bandNames?.length ?? 1;
  const pixels = Array.from({ length: bands }, () => new Uint16Array(1));
  const header =
    encodeGeoTiff({ width: 1, height: 1, pixels, ...(bandNames ? { bandNames } : {}), ...grid }).length - 2 * bands;
  return header + rasterSize * rasterSize * 2 * bands;
}
