/**
 * An outage pauses a batch, it never ends it: a tile file that goes missing while the batch
 * runs is waited for, with the reason in the batch's progress, and the batch finishes once the
 * file is back; a backend that answers nothing for longer than every timeout and retry interval
 * of the batch, several times over, costs time, never a tile, a second job or a slot over
 * `parallelJobs`. The backend outage runs on a scaled clock (seconds where the batch's timeouts
 * are seconds); test/soak/outages.test.ts runs it for ten minutes against the default-sized ones.
 */
import assert from 'node:assert/strict';
import { rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { TileFeature } from '../../src/core/batch-spec/tile-types';
import { batchProgress } from '../../workflows/messages';
import { eventually } from '../support/eventually';
import { rideOutBackendOutage } from '../support/backend-outage';
import { startHarness, type Harness } from '../support/harness';

function square(i: number): TileFeature {
  const d = 0.01;
  const lon = 4 + (i % 20) * d;
  const lat = 51 + Math.floor(i / 20) * d;
  return {
    type: 'Feature',
    id: `t${i}`,
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

describe('outages never end a batch', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ maxRunningJobsPerUser: 50, jobDurations: { queuedMs: 20, runningMs: 100 } });
    await h.startWorker();
  });
  after(async () => h?.teardown());

  it('waits for a tile file that went missing mid-batch, showing why, and finishes once it is back', async () => {
    // More than one page of tiles (100), so the second page is read while the batch runs.
    const file = join(h.workDir, 'tiles.geojson');
    await writeFile(
      file,
      JSON.stringify({ type: 'FeatureCollection', features: Array.from({ length: 104 }, (_, i) => square(i)) }),
    );
    const { handle } = await h.client.start(h.spec({ batchId: 'file-outage', tiles: { file } }));
    await eventually(async () => (await handle.query(batchProgress)).counts.finished >= 40, '40 tiles finished');
    await rename(file, `${file}.away`);
    await eventually(
      async () =>
        /reading tiles: .*cannot read .*tiles\.geojson/.test((await handle.query(batchProgress)).problem ?? ''),
      'the batch shows why it waits',
      120_000,
    );
    // The first page's tiles end meanwhile; the next page waits for the file.
    await eventually(
      async () => (await handle.query(batchProgress)).counts.finished === 100,
      'the first page finished',
    );
    assert.equal((await handle.describe()).status.name, 'RUNNING');
    await rename(`${file}.away`, file);
    const summary = await handle.result();
    assert.equal(summary.counts.finished, 104);
    assert.equal((await h.client.progress('file-outage')).problem, undefined);
  });

  it('keeps following a job through more failed status checks than any attempt limit, instead of leaving it running', async () => {
    const saved = h.emulator.admin.faults();
    // 40 answers in a row are 503: more than the 30 tries a tile had before it gave up.
    h.emulator.admin.setFaults({
      seed: 1,
      routes: [
        {
          route: 'GET /jobs/{job_id}',
          onCalls: Array.from({ length: 40 }, (_, i) => i + 1),
          fault: { type: 'status', status: 503 },
        },
      ],
    });
    h.emulator.admin.resetStats();
    try {
      const spec = h.spec({ batchId: 'status-outage', cols: 1, rows: 1, timeouts: { retryMaxIntervalSeconds: 0.2 } });
      const summary = await (await h.client.start(spec)).handle.result();
      assert.equal(summary.counts.finished, 1, JSON.stringify(summary.failedTiles));
      const statusChecks = h.emulator.admin.stats().requests.byRoute['GET /openeo/1.2/jobs/{job_id}'] ?? {};
      assert.ok((statusChecks['503'] ?? 0) >= 40, `the outage was real: ${JSON.stringify(statusChecks)}`);
      assert.equal(h.emulator.admin.stats().jobs.created, 1, 'one job for the tile, no resubmission');
    } finally {
      h.emulator.admin.setFaults(saved);
    }
  });
});

/**
 * The batch's timeouts, small, and an outage several times longer than each: a call or a wait
 * that gave up after one of them (instead of retrying) would end a tile or spend an attempt.
 */
const TIMEOUTS = { activitySeconds: 4, heartbeatSeconds: 4, retryMaxIntervalSeconds: 0.5 };
/** 6× the activity and heartbeat timeouts, 48× the longest retry pause, 16× a job's run. */
const OUTAGE_MS = 24_000;

describe('a backend outage in the middle of a batch, on a scaled clock', () => {
  let h: Harness;
  before(async () => {
    // Jobs long enough that the outage finds some running and others waiting for a slot, short
    // enough that the running ones end on the backend while it answers nothing.
    h = await startHarness({ maxRunningJobsPerUser: 50, jobDurations: { queuedMs: 100, runningMs: 1_500 } });
    await h.startWorker();
  });
  after(async () => h?.teardown());

  it('rides out an outage longer than every timeout: every tile finished, one job per attempt, parallelJobs kept', async () => {
    await rideOutBackendOutage(h, { outageMs: OUTAGE_MS, checkBeforeEndMs: 4_000, timeouts: TIMEOUTS });
  });
});
