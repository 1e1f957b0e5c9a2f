/**
 * A tile moved to another backend reuses its workflow id, so its new workflow can start only
 * after the previous one closed. The tile workflows here linger after their last signal (see
 * lingering-workflows.ts): the window must wait for the close, not record the tile `skipped`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RunningEmulator } from '../../src/tools/emulator';
import { tileWorkflowId } from '../../src/core/ids';
import { startHarness, type Harness } from '../support/harness';
import { LINGER_MS } from '../support/lingering-workflows';

describe('a tile moved to another backend', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness(
      {},
      { failing: { faults: { jobs: { rules: [{ titleContains: 'lingering/', failFirst: 99 }] } } } },
    );
    await h.startWorker({ workflowsPath: require.resolve('../support/lingering-workflows') });
  });
  after(async () => h?.teardown());

  it('starts again only once its previous workflow closed, and runs', async () => {
    const spec = h.spec({ batchId: 'lingering', cols: 1, rows: 1, maxAttempts: 2, retryOnOtherBackend: true });
    const failing: RunningEmulator = h.backends.failing!;
    spec.backends = [
      { name: 'failing', url: failing.url, parallelJobs: 1 },
      { name: 'emulator', url: h.emulator.url, parallelJobs: 1 },
    ];
    const summary = await (await h.client.start(spec)).handle.result();
    assert.deepEqual(summary.counts, {
      not_started: 0,
      running: 0,
      finished: 1,
      error: 0,
      canceled: 0,
      skipped: 0,
      postprocessed: 0,
    });

    const tileId = summary.totalTiles === 1 ? (await h.client.tiles('lingering'))[0]!.tileId : '';
    const runs = [];
    for await (const wf of h.temporal.workflow.list({ query: `WorkflowId = '${tileWorkflowId('lingering', tileId)}'` }))
      runs.push(wf);
    runs.sort((a, b) => a.startTime.getTime() - b.startTime.getTime());
    assert.equal(runs.length, 2, 'one workflow per backend');
    const [first, second] = runs as [(typeof runs)[number], (typeof runs)[number]];
    assert.ok(
      first.closeTime && first.closeTime.getTime() - first.startTime.getTime() >= LINGER_MS,
      'the first workflow lingered',
    );
    assert.ok(second.startTime >= first.closeTime, 'the moved tile started after its first workflow closed');
    assert.deepEqual(
      failing.admin.jobs().map((j) => j.status),
      ['error'],
    );
    assert.deepEqual(
      h.emulator.admin
        .jobs()
        .filter((j) => j.title?.startsWith('lingering/'))
        .map((j) => [j.title, j.status]),
      [[`lingering/${tileId} attempt 2`, 'finished']],
    );
  });
});
