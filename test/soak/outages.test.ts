/**
 * A backend that answers nothing for ten minutes in the middle of a batch costs time, never a
 * tile, a second job or a slot over `parallelJobs`, with the batch's default-sized activity and
 * heartbeat timeouts. (test/integration/outages.test.ts runs the same on a scaled clock, and the
 * shorter outages: a tile file that goes missing, failing status checks.)
 */
import { after, before, describe, it } from 'node:test';
import { rideOutBackendOutage } from '../support/backend-outage';
import { startHarness, type Harness } from '../support/harness';

describe('a backend outage in the middle of a batch', () => {
  let h: Harness;
  before(async () => {
    // Jobs long enough that the outage finds some running and others waiting for a slot.
    h = await startHarness({ maxRunningJobsPerUser: 50, jobDurations: { queuedMs: 500, runningMs: 15_000 } });
    await h.startWorker();
  });
  after(async () => h?.teardown());

  it('rides out ten minutes without an answer: every tile finished, one job per attempt, parallelJobs kept', async () => {
    await rideOutBackendOutage(h, {
      outageMs: 10 * 60_000,
      checkBeforeEndMs: 30_000,
      timeouts: { retryMaxIntervalSeconds: 10 },
    });
  });
});
