/**
 * The quicklook of a tile's result: `quicklook.png` (at most 512 px on the long side, RGB or
 * grey, transparent where there is no data) and `quicklook.json` (where the picture lies in
 * EPSG:4326, and how it was stretched), made once by the worker from the downloaded GeoTIFF so a
 * map never reads whole result files. A result that cannot be shown gets no quicklook; it never
 * fails the tile.
 */
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { localStore } from './store/local';
import type { ResultStore } from './store/types';
import { QuicklookError, readQuicklookRaster, type Corners, type ReadOptions } from './quicklook-raster';
import { renderQuicklook, type RenderedQuicklook, type StretchRange } from './quicklook-render';

export { QuicklookError } from './quicklook-raster';

export const QUICKLOOK_IMAGE = 'quicklook.png';
export const QUICKLOOK_INFO = 'quicklook.json';

/** A downloaded result file and what its STAC asset says about it. */
export interface DownloadedAsset {
  /** File name in the tile's folder. */
  file: string;
  type?: string;
  roles?: string[];
}

/** `quicklook.json`: everything a map needs to place and explain the picture. */
export interface QuicklookInfo {
  image: string;
  /** The result file it shows. */
  source: string;
  width: number;
  height: number;
  /** CRS of the source file. */
  crs: string;
  /** `[lon, lat]` of the picture's upper-left, upper-right, lower-right and lower-left corners. */
  corners: Corners;
  /** `[west, south, east, north]` around the corners, in EPSG:4326. */
  bbox: [number, number, number, number];
  mode: 'rgb' | 'grey';
  /** The shown bands, 1-based as GDAL counts them, with the value range stretched to 0–255. */
  bands: { band: number; name?: string; stretch: StretchRange | null }[];
}

export type QuicklookOutcome =
  | { status: 'made'; files: string[]; info: QuicklookInfo }
  /** No GeoTIFF among the results: nothing to show. */
  | { status: 'none'; files: [] }
  | { status: 'failed'; files: []; reason: string };

function isGeoTiff(asset: DownloadedAsset): boolean {
  if (asset.type !== undefined) return /^image\/tiff\b/i.test(asset.type.trim());
  return /\.tiff?$/i.test(asset.file);
}

/** The GeoTIFF a quicklook shows: the first with role `data`, else the first GeoTIFF. */
export function quicklookSource(assets: readonly DownloadedAsset[]): string | undefined {
  const tiffs = assets.filter(isGeoTiff);
  return (tiffs.find((asset) => asset.roles?.includes('data')) ?? tiffs[0])?.file;
}

function encodePng(picture: RenderedQuicklook): Buffer {
  const png = new PNG({ width: picture.width, height: picture.height });
  png.data = Buffer.from(picture.rgba.buffer, picture.rgba.byteOffset, picture.rgba.byteLength);
  return PNG.sync.write(png);
}

function bboxOf(corners: Corners): QuicklookInfo['bbox'] {
  const lons = corners.map(([lon]) => lon);
  const lats = corners.map(([, lat]) => lat);
  return [Math.min(...lons), Math.min(...lats), Math.max(...lons), Math.max(...lats)];
}

/** Where the quicklook files are kept: the tile's folder (a key prefix) in a result store. */
export interface QuicklookTarget {
  store: ResultStore;
  /** The tile's folder in the store; `''` for the store's root. */
  folder: string;
}

const keyIn = (target: QuicklookTarget, name: string) => (target.folder ? `${target.folder}/${name}` : name);

/** Makes the quicklook files of the GeoTIFF `source` in `tileDir`, stored in `target`. */
async function writeQuicklook(
  tileDir: string,
  source: string,
  target: QuicklookTarget,
  options: QuicklookOptions,
): Promise<QuicklookInfo> {
  const raster = await readQuicklookRaster(join(tileDir, source), options);
  const picture = renderQuicklook(raster.planes, raster.width, raster.height, raster.noData);
  if (picture.stretch.every((range) => range === null))
    throw new QuicklookError('it holds no data values (every pixel is nodata)');
  const info: QuicklookInfo = {
    image: QUICKLOOK_IMAGE,
    source,
    width: raster.width,
    height: raster.height,
    crs: raster.crs,
    corners: raster.corners,
    bbox: bboxOf(raster.corners),
    mode: raster.choice.mode,
    bands: raster.choice.bands.map((band, i) => ({
      band: band + 1,
      ...(raster.names[i] !== undefined ? { name: raster.names[i] } : {}),
      stretch: picture.stretch[i],
    })),
  };
  await target.store.put(keyIn(target, QUICKLOOK_IMAGE), encodePng(picture), { contentType: 'image/png' });
  await target.store.put(keyIn(target, QUICKLOOK_INFO), `${JSON.stringify(info, null, 2)}\n`, {
    contentType: 'application/json',
  });
  return info;
}

export interface QuicklookOptions extends ReadOptions {
  /** Where the files go; by default `tileDir` itself. */
  target?: QuicklookTarget;
}

/**
 * Makes the quicklook of a tile's downloaded results (read from the local folder `tileDir`), or
 * says why there is none. Never throws: a result that cannot be shown leaves no quicklook files
 * behind (not even an earlier attempt's).
 */
export async function makeQuicklook(
  tileDir: string,
  assets: readonly DownloadedAsset[],
  options: QuicklookOptions = {},
): Promise<QuicklookOutcome> {
  const source = quicklookSource(assets);
  const target = options.target ?? { store: localStore(tileDir), folder: '' };
  try {
    if (source === undefined) {
      await removeQuicklook(target);
      return { status: 'none', files: [] };
    }
    const info = await writeQuicklook(tileDir, source, target, options);
    return { status: 'made', files: [QUICKLOOK_IMAGE, QUICKLOOK_INFO], info };
  } catch (err) {
    await removeQuicklook(target).catch(() => undefined);
    const reason = err instanceof Error ? err.message : String(err);
    return { status: 'failed', files: [], reason: `${source} cannot be shown as a quicklook: ${reason}` };
  }
}

async function removeQuicklook(target: QuicklookTarget): Promise<void> {
  await target.store.remove(keyIn(target, QUICKLOOK_IMAGE));
  await target.store.remove(keyIn(target, QUICKLOOK_INFO));
}
