/**
 * A budget in credits on a real batch: the emulator charges each job (0.5 credits a start plus
 * 0.1 a running second), the batch stops starting jobs before the budget would be passed, shows
 * why, and finishes once the budget is raised. Also across the partitions of a partitioned batch.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { planBatch } from '../../src/app/plan';
import { runPilot } from '../../src/app/plan/pilot';
import type { BatchProgress } from '../../src/core/progress';
import { runCli } from '../support/cli';
import { eventually } from '../support/eventually';
import { startHarness, type Harness } from '../support/harness';

/** Jobs of the batch the emulator started (a lined-up job is created ahead, and started later). */
function startedJobs(h: Harness, batchId: string): number {
  return h.emulator.admin.jobs().filter((j) => j.title?.startsWith(`${batchId}/`) && j.runs > 0).length;
}

/** Waits until the budget holds the batch back and nothing of it runs any more. */
async function heldBack(h: Harness, batchId: string): Promise<BatchProgress> {
  let progress: BatchProgress | undefined;
  await eventually(async () => {
    progress = await h.client.progress(batchId);
    return /^budget: /.test(progress.problem ?? '') && progress.counts.running === 0;
  }, 'the budget holds the batch back and its tiles in flight ended');
  return progress!;
}

describe('a budget in credits', () => {
  let h: Harness;
  before(async () => {
    // Each job costs about 0.5 + 0.1 × 0.4 s = 0.54 credits.
    h = await startHarness({ maxRunningJobsPerUser: 20, jobDurations: { queuedMs: 50, runningMs: 400 } });
    await h.startWorker();
  });
  after(async () => h?.teardown());

  it('stops starting jobs before the budget would be passed, says why, and finishes once it is raised', async () => {
    const spec = h.spec({ batchId: 'budget', cols: 4, rows: 2, budget: { credits: 2.5 } });
    const { handle } = await h.client.start(spec);
    const progress = await heldBack(h, 'budget');

    // Two jobs and two lined up start before any cost is known (nothing to project from); then
    // 4 × 0.54 = 2.16 is spent or committed, and a fifth job would pass 2.5.
    const started = startedJobs(h, 'budget');
    assert.ok(
      started <= 4 && started >= 1,
      `at most 4 of 8 jobs started within a budget of 2.5 credits, saw ${started}`,
    );
    assert.ok(progress.costs <= 2.5, `reported costs within the budget: ${progress.costs}`);
    assert.equal(progress.counts.not_started, 8 - started);
    assert.match(
      progress.problem ?? '',
      /^budget: \d+\.\d\d of 2\.50 credits spent or committed .*openeo-temporal budget <batchId> --credits/,
    );
    assert.match(progress.pausedBackends.emulator ?? '', /^budget: /);
    const metadata: { currentDetails?: string } = await handle.query('__temporal_workflow_metadata');
    assert.match(metadata.currentDetails ?? '', /\*\*Waiting\*\*: budget: .* of 2\.50 credits spent or committed/);

    // Held back it stays: no job starts while the budget is where it was.
    await sleep(1_000);
    assert.equal(startedJobs(h, 'budget'), started, 'no job started while the budget holds the batch back');

    await assert.rejects(h.client.setBudget('budget', { credits: 0 }), (err: Error) =>
      /credits: give a number of credits greater than 0/.test(
        String((err.cause as Error | undefined)?.message ?? err.message),
      ),
    );
    assert.deepEqual(await h.client.setBudget('budget', { credits: 10 }), { credits: 10 });
    const summary = await handle.result();
    assert.equal(summary.counts.finished, 8);
    assert.equal(startedJobs(h, 'budget'), 8);
    assert.ok(summary.costs > 2.5 && summary.costs <= 10, `all 8 jobs paid within the raised budget: ${summary.costs}`);
  });

  it('holds across the partitions of a partitioned batch', async () => {
    // Four partitions of two tiles each: the second and later ones start with what the first spent.
    const spec = h.spec({
      batchId: 'budget-parts',
      cols: 4,
      rows: 2,
      budget: { backends: { emulator: 2.5 } },
      scheduling: { partitionAboveTiles: 1, tilesPerPartition: 2 },
    });
    const { handle } = await h.client.start(spec);
    const progress = await heldBack(h, 'budget-parts');
    const started = startedJobs(h, 'budget-parts');
    assert.ok(
      started <= 4 && started >= 2,
      `at most 4 of 8 jobs started within a budget of 2.5 credits, saw ${started}`,
    );
    assert.ok(progress.costs <= 2.5, `reported costs within the budget: ${progress.costs}`);
    assert.match(
      progress.pausedBackends.emulator ?? '',
      /^budget: \d+\.\d\d of 2\.50 credits on emulator spent or committed/,
    );

    await sleep(1_000);
    assert.equal(startedJobs(h, 'budget-parts'), started, 'no job started while the budget holds the batch back');
    const status = await runCli(h, ['status', 'budget-parts']);
    assert.match(
      status.stdout,
      /\n {2}backend emulator paused: budget: \d+\.\d\d of 2\.50 credits on emulator spent or committed/,
      status.stdout + status.stderr,
    );
    const raised = await runCli(h, ['budget', 'budget-parts', '--backend', 'emulator', '--credits', '10']);
    assert.equal(raised.code, 0, raised.stderr);
    assert.equal(raised.stdout.trim(), 'batch budget-parts budget: emulator: 10 credits');
    const summary = await handle.result();
    assert.equal(summary.counts.finished, 8);
    assert.equal(startedJobs(h, 'budget-parts'), 8);
  });

  it("projects a batch's cost from a pilot of its first tiles", async () => {
    const spec = h.spec({ batchId: 'budget-plan', cols: 4, rows: 2 });
    const plan = await planBatch(spec, { offline: true });
    assert.match(plan.costs?.how ?? '', /^projected cost unknown/);
    const piloted = await runPilot(h.client, spec, plan, 2, 'budget-plan-pilot');
    assert.equal(startedJobs(h, 'budget-plan-pilot'), 2, 'the pilot ran two jobs');
    assert.equal(startedJobs(h, 'budget-plan'), 0, 'and no job of the batch itself');
    // Each job costs about 0.54 credits: 8 tiles about 4.3.
    const projected = piloted.costs?.projected ?? 0;
    assert.ok(projected >= 8 * 0.5 && projected <= 8 * 0.7, `projected ${projected} for 8 tiles`);
    assert.match(
      piloted.costs?.how ?? '',
      /^pilot budget-plan-pilot: 2 of 2 tiles ran a job and reported [\d.]+ credits; their mean \([\d.]+\) × 8 tiles$/,
    );
  });
});
