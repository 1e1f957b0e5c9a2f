/**
 * Checking a batch before anything is created: the spec, its tile file or URL, and that this
 * worker can reach and log in to every backend.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { OpenEOConnections } from '../core/openeo/connections';
import { checkSpecOffline, checkTilesOffline, type PreparedBatch } from '../core/spec/prepare';
import { InvalidSpecError } from '../core/spec/validate';
import { isTileFile, loadTiles } from './tile-source';
import { checkBackendLogin } from './backend-checks';

export type { PreparedBatch };

function invalid(err: InvalidSpecError): ApplicationFailure {
  return ApplicationFailure.nonRetryable(err.message, err.code, { issues: err.issues });
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

export function createSpecCheckActivities(connections: OpenEOConnections) {
  return {
    /**
     * Validates the spec, reads and checks file or URL tiles, and checks that this worker can
     * reach and log in to every backend (`GET /me`). Fails without retry on anything the user must fix.
     */
    async prepareBatch(input: unknown): Promise<PreparedBatch> {
      let prepared = checked(() => checkSpecOffline(input));
      const { tiles } = prepared.spec;
      if (isTileFile(tiles)) {
        const loaded = await loadTiles(tiles);
        const totalTiles = checked(() => checkTilesOffline(prepared.spec, loaded.collection));
        prepared = { ...prepared, totalTiles, tileFingerprint: loaded.fingerprint };
      }
      for (const [i, backend] of prepared.spec.backends.entries()) await checkBackendLogin(connections, backend, i);
      return prepared;
    },
  };
}
