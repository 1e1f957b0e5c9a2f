/**
 * No live change is ever lost: a partitioned batch steered with every control, during a
 * partition's start and concurrently; tiles added concurrently get their own ids; an added tile
 * that clashes with a pending one is refused; tiles added as the last tile ends still run.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { partitionWorkflowId } from '../../src/core/ids';
import type { TileFeature } from '../../src/core/batch-spec/tile-types';
import { addTiles, batchProgress, pauseBatch, resumeBatch, setParallelJobs } from '../../workflows/messages';
import { eventually } from '../support/eventually';
import { startHarness, type Harness } from '../support/harness';

function square(lon: number, lat: number, id?: string): TileFeature {
  const d = 0.02;
  return {
    type: 'Feature',
    ...(id !== undefined ? { id } : {}),
    geometry: {
      type: 'Polygon',
      coordinates: [
        [
          [lon, lat],
          [lon + d, lat],
          [lon + d, lat + d],
          [lon, lat + d],
          [lon, lat],
        ],
      ],
    },
    properties: {},
  };
}

describe('live changes are never lost', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ maxRunningJobsPerUser: 50, jobDurations: { queuedMs: 50, runningMs: 600 } });
    await h.startWorker();
  });
  after(async () => h?.teardown());

  it('a partitioned batch takes every control, also while a partition starts and all at once', async () => {
    // Six partitions of three: under load the first updates may return late, and work must be
    // left when the test steers a partition's start.
    const spec = h.spec({
      batchId: 'steered-partitions',
      cols: 4,
      rows: 4,
      scheduling: { maxEventsPerRun: 4_000, partitionAboveTiles: 4, tilesPerPartition: 3, pauseBackendAfterErrors: 10 },
    });
    const { handle } = await h.client.start(spec);
    // Partition 0 runs: change settings and add tiles, all at once.
    await eventually(
      async () => (await handle.query(batchProgress)).partitions?.current !== undefined,
      'a partition runs',
    );
    const [backends, idsA, idsB] = await Promise.all([
      handle.executeUpdate(setParallelJobs, { args: [{ backend: 'emulator', parallelJobs: 3 }] }),
      handle.executeUpdate(addTiles, { args: [{ features: [square(4.0, 51.0), square(4.1, 51.0)] }] }),
      handle.executeUpdate(addTiles, { args: [{ features: [square(4.2, 51.0), square(4.3, 51.0, 'named-tile')] }] }),
    ]);
    assert.equal(backends[0].parallelJobs, 3);
    const added = [...idsA, ...idsB];
    assert.equal(new Set(added).size, 4, `concurrent updates gave distinct ids: ${added.join(', ')}`);
    assert.ok(added.includes('named-tile'));

    // The next partition's start: changes sent now must reach it too.
    const first = (await handle.query(batchProgress)).partitions?.current;
    await eventually(
      async () => {
        const { partitions } = await handle.query(batchProgress);
        return partitions?.current !== undefined && partitions.current !== first;
      },
      'the next partition started',
      120_000,
    );
    await Promise.all([
      handle.executeUpdate(pauseBatch),
      handle.executeUpdate(addTiles, { args: [{ features: [square(4.4, 51.0)] }] }),
    ]);
    await handle.executeUpdate(resumeBatch);
    const summary = await handle.result();
    const total = 16 + 5;
    assert.equal(summary.totalTiles, total);
    assert.equal(summary.counts.finished, total, JSON.stringify(summary.counts));
    const tiles = await h.client.tiles('steered-partitions');
    assert.equal(tiles.length, total, 'every tile, added ones included, has its workflow');
    assert.ok(tiles.every((t) => t.status === 'finished'));
    const jobs = h.emulator.admin.stats().jobs.created;
    assert.ok(jobs >= total, `one job per tile at least (${jobs})`);
    // Each partition's result counts the changes it was sent (what lets the batch apply again those its result predates).
    const partitions = await partitionTallies('steered-partitions');
    assert.ok(
      partitions.some((p) => p.signals > 0),
      JSON.stringify(partitions),
    );
    for (const p of partitions) assert.equal(p.controlsTaken, p.signals, JSON.stringify(p));
  });

  /** Per partition of a batch: the changes its history shows it was sent, and those its result says it took. */
  async function partitionTallies(
    batchId: string,
  ): Promise<{ index: number; signals: number; controlsTaken: unknown }[]> {
    const tallies = [];
    for (let index = 0; ; index++) {
      const history = await h.temporal.workflow
        .getHandle(partitionWorkflowId(batchId, index))
        .fetchHistory()
        .catch(() => undefined);
      if (!history) return tallies;
      const events = history.events ?? [];
      const signals = events.filter(
        (e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'controlPartition',
      ).length;
      const payload = events.at(-1)?.workflowExecutionCompletedEventAttributes?.result?.payloads?.[0]?.data;
      const result = payload ? (JSON.parse(Buffer.from(payload).toString('utf8')) as { controlsTaken?: number }) : {};
      tallies.push({ index, signals, controlsTaken: result.controlsTaken });
    }
  }

  it('refuses an added tile whose id a pending tile has, and one that already ran, with the reason', async () => {
    const features = [square(4.0, 51.2, 'one'), square(4.1, 51.2, 'two'), square(4.2, 51.2, 'three')];
    const spec = h.spec({
      batchId: 'clash',
      tiles: { type: 'FeatureCollection', features: features as unknown as { type: 'Feature' }[] },
    });
    spec.backends[0].parallelJobs = 1;
    const { handle } = await h.client.start(spec);
    const refused = async (id: string) =>
      assert.rejects(
        handle.executeUpdate(addTiles, { args: [{ features: [square(4.3, 51.2, id)] }] }),
        (err: unknown) =>
          err instanceof WorkflowUpdateFailedError &&
          new RegExp(`tile id "${id}" is already a tile of this batch`).test(String((err.cause as Error)?.message)),
      );
    await eventually(async () => (await handle.query(batchProgress)).inFlight.length > 0, 'a tile runs');
    await refused('three');
    await eventually(
      async () => (await h.client.tiles('clash')).some((t) => t.tileId === 'one' && t.status === 'finished'),
      'tile one finished',
    );
    await refused('one');
    const summary = await handle.result();
    assert.deepEqual([summary.totalTiles, summary.counts.finished, summary.counts.skipped], [3, 3, 0]);
  });

  it('runs tiles added as the last tile ends', async () => {
    const { handle } = await h.client.start(h.spec({ batchId: 'late-add', cols: 1, rows: 1 }));
    await eventually(async () => (await handle.query(batchProgress)).inFlight.length > 0, 'the tile runs');
    const ids = await handle.executeUpdate(addTiles, { args: [{ features: [square(4.5, 51.0)] }] });
    const summary = await handle.result();
    assert.equal(summary.totalTiles, 2);
    assert.equal(summary.counts.finished, 2);
    assert.ok((await h.client.tiles('late-add')).some((t) => t.tileId === ids[0] && t.status === 'finished'));
  });
});
