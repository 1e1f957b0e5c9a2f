/** The window's bookkeeping, without a server: slots, queues, pins, pauses, exactly-once counts. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { lineUpTiles } from '../../workflows/placement';
import { WindowBook } from '../../workflows/window-book';
import { initialWindowState } from '../../workflows/window-state';
import type { Tile } from '../../src/core/batch-spec/tile-types';

const backends = [
  { name: 'a', url: 'http://a.test', parallelJobs: 2 },
  { name: 'b', url: 'http://b.test', parallelJobs: 1 },
];

function book(pauseAfterErrors = 3): WindowBook {
  return new WindowBook(initialWindowState({ start: 0, end: 10 }, backends), pauseAfterErrors);
}

function tile(id: string, properties: Record<string, unknown> = {}): Tile {
  return {
    id,
    geometry: { type: 'Polygon', coordinates: [] },
    properties: { index: 0, bbox: { west: 0, south: 0, east: 1, north: 1 }, crs: 'EPSG:4326', ...properties },
  };
}

describe('window bookkeeping', () => {
  it('counts a tile once, however often its end is reported', () => {
    const b = book();
    b.markStarted('t1', 'a');
    assert.equal(b.recordEnd({ tileId: 't1', status: 'finished', costs: 2 }), true);
    assert.equal(b.recordEnd({ tileId: 't1', status: 'finished', costs: 2 }), false);
    assert.equal(b.recordEnd({ tileId: 'never-started', status: 'error' }), false);
    assert.equal(b.state.ended.finished, 1);
    assert.equal(b.state.ended.error, 0);
    assert.equal(b.state.costs, 2);
    assert.deepEqual(b.counts(10), {
      not_started: 9,
      running: 0,
      finished: 1,
      error: 0,
      canceled: 0,
      skipped: 0,
      postprocessed: 0,
    });
  });

  it('never hands out more slots than parallelJobs, and frees a slot when the job ends', () => {
    const b = book();
    const picks = ['t1', 't2', 't3', 't4'].map((id) => {
      const backend = b.pickBackendFor(tile(id));
      if (backend) b.markStarted(id, backend.name);
      return backend?.name;
    });
    assert.deepEqual(picks, ['a', 'a', 'b', undefined]);
    assert.equal(b.hasCapacity(), false);
    b.markJobEnded('t1', 'finished');
    assert.equal(b.pickBackendFor(tile('t4'))?.name, 'a', 'the slot is free while t1 still downloads');
    assert.equal(b.inFlightCount(), 3, 't1 stays in flight until it completes');
  });

  it('caps waiting jobs with maxQueued until one starts running', () => {
    const b = new WindowBook(
      initialWindowState({ start: 0, end: 10 }, [{ name: 'a', url: 'http://a.test', parallelJobs: 5, maxQueued: 1 }]),
      3,
    );
    b.markStarted('t1', 'a');
    assert.equal(b.hasCapacity(), false);
    b.markRunning('t1');
    assert.equal(b.pickBackendFor(tile('t2'))?.name, 'a');
  });

  it('sends pinned tiles only to their backends', () => {
    const b = book();
    b.markStarted('x', 'b');
    assert.equal(
      b.pickBackendFor(tile('p', { backend: 'b' })),
      undefined,
      'b is full; the tile waits rather than going to a',
    );
    assert.equal(b.pickBackendFor(tile('q', { backends: ['a', 'b'] }))?.name, 'a');
    assert.equal(b.unknownBackendOf(tile('r', { backend: 'nowhere' })), 'nowhere');
  });

  it('pauses a backend after errors in a row, with a reason, and not after an interrupted streak', () => {
    const b = book(2);
    const fail = (id: string, backend: string) => {
      b.markStarted(id, backend);
      b.recordEnd({ tileId: id, status: 'error', error: { code: 'Internal', message: 'boom' } });
    };
    fail('t1', 'a');
    b.markStarted('t2', 'a');
    b.recordEnd({ tileId: 't2', status: 'finished' });
    fail('t3', 'a');
    assert.deepEqual(b.state.pausedBackends, {});
    fail('t4', 'a');
    assert.match(b.state.pausedBackends.a, /2 tiles in a row failed.*Internal: boom/);
    assert.equal(b.freeSlots(backends[0]), 0);
    assert.equal(b.pickBackendFor(tile('t5'))?.name, 'b');
  });

  it('counts a failed job for the streak when the job ends, before the tile completes', () => {
    const b = book(1);
    b.markStarted('t1', 'a');
    b.markJobEnded('t1', 'error', { code: 'JobFailed', message: 'x' });
    assert.ok('a' in b.state.pausedBackends, 'paused before the error logs are even saved');
    b.recordEnd({ tileId: 't1', status: 'error' });
    assert.equal(b.state.errorStreak.a, 1, 'the completion does not count the same failure again');
  });

  it('starts nothing while the batch is paused', () => {
    const b = book();
    b.state.paused = true;
    assert.equal(b.hasCapacity(), false);
    assert.equal(b.pickBackendFor(tile('t1')), undefined);
  });

  it('lines one tile up behind each slot-holder; it takes the slot over when the job ahead ends', () => {
    const b = book();
    b.markStarted('t1', 'a');
    b.markStarted('t2', 'a');
    b.markStarted('t3', 'b');
    const queue = ['t4', 't5', 't6', 't7'].map((id) => tile(id));
    const lined = lineUpTiles(b, queue, false);
    assert.deepEqual(
      lined.map((s) => [s.tile.id, s.backend.name, s.behind]),
      [
        ['t4', 'a', 't1'],
        ['t5', 'a', 't2'],
        ['t6', 'b', 't3'],
      ],
    );
    assert.deepEqual(
      queue.map((t) => t.id),
      ['t7'],
      'one behind each, no more',
    );
    assert.equal(b.slotsInUse('a'), 2, 'lined-up tiles hold no slot');
    assert.equal(b.waitingOn('a'), 2, 'nor count against maxQueued');

    b.markJobEnded('t1', 'finished');
    assert.equal(b.slotsInUse('a'), 2, 't4 holds the slot t1 gave up');
    assert.equal(b.freeSlots(backends[0]), 0, 'so no other tile starts in it');
    assert.deepEqual(b.lines.spots(backends[0]), ['t4'], 'and a tile may line up behind t4 now');
    assert.deepEqual(b.lines.takeWordsDue(), [], 't4 did not ask for a word: its job was started for it');
  });

  it('gives a lined-up tile that asks its word when the slot is its own, not before', () => {
    const b = book();
    b.markStarted('t1', 'a');
    b.lines.add('t2', 'a', 't1');
    b.lines.askForWord('t2');
    assert.deepEqual(b.lines.takeWordsDue(), [], 'the tile ahead still holds the slot (its failed job is resubmitted)');
    b.markJobEnded('t1', 'error', { code: 'JobFailed', message: 'x' });
    assert.deepEqual(b.lines.takeWordsDue(), ['t2']);
    b.lines.askForWord('t2');
    assert.deepEqual(b.lines.takeWordsDue(), ['t2'], 'asked again after it holds the slot: answered at once');
  });

  it('hands the slot on when the tile ahead ends without its job ending, and forgets a lined-up tile that ends', () => {
    const b = book();
    b.markStarted('t1', 'a');
    b.lines.add('t2', 'a', 't1');
    b.recordEnd({ tileId: 't1', status: 'error', error: { code: 'JobFactoryFailed', message: 'x' } });
    assert.equal(b.slotsInUse('a'), 1, 't2 holds the slot');
    b.lines.add('t3', 'a', 't2');
    b.recordEnd({ tileId: 't3', status: 'skipped' });
    assert.equal(b.state.inFlight.t2.next, undefined, 'a tile may line up behind t2 again');
  });

  it('lines up only while all slots are taken, nothing while paused, over a lowered limit, or after a failed job', () => {
    const b = book();
    b.markStarted('t1', 'a');
    assert.deepEqual(b.lines.spots(backends[0]), [], 'a slot is free: a tile starts there instead');
    b.markStarted('t2', 'a');
    assert.deepEqual(b.lines.spots(backends[0]), ['t1', 't2']);
    b.state.paused = true;
    assert.deepEqual(b.lines.spots(backends[0]), []);
    b.state.paused = false;
    assert.deepEqual(b.lines.spots({ ...backends[0], parallelJobs: 1 }), []);
    b.markJobEnded('t1', 'error', { code: 'JobFailed', message: 'x' });
    b.markStarted('t3', 'a');
    assert.deepEqual(b.lines.spots(backends[0]), [], 'the last job there failed');
    b.markJobEnded('t2', 'finished');
    b.markStarted('t4', 'a');
    assert.deepEqual(b.lines.spots(backends[0]), ['t3', 't4'], 'a finished job clears the streak');
  });

  it('moves a lined-up tile to a slot no waiting tile took, instead of keeping it behind a long job', () => {
    const b = book();
    b.markStarted('t1', 'a');
    b.markStarted('t2', 'a');
    b.lines.add('t3', 'a', 't1');
    b.lines.add('t4', 'a', 't2');
    assert.equal(b.lines.moveToFreeSlots(backends[0]), 0, 'no slot is free');
    b.markJobEnded('t2', 'finished');
    assert.equal(b.lines.moveToFreeSlots(backends[0]), 0, 't4 took the slot t2 gave up');
    b.recordEnd({ tileId: 't4', status: 'finished' });
    assert.equal(b.lines.any(), true);
    assert.equal(b.lines.moveToFreeSlots(backends[0]), 1, 't3 moves to the slot t4 left');
    assert.deepEqual(b.lines.takeWordsDue(), ['t3'], 'and gets its word at once');
    assert.equal(b.slotsInUse('a'), 2);
    assert.equal(b.state.inFlight.t1.next, undefined, 't1 hands its slot to nobody now');
    assert.equal(b.lines.any(), false);
    b.markJobEnded('t1', 'finished');
    assert.equal(b.slotsInUse('a'), 1, "t1's slot is free for another tile");
    assert.deepEqual(b.lines.takeWordsDue(), []);
  });

  it('moves no lined-up tile while its backend is paused', () => {
    const b = book();
    b.markStarted('t1', 'a');
    b.lines.add('t2', 'a', 't1');
    b.state.pausedBackends.a = 'paused by the test';
    assert.equal(b.lines.moveToFreeSlots(backends[0]), 0);
    assert.deepEqual(b.lines.takeWordsDue(), []);
  });
});
