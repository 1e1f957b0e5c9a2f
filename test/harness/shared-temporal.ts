/**
 * One Temporal dev server for a whole test run, instead of one per test harness. The test runner
 * (test/harness/test-run.ts) starts it with a pool of namespaces and hands the address and the pool
 * to the test processes in the environment; each harness claims a namespace of its own, never
 * used before in the run. A namespace per harness keeps tests apart as a server per harness did:
 * workflow ids (quota workflows are named after a backend's URL, and ports come round again),
 * visibility queries and search attributes never see another test's workflows.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';

/** What the runner passes to test processes. */
export const SHARED_TEMPORAL_ENV = {
  address: 'OPENEO_TEMPORAL_TEST_TEMPORAL_ADDRESS',
  namespaces: 'OPENEO_TEMPORAL_TEST_NAMESPACES',
  claims: 'OPENEO_TEMPORAL_TEST_NAMESPACE_CLAIMS',
} as const;

/** Namespaces the shared server is started with: more than the run's harnesses (32 in 0.9.0). */
export const NAMESPACE_POOL_SIZE = 96;

export function namespacePool(size = NAMESPACE_POOL_SIZE): string[] {
  return Array.from({ length: size }, (_, i) => `test-${i + 1}`);
}

/** A namespace on the run's shared server, for one harness. */
export interface SharedNamespace {
  address: string;
  namespace: string;
}

/**
 * Claims a namespace no other harness of this run has had, or `undefined` when there is no
 * shared server (a test file run on its own) or the pool is used up: the caller then starts a
 * server of its own. A claim is a directory made with `mkdir`, which succeeds for one process only.
 */
export async function claimSharedNamespace(env: NodeJS.ProcessEnv = process.env): Promise<SharedNamespace | undefined> {
  const address = env[SHARED_TEMPORAL_ENV.address];
  const claims = env[SHARED_TEMPORAL_ENV.claims];
  const namespaces = env[SHARED_TEMPORAL_ENV.namespaces]?.split(',').filter(Boolean) ?? [];
  if (!address || !claims) return undefined;
  for (const namespace of namespaces) {
    try {
      await mkdir(join(claims, namespace));
      return { address, namespace };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  return undefined;
}
