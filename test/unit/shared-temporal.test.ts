/**
 * The test run's shared Temporal server: each harness gets a namespace no other harness of the
 * run had, even when test files claim at the same time, and none when there is no shared server.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { SHARED_TEMPORAL_ENV, claimSharedNamespace, namespacePool } from '../harness/shared-temporal';

async function withClaims(size: number, body: (env: NodeJS.ProcessEnv) => Promise<void>): Promise<void> {
  const claims = await mkdtemp(join(tmpdir(), 'openeo-temporal-claims-'));
  try {
    await body({
      [SHARED_TEMPORAL_ENV.address]: '127.0.0.1:7233',
      [SHARED_TEMPORAL_ENV.namespaces]: namespacePool(size).join(','),
      [SHARED_TEMPORAL_ENV.claims]: claims,
    });
  } finally {
    await rm(claims, { recursive: true, force: true });
  }
}

describe('a namespace of the shared test server', () => {
  it('is none when the run has no shared server', async () => {
    assert.equal(await claimSharedNamespace({}), undefined);
  });

  it('is never given twice, even to claims made at once, and is none once the pool is used up', async () => {
    await withClaims(5, async (env) => {
      const claims = await Promise.all(Array.from({ length: 7 }, () => claimSharedNamespace(env)));
      const given = claims.filter((c) => c !== undefined).map((c) => c.namespace);
      assert.deepEqual([...given].sort(), namespacePool(5).sort());
      assert.equal(claims.filter((c) => c === undefined).length, 2);
      assert.ok(claims.every((c) => c === undefined || c.address === '127.0.0.1:7233'));
    });
  });
});
