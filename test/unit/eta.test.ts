/**
 * The one ETA: the rate of the last minutes, how it reads, and that the terminal's progress bar
 * and the map page show the same figure for the same batch. No server.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { estimateEta, formatEta, type EtaBatch } from '../../src/app/eta';
import { barPayload } from '../../src/app/cli/progress';
import { batchSummary, progressView } from '../../src/app/dashboard/batch-feed';
import type { TileRow } from '../../src/core/records';
import { emptyCounts, type TileStatus } from '../../src/core/records';
import type { BatchProgress } from '../../src/core/progress';

const now = new Date('2024-06-01T12:00:00Z');
const minutesAgo = (minutes: number) => new Date(now.getTime() - minutes * 60_000).toISOString();
const running: EtaBatch = { totalTiles: 10, done: 4, stalled: false };

/** A tile that started and ended that many minutes ago. */
function ended(startedAgo: number, endedAgo: number, status: TileStatus = 'finished') {
  return { status, createdAt: minutesAgo(startedAgo), finishedAt: minutesAgo(endedAgo) };
}

describe('the ETA', () => {
  // Started 10 minutes ago; 4 tiles ended since, 6 to go: 0.4 tiles a minute → 15 minutes.
  const recent = [9, 7, 5, 1].map((m) => ended(10, m));

  it('follows the rate of the last minutes', () => {
    assert.deepEqual(estimateEta(running, recent, now), { seconds: 15 * 60, tilesPerHour: 24, text: '15m 00s' });
    const later = new Date(now.getTime() + 60 * 60_000);
    assert.equal(estimateEta(running, recent, later), undefined, 'an hour later nothing more ended: no rate');
    const started = [{ status: 'running' as const, createdAt: minutesAgo(1) }];
    assert.equal(estimateEta(running, started, now), undefined, 'nothing ended yet');
  });

  it('is zero once every tile ended, and unknown while no tile is known or can start', () => {
    const zero = { seconds: 0, tilesPerHour: 0, text: '0s' };
    assert.deepEqual(estimateEta({ totalTiles: 10, done: 10, stalled: false }, [], now), zero);
    const reading = { totalTiles: 0, done: 0, stalled: false };
    assert.equal(estimateEta(reading, recent, now), undefined, 'the batch still reads its tiles');
    assert.equal(estimateEta({ ...running, stalled: true }, recent, now), undefined, 'paused: the rate says nothing');
  });

  it('looks back the whole window once the batch is older', () => {
    // 3 tiles ended in the last 15 minutes, having started up to 19 minutes ago: 12 an hour, 6 left → 30 minutes.
    const old = [25, 14, 8, 2].map((m) => ended(m + 5, m, 'error'));
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
  const row = (i: number, record: Partial<TileRow>): TileRow => ({
    batchId: 'b1',
    tileId: `t${i}`,
    status: 'not_started',
    attempts: 0,
    geometry: null,
    ...record,
  });
  // The map's rows: 4 ended in the 10 minutes since the batch started, 2 running, 4 waiting.
  const rows: TileRow[] = [
    ...[9, 7, 5, 1].map((m, i) => row(i, { ...ended(10, m, i === 3 ? 'error' : 'finished'), attempts: 1 })),
    ...[4, 5].map((i) => row(i, { status: 'running', attempts: 1, createdAt: minutesAgo(3) })),
    ...[6, 7, 8, 9].map((i) => row(i, {})),
  ];
  const pageEta = (p: typeof progress) => batchSummary('b1', progressView(p), rows, undefined, now).eta?.text;

  it('the progress bar and the map page show the same figure', () => {
    // The bar gets the tiles that ended recently (`readEndedTiles`); the map has every row.
    const bar = barPayload(
      progress,
      rows.filter((r) => r.finishedAt),
      now,
    );
    assert.equal(bar.timeLeft, '15m 00s');
    assert.equal(pageEta(progress), bar.timeLeft);
    assert.equal(batchSummary('b1', progressView(progress), rows, undefined, now).done, 4);

    // A tile added while the batch runs: the batch counts it before the map draws it; both go by the batch.
    const added = { ...progress, totalTiles: 11, counts: { ...progress.counts, not_started: 5 } };
    assert.equal(barPayload(added, rows, now).timeLeft, '17m 30s');
    assert.equal(pageEta(added), '17m 30s');

    // Both hold back while nothing can start.
    const paused = { ...progress, paused: true };
    assert.equal(barPayload(paused, rows, now).timeLeft, '--');
    assert.equal(pageEta(paused), undefined);
  });
});
