/**
 * Checking a batch before anything is created: the spec, its tile file or URL, and that this
 * worker can reach and log in to every backend.
 */
import { ApplicationFailure } from '@temporalio/common';
import { BackendConfigError, type OpenEOConnections } from '../core/openeo/connections';
import { Context } from '@temporalio/activity';
import { describeFailure, isTransient } from '../core/openeo/errors';
import { checkSpecOffline, checkTilesOffline, type PreparedBatch } from '../core/spec/prepare';
import { InvalidSpecError } from '../core/spec/validate';
import { isTileFile, loadTiles } from './tile-source';

export type { PreparedBatch };

/** Network answers that mean "no backend here" rather than "busy". */
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN']);
const UNREACHABLE_ATTEMPTS = 3;

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
  };
}
