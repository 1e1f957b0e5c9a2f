/**
 * The cluster tier's Temporal: a self-hosted Temporal Service of the test file's own
 * (test/harness/temporal-service.ts), handed to `startHarness` the way the test runner hands it
 * the shared dev server (test/harness/shared-temporal.ts), so the cluster tests use the normal
 * harness, client and workers. A service per file: one test kills and restarts its server.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { SHARED_TEMPORAL_ENV } from '../harness/shared-temporal';
import { startTemporalService, type TemporalService } from '../harness/temporal-service';

/**
 * Starts a Temporal Service with `namespaces` namespaces and points this process's harnesses at
 * it: each `startHarness()` after this claims one of them.
 */
export async function useTemporalService(namespaces = 1): Promise<TemporalService> {
  const service = await startTemporalService({
    namespaces: Array.from({ length: namespaces }, (_, i) => `cluster-${i + 1}`),
  });
  const claims = join(service.dir, 'claims');
  await mkdir(claims);
  process.env[SHARED_TEMPORAL_ENV.address] = service.address;
  process.env[SHARED_TEMPORAL_ENV.namespaces] = service.namespaces.join(',');
  process.env[SHARED_TEMPORAL_ENV.claims] = claims;
  return service;
}
