/**
 * How a result raster becomes a quicklook picture, without any file format: which bands are
 * shown, how big the picture is, and the per-band 2–98 % percentile stretch the users' notebooks
 * apply (`np.nanpercentile(band, [2, 98])`, nodata and NaN left out). Pure functions only, so the
 * rendering is tested without GeoTIFFs or PNGs.
 */

/** Longest side of a quicklook, in pixels: enough for a map overlay, small enough to load at once. */
export const QUICKLOOK_MAX_SIDE = 512;

/** The percentiles of the stretch, as in the users' notebooks. */
export const STRETCH_PERCENTILES = { low: 2, high: 98 } as const;

/** The quicklook's size: the raster's, scaled down (never up) so the long side fits `maxSide`. */
export function quicklookSize(
  width: number,
  height: number,
  maxSide = QUICKLOOK_MAX_SIDE,
): { width: number; height: number } {
  if (!(width >= 1 && height >= 1)) throw new RangeError(`a raster needs a positive size, got ${width}×${height}`);
  const scale = Math.min(1, maxSide / Math.max(width, height));
  return { width: Math.max(1, Math.round(width * scale)), height: Math.max(1, Math.round(height * scale)) };
}

/** Which bands are shown (0-based, in red, green, blue order for `rgb`). */
export interface BandChoice {
  mode: 'rgb' | 'grey';
  bands: number[];
}

/** Band names that mean red, green and blue: openEO's common names and Sentinel-2's band ids. */
const COLOUR_NAMES = {
  red: ['red', 'b04'],
  green: ['green', 'b03'],
  blue: ['blue', 'b02'],
} as const;

function bandNamed(names: readonly (string | undefined)[], synonyms: readonly string[]): number {
  return names.findIndex((name) => name !== undefined && synonyms.includes(name.trim().toLowerCase()));
}

/**
 * The bands of a quicklook: red, green and blue by name when all three are named so, else bands
 * 1–3 for three or more bands; the first band in grey for one or two bands.
 */
export function chooseBands(bandCount: number, names: readonly (string | undefined)[] = []): BandChoice {
  if (!Number.isInteger(bandCount) || bandCount < 1)
    throw new RangeError(`a raster needs at least one band, got ${bandCount}`);
  if (bandCount < 3) return { mode: 'grey', bands: [0] };
  const named = [
    bandNamed(names, COLOUR_NAMES.red),
    bandNamed(names, COLOUR_NAMES.green),
    bandNamed(names, COLOUR_NAMES.blue),
  ];
  if (named.every((index) => index >= 0 && index < bandCount)) return { mode: 'rgb', bands: named };
  return { mode: 'rgb', bands: [0, 1, 2] };
}

/**
 * True for a value that is data: not NaN and not the raster's nodata value (also as a float32
 * rounds it, since float32 rasters hold the rounded value of a nodata written with more digits).
 */
export function isData(value: number, noData: number | null): boolean {
  return !Number.isNaN(value) && (noData === null || (value !== noData && value !== Math.fround(noData)));
}

/** The value range a band is stretched over. */
export interface StretchRange {
  low: number;
  high: number;
}

/** The `p`-th percentile of sorted values, interpolated linearly between ranks (numpy's default). */
function percentileOfSorted(sorted: Float64Array, p: number): number {
  const rank = (p / 100) * (sorted.length - 1);
  const below = Math.floor(rank);
  const above = Math.min(below + 1, sorted.length - 1);
  return sorted[below] + (sorted[above] - sorted[below]) * (rank - below);
}

/** The 2–98 % percentiles of a band's data values; `null` when the band holds no data at all. */
export function percentileStretch(values: ArrayLike<number>, noData: number | null): StretchRange | null {
  const data: number[] = [];
  for (let i = 0; i < values.length; i++) if (isData(values[i], noData)) data.push(values[i]);
  if (data.length === 0) return null;
  const sorted = Float64Array.from(data).sort();
  return {
    low: percentileOfSorted(sorted, STRETCH_PERCENTILES.low),
    high: percentileOfSorted(sorted, STRETCH_PERCENTILES.high),
  };
}

/**
 * One value as a byte: 0 at or below `low`, 255 at or above `high`. A band whose range is one
 * value (a constant band, or a mask that is 98 % one value) shows that value as mid-grey.
 */
export function stretchToByte(value: number, range: StretchRange): number {
  if (range.high === range.low) return value < range.low ? 0 : value > range.high ? 255 : 128;
  const scaled = (value - range.low) / (range.high - range.low);
  return Math.round(Math.min(1, Math.max(0, scaled)) * 255);
}

/** A rendered quicklook: RGBA bytes, row-major, and the stretch of each shown band. */
export interface RenderedQuicklook {
  width: number;
  height: number;
  rgba: Uint8Array;
  /** One per shown band; `null` for a band without any data. */
  stretch: (StretchRange | null)[];
}

/**
 * Renders the shown bands (three for RGB, one for grey) of `width × height` pixels. A pixel
 * missing in any shown band is transparent.
 */
export function renderQuicklook(
  planes: readonly ArrayLike<number>[],
  width: number,
  height: number,
  noData: number | null,
): RenderedQuicklook {
  if (planes.length !== 1 && planes.length !== 3)
    throw new RangeError(`a quicklook shows 1 or 3 bands, got ${planes.length}`);
  const pixels = width * height;
  for (const plane of planes) {
    if (plane.length !== pixels) throw new RangeError(`expected ${pixels} values per band, got ${plane.length}`);
  }
  const stretch = planes.map((plane) => percentileStretch(plane, noData));
  const rgba = new Uint8Array(pixels * 4);
  for (let i = 0; i < pixels; i++) {
    const shown = planes.every((plane) => isData(plane[i], noData));
    if (!shown) continue; // stays transparent black
    for (let channel = 0; channel < 3; channel++) {
      const band = planes.length === 1 ? 0 : channel;
      rgba[i * 4 + channel] = stretchToByte(planes[band][i], stretch[band]!);
    }
    rgba[i * 4 + 3] = 255;
  }
  return { width, height, rgba, stretch };
}
