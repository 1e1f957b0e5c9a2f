/** Costs add up without float noise wherever they are summed, and read as credits to the cent. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { addCosts, formatCosts, roundCosts } from '../../src/core/costs';
import { idleProgress, summaryOf, withPartition } from '../../src/core/progress';
import { emptyCounts } from '../../src/core/records';
import { WindowBook } from '../../workflows/window-book';
import { initialWindowState } from '../../workflows/window-state';
import { addPartitionResult, initialPartitionsState } from '../../workflows/partitions-state';
import type { PartitionResult } from '../../workflows/partition';
import { parseBatchSpec } from '../../src/core/batch-spec/validate';
import { TileJournal } from '../../workflows/tile-journal';
import { summaryText } from '../../src/app/cli/progress';

const backends = [{ name: 'a', url: 'http://a.test', parallelJobs: 12 }];
const spec = {
  backends,
  process: { processId: 'p' },
  tiles: { aoi: { west: 0, south: 0, east: 2, north: 1 }, tileSize: 1 },
  scheduling: { tilesPerPartition: 1 },
};

describe('costs', () => {
  it('adds up twelve tiles of 1.2 credits to 14.4, not 14.400000000000004', () => {
    let naive = 0;
    for (let i = 0; i < 12; i++) naive += 1.2;
    assert.notEqual(naive, 14.4, 'plain float addition leaves noise (the defect this guards against)');
    assert.equal(addCosts(...Array<number>(12).fill(1.2)), 14.4);
    assert.equal(addCosts(0.1, 0.2), 0.3);
    assert.equal(String(roundCosts(14.400000000000004)), '14.4');
  });

  it('keeps what a backend reports below the cent', () => {
    assert.equal(addCosts(0.004, 0.004, 0.0015), 0.0095);
    assert.equal(roundCosts(-1e-12), 0);
    assert.ok(!Object.is(roundCosts(-1e-12), -0), 'no negative zero');
  });

  it('shows credits to the cent', () => {
    assert.equal(formatCosts(14.400000000000004), '14.40');
    assert.equal(formatCosts(0.0095), '0.01');
    assert.equal(formatCosts(0), '0.00');
  });

  it("sums clean in a window's tally, a partitioned batch and a tile's jobs", () => {
    const book = new WindowBook(initialWindowState({ start: 0, end: 12 }, backends), 3);
    for (let i = 0; i < 12; i++) {
      book.markStarted(`t${i}`, 'a');
      book.recordEnd({ tileId: `t${i}`, status: 'finished', costs: 1.2 });
    }
    assert.equal(book.state.costs, 14.4);

    const partitions: PartitionResult = {
      ended: emptyCounts(),
      failedTiles: [],
      costs: 0.1,
      totalTiles: 0,
      backends,
      paused: false,
      pausedBackends: {},
      addedCount: 0,
    };
    const state = initialPartitionsState({ spec: parseBatchSpec(spec), totalTiles: 2 });
    addPartitionResult(state, 0, partitions);
    addPartitionResult(state, 1, { ...partitions, costs: 0.2 });
    assert.equal(state.costs, 0.3);

    const summary = summaryOf('b', { outputDir: '/out' }, { ended: emptyCounts(), failedTiles: [], costs: 0.1 }, 1);
    assert.equal(withPartition(idleProgress(summary), idleProgress({ ...summary, costs: 0.2 })).costs, 0.3);

    const journal = new TileJournal('b', 't', 'a', 1, 3);
    for (const [i, costs] of [0.1, 0.2].entries()) {
      journal.jobCreated(`j${i}`);
      journal.observe({ status: 'error', costs });
    }
    assert.equal(journal.record.costs, 0.3);
  });

  it('reads to the cent in the summary the CLI prints', () => {
    const text = summaryText(
      summaryOf(
        'b',
        { outputDir: '/out' },
        { ended: { ...emptyCounts(), finished: 1 }, failedTiles: [], costs: 14.400000000000004 },
        1,
      ),
    );
    assert.match(text, /costs reported by the backends: 14\.40 credits/);
  });
});
