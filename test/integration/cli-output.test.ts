/**
 * What the command line shows, run as real processes against a dev server, the emulator and
 * workers: the progress bar's total, ETA and costs; links to the Temporal UI of the server in
 * use; refused batches and failed commands in a line or two, never a stack trace.
 */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { addCosts } from '../../src/core/costs';
import type { TileRecord } from '../../src/core/records';
import { eventually } from '../support/eventually';
import { EMULATOR_USER, startHarness, type Harness } from '../support/harness';
import { runCli, spawnCliWorker, type CliRun } from '../support/cli';

/** No stack frames anywhere in the output. */
function assertNoStack(text: string): void {
  assert.doesNotMatch(text, /^\s+at .+[:(]/m, `a stack trace was printed:\n${text}`);
}

/** The last line the progress bar printed (cli-progress writes to stderr). */
function lastBarLine(run: CliRun): string {
  const lines = run.stderr.split('\n').filter((line) => line.startsWith('tiles ['));
  assert.ok(lines.length > 0, `no progress bar in:\n${run.stderr}`);
  return lines[lines.length - 1];
}

describe('what the command line shows', () => {
  let h: Harness;
  const specFile = async (name: string, spec: object) => {
    const file = join(h.workDir, `${name}.json`);
    await writeFile(file, JSON.stringify(spec));
    return file;
  };
  before(async () => {
    // `slow` runs its jobs for a minute: long enough to cancel a batch while they run.
    h = await startHarness(
      { maxRunningJobsPerUser: 10 },
      { slow: { jobDurations: { queuedMs: 50, runningMs: 60_000 } } },
    );
    await h.startWorker();
  });
  after(async () => h?.teardown());

  it('`start --wait` counts to the batch total, with ETA and costs, and the costs carry no float noise', async () => {
    const file = await specFile('bar', h.spec({ batchId: 'bar', cols: 3, rows: 4 }));
    const run = await runCli(h, ['start', file, '--task-queue', h.taskQueue, '--wait']);
    assert.equal(run.code, 0, run.stderr);
    const bar = lastBarLine(run);
    assert.match(
      bar,
      / 12\/12 \| running 0, error 0 \| ETA (?:\d+s|\d+m \d{2}s|\d+h \d{2}m|--) \| costs \d+\.\d\d credits$/,
      bar,
    );
    for (const line of run.stderr.split('\n').filter((l) => l.startsWith('tiles [')))
      assert.match(line, /\d+\/12 /, 'the total is never 0');
    assert.match(run.stdout, /costs reported by the backends: \d+\.\d\d credits/);

    const status = JSON.parse((await runCli(h, ['status', 'bar', '--json'])).stdout) as { progress: { costs: number } };
    const tiles = await Promise.all(
      (await h.client.tiles('bar')).map(
        (t) => h.temporal.workflow.getHandle(t.workflowId).result() as Promise<TileRecord>,
      ),
    );
    assert.ok(status.progress.costs > 0, 'the emulator reports costs');
    assert.match(
      String(status.progress.costs),
      /^\d+(\.\d{1,6})?$/,
      `costs ${status.progress.costs} carry float noise`,
    );
    assert.equal(status.progress.costs, addCosts(...tiles.map((t) => t.costs ?? 0)));
  });

  it('links to the Temporal UI that is configured, and to none it cannot know', async () => {
    const file = await specFile('linked', h.spec({ batchId: 'linked', cols: 1, rows: 1 }));
    const configured = await runCli(h, ['start', file, '--task-queue', h.taskQueue], {
      TEMPORAL_UI_URL: 'https://temporal.example.org/',
    });
    assert.equal(configured.code, 0, configured.stderr);
    assert.ok(
      configured.stdout.includes(`https://temporal.example.org/namespaces/${h.server.namespace}/workflows/linked`),
      configured.stdout,
    );
    await h.temporal.workflow.getHandle('linked').result();

    const file2 = await specFile('flagged', h.spec({ batchId: 'flagged', cols: 1, rows: 1 }));
    const withFlag = await runCli(h, ['start', file2, '--task-queue', h.taskQueue, '--ui-url', 'https://ui.test'], {
      TEMPORAL_UI_URL: 'https://temporal.example.org',
    });
    assert.ok(
      withFlag.stdout.includes(`https://ui.test/namespaces/${h.server.namespace}/workflows/flagged`),
      withFlag.stdout,
    );
    await h.temporal.workflow.getHandle('flagged').result();

    // The test's dev server runs without a UI: a link to localhost:8233 would be wrong.
    const file3 = await specFile('unlinked', h.spec({ batchId: 'unlinked', cols: 1, rows: 1 }));
    const unknown = await runCli(h, ['start', file3, '--task-queue', h.taskQueue]);
    assert.equal(unknown.code, 0, unknown.stderr);
    assert.doesNotMatch(unknown.stdout, /http/, unknown.stdout);
    assert.match(unknown.stdout, /set TEMPORAL_UI_URL \(or --ui-url\)/);
    await h.temporal.workflow.getHandle('unlinked').result();
  });

  it('a batch the worker refuses reads as its reason, on the command line and in the worker log', async () => {
    const taskQueue = `${h.taskQueue}-cli`;
    const worker = spawnCliWorker(h, taskQueue, {
      OPENEO_BACKEND_EMULATOR_URL: h.emulator.url,
      OPENEO_BACKEND_EMULATOR_USERNAME: EMULATOR_USER.username,
      OPENEO_BACKEND_EMULATOR_PASSWORD: 'not-the-password',
    });
    try {
      const badFile = await specFile(
        'bad-file',
        h.spec({ batchId: 'bad-file', tiles: { file: join(h.workDir, 'missing.geojson') } }),
      );
      const refused = await runCli(h, ['start', badFile, '--task-queue', taskQueue, '--wait']);
      assert.equal(refused.code, 1);
      assert.equal(refused.stderr.trim().split('\n').length, 1, refused.stderr);
      assert.match(
        refused.stderr,
        /^error: batch bad-file failed: InvalidBatchSpec: tiles\.file: cannot read .*missing\.geojson/,
      );

      const login = await specFile('bad-login', h.spec({ batchId: 'bad-login', cols: 1, rows: 1 }));
      const loginRefused = await runCli(h, ['start', login, '--task-queue', taskQueue, '--wait']);
      assert.equal(loginRefused.code, 1);
      assert.equal(loginRefused.stderr.trim().split('\n').length, 1, loginRefused.stderr);
      assert.match(
        loginRefused.stderr,
        /^error: batch bad-login failed: BackendLoginFailed: .*cannot log in to backend "emulator"/,
      );

      await eventually(
        async () => /Workflow failed: batchWorkflow bad-login/.test(worker.output()),
        'the worker logged the refused login',
      );
      const log = worker.output();
      assertNoStack(log);
      for (const batch of ['bad-file', 'bad-login']) {
        const lines = log
          .split('\n')
          .filter((line) => line.includes(` of ${batch}:`) || line.includes(`batchWorkflow ${batch}:`));
        assert.equal(lines.length, 2, `one line for the refusing activity, one for the batch:\n${log}`);
      }
      assert.match(
        log,
        /\[WARN\] Activity failed: prepareBatch \(attempt 1\) of bad-file: InvalidBatchSpec: tiles\.file: cannot read/,
      );
      assert.match(
        log,
        /\[WARN\] Workflow failed: batchWorkflow bad-login: backends\[0\]: cannot log in to backend "emulator"/,
      );
      assert.doesNotMatch(log, /not-the-password/, 'no secret in the log');
    } finally {
      await worker.stop();
    }
  });

  it('a batch cancelled while `start --wait` follows it reads as cancelled, with its counts, and exits 3', async () => {
    const spec = h.spec({ batchId: 'called-off', cols: 2, rows: 1 });
    spec.backends = [{ name: 'slow', url: h.backends.slow.url, parallelJobs: 2 }];
    const file = await specFile('called-off', spec);
    const following = runCli(h, ['start', file, '--task-queue', h.taskQueue, '--wait']);
    const running = () =>
      h.backends.slow.admin.jobs().filter((job) => job.title?.startsWith('called-off/') && job.status === 'running');
    await eventually(async () => running().length === 2, 'both jobs of the batch run');
    const cancel = await runCli(h, ['cancel', 'called-off']);
    assert.equal(cancel.code, 0, cancel.stderr);

    const run = await following;
    assert.equal(run.code, 3, `exit code of a cancelled batch\n${run.stdout}\n${run.stderr}`);
    assert.doesNotMatch(run.stdout + run.stderr, /failed|Workflow canceled/, 'a cancel is not a failure');
    const closedAt = (await h.temporal.workflow.getHandle('called-off').describe()).closeTime?.toISOString();
    assert.ok(closedAt);
    // Who asked: the identity of the `cancel` command's client, `<pid>@<host>`.
    assert.match(
      run.stdout,
      new RegExp(`^batch called-off was cancelled at ${closedAt} \\(requested by \\d+@\\S+ at \\S+Z\\)$`, 'm'),
    );
    assert.match(run.stdout, /^ {2}2\/2 tiles done$/m);
    assert.match(run.stdout, /^ {2}finished 0 · error 0 · canceled 2 · skipped 0 · running 0 · not started 0$/m);
    assertNoStack(run.stderr);
  });

  it('prints its version with --version', async () => {
    const { version } = JSON.parse(await readFile(join(__dirname, '..', '..', '..', 'package.json'), 'utf8')) as {
      version: string;
    };
    const run = await runCli(h, ['--version']);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout.trim(), version);
  });

  it('a failed command says why in one line, without a stack trace', async () => {
    const unknown = await runCli(h, ['status', 'no-such-batch']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /^error: .*no-such-batch/);
    assert.equal(unknown.stderr.trim().split('\n').length, 1, unknown.stderr);

    const ended = await runCli(h, ['pause', 'bar']);
    assert.equal(ended.code, 1);
    assert.match(ended.stderr, /^error: .*(completed|bar)/);
    assertNoStack(ended.stderr);

    const missing = await runCli(h, ['start', join(h.workDir, 'no-spec.json')]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^error: cannot read the batch spec .*no-spec\.json: ENOENT/);
    assert.equal(missing.stderr.trim().split('\n').length, 1, missing.stderr);

    const unreachable = await runCli(h, ['status', 'bar'], { TEMPORAL_ADDRESS: '127.0.0.1:1' });
    assert.equal(unreachable.code, 1);
    assert.match(
      unreachable.stderr,
      /^error: cannot connect to the Temporal server at 127\.0\.0\.1:1 .*openeo-temporal dev/,
    );
    assertNoStack(unreachable.stderr);
  });
});
