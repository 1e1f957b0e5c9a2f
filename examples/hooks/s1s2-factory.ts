/**
 * A create-job hook: each tile gets a Sentinel-1 backscatter or a Sentinel-2 extraction,
 * chosen by its `sensor` property ("S1" or "S2"); a tile with `sensor: "none"` is skipped.
 * The time range is the tile's period (a spec with `periods`) or the spec's `temporal_extent`.
 *
 * In your own project, import from 'openeo-temporal' instead of '../../app'.
 */
import type { JobFactory, JobFactoryContext, Tile } from '../../src/app';

/** `[start, end)` for the tile: its period, else `parameterDefaults.temporal_extent`. */
function timeRange(tile: Tile, context: JobFactoryContext): [string, string] {
  const period = tile.properties.period as { start?: string; end?: string } | undefined;
  if (period?.start && period.end) return [period.start, period.end];
  const extent = context.parameterDefaults.temporal_extent;
  if (Array.isArray(extent) && extent.length === 2) return [String(extent[0]), String(extent[1])];
  throw new Error('no time range: give the batch "periods" or parameterDefaults.temporal_extent');
}

export const s1s2: JobFactory = (tile, context) => {
  const { helpers } = context;
  const sensor = tile.properties.sensor;
  if (sensor === 'none') return helpers.skip(`tile ${tile.id} has sensor "none": nothing to extract`);
  const temporalExtent = timeRange(tile, context);
  if (sensor === 'S1') {
    return {
      processGraph: helpers.loadCollection({
        collection: 'SENTINEL1_GRD',
        bands: ['VV', 'VH'],
        temporalExtent,
        steps: [{ process_id: 'sar_backscatter', arguments: { coefficient: 'sigma0-ellipsoid' } }],
      }),
      title: `S1 backscatter ${tile.id}`,
      description: `Sentinel-1 sigma0 backscatter (VV, VH) over tile ${tile.id}, ${temporalExtent.join(' to ')}`,
      // SAR processing wants more memory than the batch's default.
      jobOptions: { 'executor-memory': '4g' },
    };
  }
  if (sensor === 'S2') {
    return {
      processGraph: helpers.loadCollection({
        collection: 'SENTINEL2_L2A',
        bands: ['B04', 'B03', 'B02'],
        temporalExtent,
      }),
      title: `S2 extraction ${tile.id}`,
      description: `Sentinel-2 L2A red, green, blue over tile ${tile.id}, ${temporalExtent.join(' to ')}`,
    };
  }
  throw new Error(`tile property "sensor" is ${JSON.stringify(sensor)}: use "S1", "S2" or "none"`);
};
