/** Batch specs for the benchmark: square-ish grids of tiles over an AOI in EPSG:32631. */
import type { BatchSpecInput } from '../src/core/batch-spec/schema';
import { BAP_COMPOSITE_NAMESPACE } from '../src/tools/emulator';

export interface GridOptions {
  batchId: string;
  backend: { name: string; url: string };
  parallelJobs: number;
  tiles: number;
  /** Tile edge in metres. */
  tileSize: number;
  outputDir: string;
  /** Seconds; omitted means the spec's defaults (what users get). */
  polling?: { initialIntervalSeconds: number; maxIntervalSeconds: number };
}

/**
 * `tiles` tiles as an AOI grid of at most 100 columns (10,000 tiles = 100 × 100), starting in
 * Flanders; every tile is full-size, so the count is exact when `tiles` fits the columns.
 */
export function gridSpec(o: GridOptions): BatchSpecInput {
  const cols = Math.min(100, o.tiles);
  const rows = Math.ceil(o.tiles / cols);
  if (cols * rows !== o.tiles) throw new Error(`${o.tiles} tiles do not make a full grid of ${cols} columns`);
  const west = 500_000;
  const south = 5_600_000;
  return {
    batchId: o.batchId,
    backends: [{ name: o.backend.name, url: o.backend.url, parallelJobs: o.parallelJobs }],
    process: { processId: 'bap_composite', namespace: BAP_COMPOSITE_NAMESPACE },
    parameterDefaults: { temporal_extent: ['2024-06-01', '2024-09-01'] },
    tiles: {
      aoi: { west, south, east: west + cols * o.tileSize, north: south + rows * o.tileSize, crs: 'EPSG:32631' },
      tileSize: o.tileSize,
    },
    outputDir: o.outputDir,
    // The bench means its size: batches above the default maxTiles are confirmed here.
    maxTiles: Math.max(o.tiles, 1),
    ...(o.polling ? { polling: o.polling } : {}),
  };
}
