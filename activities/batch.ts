/**
 * Activities of the batch itself: check a spec before anything is created, and hand out its
 * tiles a page at a time (tiles are derived again on demand, never stored in history in bulk).
 */
import { ApplicationFailure } from '@temporalio/common';
import { BackendConfigError, type OpenEOConnections } from '../src/openeo/connections';
import { Context } from '@temporalio/activity';
import { describeFailure, isTransient } from '../src/openeo/errors';
import { checkSpecOffline, checkTilesOffline, type PreparedBatch } from '../src/spec/prepare';
import type { TileFileSpec, TilesSpec } from '../src/spec/schema';
import type { Tile, TileFeatureCollection, TileSource } from '../src/spec/tile-types';
import { featureSliceTiles, tilePage } from '../src/spec/tiling';
import { InvalidSpecError } from '../src/spec/validate';
import { SpecError } from '../src/spec/errors';
import { checkFingerprint, loadTiles } from './tile-source';

export type { PreparedBatch };

/** Network answers that mean "no backend here" rather than "busy". */
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN']);
const UNREACHABLE_ATTEMPTS = 3;

export interface TilePageInput {
  /**
   * The spec's tiles; for an inline FeatureCollection, only the page's features (the workflow
   * slices it, so the whole collection is not copied into history for every page).
   */
  tiles: TilesSpec;
  offset: number;
  limit: number;
  /** For `tiles: {file}` or `{url}`: the fingerprint `prepareBatch` saw. */
  fingerprint?: string;
}

function invalid(err: InvalidSpecError): ApplicationFailure {
  return ApplicationFailure.nonRetryable(err.message, err.code, { issues: err.issues });
}

function isTileFile(tiles: TilesSpec): tiles is TileFileSpec {
  return 'file' in tiles || 'url' in tiles;
}

/** Runs a spec check, turning a spec problem into a failure that is not retried. */
function checked<T>(check: () => T): T {
  try {
    return check();
  } catch (err) {
    if (err instanceof InvalidSpecError) throw invalid(err);
    throw err;
  }
}

export function createBatchActivities(connections: OpenEOConnections) {
  return {
    /**
     * Validates the spec, reads and checks file or URL tiles, and checks that this worker can
     * reach and authenticate to every backend. Fails without retry on anything the user must fix.
     */
    async prepareBatch(input: unknown): Promise<PreparedBatch> {
      let prepared = checked(() => checkSpecOffline(input));
      const { tiles } = prepared.spec;
      if (isTileFile(tiles)) {
        const loaded = await loadTiles(tiles);
        const totalTiles = checked(() => checkTilesOffline(prepared.spec, loaded.collection));
        prepared = { ...prepared, totalTiles, tileFingerprint: loaded.fingerprint };
      }
      for (const [i, backend] of prepared.spec.backends.entries()) {
        try {
          await connections.get(backend);
        } catch (err) {
          if (err instanceof BackendConfigError) {
            throw invalid(new InvalidSpecError([{ field: `backends[${i}]`, problem: err.message, fix: 'configure the worker for this backend', code: err.code }]));
          }
          const failure = describeFailure(err);
          const message = `backends[${i}].url: cannot connect to backend "${backend.name}" at ${backend.url}: ${failure.code}: ${failure.message}; check the URL and that the backend is up`;
          // A busy backend (5xx, 429, a reset) is worth the full retry policy; a host that refuses
          // or does not exist, or refused credentials, fail the batch after a few tries.
          const unreachable = UNREACHABLE_CODES.has(failure.code) || failure.status === 401 || failure.status === 403;
          const giveUp = !isTransient(failure) || (unreachable && Context.current().info.attempt >= UNREACHABLE_ATTEMPTS);
          throw ApplicationFailure.create({ message, type: 'BackendUnreachable', nonRetryable: giveUp || failure.status === 401 || failure.status === 403 });
        }
      }
      return prepared;
    },

    /** Validates tiles added to a running batch; their default ids continue the batch's numbering. */
    async normalizeAddedTiles(input: { features: TileFeatureCollection['features']; firstIndex: number }): Promise<Tile[]> {
      try {
        return featureSliceTiles({ type: 'FeatureCollection', features: input.features }, input.firstIndex);
      } catch (err) {
        if (err instanceof SpecError) throw ApplicationFailure.nonRetryable(err.message.replace(/^tiles\./, ''), 'InvalidTiles');
        throw err;
      }
    },

    /** Tiles `offset … offset+limit` of the spec's tiles, in their fixed order. */
    async listTiles(input: TilePageInput): Promise<Tile[]> {
      const { tiles } = input;
      if (isTileFile(tiles)) {
        const loaded = await loadTiles(tiles);
        checkFingerprint(tiles, loaded, input.fingerprint);
        return tilePage(loaded.collection, input.offset, input.limit);
      }
      if ('aoi' in tiles) return tilePage(tiles as TileSource, input.offset, input.limit);
      // The schema only checks the outline of a collection; featureSliceTiles validates each feature.
      return featureSliceTiles(tiles as unknown as TileFeatureCollection, input.offset);
    },
  };
}
