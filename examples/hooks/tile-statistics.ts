/**
 * A post-processing hook: per-band statistics of each GeoTIFF of a tile (min, max, mean and
 * valid pixel count, nodata and NaN left out), written as `stats.json` next to the results and
 * returned (small) for the tile's record. Pixels are decoded a strip of rows at a time, so the
 * decoded raster of a large result never sits in memory whole (the file's bytes are read once,
 * through the tile-file API, which works wherever the results are stored).
 *
 * In your own project, import from 'openeo-temporal' instead of '../../app'.
 */
import { fromArrayBuffer } from 'geotiff';
import type { Postprocessor, TileFile } from '../../src/app';

export interface BandStatistics {
  band: number;
  min: number | null;
  max: number | null;
  mean: number | null;
  validPixels: number;
}

/** Rows read at once. */
const STRIP_ROWS = 256;

class Accumulator {
  min = Infinity;
  max = -Infinity;
  sum = 0;
  count = 0;

  add(values: ArrayLike<number>, noData: number | null): void {
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if (Number.isNaN(v) || v === noData) continue;
      if (v < this.min) this.min = v;
      if (v > this.max) this.max = v;
      this.sum += v;
      this.count += 1;
    }
  }

  result(band: number): BandStatistics {
    const some = this.count > 0;
    return {
      band,
      min: some ? this.min : null,
      max: some ? this.max : null,
      mean: some ? this.sum / this.count : null,
      validPixels: this.count,
    };
  }
}

/** Per-band statistics of one GeoTIFF. */
export async function geotiffStatistics(
  file: TileFile,
  heartbeat: () => void = () => undefined,
): Promise<BandStatistics[]> {
  const data = await file.read();
  const tiff = await fromArrayBuffer(
    data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer,
  );
  const image = await tiff.getImage();
  const [width, height, bands] = [image.getWidth(), image.getHeight(), image.getSamplesPerPixel()];
  const noData = image.getGDALNoData();
  const totals = Array.from({ length: bands }, () => new Accumulator());
  for (let top = 0; top < height; top += STRIP_ROWS) {
    const rasters = await image.readRasters({ window: [0, top, width, Math.min(height, top + STRIP_ROWS)] });
    for (let b = 0; b < bands; b++) totals[b].add(rasters[b] as ArrayLike<number>, noData);
    heartbeat();
  }
  return totals.map((t, i) => t.result(i + 1));
}

export const tileStatistics: Postprocessor = async ({ files, writeFile, heartbeat }) => {
  const stats: Record<string, BandStatistics[]> = {};
  for (const file of files.filter((f) => /\.tiff?$/i.test(f.name)))
    stats[file.name] = await geotiffStatistics(file, () => heartbeat({ file: file.name }));
  await writeFile('stats.json', `${JSON.stringify(stats, null, 2)}\n`);
  return stats;
};
