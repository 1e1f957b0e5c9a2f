/**
 * The Python package (`python/`): its wheel, built and installed on its own, passes the package's
 * pytest suite (so the wheel carries every module and data file, the contract schema included);
 * and its hook worker (`python -m openeo_temporal worker`), against the dev server, says when it
 * polls, answers the probe and the example hooks as the batch workflow would call them, and stops
 * on SIGTERM.
 */
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { terminate } from '../harness/child-process';
import { startHarness, type Harness } from '../support/harness';
import { packageEnv, packagePython, PYTHON_PACKAGE } from '../support/python';

const ROOT = join(PYTHON_PACKAGE, '..');
const EXAMPLE_HOOKS = join(ROOT, 'examples', 'python', 'my_hooks.py');
const CALL_ACTIVITIES = join(ROOT, 'test', 'support', 'call_activities.py');

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs Python; resolves with its exit code and output (never rejects). */
function python(executable: string, args: string[], options: { env: NodeJS.ProcessEnv; input?: string }): Promise<Ran> {
  return new Promise((resolve) => {
    const child = execFile(
      executable,
      args,
      { cwd: ROOT, env: options.env, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) =>
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
    child.stdin?.end(options.input ?? '');
  });
}

/** The package's version, from the one place it is written. */
async function packageVersion(): Promise<string> {
  const source = await readFile(join(PYTHON_PACKAGE, 'src', 'openeo_temporal', 'version.py'), 'utf8');
  const version = /__version__ = "([^"]+)"/.exec(source)?.[1];
  assert.ok(version, 'version.py names the version');
  return version;
}

describe('the Python package', () => {
  let py: string;
  let scratch: string;

  before(async () => {
    py = await packagePython((line) => console.log(line));
    scratch = await mkdtemp(join(tmpdir(), 'openeo-temporal-wheel-'));
  });
  after(async () => {
    if (scratch) await rm(scratch, { recursive: true, force: true });
  });

  it('builds a wheel whose installed copy alone passes the package tests', async () => {
    const dist = join(scratch, 'dist');
    const site = join(scratch, 'site');
    const started = Date.now();
    // hatchling is in the test venv: no build isolation, so nothing is downloaded for the build.
    const pip = ['-m', 'pip', '--disable-pip-version-check', '-q'];
    const built = await python(py, [...pip, 'wheel', '--no-deps', '--no-build-isolation', PYTHON_PACKAGE, '-w', dist], {
      env: packageEnv(),
    });
    assert.equal(built.code, 0, built.stderr);
    const wheels = await readdir(dist);
    assert.deepEqual(wheels, [`openeo_temporal-${await packageVersion()}-py3-none-any.whl`]);
    const wheel = join(dist, wheels[0]);
    const installed = await python(py, [...pip, 'install', '--no-deps', '--target', site, wheel], {
      env: packageEnv(),
    });
    assert.equal(installed.code, 0, installed.stderr);
    console.log(`wheel built and installed in ${((Date.now() - started) / 1000).toFixed(1)} s`);

    // Only the installed wheel is on the path, not python/src: a module or data file the wheel
    // lacks fails the tests.
    const fromWheel = packageEnv({}, site);
    const where = await python(py, ['-c', 'import openeo_temporal; print(openeo_temporal.__file__)'], {
      env: fromWheel,
    });
    assert.equal(where.stdout.trim(), join(site, 'openeo_temporal', '__init__.py'), where.stderr);
    const marker = 'import importlib.resources as r; print(r.files("openeo_temporal").joinpath("py.typed").is_file())';
    const typed = await python(py, ['-c', marker], { env: fromWheel });
    assert.equal(typed.stdout.trim(), 'True', 'the wheel is marked typed (py.typed)');

    const tests = await python(py, ['-m', 'pytest', join('python', 'tests'), '-q', '-p', 'no:cacheprovider'], {
      env: fromWheel,
    });
    assert.equal(tests.code, 0, `${tests.stdout}\n${tests.stderr}`);
    const summary = /(\d+) passed/.exec(tests.stdout);
    assert.ok(summary && Number(summary[1]) > 0, tests.stdout);
    assert.doesNotMatch(tests.stdout, /\d+ (failed|errors?)\b/);
    console.log(`pytest against the wheel: ${summary[1]} passed`);
  });
});

describe('the Python hook worker', () => {
  let h: Harness;
  let py: string;
  let worker: ChildProcess | undefined;
  const taskQueue = `python-hooks-${process.pid}`;

  before(async () => {
    py = await packagePython((line) => console.log(line));
    h = await startHarness();
  });
  after(async () => {
    await terminate(worker);
    await h?.teardown();
  });

  const temporalEnv = () => packageEnv({ TEMPORAL_ADDRESS: h.server.address, TEMPORAL_NAMESPACE: h.server.namespace });

  /** Starts the worker on the example hooks; resolves with its ready line once it polls. */
  function startWorker(): Promise<{ ready: string; output: () => { stdout: string; stderr: string } }> {
    const child = spawn(py, ['-m', 'openeo_temporal', 'worker', '--hooks', EXAMPLE_HOOKS, '--task-queue', taskQueue], {
      cwd: ROOT,
      env: temporalEnv(),
    });
    worker = child;
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ready line within 60 s:\n${stdout}\n${stderr}`)), 60_000);
      child.once('exit', (code) => reject(new Error(`the worker exited (${code}) before polling:\n${stderr}`)));
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        const ready = /^openeo-temporal python worker polling .*$/m.exec(stdout);
        if (ready) {
          clearTimeout(timer);
          resolve({ ready: ready[0], output: () => ({ stdout, stderr }) });
        }
      });
    });
  }

  it('says when it polls, answers the probe and the example hooks, and stops on SIGTERM', async () => {
    const { ready, output } = await startWorker();
    assert.equal(
      ready,
      `openeo-temporal python worker polling "${taskQueue}": job factories s1s2; post-processors stats`,
    );

    const tile = (properties: Record<string, unknown>) => ({
      id: 't1',
      geometry: {
        type: 'Polygon',
        coordinates: [
          [
            [4.3, 51.2],
            [4.35, 51.2],
            [4.35, 51.25],
            [4.3, 51.25],
            [4.3, 51.2],
          ],
        ],
      },
      properties,
    });
    const factoryRequest = (sensor: string) => ({
      contractVersion: 1,
      batchId: 'py-hooks',
      tile: tile({ sensor }),
      backend: { name: 'emulator', url: h.emulator.url },
      attempt: 1,
      parameterDefaults: { temporal_extent: ['2024-06-01', '2024-07-01'] },
    });
    const tileDir = join(h.workDir, 'py-hooks', 't1');
    const calls = [
      ['openeo_temporal.describe_hooks', { contractVersion: 1 }],
      ['s1s2', factoryRequest('S1')],
      ['s1s2', factoryRequest('none')],
      ['s1s2', factoryRequest('S9')],
      ['stats', { contractVersion: 1, batchId: 'py-hooks', tile: tile({}), record: {}, tileDir, files: [] }],
    ];
    const called = await python(py, [CALL_ACTIVITIES, taskQueue], { env: temporalEnv(), input: JSON.stringify(calls) });
    assert.equal(called.code, 0, called.stderr);
    const [probe, s1, skipped, failed, stats] = JSON.parse(called.stdout) as Record<string, unknown>[];

    assert.deepEqual(probe, {
      contractVersion: 1,
      jobFactories: ['s1s2'],
      postprocessors: ['stats'],
      worker: `openeo-temporal-python ${await packageVersion()}`,
    });
    const graph = s1.processGraph as Record<string, { process_id: string; result?: boolean }>;
    assert.deepEqual(
      Object.values(graph).map((node) => node.process_id),
      ['load_collection', 'sar_backscatter', 'save_result'],
    );
    assert.deepEqual(s1.jobOptions, { 'executor-memory': '4g' });
    assert.deepEqual(skipped, { skip: 'tile t1 has sensor "none": nothing to extract' });
    assert.deepEqual(failed, {
      error: {
        message: `s1s2 for tile t1 failed: tile property "sensor" is 'S9': use "S1", "S2" or "none"`,
        type: 'JobFactoryFailed',
        nonRetryable: false,
      },
    });
    assert.deepEqual(stats, { written: ['stats.json'], result: {} });
    assert.equal(await readFile(join(tileDir, 'stats.json'), 'utf8'), '{}\n');
    // Each of the three attempts logged the hook's traceback once (not again by the SDK).
    assert.equal(output().stderr.match(/^Traceback/gm)?.length, 3, output().stderr);

    const exited = new Promise<number | null>((resolve) => worker!.once('exit', (code) => resolve(code)));
    worker!.kill('SIGTERM');
    assert.equal(await exited, 0, output().stderr);
    assert.match(output().stderr, /^stopping \(SIGTERM\); again to exit at once$/m);
  });
});
