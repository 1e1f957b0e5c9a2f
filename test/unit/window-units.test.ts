/**
 * The small units the window and the tile workflow are built from, without a server: placement,
 * live controls, progress and its rendering, and a tile's journal.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import {
  assembleProgress,
  doneCount,
  idleProgress,
  progressBeforeStart,
  progressDetails,
  summaryOf,
  withPartition,
  type BatchProgress,
} from '../../src/core/progress';
import { emptyCounts } from '../../src/core/records';
import type { Tile } from '../../src/core/batch-spec/tile-types';
import { applyControl, checkControl, MAX_PARALLEL_JOBS, type BatchSettings } from '../../workflows/controls';
import { checkAddedTiles, MAX_ADDED_WAITING } from '../../workflows/added-tiles';
import { decodePartitionsState } from '../../workflows/partitions-state';
import { addPartitionResult, initialPartitionsState, partitionRange } from '../../workflows/partitions-state';
import { placeTiles } from '../../workflows/placement';
import { TileJournal } from '../../workflows/tile-journal';
import { WindowBook } from '../../workflows/window-book';
import { decodeWindowState, initialWindowState, WINDOW_STATE_VERSION } from '../../workflows/window-state';
import type { TileFeature } from '../../src/core/batch-spec/tile-types';

const backends = () => [
  { name: 'a', url: 'http://a.test', parallelJobs: 2 },
  { name: 'b', url: 'http://b.test', parallelJobs: 1 },
];

function tile(id: string, properties: Record<string, unknown> = {}): Tile {
  return {
    id,
    geometry: { type: 'Polygon', coordinates: [] },
    properties: { index: 0, bbox: { west: 0, south: 0, east: 1, north: 1 }, crs: 'EPSG:4326', ...properties },
  };
}

function progress(overrides: Partial<BatchProgress> = {}): BatchProgress {
  return { ...progressBeforeStart('b1'), backends: backends(), ...overrides };
}

describe('placement', () => {
  it('starts tiles in order while slots are free, and leaves the rest queued in order', () => {
    const book = new WindowBook(initialWindowState({ start: 0, end: 5 }, backends()), 3);
    const queue = ['t1', 't2', 't3', 't4', 't5'].map((id) => tile(id));
    const starts = placeTiles(book, queue, false);
    assert.deepEqual(
      starts.map((s) => [s.tile.id, s.backend.name]),
      [
        ['t1', 'a'],
        ['t2', 'a'],
        ['t3', 'b'],
      ],
    );
    assert.deepEqual(
      queue.map((t) => t.id),
      ['t4', 't5'],
    );
    assert.equal(book.inFlightCount(), 3);
  });

  it('lets a later tile pass one pinned to a full backend', () => {
    const book = new WindowBook(initialWindowState({ start: 0, end: 3 }, backends()), 3);
    book.markStarted('busy', 'b');
    const queue = [tile('pinned', { backend: 'b' }), tile('free')];
    assert.deepEqual(
      placeTiles(book, queue, false).map((s) => s.tile.id),
      ['free'],
    );
    assert.deepEqual(
      queue.map((t) => t.id),
      ['pinned'],
    );
  });

  it('ends a tile that names an unknown backend as an error, with the reason', () => {
    const book = new WindowBook(initialWindowState({ start: 0, end: 1 }, backends()), 3);
    const queue = [tile('lost', { backend: 'nowhere' })];
    assert.deepEqual(placeTiles(book, queue, false), []);
    assert.equal(queue.length, 0);
    assert.equal(book.state.ended.error, 1);
    assert.equal(book.state.failedTiles[0].error.code, 'UnknownBackend');
  });

  it('keeps the started tile in the book only when it may be moved after a failure', () => {
    const kept = new WindowBook(initialWindowState({ start: 0, end: 1 }, backends()), 3);
    placeTiles(kept, [tile('t1')], true);
    assert.equal(kept.state.inFlight.t1.tile?.id, 't1');
    const dropped = new WindowBook(initialWindowState({ start: 0, end: 1 }, backends()), 3);
    placeTiles(dropped, [tile('t1')], false);
    assert.equal(dropped.state.inFlight.t1.tile, undefined);
  });
});

describe('live controls', () => {
  const settings = (): BatchSettings => ({
    backends: backends(),
    paused: false,
    pausedBackends: { b: 'failing' },
    errorStreak: { b: 10 },
  });

  it("resizes a backend's window and its queue", () => {
    const s = settings();
    applyControl(s, { type: 'setParallelJobs', backend: 'b', parallelJobs: 4, maxQueued: 1 });
    assert.deepEqual(s.backends[1], { name: 'b', url: 'http://b.test', parallelJobs: 4, maxQueued: 1 });
  });

  it('rejects an unknown backend and a count that is not a whole number, as update failures', () => {
    const s = settings();
    assert.throws(
      () => applyControl(s, { type: 'setParallelJobs', backend: 'c', parallelJobs: 1 }),
      (e: unknown) =>
        e instanceof ApplicationFailure && /backend "c" is not part of this batch; it has a, b/.test(e.message),
    );
    assert.throws(
      () => applyControl(s, { type: 'setParallelJobs', backend: 'a', parallelJobs: 1.5 }),
      (e: unknown) => e instanceof ApplicationFailure && e.type === 'InvalidBatchChange',
    );
    assert.throws(() => applyControl(s, { type: 'resumeBackend', backend: 'c' }), ApplicationFailure);
    assert.deepEqual(s, settings(), 'nothing changed');
  });

  it('checks what a validator can before accepting: whole numbers, the pending-children limit, known backends', () => {
    const s = settings();
    const refused = (control: Parameters<typeof checkControl>[1], pattern: RegExp) =>
      assert.throws(
        () => checkControl(s, control),
        (e: unknown) => e instanceof ApplicationFailure && pattern.test(e.message),
      );
    refused(
      { type: 'setParallelJobs', backend: 'a', parallelJobs: MAX_PARALLEL_JOBS + 1 },
      /parallelJobs: give a whole number from 0 to 2000 \(Temporal allows a workflow 2000 pending child workflows\)/,
    );
    refused(
      { type: 'setParallelJobs', backend: 'a', parallelJobs: 2, maxQueued: 0.5 },
      /maxQueued: give a whole number from 1/,
    );
    refused({ type: 'setParallelJobs', backend: 'nope', parallelJobs: 2 }, /backend "nope" is not part of this batch/);
    refused({ type: 'resumeBackend', backend: 'nope' }, /backend "nope"/);
    checkControl(s, { type: 'setParallelJobs', backend: 'a', parallelJobs: 0, maxQueued: 3 });
  });

  it('pauses and resumes the batch, and resumes a paused backend with a fresh error streak', () => {
    const s = settings();
    applyControl(s, { type: 'pause' });
    assert.equal(s.paused, true);
    applyControl(s, { type: 'resume' });
    assert.equal(s.paused, false);
    applyControl(s, { type: 'resumeBackend', backend: 'b' });
    assert.deepEqual(s.pausedBackends, {});
    assert.equal(s.errorStreak?.b, 0);
  });
});

describe('added tiles', () => {
  const feature = (id?: string, propertyId?: string): TileFeature => ({
    type: 'Feature',
    ...(id !== undefined ? { id } : {}),
    geometry: {
      type: 'Polygon',
      coordinates: [
        [
          [4, 51],
          [4.1, 51],
          [4.1, 51.1],
          [4, 51],
        ],
      ],
    },
    properties: propertyId !== undefined ? { id: propertyId } : {},
  });
  const refused = (features: TileFeature[], pending: { ids: string[]; addedWaiting: number }, pattern: RegExp) =>
    assert.throws(
      () => checkAddedTiles(features, { ids: new Set(pending.ids), addedWaiting: pending.addedWaiting }),
      (e: unknown) => e instanceof ApplicationFailure && pattern.test(e.message),
    );

  it('refuses an id given twice, or one a pending tile has, naming the feature', () => {
    refused(
      [feature('x'), feature(undefined, 'x')],
      { ids: [], addedWaiting: 0 },
      /features\[1\]: tile id "x" is given twice/,
    );
    refused(
      [feature(), feature('busy')],
      { ids: ['busy'], addedWaiting: 0 },
      /features\[1\]: tile id "busy" is already a tile of this batch/,
    );
    checkAddedTiles([feature(), feature(), feature('new')], { ids: new Set(['busy']), addedWaiting: 0 });
  });

  it('refuses more tiles than may wait, and an empty list', () => {
    refused(
      [feature()],
      { ids: [], addedWaiting: MAX_ADDED_WAITING },
      /at most 500 added tiles may wait at once \(500 wait now\)/,
    );
    refused([], { ids: [], addedWaiting: 0 }, /give at least one GeoJSON Feature/);
  });

  it('with periods, counts a place once per period and checks every id it would take', () => {
    const periods = { periodIds: ['2024-06', '2024-07'] };
    assert.throws(
      () =>
        checkAddedTiles([feature(), feature()], { ids: new Set(), addedWaiting: MAX_ADDED_WAITING - 3, ...periods }),
      /at most 500 added tiles may wait at once \(497 wait now\) \(each feature is 2 tiles, one per period\)/,
    );
    assert.throws(
      () => checkAddedTiles([feature('north')], { ids: new Set(['north_2024-07']), addedWaiting: 0, ...periods }),
      /features\[0\]: tile id "north_2024-07" is already a tile of this batch/,
    );
    checkAddedTiles([feature('north')], { ids: new Set(['north']), addedWaiting: 0, ...periods });
  });
});

describe('carried state', () => {
  it('decodes a window state an older build carried, with defaults for what it lacked', () => {
    const old = {
      firstTileIndex: 0,
      endTileIndex: 10,
      nextTileIndex: 4,
      backends: backends(),
      inFlight: { t1: { backend: 'a', holdsSlot: true, waiting: false } },
      ended: { finished: 3 },
    };
    const state = decodeWindowState(old as unknown as Parameters<typeof decodeWindowState>[0]);
    assert.equal(state.version, WINDOW_STATE_VERSION);
    assert.deepEqual(state.retries, {});
    assert.deepEqual(state.errorStreak, {});
    assert.deepEqual(state.added, []);
    assert.equal(state.nextTileIndex, 4);
    assert.deepEqual(state.ended, { ...emptyCounts(), finished: 3 });
    const book = new WindowBook(state, 3);
    assert.deepEqual(book.counts(10), { ...emptyCounts(), finished: 3, running: 1, not_started: 6 });
    assert.equal(
      book.takeForRetryElsewhere({ tileId: 't1', status: 'error', attempts: 1 }, 2),
      undefined,
      'the retries of a state that had none work',
    );
  });

  it('decodes a partitions state an older build carried', () => {
    const prepared = {
      spec: { backends: backends(), scheduling: { tilesPerPartition: 5 } },
      totalTiles: 12,
    } as unknown as Parameters<typeof decodePartitionsState>[0];
    const state = decodePartitionsState(prepared, {
      next: 1,
      count: 3,
      ended: { ...emptyCounts(), finished: 5 },
    } as never);
    assert.deepEqual(
      [state.version, state.next, state.added.length, state.addedCount, state.ended.finished],
      [1, 1, 0, 0, 5],
    );
  });
});

describe('progress', () => {
  it('renders counts, pause and each backend with its slots and pause reason', () => {
    const counts = { ...emptyCounts(), finished: 3, error: 1, running: 2, not_started: 4 };
    const text = progressDetails(
      progress({ totalTiles: 10, counts, paused: true, pausedBackends: { b: '10 tiles in a row failed' } }),
      (name) => (name === 'a' ? 2 : 0),
    );
    assert.equal(
      text,
      '**4 / 10 tiles done** — **paused**: finished 3, error 1, canceled 0, skipped 0, running 2, not started 4\n\n' +
        '- a: 2 / 2 jobs\n- b: 0 / 1 jobs — **paused**: 10 tiles in a row failed',
    );
  });

  it("folds a running partition's live counts into its batch's", () => {
    const batch = progress({ totalTiles: 30, counts: { ...emptyCounts(), finished: 10, not_started: 20 }, costs: 1 });
    const partition = progress({
      totalTiles: 10,
      counts: { ...emptyCounts(), finished: 4, running: 2, not_started: 4 },
      costs: 0.5,
      inFlight: [{ tileId: 'x', backend: 'a' }],
    });
    const folded = withPartition(batch, partition);
    assert.deepEqual(folded.counts, { ...emptyCounts(), finished: 14, running: 2, not_started: 14 });
    assert.equal(doneCount(folded.counts), 14);
    assert.equal(folded.costs, 1.5);
    assert.deepEqual(folded.inFlight, [{ tileId: 'x', backend: 'a' }]);
    assert.equal(batch.counts.finished, 10, 'the batch progress itself is left as it was');
  });

  it('summarises a tally with the batch output folder, and shows an ended batch as idle', () => {
    const summary = summaryOf(
      'b1',
      { outputDir: '/out' },
      { ended: { ...emptyCounts(), finished: 2 }, failedTiles: [], costs: 3 },
      2,
    );
    assert.equal(summary.outputDir, '/out/b1');
    const under = (outputPath: string) =>
      summaryOf(
        'b1',
        { outputDir: 's3://bucket/out', outputPath },
        { ended: emptyCounts(), failedTiles: [], costs: 0 },
        0,
      ).outputDir;
    assert.equal(
      under('composites/{batchId}/{period}/{place}/{asset}'),
      's3://bucket/out/composites/b1',
      'the fixed part of the template',
    );
    assert.equal(under('{batchId}/{backend}/{tileId}/{asset}'), 's3://bucket/out/b1');
    assert.equal(
      under('{backend}/{batchId}/{tileId}/{asset}'),
      's3://bucket/out',
      "a batch that spans the backends' folders",
    );
    const idle = idleProgress(summary);
    assert.deepEqual([idle.inFlight, idle.paused, idle.run], [[], false, 0]);
  });

  it('puts every progress together the same way: the summary, then what is live, optional parts only when set', () => {
    const summary = summaryOf('b1', { outputDir: '/out' }, { ended: emptyCounts(), failedTiles: [], costs: 0 }, 0);
    const keys = (p: BatchProgress) => Object.keys(p).join(',');
    const base = 'batchId,totalTiles,counts,failedTiles,outputDir,costs,inFlight,run,paused,pausedBackends,backends';
    assert.equal(keys(assembleProgress(summary)), base);
    const unset = assembleProgress(summary, { problem: undefined, partitions: undefined });
    assert.equal(keys(unset), base, 'no empty optional parts');
    const partitions = { done: 1, total: 3 };
    const partitioned = assembleProgress(summary, { partitions, problem: 'waits', paused: true });
    assert.equal(keys(partitioned), `${base},partitions,problem`);
    assert.equal(partitioned.paused, true);
    assert.deepEqual(progressBeforeStart('b1', 'the tile URL does not answer').problem, 'the tile URL does not answer');
  });
});

describe('partitions', () => {
  it('splits the tiles into ranges and adds up ended partitions', () => {
    assert.deepEqual(partitionRange(2, 5, 12), { start: 10, end: 12 });
    const prepared = {
      spec: { backends: backends(), scheduling: { tilesPerPartition: 5 } },
      totalTiles: 12,
    } as unknown as Parameters<typeof initialPartitionsState>[0];
    const state = initialPartitionsState(prepared);
    assert.equal(state.count, 3);
    addPartitionResult(state, 0, {
      ended: { ...emptyCounts(), finished: 4, error: 1 },
      failedTiles: [{ tileId: 't', error: { code: 'X', message: 'y' } }],
      costs: 2,
      totalTiles: 5,
      backends: backends(),
      paused: true,
      pausedBackends: {},
      addedCount: 0,
    });
    assert.deepEqual(
      [state.next, state.doneTiles, state.ended.finished, state.ended.error, state.costs, state.paused],
      [1, 5, 4, 1, 2, true],
    );
  });

  it("keeps the batch's own pause and slots over a partition's result that predates the last change, and takes the backends it paused", () => {
    const prepared = {
      spec: { backends: backends(), scheduling: { tilesPerPartition: 5 } },
      totalTiles: 12,
    } as unknown as Parameters<typeof initialPartitionsState>[0];
    const state = initialPartitionsState(prepared);
    // The user paused and resumed; the partition completed with the pause only.
    const stale = backends().map((b) => ({ ...b, parallelJobs: 1 }));
    const result = {
      ended: emptyCounts(),
      failedTiles: [],
      costs: 0,
      totalTiles: 5,
      backends: stale,
      paused: true,
      pausedBackends: { a: '10 tiles in a row failed' },
      addedCount: 0,
    };
    addPartitionResult(state, 0, result, true);
    assert.equal(state.paused, false);
    assert.deepEqual(state.backends, backends());
    assert.deepEqual(state.pausedBackends, { a: '10 tiles in a row failed' });
  });

  it('applies again the changes a partition was sent after its result was computed', () => {
    const prepared = {
      spec: { backends: backends(), scheduling: { tilesPerPartition: 5 } },
      totalTiles: 12,
    } as unknown as Parameters<typeof initialPartitionsState>[0];
    const result = {
      ended: emptyCounts(),
      failedTiles: [],
      costs: 0,
      totalTiles: 5,
      backends: backends(),
      paused: false,
      pausedBackends: { a: '10 tiles in a row failed', b: 'login failed' } as Record<string, string>,
      addedCount: 0,
    };
    // The user resumed "a" as the partition completed: its result still has "a" paused.
    const resumed = initialPartitionsState(prepared);
    addPartitionResult(resumed, 0, result, true, [{ type: 'resumeBackend', backend: 'a' }]);
    assert.deepEqual(resumed.pausedBackends, { b: 'login failed' });
    // Every change was taken before the result: the backends the partition paused stay paused.
    const taken = initialPartitionsState(prepared);
    addPartitionResult(taken, 0, result, true, []);
    assert.deepEqual(taken.pausedBackends, result.pausedBackends);
  });
});

describe("a tile's journal", () => {
  it('follows its jobs: running time, costs of every job, and whether the queue was left', () => {
    const journal = new TileJournal('b1', 't1', 'a', 1, 2);
    journal.record.attempts = 1;
    journal.jobCreated('j1');
    assert.equal(journal.observe({ status: 'queued' }), false);
    assert.equal(journal.observe({ status: 'running', costs: 1 }), true);
    assert.ok(journal.runningSince !== undefined && journal.record.runningAt !== undefined);
    assert.equal(journal.observe({ status: 'error', costs: 2 }), false, 'only the first exit from the queue counts');
    journal.record.attempts = 2;
    journal.jobCreated('j2');
    assert.equal(journal.runningSince, undefined, 'a new job has not run yet');
    journal.observe({ status: 'finished', costs: 3, usage: { cpu: { value: 1, unit: 'cpu-seconds' } } });
    assert.equal(journal.record.costs, 5, 'both jobs are paid for');
    assert.match(
      journal.details(),
      /\*\*Tile\*\* t1 on \*\*a\*\*: running, attempt 2 of 2\n\nopenEO job `j2`: finished/,
    );
    journal.record.status = 'error';
    journal.record.error = { code: 'Boom', message: 'it broke' };
    assert.equal(journal.finish(), '**Tile** t1: error (Boom: it broke)');
    assert.ok(journal.record.finishedAt);
  });
});
