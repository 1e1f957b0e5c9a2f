/**
 * Every check of a batch spec that needs no network: schema, tiling, parameter mapping.
 * The CLI and client run it before starting a batch; the worker runs it again in
 * `prepareBatch`, followed by the checks that need the backends.
 */
import { MissingTilePropertyError, tileArguments } from './arguments';
import { SpecError } from './errors';
import type { BatchSpec } from './schema';
import type { TileSource } from './tile-types';
import { countTiles, tilePage } from './tiling';
import { InvalidSpecError, parseBatchSpec } from './validate';

/** A spec that passed every check, with defaults filled in, and its number of tiles. */
export interface PreparedBatch {
  spec: BatchSpec;
  totalTiles: number;
}

/** Throws {@link InvalidSpecError} naming each offending field. */
export function checkSpecOffline(input: unknown): PreparedBatch {
  const spec = parseBatchSpec(input);
  try {
    const source = spec.tiles as TileSource;
    const totalTiles = countTiles(source);
    for (const tile of tilePage(source, 0, 1)) tileArguments(tile, spec.parameterDefaults, spec.parameterMapping);
    return { spec, totalTiles };
  } catch (err) {
    if (err instanceof SpecError) throw InvalidSpecError.from(err);
    if (err instanceof MissingTilePropertyError) {
      throw new InvalidSpecError([{ field: err.field, problem: err.message, fix: 'map an existing tile property', code: err.code }]);
    }
    throw err;
  }
}
