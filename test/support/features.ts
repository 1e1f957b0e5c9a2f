/** Tiles for batches given as GeoJSON features: small squares in a row near Antwerp. */
import type { BatchSpecInput } from '../../src/core/batch-spec/schema';
import type { TileRecord } from '../../src/core/records';
import type { Harness } from './harness';

/** A 0.05° square tile near Antwerp, `i` tiles east of the first, with its properties. */
export function squareTile(id: string, i: number, properties: Record<string, unknown>) {
  const [w, s] = [4.3 + i * 0.05, 51.2];
  const ring = [
    [w, s],
    [w + 0.05, s],
    [w + 0.05, s + 0.05],
    [w, s + 0.05],
    [w, s],
  ];
  return { type: 'Feature' as const, id, properties, geometry: { type: 'Polygon', coordinates: [ring] } };
}

/**
 * What tests of batches over such tiles look up, for the harness `harness()` returns once it
 * runs: a tile's record, the emulator's jobs of a batch, and a spec over given features.
 */
export function featureBatches(harness: () => Harness) {
  return {
    tileRecord: (batchId: string, tileId: string): Promise<TileRecord> =>
      harness().temporal.workflow.getHandle(`${batchId}/tile-${tileId}`).result(),
    jobsOf: (batchId: string) =>
      harness()
        .emulator.admin.jobs()
        .filter((j) => j.title?.includes(`${batchId}/`)),
    spec: (batchId: string, features: ReturnType<typeof squareTile>[], extra: Partial<BatchSpecInput>) => ({
      ...harness().spec({ batchId }),
      tiles: { type: 'FeatureCollection' as const, features },
      ...extra,
    }),
  };
}
