/**
 * Backend quotas held across workers with the real minute: three workers run one batch against
 * an emulator that answers 429 beyond 2 requests in flight and 12 job starts a minute per user,
 * so the batch takes over a minute. (test/integration/quotas.test.ts runs the same with the
 * start window scaled down to 10 s.)
 */
import { after, before, describe, it } from 'node:test';
import type { Harness } from '../support/harness';
import { runQuotaBatch, startQuotaHarness } from '../support/quota-batch';

describe('backend quotas held across three workers, a minute at a time', () => {
  let h: Harness;
  before(async () => {
    h = await startQuotaHarness(60);
  });
  after(async () => h?.teardown());

  it(
    'keeps 16 tiles on 3 workers within 2 requests at once and 12 starts a minute, with no 429',
    { timeout: 240_000 },
    async (t) => {
      await runQuotaBatch(h, t, 60);
    },
  );
});
