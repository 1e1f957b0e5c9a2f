/**
 * End to end through command lines: the plain Temporal CLI starting a batch from a JSON file
 * (what a user with their own Temporal setup does), and the project's `openeo-temporal` CLI.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { ensureTemporalCli } from '../../src/tools/devserver';
import { startHarness, type Harness } from '../support/harness';

const run = promisify(execFile);
const CLI = join(__dirname, '..', '..', 'src', 'app', 'cli', 'main.js');

/** Runs the project's CLI against the test's dev server; resolves even when it exits non-zero. */
async function openeoTemporal(h: Harness, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, ...args], {
      env: { ...process.env, TEMPORAL_ADDRESS: h.server.address, TEMPORAL_NAMESPACE: h.server.namespace },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('command lines', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ maxRunningJobsPerUser: 10 });
    await h.startWorker();
  });
  after(async () => h?.teardown());

  it('runs a batch started with `temporal workflow start --input-file` to completion', async () => {
    const specFile = join(h.workDir, 'spec.json');
    await writeFile(specFile, JSON.stringify(h.spec({ batchId: 'from-temporal-cli', cols: 2, rows: 1 })));
    const temporal = await ensureTemporalCli();
    await run(temporal, [
      'workflow',
      'start',
      '--address',
      h.server.address,
      '--namespace',
      h.server.namespace,
      '--task-queue',
      h.taskQueue,
      '--type',
      'batchWorkflow',
      '--workflow-id',
      'from-temporal-cli',
      '--input-file',
      specFile,
    ]);
    const summary = await h.temporal.workflow.getHandle('from-temporal-cli').result();
    assert.equal(summary.totalTiles, 2);
    assert.equal(summary.counts.finished, 2);
  });

  it('starts a batch with `openeo-temporal start --wait` and shows it with `status`', async () => {
    const specFile = join(h.workDir, 'cli-spec.json');
    await writeFile(specFile, JSON.stringify(h.spec({ batchId: 'from-our-cli', cols: 1, rows: 2 })));
    const started = await openeoTemporal(h, ['start', specFile, '--task-queue', h.taskQueue, '--wait']);
    assert.equal(started.code, 0, started.stderr);
    assert.match(started.stdout, /started batch from-our-cli/);
    assert.match(started.stdout, /2\/2 tiles done/);

    const status = await openeoTemporal(h, ['status', 'from-our-cli']);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /finished 2/);
    assert.match(status.stdout, /E590000-N5660000/);
    assert.match(status.stdout, /E590000-N5665000/);

    const json = await openeoTemporal(h, ['status', 'from-our-cli', '--json']);
    const parsed = JSON.parse(json.stdout) as { tiles: { tileId: string; status: string }[] };
    assert.deepEqual(
      parsed.tiles.map((t) => [t.tileId, t.status]),
      [
        ['E590000-N5660000', 'finished'],
        ['E590000-N5665000', 'finished'],
      ],
    );
  });

  it('steers a running batch with pause, resume and set-parallel-jobs', async () => {
    const spec = h.spec({ batchId: 'steered', cols: 4, rows: 4 });
    spec.backends[0].parallelJobs = 1;
    const { handle } = await h.client.start(spec);

    const paused = await openeoTemporal(h, ['pause', 'steered']);
    assert.equal(paused.code, 0, paused.stderr);
    assert.equal((await h.client.progress('steered')).paused, true);
    const resized = await openeoTemporal(h, ['set-parallel-jobs', 'steered', 'emulator', '3', '--max-queued', '2']);
    assert.equal(resized.code, 0, resized.stderr);
    assert.match(resized.stdout, /emulator: parallelJobs 3, maxQueued 2/);
    const resumed = await openeoTemporal(h, ['resume', 'steered']);
    assert.equal(resumed.code, 0, resumed.stderr);

    const summary = await handle.result();
    assert.equal(summary.counts.finished, 16);
    const unknown = await openeoTemporal(h, ['set-parallel-jobs', 'from-our-cli', 'nowhere', '2']);
    assert.equal(unknown.code, 1, 'a closed batch cannot be changed');
  });

  it('refuses a bad spec with the field named and a non-zero exit, starting nothing', async () => {
    const specFile = join(h.workDir, 'bad-spec.json');
    const spec = h.spec({ batchId: 'never-started' });
    (spec.tiles as { aoi: { crs: string } }).aoi.crs = 'EPSG:99999';
    await writeFile(specFile, JSON.stringify(spec));
    const result = await openeoTemporal(h, ['start', specFile, '--task-queue', h.taskQueue]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /tiles\.aoi\.crs/);
    await assert.rejects(h.temporal.workflow.getHandle('never-started').describe());
  });
});
