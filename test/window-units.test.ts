/**
 * The small units the window and the tile workflow are built from, without a server: placement,
 * live controls, progress and its rendering, and a tile's journal.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApplicationFailure } from '@temporalio/common';
import { doneCount, idleProgress, progressBeforeStart, progressDetails, summaryOf, withPartition, type BatchProgress } from '../core/progress';
import { emptyCounts } from '../core/records';
import type { Tile } from '../core/spec/tile-types';
import { applyControl, type BatchSettings } from '../workflows/controls';
import { addPartitionResult, initialPartitionsState, partitionRange } from '../workflows/partition-runner';
import { placeTiles } from '../workflows/placement';
import { TileJournal } from '../workflows/tile-journal';
import { initialWindowState, WindowBook } from '../workflows/window-book';

const backends = () => [
  { name: 'a', url: 'http://a.test', parallelJobs: 2 },
  { name: 'b', url: 'http://b.test', parallelJobs: 1 },
];

function tile(id: string, properties: Record<string, unknown> = {}): Tile {
  return { id, geometry: { type: 'Polygon', coordinates: [] }, properties: { index: 0, bbox: { west: 0, south: 0, east: 1, north: 1 }, crs: 'EPSG:4326', ...properties } };
}

function progress(overrides: Partial<BatchProgress> = {}): BatchProgress {
  return { ...progressBeforeStart('b1'), backends: backends(), ...overrides };
}

describe('placement', () => {
  it('starts tiles in order while slots are free, and leaves the rest queued in order', () => {
    const book = new WindowBook(initialWindowState({ start: 0, end: 5 }, backends()), 3);
    const queue = ['t1', 't2', 't3', 't4', 't5'].map((id) => tile(id));
    const starts = placeTiles(book, queue, false);
    assert.deepEqual(starts.map((s) => [s.tile.id, s.backend.name]), [['t1', 'a'], ['t2', 'a'], ['t3', 'b']]);
    assert.deepEqual(queue.map((t) => t.id), ['t4', 't5']);
    assert.equal(book.inFlightCount(), 3);
  });

  it('lets a later tile pass one pinned to a full backend', () => {
    const book = new WindowBook(initialWindowState({ start: 0, end: 3 }, backends()), 3);
    book.markStarted('busy', 'b');
    const queue = [tile('pinned', { backend: 'b' }), tile('free')];
    assert.deepEqual(placeTiles(book, queue, false).map((s) => s.tile.id), ['free']);
    assert.deepEqual(queue.map((t) => t.id), ['pinned']);
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
  const settings = (): BatchSettings => ({ backends: backends(), paused: false, pausedBackends: { b: 'failing' }, errorStreak: { b: 10 } });

  it("resizes a backend's window and its queue", () => {
    const s = settings();
    applyControl(s, { type: 'setParallelJobs', backend: 'b', parallelJobs: 4, maxQueued: 1 });
    assert.deepEqual(s.backends[1], { name: 'b', url: 'http://b.test', parallelJobs: 4, maxQueued: 1 });
  });

  it('rejects an unknown backend and a count that is not a whole number, as update failures', () => {
    const s = settings();
    assert.throws(() => applyControl(s, { type: 'setParallelJobs', backend: 'c', parallelJobs: 1 }), (e: unknown) => e instanceof ApplicationFailure && /backend "c" is not part of this batch; it has a, b/.test(e.message));
    assert.throws(() => applyControl(s, { type: 'setParallelJobs', backend: 'a', parallelJobs: 1.5 }), (e: unknown) => e instanceof ApplicationFailure && e.type === 'InvalidBatchChange');
    assert.throws(() => applyControl(s, { type: 'resumeBackend', backend: 'c' }), ApplicationFailure);
    assert.deepEqual(s, settings(), 'nothing changed');
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

describe('progress', () => {
  it('renders counts, pause and each backend with its slots and pause reason', () => {
    const counts = { ...emptyCounts(), finished: 3, error: 1, running: 2, not_started: 4 };
    const text = progressDetails(progress({ totalTiles: 10, counts, paused: true, pausedBackends: { b: '10 tiles in a row failed' } }), (name) => (name === 'a' ? 2 : 0));
    assert.equal(
      text,
      '**4 / 10 tiles done** — **paused**: finished 3, error 1, canceled 0, skipped 0, running 2, not started 4\n\n' +
        '- a: 2 / 2 jobs\n- b: 0 / 1 jobs — **paused**: 10 tiles in a row failed',
    );
  });

  it("folds a running partition's live counts into its batch's", () => {
    const batch = progress({ totalTiles: 30, counts: { ...emptyCounts(), finished: 10, not_started: 20 }, costs: 1 });
    const partition = progress({ totalTiles: 10, counts: { ...emptyCounts(), finished: 4, running: 2, not_started: 4 }, costs: 0.5, inFlight: [{ tileId: 'x', backend: 'a' }] });
    const folded = withPartition(batch, partition);
    assert.deepEqual(folded.counts, { ...emptyCounts(), finished: 14, running: 2, not_started: 14 });
    assert.equal(doneCount(folded.counts), 14);
    assert.equal(folded.costs, 1.5);
    assert.deepEqual(folded.inFlight, [{ tileId: 'x', backend: 'a' }]);
    assert.equal(batch.counts.finished, 10, 'the batch progress itself is left as it was');
  });

  it('summarises a tally with the batch output folder, and shows an ended batch as idle', () => {
    const summary = summaryOf('b1', '/out', { ended: { ...emptyCounts(), finished: 2 }, failedTiles: [], costs: 3 }, 2);
    assert.equal(summary.outputDir, '/out/b1');
    const idle = idleProgress(summary);
    assert.deepEqual([idle.inFlight, idle.paused, idle.run], [[], false, 0]);
  });
});

describe('partitions', () => {
  it('splits the tiles into ranges and adds up ended partitions', () => {
    assert.deepEqual(partitionRange(2, 5, 12), { start: 10, end: 12 });
    const prepared = { spec: { backends: backends(), scheduling: { tilesPerPartition: 5 } }, totalTiles: 12 } as unknown as Parameters<typeof initialPartitionsState>[0];
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
    assert.deepEqual([state.next, state.doneTiles, state.ended.finished, state.ended.error, state.costs, state.paused], [1, 5, 4, 1, 2, true]);
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
    assert.match(journal.details(), /\*\*Tile\*\* t1 on \*\*a\*\*: running, attempt 2 of 2\n\nopenEO job `j2`: finished/);
    journal.record.status = 'error';
    journal.record.error = { code: 'Boom', message: 'it broke' };
    assert.equal(journal.finish(), '**Tile** t1: error (Boom: it broke)');
    assert.ok(journal.record.finishedAt);
  });
});
