/**
 * Every check of a batch spec that needs no network: schema, tiling, parameter mapping, pinned
 * backends. The CLI and client run it before starting a batch; the worker runs it again in
 * `prepareBatch`, together with the checks that need files, URLs and backends.
 */
import { MissingTilePropertyError, tileArguments } from './arguments';
import { SpecError } from './errors';
import type { BatchSpec } from './schema';
import type { TileSource } from './tile-types';
import { planTiles } from './tiling';
import { InvalidSpecError, parseBatchSpec } from './validate';

/** A spec that passed every check, with defaults filled in, and its number of tiles. */
export interface PreparedBatch {
  spec: BatchSpec;
  /** Known offline for AOI and inline tiles; for file and URL tiles once the worker read them. */
  totalTiles: number;
  /** For file and URL tiles: the SHA-256 of the source, so a changed file is noticed. */
  tileFingerprint?: string;
}

function problem(field: string, message: string, fix: string, code: string): InvalidSpecError {
  return new InvalidSpecError([{ field, problem: message, fix, code }]);
}

/**
 * Validates the tiles and checks every tile's pinned backends and mapped properties; returns
 * the number of tiles. Checks all tiles of a FeatureCollection (they are all in memory anyway),
 * and the first tile of a grid (grid tiles all have the same properties).
 */
export function checkTilesOffline(spec: BatchSpec, source: TileSource): number {
  try {
    const plan = planTiles(source);
    const names = new Set(spec.backends.map((b) => b.name));
    const checkCount = 'aoi' in source ? Math.min(1, plan.count) : plan.count;
    for (let i = 0; i < checkCount; i++) {
      const tile = plan.tileAt(i);
      tileArguments(tile, spec.parameterDefaults, spec.parameterMapping);
      const { backend, backends } = tile.properties;
      const pinned = typeof backend === 'string' ? [backend] : Array.isArray(backends) ? backends : [];
      const unknown = pinned.find((name) => typeof name !== 'string' || !names.has(name));
      if (unknown !== undefined) {
        throw problem(`tiles.features[${i}].properties`, `tile "${tile.id}" asks for backend ${JSON.stringify(unknown)}, which the spec does not list`, `use one of: ${[...names].join(', ')}`, 'unknown_backend');
      }
    }
    return plan.count;
  } catch (err) {
    if (err instanceof SpecError) throw InvalidSpecError.from(err);
    if (err instanceof MissingTilePropertyError) throw problem(err.field, err.message, 'map an existing tile property', err.code);
    throw err;
  }
}

/**
 * Inline tiles travel in the batch's workflow input, and Temporal warns about payloads above
 * 512 KB (and refuses them above 2 MB): larger tile sets belong in a file or at a URL.
 */
export const MAX_INLINE_TILES_BYTES = 256 * 1024;

function checkInlineSize(spec: BatchSpec): void {
  if (!('features' in spec.tiles)) return;
  const bytes = new TextEncoder().encode(JSON.stringify(spec.tiles)).length;
  if (bytes > MAX_INLINE_TILES_BYTES) {
    throw problem(
      'tiles',
      `the inline FeatureCollection has ${Math.round(bytes / 1024)} KB, more than ${MAX_INLINE_TILES_BYTES / 1024} KB can travel in a workflow input`,
      'put the tiles in a GeoJSON file every worker can read ({"file": "tiles.geojson"}) or at a URL ({"url": "https://…/tiles.geojsonl"})',
      'inline_tiles_too_large',
    );
  }
}

/**
 * Throws {@link InvalidSpecError} naming each offending field. For file and URL tiles only the
 * spec itself is checked here (`totalTiles` is then 0): the worker reads and checks the tiles.
 */
export function checkSpecOffline(input: unknown): PreparedBatch {
  const spec = parseBatchSpec(input);
  if ('file' in spec.tiles || 'url' in spec.tiles) return { spec, totalTiles: 0 };
  checkInlineSize(spec);
  return { spec, totalTiles: checkTilesOffline(spec, spec.tiles as TileSource) };
}
