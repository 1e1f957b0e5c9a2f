/**
 * Batches of any size, shrunk: thresholds are forced small so a few dozen tiles cross several
 * continue-as-new runs and partitions. Every tile must end exactly once, with exactly one job.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { EmulatorStats } from '../../src/tools/emulator/stats';
import { eventually } from '../support/eventually';
import { startHarness, type Harness } from '../support/harness';

async function stats(h: Harness): Promise<EmulatorStats> {
  return (await (await fetch(`${h.emulator.url}/_emulator/stats`)).json()) as EmulatorStats;
}

/** Every run of every workflow whose id starts with `prefix`, from visibility. */
async function runsOf(h: Harness, query: string): Promise<{ workflowId: string; status: string }[]> {
  const runs: { workflowId: string; status: string }[] = [];
  for await (const wf of h.temporal.workflow.list({ query }))
    runs.push({ workflowId: wf.workflowId, status: wf.status.name });
  return runs;
}

/**
 * The runs of `query` once visibility has caught up: it records a run's close a moment after
 * the run closes, so right after a batch's result its last run can still read RUNNING.
 */
async function closedRunsOf(h: Harness, query: string): Promise<{ workflowId: string; status: string }[]> {
  let runs: { workflowId: string; status: string }[] = [];
  await eventually(async () => {
    runs = await runsOf(h, query);
    return runs.every((r) => r.status !== 'RUNNING');
  }, `every run of ${query} closed in visibility`);
  return runs;
}

/** Jobs created per tile, from the emulator's titles `<batchId>/<tileId> attempt <n>`. */
function jobsPerTile(s: EmulatorStats, batchId: string): Map<string, number> {
  const perTile = new Map<string, number>();
  for (const [title, count] of Object.entries(s.jobs.createdByTitle)) {
    if (!title.startsWith(`${batchId}/`)) continue;
    const tileId = title.slice(batchId.length + 1).replace(/ attempt \d+$/, '');
    perTile.set(tileId, (perTile.get(tileId) ?? 0) + count);
  }
  return perTile;
}

describe('batches larger than one workflow run', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ maxRunningJobsPerUser: 100, jobDurations: { queuedMs: 0, runningMs: 0 } });
    await h.startWorker();
  });
  after(async () => h?.teardown());

  it('crosses several continue-as-new runs and counts every tile once', async () => {
    const spec = h.spec({ batchId: 'many-runs', cols: 8, rows: 6, scheduling: { maxEventsPerRun: 100 } });
    spec.backends[0].parallelJobs = 6;
    const { handle } = await h.client.start(spec);
    const summary = await handle.result();

    assert.equal(summary.totalTiles, 48);
    assert.deepEqual(summary.counts, {
      not_started: 0,
      running: 0,
      finished: 48,
      error: 0,
      canceled: 0,
      skipped: 0,
      postprocessed: 0,
    });
    const perTile = jobsPerTile(await stats(h), 'many-runs');
    assert.equal(perTile.size, 48);
    assert.ok(
      [...perTile.values()].every((n) => n === 1),
      'exactly one openEO job per tile',
    );
    const runs = await closedRunsOf(h, `WorkflowId = 'many-runs'`);
    assert.ok(
      runs.filter((r) => r.status === 'CONTINUED_AS_NEW').length >= 2,
      `several runs, saw ${JSON.stringify(runs)}`,
    );
    for (const run of runs) {
      // No run may come near the history limit; the forced threshold keeps them tiny.
      assert.ok(run.status === 'COMPLETED' || run.status === 'CONTINUED_AS_NEW', `a run ended ${run.status}`);
    }
  });

  it('runs a batch above the partition threshold as partitions, each tile once', async () => {
    const spec = h.spec({
      batchId: 'partitioned',
      cols: 8,
      rows: 5,
      // A tile costs its window at least 4 events (child initiated and started, two signals), so
      // a partition of 30 tiles passes 100 events and continues as new however tasks batch up.
      scheduling: { maxEventsPerRun: 100, partitionAboveTiles: 30, tilesPerPartition: 30 },
    });
    spec.backends[0].parallelJobs = 5;
    const { handle } = await h.client.start(spec);
    const summary = await handle.result();

    assert.equal(summary.totalTiles, 40);
    assert.equal(summary.counts.finished, 40);
    assert.equal(summary.counts.error + summary.counts.skipped + summary.counts.not_started, 0);
    const perTile = jobsPerTile(await stats(h), 'partitioned');
    assert.equal(perTile.size, 40);
    assert.ok(
      [...perTile.values()].every((n) => n === 1),
      'exactly one openEO job per tile',
    );
    const partitions = await closedRunsOf(
      h,
      `WorkflowType = 'partitionWorkflow' AND WorkflowId STARTS_WITH 'partitioned/'`,
    );
    assert.deepEqual(
      [...new Set(partitions.map((p) => p.workflowId))].sort(),
      [0, 1].map((i) => `partitioned/partition-${i}`),
    );
    assert.ok(
      partitions.some((p) => p.status === 'CONTINUED_AS_NEW'),
      'a partition continued as new',
    );
    // Every partition run, continued ones too, has room to replay a long history on a new worker.
    for await (const run of h.temporal.workflow.list({
      query: `WorkflowType = 'partitionWorkflow' AND WorkflowId STARTS_WITH 'partitioned/'`,
    })) {
      const described = await h.temporal.workflow.getHandle(run.workflowId, run.runId).describe();
      assert.equal(
        Number(described.raw.executionConfig?.defaultWorkflowTaskTimeout?.seconds),
        60,
        `${run.workflowId} ${run.runId}`,
      );
    }
    const tiles = await h.client.tiles('partitioned');
    assert.equal(tiles.length, 40);
    assert.ok(tiles.every((t) => t.status === 'finished'));
  });
});
