/**
 * Hooks in Python, on a real Python worker (`python -m openeo_temporal worker`, Temporal's Python
 * SDK from PyPI) beside the TypeScript worker, against the dev server, the emulator and a real
 * S3 server (SeaweedFS): the example's S1/S2 job factory builds, skips and fails tiles; its
 * statistics post-processor reads each result from the bucket and writes stats.json beside it,
 * into the record and the STAC item; a post-processor that raises keeps the files and runs again
 * alone with no new job, outliving the heartbeat timeout because the package heartbeats for it;
 * a spec naming a hook the Python worker lacks is refused before any job.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import { after, before, describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { resultStore } from '../../activities/store';
import { terminate } from '../harness/child-process';
import { s3Unavailable, startS3Server, type S3Server } from '../harness/s3-server';
import { featureBatches, squareTile as feature } from '../support/features';
import { startHarness, type Harness } from '../support/harness';
import { packageEnv, packagePython } from '../support/python';

const ROOT = join(__dirname, '..', '..', '..');
const HOOKS = join(ROOT, 'test', 'support', 'python', 'hooks_under_test.py');
const QUEUE = 'python-hooks-test';
const onQueue = (activity: string) => ({ activity, taskQueue: QUEUE });

/** Starts the Python hook worker; resolves once it says it polls, rejects if it exits first. */
async function startPythonWorker(python: string, env: NodeJS.ProcessEnv): Promise<ChildProcess> {
  const child = spawn(python, ['-m', 'openeo_temporal', 'worker', '--hooks', HOOKS, '--task-queue', QUEUE], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (/polling "python-hooks-test"/.test(output)) resolve();
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) => reject(new Error(`the Python worker exited (${code}) before polling:\n${output}`)));
  });
  return child;
}

describe('hooks on a Python worker', () => {
  let h: Harness;
  let s3: S3Server | undefined;
  let worker: ChildProcess | undefined;
  let flagFile: string;
  const { tileRecord, jobsOf, spec } = featureBatches(() => h);

  before(async () => {
    const python = await packagePython((line) => console.log(line));
    if (!s3Unavailable()) {
      s3 = await startS3Server();
      // Both workers reach the bucket with the standard AWS variables, as real ones would.
      Object.assign(process.env, s3.env);
    }
    h = await startHarness({ maxRunningJobsPerUser: 20 });
    flagFile = join(h.workDir, 'fail-postprocessing');
    await h.startWorker();
    worker = await startPythonWorker(
      python,
      packageEnv({
        TEMPORAL_ADDRESS: h.server.address,
        TEMPORAL_NAMESPACE: h.server.namespace,
        PICKY_FLAG: flagFile,
        ...s3?.env,
      }),
    );
  });
  after(async () => {
    await terminate(worker);
    await h?.teardown();
    await s3?.stop();
  });

  it(
    'builds, skips and fails tiles with a Python job factory, and writes statistics into S3',
    {
      skip: s3Unavailable(),
    },
    async () => {
      const outputDir = `s3://${s3!.bucket}/python`;
      const features = [
        feature('coast', 0, { sensor: 'S1' }),
        feature('fields', 1, { sensor: 'S2' }),
        feature('sea', 2, { sensor: 'none' }),
        feature('moon', 3, { sensor: 'S3' }),
      ];
      const { handle } = await h.client.start(
        spec('py-s1s2', features, {
          process: undefined,
          jobFactory: onQueue('s1s2'),
          postprocess: onQueue('stats'),
          outputDir,
        }),
      );
      const summary = await handle.result();
      assert.deepEqual([summary.counts.postprocessed, summary.counts.skipped, summary.counts.error], [2, 1, 1]);
      assert.deepEqual(
        jobsOf('py-s1s2')
          .map((j) => j.title)
          .sort(),
        ['S1 backscatter coast — py-s1s2/coast attempt 1', 'S2 extraction fields — py-s1s2/fields attempt 1'],
      );
      const s1 = jobsOf('py-s1s2').find((j) => j.title?.startsWith('S1'))!;
      assert.equal(s1.options['executor-memory'], '4g', "the Python factory's job options reach the job");

      const sea = await tileRecord('py-s1s2', 'sea');
      assert.deepEqual([sea.status, sea.skipReason], ['skipped', 'tile sea has sensor "none": nothing to extract']);
      const moon = await tileRecord('py-s1s2', 'moon');
      assert.equal(moon.error?.code, 'JobFactoryFailed');
      assert.match(moon.error?.message ?? '', /tile property "sensor" is 'S3': use "S1", "S2" or "none"/);

      // stats.json is an object beside the results, in the record, and an asset of the item.
      const coast = await tileRecord('py-s1s2', 'coast');
      assert.equal(coast.status, 'postprocessed');
      assert.ok(coast.files?.includes('stats.json'), String(coast.files));
      assert.ok(coast.outputDir?.startsWith(`${outputDir}/`), coast.outputDir);
      const bucket = resultStore(outputDir);
      const key = (location: string) => location.slice(outputDir.length + 1);
      const stats = JSON.parse(await text((await bucket.get(key(`${coast.outputDir}/stats.json`)))!.body)) as Record<
        string,
        { name: string; validPixels: number; mean: number }[]
      >;
      const [tif, bands] = Object.entries(stats)[0];
      assert.match(tif, /\.tif$/);
      assert.deepEqual(
        bands.map((b) => b.name),
        ['VV', 'VH'],
        'one entry per band, named as the result names them',
      );
      assert.ok(
        bands.every((b) => b.validPixels > 0 && Number.isFinite(b.mean)),
        JSON.stringify(bands),
      );
      const item = JSON.parse(await text((await bucket.get('py-s1s2/items/coast.json'))!.body)) as {
        assets: Record<string, { href: string }>;
      };
      assert.equal(item.assets['stats.json']?.href, `${coast.outputDir}/stats.json`);
    },
  );

  it('keeps the files when a Python post-processor raises, and runs it again alone, heartbeating', async () => {
    await writeFile(flagFile, 'fail');
    const { handle } = await h.client.start(
      spec('py-picky', [feature('p1', 0, {})], {
        postprocess: onQueue('picky'),
        // picky works 6 s: it outlives the 4 s heartbeat timeout only with the package's heartbeats.
        timeouts: { heartbeatSeconds: 2 },
      }),
    );
    assert.equal((await handle.result()).counts.error, 1);
    const failed = await tileRecord('py-picky', 'p1');
    assert.equal(failed.error?.code, 'PostprocessFailed');
    assert.match(failed.error?.message ?? '', /the flag file says no; the downloaded files are kept/);
    const tif = failed.files!.find((f) => f.endsWith('.tif'))!;
    assert.ok(existsSync(join(failed.outputDir!, tif)), 'the downloaded result is kept');

    await rm(flagFile);
    const again = await (await h.client.postprocess('py-picky', { tiles: ['p1'] })).handle.result();
    assert.deepEqual([again.counts.postprocessed, again.counts.error], [1, 0]);
    assert.equal(jobsOf('py-picky').length, 1, 'no new openEO job');
    const record = await tileRecord('py-picky', 'p1');
    assert.deepEqual(record.postprocessResult, { files: failed.files!.length });
    assert.equal(await readFile(join(record.outputDir!, 'picky.txt'), 'utf8'), `p1: ${failed.files!.length} files\n`);
  });

  it('refuses a spec naming a hook the Python worker does not run, before any job', async () => {
    const before = h.emulator.admin.jobs().length;
    const { handle } = await h.client.start(
      spec('py-unknown', [feature('a', 0, {})], { postprocess: onQueue('stat') }),
    );
    await assert.rejects(handle.result(), (err: unknown) => {
      assert.ok(err instanceof WorkflowFailedError);
      assert.match(
        String(err.cause?.message),
        /postprocess: the workers of task queue "python-hooks-test" \(openeo-temporal-python [^)]+\) have no post-processor "stat" \(registered: [^)]*"stats"/,
      );
      return true;
    });
    assert.equal(h.emulator.admin.jobs().length, before, 'no openEO job was created');
  });
});
