/** The window's bookkeeping, without a server: slots, queues, pins, pauses, exactly-once counts. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { initialWindowState, WindowBook } from '../workflows/window-book';
import type { Tile } from '../core/spec/tile-types';

const backends = [
  { name: 'a', url: 'http://a.test', parallelJobs: 2 },
  { name: 'b', url: 'http://b.test', parallelJobs: 1 },
];

function book(pauseAfterErrors = 3): WindowBook {
  return new WindowBook(initialWindowState({ start: 0, end: 10 }, backends), pauseAfterErrors);
}

function tile(id: string, properties: Record<string, unknown> = {}): Tile {
  return { id, geometry: { type: 'Polygon', coordinates: [] }, properties: { index: 0, bbox: { west: 0, south: 0, east: 1, north: 1 }, crs: 'EPSG:4326', ...properties } };
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
    assert.deepEqual(b.counts(10), { not_started: 9, running: 0, finished: 1, error: 0, canceled: 0, skipped: 0, postprocessed: 0 });
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
    const b = new WindowBook(initialWindowState({ start: 0, end: 10 }, [{ name: 'a', url: 'http://a.test', parallelJobs: 5, maxQueued: 1 }]), 3);
    b.markStarted('t1', 'a');
    assert.equal(b.hasCapacity(), false);
    b.markRunning('t1');
    assert.equal(b.pickBackendFor(tile('t2'))?.name, 'a');
  });

  it('sends pinned tiles only to their backends', () => {
    const b = book();
    b.markStarted('x', 'b');
    assert.equal(b.pickBackendFor(tile('p', { backend: 'b' })), undefined, 'b is full; the tile waits rather than going to a');
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
});
