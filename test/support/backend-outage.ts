/**
 * The backend-outage scenario, at any scale: a 3 × 3 batch (3 jobs at a time) whose backend
 * answers nothing for `outageMs` once the first tiles finished and the next ones run. Checked
 * shortly before the outage ends: the batch still runs and no tile gave up. Checked at the end:
 * every tile finished with exactly one job, on its first attempt, never more than
 * `parallelJobs` at once. The integration tier runs it on a scaled clock, the soak tier at full
 * length.
 */
import assert from 'node:assert/strict';
import type { BatchSpecInput } from '../../src/core/batch-spec/schema';
import { batchProgress } from '../../workflows/messages';
import { eventually } from './eventually';
import { EMULATOR_USER, type Harness } from './harness';

export interface BackendOutage {
  outageMs: number;
  /** How long before the outage's end the batch is checked. */
  checkBeforeEndMs: number;
  timeouts: BatchSpecInput['timeouts'];
}

const PARALLEL_JOBS = 3;
const BATCH_ID = 'backend-outage';

export async function rideOutBackendOutage(
  h: Harness,
  { outageMs, checkBeforeEndMs, timeouts }: BackendOutage,
): Promise<void> {
  const spec = h.spec({ batchId: BATCH_ID, cols: 3, rows: 3, timeouts });
  spec.backends = [{ name: 'emulator', url: h.emulator.url, parallelJobs: PARALLEL_JOBS }];
  const { handle } = await h.client.start(spec);
  await eventually(
    async () => {
      const { counts } = await handle.query(batchProgress);
      return counts.finished >= PARALLEL_JOBS && counts.running === PARALLEL_JOBS;
    },
    'the first tiles finished and the next ones run',
    120_000,
  );
  h.emulator.admin.setFaults({ outage: { fromNowMs: 0, durationMs: outageMs } });
  const outageEnds = Date.now() + outageMs;

  // The running jobs finish on the backend meanwhile; the batch cannot see it, and waits.
  await new Promise((resolve) => setTimeout(resolve, outageMs - checkBeforeEndMs));
  assert.ok(Date.now() < outageEnds, 'checked while the backend was still down');
  assert.equal((await handle.describe()).status.name, 'RUNNING', 'the outage did not end the batch');
  assert.equal((await handle.query(batchProgress)).counts.error, 0, 'no tile gave up during the outage');
  assert.ok((h.emulator.admin.stats().faults.byType.outage ?? 0) > 0, 'the backend refused requests');

  const summary = await handle.result();
  assert.equal(summary.counts.finished, 9, JSON.stringify(summary.failedTiles));
  assertOneJobPerTile(h);
}

function assertOneJobPerTile(h: Harness): void {
  const stats = h.emulator.admin.stats();
  const titles = Object.entries(stats.jobs.createdByTitle).filter(([title]) => title.startsWith(`${BATCH_ID}/`));
  assert.equal(titles.length, 9, `one job per tile: ${JSON.stringify(titles)}`);
  for (const [title, jobs] of titles) {
    assert.equal(jobs, 1, `exactly one job for ${title}`);
    assert.match(title, / attempt 1$/, 'no attempt was spent on the outage');
  }
  const started = stats.startedJobsPerUser[EMULATOR_USER.username];
  assert.ok(
    started && started.max <= PARALLEL_JOBS,
    `at most ${PARALLEL_JOBS} jobs queued or running at once: ${JSON.stringify(stats.startedJobsPerUser)}`,
  );
}
