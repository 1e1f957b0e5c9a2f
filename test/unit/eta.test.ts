/**
 * The one ETA: the rate of the last minutes, how it reads, and that the terminal's progress bar
 * and the map page show the same figure for the same batch. No server.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { estimateEta, formatEta, type EtaBatch } from '../../src/app/eta';
import { barPayload } from '../../src/app/cli/progress';
import { batchSummary, progressView } from '../../src/app/dashboard/batch-feed';
import type { TileRow } from '../../src/app/batch-records';
import { emptyCounts } from '../../src/core/records';
import type { BatchProgress } from '../../src/core/progress';

const now = new Date('2024-06-01T12:00:00Z');
const minutesAgo = (minutes: number) => new Date(now.getTime() - minutes * 60_000).toISOString();
const running: EtaBatch = { totalTiles: 10, done: 4, stalled: false };

describe('the ETA', () => {
  // Started 10 minutes ago; 4 tiles ended since, 6 to go: 0.4 tiles a minute → 15 minutes.
  const ended = [9, 7, 5, 1].map((m) => ({ status: 'finished' as const, createdAt: minutesAgo(10), finishedAt: minutesAgo(m) }));

  it('follows the rate of the last minutes', () => {
    assert.deepEqual(estimateEta(running, ended, now), { seconds: 15 * 60, tilesPerHour: 24, text: '15m 00s' });
    const later = new Date(now.getTime() + 60 * 60_000);
    assert.equal(estimateEta(running, ended, later), undefined, 'an hour later nothing more ended: no recent rate, no promise');
    assert.equal(estimateEta(running, [{ status: 'running', createdAt: minutesAgo(1) }], now), undefined, 'nothing ended yet');
  });

  it('is zero once every tile ended, and unknown while no tile is known or can start', () => {
    assert.deepEqual(estimateEta({ totalTiles: 10, done: 10, stalled: false }, [], now), { seconds: 0, tilesPerHour: 0, text: '0s' });
    assert.equal(estimateEta({ totalTiles: 0, done: 0, stalled: false }, ended, now), undefined, 'the batch still reads its tiles');
    assert.equal(estimateEta({ ...running, stalled: true }, ended, now), undefined, 'paused: the rate so far says nothing');
  });

  it('looks back the whole window once the batch is older', () => {
    // 3 tiles ended in the last 15 minutes, having started up to 19 minutes ago: 12 an hour, 6 left → 30 minutes.
    const old = [25, 14, 8, 2].map((m) => ({ status: 'error' as const, createdAt: minutesAgo(m + 5), finishedAt: minutesAgo(m) }));
    assert.equal(estimateEta(running, old, now)?.text, '30m 00s');
  });

  it('reads as seconds, minutes or hours', () => {
    assert.equal(formatEta(undefined), '--');
    assert.equal(formatEta(45), '45s');
    assert.equal(formatEta(200), '3m 20s');
    assert.equal(formatEta(2 * 3600 + 5 * 60), '2h 05m');
  });
});

describe('one batch, one ETA', () => {
  it('the progress bar and the map page show the same figure', () => {
    const progress: BatchProgress & { closed: boolean } = {
      batchId: 'b1',
      totalTiles: 10,
      counts: { ...emptyCounts(), finished: 3, error: 1, running: 2, not_started: 4 },
      failedTiles: [],
      outputDir: 'out',
      costs: 0,
      inFlight: [],
      run: 1,
      paused: false,
      pausedBackends: {},
      backends: [{ name: 'emulator', url: 'http://127.0.0.1:1', parallelJobs: 2 }],
      closed: false,
    };
    const rows: TileRow[] = [
      ...[9, 7, 5, 1].map((m, i) => ({ batchId: 'b1', tileId: `t${i}`, status: i === 3 ? ('error' as const) : ('finished' as const), attempts: 1, createdAt: minutesAgo(10), finishedAt: minutesAgo(m), geometry: null })),
      ...[4, 5].map((i) => ({ batchId: 'b1', tileId: `t${i}`, status: 'running' as const, attempts: 1, createdAt: minutesAgo(3), geometry: null })),
      ...[6, 7, 8, 9].map((i) => ({ batchId: 'b1', tileId: `t${i}`, status: 'not_started' as const, attempts: 0, geometry: null })),
    ];
    // The bar gets the tiles that ended recently (`readEndedTiles`); the map has every row.
    const bar = barPayload(progress, rows.filter((r) => r.finishedAt), now);
    const page = batchSummary('b1', progressView(progress), rows, undefined, now);
    assert.equal(bar.timeLeft, '15m 00s');
    assert.equal(page.eta?.text, bar.timeLeft);
    assert.equal(page.done, 4);

    // A tile added while the batch runs: the batch counts it before the map draws it; both go by the batch.
    const added = { ...progress, totalTiles: 11, counts: { ...progress.counts, not_started: 5 } };
    assert.equal(barPayload(added, rows, now).timeLeft, '17m 30s');
    assert.equal(batchSummary('b1', progressView(added), rows, undefined, now).eta?.text, '17m 30s');

    // Both hold back while nothing can start.
    const paused = { ...progress, paused: true };
    assert.equal(barPayload(paused, rows, now).timeLeft, '--');
    assert.equal(batchSummary('b1', progressView(paused), rows, undefined, now).eta, undefined);
  });
});
