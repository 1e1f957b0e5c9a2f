/**
 * Activities of the batch itself: check a spec before anything is created, and hand out its
 * tiles a page at a time (tiles are derived again on demand, never stored in history in bulk).
 */
import { ApplicationFailure } from '@temporalio/common';
import { BackendConfigError, type OpenEOConnections } from '../src/openeo/connections';
import { describeFailure } from '../src/openeo/errors';
import type { Tile } from '../src/spec/arguments';
import { checkSpecOffline, type PreparedBatch } from '../src/spec/prepare';
import type { TilesSpec } from '../src/spec/schema';
import type { TileSource } from '../src/spec/tile-types';
import { tilePage } from '../src/spec/tiling';
import { InvalidSpecError } from '../src/spec/validate';

export type { PreparedBatch };

export interface TilePageInput {
  tiles: TilesSpec;
  offset: number;
  limit: number;
}

function invalid(err: InvalidSpecError): ApplicationFailure {
  return ApplicationFailure.nonRetryable(err.message, err.code, { issues: err.issues });
}

export function createBatchActivities(connections: OpenEOConnections) {
  return {
    /**
     * Validates the spec and checks that this worker can reach and authenticate to every
     * backend. Fails without retry on any problem the user must fix.
     */
    async prepareBatch(input: unknown): Promise<PreparedBatch> {
      let prepared: PreparedBatch;
      try {
        prepared = checkSpecOffline(input);
      } catch (err) {
        if (err instanceof InvalidSpecError) throw invalid(err);
        throw err;
      }
      for (const [i, backend] of prepared.spec.backends.entries()) {
        try {
          await connections.get(backend);
        } catch (err) {
          if (err instanceof BackendConfigError) {
            throw invalid(new InvalidSpecError([{ field: `backends[${i}]`, problem: err.message, fix: 'configure the worker for this backend', code: err.code }]));
          }
          const failure = describeFailure(err);
          throw ApplicationFailure.create({
            message: `backends[${i}].url: cannot connect to backend "${backend.name}" at ${backend.url}: ${failure.code}: ${failure.message}; check the URL and that the backend is up`,
            type: 'BackendUnreachable',
            // Credentials that are refused will not become valid by retrying.
            nonRetryable: failure.status === 401 || failure.status === 403,
          });
        }
      }
      return prepared;
    },

    /** Tiles `offset … offset+limit` of the spec's tiles, in their fixed order. */
    async listTiles(input: TilePageInput): Promise<Tile[]> {
      return tilePage(input.tiles as TileSource, input.offset, input.limit);
    },
  };
}
