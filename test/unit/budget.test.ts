/**
 * The budget's projection, without a server: credits reported, plus the expected cost of the
 * tiles in flight and of the next one, against the batch's and each backend's credits.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Tile } from '../../src/core/batch-spec/tile-types';
import { budgetStop, changedBudget, expectedCost, recordSpend, type Spend } from '../../workflows/budget';
import { applyControl, checkControl } from '../../workflows/controls';
import { lineUpTiles, placeTiles } from '../../workflows/placement';
import { WindowBook } from '../../workflows/window-book';
import { initialWindowState } from '../../workflows/window-state';
import { withPartition, idleProgress } from '../../src/core/progress';
import { emptyCounts } from '../../src/core/records';

const backends = [
  { name: 'a', url: 'http://a.test', parallelJobs: 3 },
  { name: 'b', url: 'http://b.test', parallelJobs: 3 },
];

function tile(id: string, properties: Record<string, unknown> = {}): Tile {
  return {
    id,
    geometry: { type: 'Polygon', coordinates: [] },
    properties: { index: 0, bbox: { west: 0, south: 0, east: 1, north: 1 }, crs: 'EPSG:4326', ...properties },
  };
}

function budgetedBook(budget: { credits?: number; backends?: Record<string, number> }, on = backends): WindowBook {
  const book = new WindowBook(initialWindowState({ start: 0, end: 100 }, on, budget), 10);
  book.budgeted = true;
  return book;
}

/** Starts and ends `n` tiles on `backend`, each reporting `costs`. */
function endTiles(book: WindowBook, backend: string, n: number, costs: number, prefix = 'done'): void {
  for (let i = 0; i < n; i++) {
    book.markStarted(`${prefix}-${backend}-${i}`, backend);
    book.recordEnd({ tileId: `${prefix}-${backend}-${i}`, status: 'finished', costs });
  }
}

describe('a budget in credits', () => {
  it("expects a tile to cost its backend's mean, else the batch's, else nothing", () => {
    const spend: Spend = {};
    assert.equal(expectedCost(spend, 'a'), 0);
    recordSpend(spend, 'a', 1);
    recordSpend(spend, 'a', 2);
    recordSpend(spend, 'a', undefined);
    assert.deepEqual(spend, { a: { credits: 3, tiles: 2 } }, 'a tile that reported no costs tells nothing');
    assert.equal(expectedCost(spend, 'a'), 1.5);
    recordSpend(spend, 'b', 4.5);
    assert.equal(expectedCost(spend, 'b'), 4.5);
    assert.equal(expectedCost(spend, 'c'), 2.5, 'no tile ended on c: the mean of all');
  });

  it('lets a tile start until reported plus expected credits would pass the budget, and says why it stops', () => {
    const now = { spend: { a: { credits: 1, tiles: 2 } }, costs: 1, inFlight: { a: 1 } };
    // 1 reported + 0.5 in flight + 0.5 next = 2: not past 2.
    assert.equal(budgetStop({ credits: 2 }, now, 'a'), undefined);
    const stop = budgetStop({ credits: 2 }, { ...now, inFlight: { a: 2 } }, 'a');
    assert.equal(
      stop,
      'budget: 2.00 of 2.00 credits spent or committed (1.00 reported, 1.00 expected of the jobs in flight, 0.50 expected of the next); ' +
        'raise it with the setBudget update (openeo-temporal budget <batchId> --credits <more>)',
    );
  });

  it('starts tiles while nothing can be projected, and none once the credits are used up', () => {
    assert.equal(budgetStop({ credits: 1 }, { spend: {}, costs: 0, inFlight: { a: 5 } }, 'a'), undefined);
    assert.match(
      budgetStop({ credits: 1 }, { spend: { a: { credits: 1, tiles: 0 } }, costs: 1, inFlight: {} }, 'a') ?? '',
      /^budget: 1\.00 of 1\.00 credits/,
    );
    // Costs counted before they were kept per backend still count for the batch.
    assert.match(
      budgetStop({ credits: 1 }, { spend: {}, costs: 1.2, inFlight: {} }, 'a') ?? '',
      /^budget: 1\.20 of 1\.00 credits/,
    );
  });

  it('places tiles up to the budget, and more once it is raised', () => {
    const book = budgetedBook({ credits: 4 }, [backends[0]]);
    endTiles(book, 'a', 2, 1);
    const queue = ['t1', 't2', 't3'].map((id) => tile(id));
    // 2 reported + 1 next = 3, + 1 more = 4: two fit, the third would make 5.
    assert.deepEqual(
      placeTiles(book, queue, false).map((s) => s.tile.id),
      ['t1', 't2'],
    );
    assert.equal(book.hasCapacity(), false, 'a slot is free, but the budget holds it back');
    const progress = book.progress(
      'batch',
      { outputDir: '/out', outputPath: '{batchId}/{tileId}/{asset}' } as never,
      5,
    );
    assert.match(progress.pausedBackends.a, /^budget: 4\.00 of 4\.00 credits spent or committed/);
    assert.match(
      progress.problem ?? '',
      /^budget: 4\.00 of 4\.00 credits/,
      'every backend is held back: the batch waits',
    );

    checkControl(book.state, { type: 'setBudget', budget: { credits: 5 } });
    applyControl(book.state, { type: 'setBudget', budget: { credits: 5 } });
    assert.deepEqual(
      placeTiles(book, queue, false).map((s) => s.tile.id),
      ['t3'],
    );
    assert.match(
      book.progress('batch', { outputDir: '/out' } as never, 5).problem ?? '',
      /^budget: 5\.00 of 5\.00 credits/,
      'the raised budget is used up in turn',
    );
  });

  it('holds back one backend at its own limit while the other goes on', () => {
    const book = budgetedBook({ backends: { a: 1 } });
    endTiles(book, 'a', 1, 1);
    endTiles(book, 'b', 1, 1);
    const queue = ['t1', 't2'].map((id) => tile(id));
    assert.deepEqual(
      placeTiles(book, queue, false).map((s) => s.backend.name),
      ['b', 'b'],
    );
    const progress = book.progress('batch', { outputDir: '/out' } as never, 10);
    assert.match(progress.pausedBackends.a, /^budget: 1\.00 of 1\.00 credits on a spent or committed/);
    assert.equal(progress.problem, undefined, 'b still takes tiles');
  });

  it('counts lined-up tiles as committed and lines none up past the budget', () => {
    const one = { name: 'a', url: 'http://a.test', parallelJobs: 1 };
    const book = budgetedBook({ credits: 3 }, [one]);
    endTiles(book, 'a', 1, 1);
    const queue = ['t1', 't2', 't3'].map((id) => tile(id));
    assert.deepEqual(
      placeTiles(book, queue, false).map((s) => s.tile.id),
      ['t1'],
    );
    // 1 reported + 1 in flight + 1 lined up = 3: a second one behind could not be afforded anyway.
    assert.deepEqual(
      lineUpTiles(book, queue, false).map((s) => s.tile.id),
      ['t2'],
    );
    book.state.backends[0].parallelJobs = 3;
    assert.deepEqual(placeTiles(book, queue, false), [], 'the lined-up tile is committed: nothing more fits');
  });

  it("counts a job's costs once its tile says the job ended, before the download is done", () => {
    const book = budgetedBook({ credits: 2 }, [{ name: 'a', url: 'http://a.test', parallelJobs: 2 }]);
    const queue = ['t1', 't2', 't3', 't4'].map((id) => tile(id));
    assert.equal(placeTiles(book, queue, false).length, 2, 'nothing known yet: both slots take a tile');
    book.markJobEnded('t1', 'finished', undefined, 1.5);
    // 1.5 reported + 1.5 expected of t2 + 1.5 of the next: far past 2, though t1 still downloads.
    assert.deepEqual(placeTiles(book, queue, false), []);
    assert.match(
      book.budgetStop('a') ?? '',
      /^budget: 3\.00 of 2\.00 credits spent or committed \(1\.50 reported, 1\.50 expected/,
    );
    book.recordEnd({ tileId: 't1', status: 'finished', costs: 1.5 });
    assert.match(
      book.budgetStop('a') ?? '',
      /^budget: 3\.00 of 2\.00 credits .*\(1\.50 reported/,
      'counted once when the tile ends',
    );
  });

  it('counts the jobs of a tile moved to another backend after a failure', () => {
    const book = budgetedBook({ backends: { a: 1 } });
    book.markStarted('t1', 'a', tile('t1'));
    assert.ok(
      book.takeForRetryElsewhere(
        { tileId: 't1', status: 'error', attempts: 1, error: { code: 'Failed', message: 'x' }, costs: 1 },
        2,
      ),
    );
    assert.match(book.budgetStop('a') ?? '', /^budget: 1\.00 of 1\.00 credits on a/);
  });

  it('changes nothing without a budget, or before its patch holds', () => {
    const book = new WindowBook(initialWindowState({ start: 0, end: 10 }, [backends[0]], { credits: 1 }), 10);
    endTiles(book, 'a', 2, 5);
    assert.equal(
      placeTiles(book, [tile('t1'), tile('t2'), tile('t3')], false).length,
      3,
      'a window of older code does not hold back',
    );
    assert.deepEqual(book.progress('batch', { outputDir: '/out' } as never, 5).pausedBackends, {});
  });

  it('refuses a budget change that sets no limit, a limit of 0 or names an unknown backend; merges the rest', () => {
    const state = initialWindowState({ start: 0, end: 1 }, backends, { credits: 10, backends: { a: 4 } });
    assert.throws(() => checkControl(state, { type: 'setBudget', budget: {} }), /budget: sets no limit/);
    assert.throws(
      () => checkControl(state, { type: 'setBudget', budget: { credits: 0 } }),
      /credits: give a number of credits greater than 0/,
    );
    assert.throws(
      () => checkControl(state, { type: 'setBudget', budget: { backends: { c: 3 } } }),
      /backend "c" is not part of this batch/,
    );
    applyControl(state, { type: 'setBudget', budget: { backends: { b: 2 } } });
    assert.deepEqual(state.budget, { credits: 10, backends: { a: 4, b: 2 } });
    assert.deepEqual(changedBudget(undefined, { credits: 3 }), { credits: 3 });
  });

  it("shows what holds a partitioned batch's running partition back", () => {
    const summary = {
      batchId: 'b',
      totalTiles: 4,
      counts: emptyCounts(),
      failedTiles: [],
      outputDir: '/out',
      costs: 0,
    };
    const partition = { ...idleProgress(summary), pausedBackends: { a: 'budget: …' }, problem: 'budget: …' };
    const merged = withPartition(idleProgress(summary), partition);
    assert.deepEqual(merged.pausedBackends, { a: 'budget: …' });
    assert.equal(merged.problem, 'budget: …');
  });
});
