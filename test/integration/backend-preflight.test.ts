/**
 * The backend checks `plan` and the batch share, against the emulator over HTTP: a collection
 * lookup answered 404 `CollectionNotFound` is a missing collection; any other answer (a 404 of
 * another kind, a 500, a 501 of a backend without the endpoint) is "could not check", never a
 * refusal.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { preflightBackend } from '../../activities/backend-preflight';
import { OpenEOConnections } from '../../src/core/openeo/connections';
import type { FaultAction } from '../../src/tools/emulator/faults/config';
import { EMULATOR_USER } from '../support/harness';
import { withEmulator } from '../support/emulator-api';

const REQUIREMENTS = { collections: ['SENTINEL2_L2A', 'NO_SUCH_COLLECTION'], formats: [] };

async function checkCollections(fault?: FaultAction) {
  let result: Awaited<ReturnType<typeof preflightBackend>> | undefined;
  await withEmulator({ users: [EMULATOR_USER] }, async (emulator) => {
    if (fault) emulator.admin.setFaults({ routes: [{ route: 'GET /collections/{collection_id}', fault }] });
    const backend = { name: 'emulator', url: emulator.url };
    const connections = new OpenEOConnections({
      emulator: { url: emulator.url, auth: { type: 'basic', ...EMULATOR_USER } },
    });
    result = await preflightBackend(connections, backend, 0, REQUIREMENTS);
  });
  assert.ok(result);
  return result;
}

describe('backend preflight: collection lookups', () => {
  it('names a collection the backend answers 404 CollectionNotFound for, with the field and the fix', async () => {
    const result = await checkCollections();
    assert.deepEqual(
      result.problems.map((p) => [p.field, p.code]),
      [['backends[0]', 'collection_not_found']],
    );
    assert.match(
      result.problems[0].problem,
      /backend "emulator" has no collection "NO_SUCH_COLLECTION", which the process loads \(load_collection id; GET \/collections\/NO_SUCH_COLLECTION answered HTTP 404 CollectionNotFound/,
    );
    assert.match(result.problems[0].fix, /GET \/collections, or run these tiles on another backend/);
    assert.deepEqual(result.checked, ['collections']);
    assert.deepEqual(result.unchecked, ['validation: no tile to build a process graph from']);
  });

  for (const [what, fault, answer] of [
    [
      'a 404 JobNotFound',
      { type: 'status', status: 404, code: 'JobNotFound', message: 'no such job' },
      'HTTP 404 JobNotFound',
    ],
    ['a 500', { type: 'status', status: 500 }, 'HTTP 500 Internal'],
    [
      'a 501 of a backend without the endpoint',
      { type: 'status', status: 501, code: 'FeatureUnsupported', message: 'not implemented' },
      'HTTP 501 FeatureUnsupported',
    ],
  ] as const) {
    it(`says a collection could not be checked when the lookup answers ${what}, and refuses nothing`, async () => {
      const result = await checkCollections(fault);
      assert.deepEqual(result.problems, []);
      assert.ok(!result.checked.includes('collections'), result.checked.join());
      for (const id of REQUIREMENTS.collections) {
        const line = result.unchecked.find((u) => u.startsWith(`collection "${id}" could not be checked`));
        assert.ok(line?.includes(`GET /collections/${id} answered ${answer}`), result.unchecked.join('\n'));
      }
    });
  }
});
