/**
 * Upgrades: every committed workflow history replays on this build. The histories were recorded
 * by earlier releases (`npm run record-histories`); a change to workflow code that cannot replay
 * them would break batches in flight, and must go behind `patched()` instead.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import test from 'node:test';
import { Worker } from '@temporalio/worker';
import '../harness/quiet-logs';
import { readHistory } from '../harness/history-files';
import { WORKFLOWS_PATH } from '../../src/app/plugin';

const FIXTURES = join(__dirname, '..', '..', '..', 'test', 'fixtures', 'histories');

/** Every fixture: `<release>/<scenario>.json`. */
function fixtures(): { name: string; file: string }[] {
  return readdirSync(FIXTURES, { withFileTypes: true })
    .filter((release) => release.isDirectory())
    .flatMap((release) =>
      readdirSync(join(FIXTURES, release.name))
        .filter((file) => file.endsWith('.json'))
        .map((file) => ({
          name: `${release.name}/${file.replace(/\.json$/, '')}`,
          file: join(FIXTURES, release.name, file),
        })),
    );
}

test('every committed workflow history replays on this build', async () => {
  const found = fixtures();
  const scenarios = new Set(found.map((f) => f.name.split('/')[1]));
  for (const scenario of [
    'batch-finished',
    'tile-finished',
    'batch-continued-as-new',
    'batch-after-continue-as-new',
    'batch-partitioned',
    'partition',
    'tile-waiting-for-its-job',
    'tile-retried-after-error',
    'tile-with-hooks',
    'batch-periods-added-places',
    'batch-lined-up',
    'tile-lined-up-given-word',
    'tile-lined-up-handed-over',
    'tile-lined-up-moved',
    'tile-job-vanished',
    'batch-with-budget',
  ]) {
    assert.ok(scenarios.has(scenario), `a recorded history of ${scenario}`);
  }
  const histories = await Promise.all(found.map(async ({ file }) => readHistory(file)));
  const failed: string[] = [];
  for await (const result of Worker.runReplayHistories({ workflowsPath: WORKFLOWS_PATH }, histories)) {
    if (result.error) failed.push(`${result.workflowId}: ${result.error.message}`);
  }
  assert.equal(histories.length, found.length);
  assert.deepEqual(failed, [], 'histories that no longer replay');
});
