/**
 * The hooks without a server: a factory's answers normalized (or refused with a reason), the
 * helpers' graphs, the factory and post-processing activities (failures typed for the workflow's
 * retry policy, results capped, files kept in the tile's folder), job options merged, hook
 * failures kept away from the backend's error streak, counts that know `postprocessed`, and the
 * worker's `--hooks` module.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createJobFactoryActivities, type PlanTileJobInput } from '../../activities/job-factory';
import { createPostprocessActivities } from '../../activities/postprocess';
import { loadHooksModule } from '../../src/app/cli/hooks-module';
import { hasQuicklook, mapStatus, STATUS_COLOURS } from '../../src/app/dashboard/tile-view';
import { jobDatabaseRow, jobManagerStatus } from '../../src/core/job-database/job-database';
import {
  loadCollectionGraph,
  normalizeJobPlan,
  type JobFactory,
  type JobFactoryContext,
} from '../../src/core/hooks/job-factory';
import { MAX_POSTPROCESS_RESULT_BYTES } from '../../src/core/hooks/postprocess';
import { doneCount, progressDetails, idleProgress } from '../../src/core/progress';
import { decodeCounts, emptyCounts, type TileRecord } from '../../src/core/records';
import { tileProcessGraph } from '../../src/core/batch-spec/arguments';
import { InvalidSpecError, parseBatchSpec } from '../../src/core/batch-spec/validate';
import { planBatch } from '../../src/app/plan';
import type { Tile } from '../../src/core/batch-spec/tile-types';
import { definitionFrom } from '../../workflows/tile-hooks';
import { WindowBook } from '../../workflows/window-book';
import { initialWindowState } from '../../workflows/window-state';

const tile: Tile = {
  id: 'T1',
  geometry: {
    type: 'Polygon',
    coordinates: [
      [
        [4, 51],
        [4.1, 51],
        [4.1, 51.1],
        [4, 51.1],
        [4, 51],
      ],
    ],
  },
  properties: {
    index: 0,
    bbox: { west: 4, south: 51, east: 4.1, north: 51.1 },
    crs: 'EPSG:4326',
    sensor: 'S2',
    period: { id: '2024-03', start: '2024-03-01', end: '2024-04-01' },
  },
};
const helpers = { processGraphFor: tileProcessGraph };

/** The failure a function throws, as an ApplicationFailure. */
async function failureOf(run: () => Promise<unknown>): Promise<ApplicationFailure> {
  try {
    await run();
  } catch (err) {
    assert.ok(err instanceof ApplicationFailure, String(err));
    return err;
  }
  assert.fail('expected a failure');
}

describe('job plans', () => {
  it('turns a process with arguments into a one-node graph, and keeps title, description and job options', () => {
    const plan = normalizeJobPlan(
      {
        process: { processId: 'bap', namespace: 'https://x.test/bap.json' },
        arguments: { year: 2024 },
        title: 't',
        description: 'd',
        jobOptions: { m: '1g' },
      },
      helpers,
    );
    assert.deepEqual(plan, {
      processGraph: {
        bap1: { process_id: 'bap', namespace: 'https://x.test/bap.json', arguments: { year: 2024 }, result: true },
      },
      title: 't',
      description: 'd',
      jobOptions: { m: '1g' },
    });
  });

  it('passes a graph through and a skip with its reason', () => {
    const graph = { a: { process_id: 'load_collection', arguments: {}, result: true } };
    assert.deepEqual(normalizeJobPlan({ processGraph: graph }, helpers), { processGraph: graph });
    assert.deepEqual(normalizeJobPlan({ skip: 'cloudy all month' }, helpers), { skip: 'cloudy all month' });
  });

  it('refuses answers that are not a plan, saying what is wrong', () => {
    assert.throws(() => normalizeJobPlan(undefined, helpers), /return a job plan/);
    assert.throws(() => normalizeJobPlan({ skip: '' }, helpers), /"skip" must be a non-empty reason/);
    assert.throws(() => normalizeJobPlan({ processGraph: {} }, helpers), /non-empty "processGraph"/);
    assert.throws(
      () => normalizeJobPlan({ process: { processId: 'x' }, jobOptions: 'big' }, helpers),
      /"jobOptions" must be an object/,
    );
    assert.throws(
      () => normalizeJobPlan({ process: { processId: 'x' }, title: 3 }, helpers),
      /"title" must be a string/,
    );
  });

  it('builds load_collection → steps → save_result over the tile and its period', () => {
    const graph = loadCollectionGraph(tile, {
      collection: 'SENTINEL1_GRD',
      bands: ['VV'],
      steps: [{ process_id: 'sar_backscatter', arguments: { coefficient: 'sigma0-ellipsoid' } }],
    });
    assert.deepEqual(graph.load1.arguments, {
      id: 'SENTINEL1_GRD',
      spatial_extent: tile.geometry,
      temporal_extent: ['2024-03-01', '2024-04-01'],
      bands: ['VV'],
    });
    assert.deepEqual(graph.step1.arguments, { coefficient: 'sigma0-ellipsoid', data: { from_node: 'load1' } });
    assert.deepEqual(graph.save1, {
      process_id: 'save_result',
      arguments: { data: { from_node: 'step1' }, format: 'GTiff' },
      result: true,
    });
  });

  it("merges the plan's job options over the batch's", () => {
    const processGraph = { a: { process_id: 'x', arguments: {} } };
    assert.deepEqual(
      definitionFrom({ processGraph, jobOptions: { memory: '4g' } }, { memory: '2g', queue: 'q' }).jobOptions,
      { memory: '4g', queue: 'q' },
    );
    assert.equal(definitionFrom({ processGraph }, undefined).jobOptions, undefined);
  });
});

describe('the job factory activity', () => {
  const input = (jobFactory: string): PlanTileJobInput => ({
    batchId: 'b',
    jobFactory,
    tile,
    backend: { name: 'cdse', url: 'https://openeo.example' },
    attempt: 2,
    process: { processId: 'bap' },
    parameterDefaults: { year: 2024 },
    parameterMapping: { geometry: 'geometry' },
  });
  let seen: JobFactoryContext | undefined;
  const factories: Record<string, JobFactory> = {
    spy: (_tile, context) => {
      seen = context;
      return { processGraph: context.helpers.specProcessGraph() };
    },
    broken: () => {
      throw new Error('scene catalogue down');
    },
    silly: () => ({ process: {} }) as never,
  };
  const run = (name: string) =>
    new MockActivityEnvironment().run(createJobFactoryActivities(factories).planTileJob, input(name));

  it('gives the factory the batch, backend, attempt, defaults and helpers', async () => {
    const plan = await run('spy');
    assert.deepEqual(
      [seen?.batchId, seen?.backend, seen?.attempt, seen?.parameterDefaults],
      ['b', { name: 'cdse', url: 'https://openeo.example' }, 2, { year: 2024 }],
    );
    assert.deepEqual(plan, {
      processGraph: { bap1: { process_id: 'bap', arguments: { year: 2024, geometry: tile.geometry }, result: true } },
    });
  });

  it('fails retryably with the message when the factory throws (the workflow allows a few attempts)', async () => {
    const failure = await failureOf(() => run('broken'));
    assert.equal(failure.type, 'JobFactoryFailed');
    assert.equal(failure.nonRetryable, false);
    assert.equal(failure.message, 'job factory "broken" for tile "T1" failed: scene catalogue down');
  });

  it('fails without retry for an answer that is not a plan, and names the registered factories for an unknown one', async () => {
    const silly = await failureOf(() => run('silly'));
    assert.equal(silly.nonRetryable, true);
    assert.match(silly.message, /returned no usable plan/);
    assert.match(
      (await failureOf(() => run('nope'))).message,
      /no such factory on this worker \(registered: "spy", "broken", "silly"\)/,
    );
  });
});

describe('the post-processing activity', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'postprocess-'));
    await writeFile(join(dir, 'result.tif'), 'pixels');
  });
  after(async () => rm(dir, { recursive: true, force: true }));
  const record = (): TileRecord => ({
    batchId: 'b',
    tileId: 'T1',
    status: 'finished',
    attempts: 1,
    outputDir: dir,
    files: ['result.tif'],
  });
  const run = (
    postprocess: (input: Parameters<import('../../src/core/hooks/postprocess').Postprocessor>[0]) => unknown,
  ) =>
    new MockActivityEnvironment().run(createPostprocessActivities({ p: postprocess }).postprocessTile, {
      batchId: 'b',
      postprocess: 'p',
      tile,
      record: record(),
    });

  it("reads the tile's files, writes new ones whole, and returns its result", async () => {
    const outcome = await run(async ({ files, writeFile: write }) => {
      const bytes = (await files[0].read()).length;
      await write('size.json', JSON.stringify({ bytes }));
      return { bytes };
    });
    assert.deepEqual(outcome, { result: { bytes: 6 }, written: ['size.json'] });
    assert.equal(await readFile(join(dir, 'size.json'), 'utf8'), '{"bytes":6}');
    assert.deepEqual((await readdir(dir)).sort(), ['result.tif', 'size.json'], 'no part file left behind');
  });

  it('refuses file names that leave the folder, and results too large for a record, keeping the results', async () => {
    assert.match(
      (await failureOf(() => run(({ writeFile: write }) => write('../escape.txt', 'x')))).message,
      /cannot write "..\/escape.txt"/,
    );
    const big = await failureOf(() => run(() => ({ text: 'x'.repeat(MAX_POSTPROCESS_RESULT_BYTES) })));
    assert.equal(big.type, 'PostprocessFailed');
    assert.equal(big.nonRetryable, true);
    assert.match(big.message, /write large outputs with writeFile/);
    const threw = await failureOf(() => run(() => Promise.reject(new Error('no band 4'))));
    assert.deepEqual(
      [threw.type, threw.nonRetryable, threw.message],
      ['PostprocessFailed', false, 'post-processor "p" for tile "T1" failed: no band 4'],
    );
    assert.ok((await readdir(dir)).includes('result.tif'));
  });
});

describe("tiles ended by hooks in the batch's books", () => {
  const backends = [
    { name: 'a', url: 'http://a.test', parallelJobs: 2 },
    { name: 'b', url: 'http://b.test', parallelJobs: 2 },
  ];

  it('neither moves a tile whose hook failed to another backend nor pauses its backend for it', () => {
    const book = new WindowBook(initialWindowState({ start: 0, end: 10 }, backends), 1);
    for (const code of ['JobFactoryFailed', 'PostprocessFailed']) {
      book.markStarted(code, 'a', tile);
      const record = { tileId: code, status: 'error' as const, attempts: 1, error: { code, message: 'm' } };
      assert.equal(book.takeForRetryElsewhere(record, 3), undefined);
      assert.equal(book.recordEnd(record), true);
    }
    assert.deepEqual(book.state.pausedBackends, {});
    book.markStarted('real', 'a', tile);
    assert.equal(book.recordEnd({ tileId: 'real', status: 'error', error: { code: 'Internal', message: 'm' } }), true);
    assert.ok('a' in book.state.pausedBackends, 'a backend failure still counts');
  });

  it('draws a postprocessed tile in its own colour, with its preview, and exports it as finished with a skip reason where reasons go', () => {
    const record = {
      status: 'postprocessed' as const,
      backendStatus: 'finished' as const,
      outputDir: '/o',
      files: ['quicklook.png'],
    };
    assert.equal(mapStatus(record), 'postprocessed');
    assert.equal(STATUS_COLOURS.postprocessed, 'green');
    assert.equal(hasQuicklook(record), true);
    assert.equal(jobManagerStatus({ ...record, openeoJobId: 'j' }), 'finished');
    const skipped = jobDatabaseRow({
      batchId: 'b',
      tileId: 't',
      status: 'skipped',
      attempts: 0,
      skipReason: 'no data',
      geometry: null,
    });
    assert.deepEqual([skipped.status, skipped.error_message], ['skipped', 'no data']);
  });

  it('counts postprocessed tiles as done, also in counts carried by builds without them', () => {
    const old = { not_started: 1, running: 0, finished: 2, error: 0, canceled: 0, skipped: 1 };
    assert.deepEqual(decodeCounts(old), { ...old, postprocessed: 0 });
    const counts = { ...emptyCounts(), finished: 1, postprocessed: 3 };
    assert.equal(doneCount(counts), 4);
    const summary = { batchId: 'b', totalTiles: 4, counts, failedTiles: [], outputDir: 'o', costs: 0 };
    assert.match(
      progressDetails(idleProgress(summary), () => 0),
      /finished 1, postprocessed 3, error 0/,
    );
    assert.doesNotMatch(
      progressDetails(idleProgress({ ...summary, counts: emptyCounts() }), () => 0),
      /postprocessed/,
    );
  });
});

describe('hooks in specs and on the command line', () => {
  it('takes hook names of the safe alphabet only', () => {
    assert.equal(
      parseBatchSpec({
        backends: [{ name: 'e', url: 'http://e.test' }],
        process: { processId: 'p' },
        tiles: { aoi: { west: 0, south: 0, east: 1, north: 1 }, tileSize: 1 },
        jobFactory: 's1s2',
        postprocess: 'stats',
      }).jobFactory,
      's1s2',
    );
    assert.throws(
      () =>
        parseBatchSpec({
          backends: [{ name: 'e', url: 'http://e.test' }],
          process: { processId: 'p' },
          tiles: { aoi: { west: 0, south: 0, east: 1, north: 1 }, tileSize: 1 },
          jobFactory: 'my factory',
        }),
      /jobFactory/,
    );
  });

  it('takes a hook on another task queue as {activity, taskQueue}, and refuses a half-named one', () => {
    const base = {
      backends: [{ name: 'e', url: 'http://e.test' }],
      tiles: { aoi: { west: 0, south: 0, east: 1, north: 1 }, tileSize: 1 },
    };
    const remote = { activity: 's1s2', taskQueue: 'openeo-python' };
    const spec = parseBatchSpec({ ...base, jobFactory: remote, postprocess: { ...remote, activity: 'stats' } });
    assert.deepEqual([spec.jobFactory, spec.process], [remote, undefined], 'a remote factory builds every job');
    for (const [hook, field] of [
      [{ activity: 's1s2' }, /jobFactory/],
      [{ activity: 's1s2', taskQueue: 'open eo' }, /jobFactory/],
      [{ ...remote, queue: 'x' }, /jobFactory/],
    ] as const)
      assert.throws(() => parseBatchSpec({ ...base, jobFactory: hook }), field, JSON.stringify(hook));
  });

  it('needs a process only when no job factory builds the jobs, and says so naming the field', () => {
    const base = {
      backends: [{ name: 'e', url: 'http://e.test' }],
      tiles: { aoi: { west: 0, south: 0, east: 1, north: 1 }, tileSize: 1 },
    };
    assert.equal(parseBatchSpec({ ...base, jobFactory: 's1s2' }).process, undefined);
    assert.throws(
      () => parseBatchSpec(base),
      (err: unknown) => {
        assert.ok(err instanceof InvalidSpecError);
        assert.deepEqual(
          err.issues.map((i) => i.field),
          ['process'],
        );
        assert.match(err.message, /process: is missing, and no jobFactory builds the jobs instead/);
        assert.match(err.message, /or a "jobFactory" registered on the workers/);
        return true;
      },
    );
  });

  it('loads the example hooks module for `worker --hooks`, and refuses a module without hooks', async () => {
    const hooks = await loadHooksModule(join(__dirname, '..', '..', 'examples', 'hooks', 'hooks.js'));
    assert.deepEqual(
      [Object.keys(hooks.jobFactories ?? {}), Object.keys(hooks.postprocessors ?? {})],
      [['s1s2'], ['stats']],
    );
    await assert.rejects(
      loadHooksModule(join(__dirname, '..', '..', 'examples', 'hooks', 'tile-statistics.js')),
      /exports neither "jobFactories" nor "postprocessors"/,
    );
  });
});

describe('planning a batch with hooks', () => {
  it('says that the hooks are checked on the worker, not by plan', async () => {
    const plan = await planBatch(
      {
        backends: [{ name: 'e', url: 'http://e.test' }],
        process: { processId: 'p' },
        tiles: { aoi: { west: 0, south: 0, east: 1, north: 1 }, tileSize: 1 },
        jobFactory: 's1s2',
        postprocess: 'stats',
      },
      { offline: true },
    );
    assert.ok(
      plan.unchecked.some((line) => line.startsWith('jobFactory: "s1s2" builds each tile\'s job on the worker')),
      plan.unchecked.join('\n'),
    );
    assert.ok(
      plan.unchecked.some((line) => line.startsWith('postprocess: "stats" runs on the worker')),
      plan.unchecked.join('\n'),
    );
  });

  it('names the task queue of hooks that live on another one', async () => {
    const plan = await planBatch(
      {
        backends: [{ name: 'e', url: 'http://e.test' }],
        tiles: { aoi: { west: 0, south: 0, east: 1, north: 1 }, tileSize: 1 },
        jobFactory: { activity: 's1s2', taskQueue: 'openeo-python' },
        postprocess: { activity: 'stats', taskQueue: 'openeo-python' },
      },
      { offline: true },
    );
    const notes = plan.unchecked.join('\n');
    assert.match(notes, /^jobFactory: "s1s2" builds each tile's job on the workers of task queue openeo-python/m);
    assert.match(notes, /^postprocess: "stats" runs on the workers of task queue openeo-python/m);
  });

  it('plans a batch whose only process is its job factory', async () => {
    const plan = await planBatch(
      {
        backends: [{ name: 'e', url: 'http://e.test' }],
        tiles: { aoi: { west: 0, south: 0, east: 1, north: 1 }, tileSize: 1 },
        jobFactory: 's1s2',
      },
      { offline: true },
    );
    assert.deepEqual(plan.problems, []);
    assert.ok(
      plan.unchecked.some((line) => line.includes('the spec has no process of its own')),
      plan.unchecked.join('\n'),
    );
  });
});
