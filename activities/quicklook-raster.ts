/**
 * Reads what a quicklook needs from a result GeoTIFF with geotiff.js: the shown bands, already
 * downsampled to the quicklook's size, and where the image lies on Earth (its four corners in
 * EPSG:4326). Reads go through the file's overviews when it has any, and a few rows at a time,
 * so a large result never sits in memory whole.
 */
import { fromFile, type GeoTIFF, type GeoTIFFImage } from 'geotiff';
import { resolveCrs, type ResolvedCrs } from '../src/core/batch-spec/crs';
import { chooseBands, quicklookSize, type BandChoice } from './quicklook-render';

/** Source pixels per band read at once; bounds the memory of one read. */
export const DEFAULT_READ_BUDGET = 4_000_000;

/** A corner as `[longitude, latitude]`. */
export type LonLat = [number, number];

/** The image's corners in EPSG:4326: upper-left, upper-right, lower-right, lower-left (MapLibre's order). */
export type Corners = [LonLat, LonLat, LonLat, LonLat];

export interface QuicklookRaster {
  width: number;
  height: number;
  /** The shown bands at the quicklook's size, row-major. */
  planes: ArrayLike<number>[];
  choice: BandChoice;
  /** Band descriptions (GDAL's DESCRIPTION) of the shown bands, where the file has them. */
  names: (string | undefined)[];
  noData: number | null;
  /** `EPSG:<code>` of the file. */
  crs: string;
  corners: Corners;
}

/** The raster cannot be shown: the reason is for the worker's log. */
export class QuicklookError extends Error {
  override name = 'QuicklookError';
}

const USER_DEFINED = 32767;

/** The file's CRS as `EPSG:<code>`, from its GeoKeys. */
function crsName(image: GeoTIFFImage): string {
  const keys = image.getGeoKeys() ?? {};
  const projected = keys.ProjectedCSTypeGeoKey as number | undefined;
  const geographic = keys.GeographicTypeGeoKey as number | undefined;
  const code = projected ?? geographic;
  if (code === undefined || code === USER_DEFINED) throw new QuicklookError('its CRS is not given as an EPSG code');
  return `EPSG:${code}`;
}

/** The converter of a CRS to EPSG:4326, for the CRSs the tiling code knows. */
function converterFor(crs: string): ResolvedCrs {
  try {
    return resolveCrs(crs);
  } catch {
    throw new QuicklookError(
      `its CRS ${crs} is not one the worker can reproject (EPSG:4326, 3857, 3035 or a UTM zone)`,
    );
  }
}

/** The outer corners of the image in its own CRS, then in EPSG:4326 (each corner reprojected). */
function cornersOf(image: GeoTIFFImage, crs: string): Corners {
  const converter = converterFor(crs);
  const [originX, originY] = image.getOrigin();
  const [resX, resY] = image.getResolution();
  const right = originX + image.getWidth() * resX;
  const bottom = originY + image.getHeight() * resY;
  const native: [number, number][] = [
    [originX, originY],
    [right, originY],
    [right, bottom],
    [originX, bottom],
  ];
  const corners = native.map(([x, y]) => converter.toWgs84(x, y));
  if (!corners.flat().every(Number.isFinite))
    throw new QuicklookError(`its corners do not reproject from ${crs} to EPSG:4326`);
  return corners as Corners;
}

async function bandNames(image: GeoTIFFImage, bandCount: number): Promise<(string | undefined)[]> {
  const names: (string | undefined)[] = [];
  for (let band = 0; band < bandCount; band++) {
    const metadata = await image.getGDALMetadata(band);
    const description = metadata?.DESCRIPTION;
    names.push(typeof description === 'string' && description !== '' ? description : undefined);
  }
  return names;
}

/** NewSubfileType bits: a reduced-resolution image (an overview), and a transparency mask. */
const REDUCED_RESOLUTION = 1;
const MASK = 4;

/** The smallest image of the file (the full one or an overview) still at least `size` large. */
async function imageFor(
  tiff: GeoTIFF,
  full: GeoTIFFImage,
  size: { width: number; height: number },
): Promise<GeoTIFFImage> {
  let best = full;
  const count = await tiff.getImageCount();
  for (let index = 1; index < count; index++) {
    const image = await tiff.getImage(index);
    const subfile = Number(image.fileDirectory.getValue('NewSubfileType') ?? 0);
    const overview =
      (subfile & REDUCED_RESOLUTION) !== 0 &&
      (subfile & MASK) === 0 &&
      image.getSamplesPerPixel() === full.getSamplesPerPixel();
    if (
      overview &&
      image.getWidth() >= size.width &&
      image.getHeight() >= size.height &&
      image.getWidth() < best.getWidth()
    )
      best = image;
  }
  return best;
}

/** The source index nearest to the centre of output cell `index`. */
function sourceIndex(index: number, sourceLength: number, outputLength: number): number {
  return Math.min(sourceLength - 1, Math.floor(((index + 0.5) * sourceLength) / outputLength));
}

/**
 * Reads the chosen bands at `size`, each output pixel the source pixel at its centre. Reads run
 * over bands of source rows of at most `readBudget` pixels, from the coarsest overview that is
 * still fine enough; the picture does not depend on how the reads are cut.
 */
async function readDownsampled(
  tiff: GeoTIFF,
  full: GeoTIFFImage,
  bands: number[],
  size: { width: number; height: number },
  options: ReadOptions,
): Promise<Float64Array[]> {
  const image = await imageFor(tiff, full, size);
  const sourceWidth = image.getWidth();
  const sourceHeight = image.getHeight();
  const rowsPerRead = Math.max(1, Math.floor((options.readBudget ?? DEFAULT_READ_BUDGET) / sourceWidth));
  const columns = Array.from({ length: size.width }, (_, x) => sourceIndex(x, sourceWidth, size.width));
  const planes = bands.map(() => new Float64Array(size.width * size.height));
  for (let row = 0; row < size.height;) {
    const top = sourceIndex(row, sourceHeight, size.height);
    let end = row + 1;
    while (end < size.height && sourceIndex(end, sourceHeight, size.height) - top < rowsPerRead) end++;
    const bottom = sourceIndex(end - 1, sourceHeight, size.height) + 1;
    const read = await image.readRasters({ window: [0, top, sourceWidth, bottom], samples: bands, interleave: false });
    // geotiff.js answers one typed array per sample when not interleaved.
    const parts = read as unknown as ArrayLike<number>[];
    for (let y = row; y < end; y++) {
      const offset = (sourceIndex(y, sourceHeight, size.height) - top) * sourceWidth;
      parts.forEach((part, band) => {
        for (let x = 0; x < size.width; x++) planes[band][y * size.width + x] = part[offset + columns[x]];
      });
    }
    row = end;
    options.onRows?.(row);
  }
  return planes;
}

export interface ReadOptions {
  /** Longest side of the quicklook in pixels. @default 512 */
  maxSide?: number;
  /** Source pixels per band read at once. @default 4,000,000 */
  readBudget?: number;
  /** Called after each read with the quicklook rows done, so a long read can heartbeat. */
  onRows?: (rows: number) => void;
}

/** Opens `path` and reads its quicklook bands and corners; throws {@link QuicklookError} or geotiff.js's errors. */
export async function readQuicklookRaster(path: string, options: ReadOptions = {}): Promise<QuicklookRaster> {
  const tiff = await fromFile(path);
  try {
    const image = await tiff.getImage();
    const bandCount = image.getSamplesPerPixel();
    const crs = crsName(image);
    const corners = cornersOf(image, crs);
    const allNames = await bandNames(image, bandCount);
    const choice = chooseBands(bandCount, allNames);
    const size = quicklookSize(image.getWidth(), image.getHeight(), options.maxSide);
    const planes = await readDownsampled(tiff, image, choice.bands, size, options);
    return {
      ...size,
      planes,
      choice,
      names: choice.bands.map((band) => allNames[band]),
      noData: image.getGDALNoData(),
      crs,
      corners,
    };
  } finally {
    await tiff.close();
  }
}
