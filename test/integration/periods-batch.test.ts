/**
 * A batch with periods and per-tile job options, end to end on a real dev server, a worker and
 * the emulator: 2 places × 2 months run 4 jobs, and each job, read back from the emulator,
 * carries its own month as `temporal_extent` and the batch's job options with its tile's merged
 * over them. Places added to the running batch run in every period too.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { RunningEmulator } from '../../src/tools/emulator';
import { EMULATOR_USER, startHarness, type Harness } from '../support/harness';

// Rounded to 7 decimals, as tiles' coordinates are (4.4 + 0.05 is 4.45 there, not 4.450000000000001).
const round = (v: number) => Number(v.toFixed(7));
const square = (west: number, south: number) =>
  [
    [west, south],
    [west + 0.05, south],
    [west + 0.05, south + 0.05],
    [west, south + 0.05],
    [west, south],
  ].map((p) => p.map(round));

/** A job's document as the backend returns it to its owner (`GET /jobs/{id}`). */
async function jobDocument(
  emulator: RunningEmulator,
  jobId: string,
): Promise<{ process: { process_graph: Record<string, { arguments: Record<string, unknown> }> } }> {
  const login = await fetch(`${emulator.url}/openeo/1.2/credentials/basic`, {
    headers: {
      Authorization: `Basic ${Buffer.from(`${EMULATOR_USER.username}:${EMULATOR_USER.password}`).toString('base64')}`,
    },
  });
  const { access_token: token } = (await login.json()) as { access_token: string };
  const response = await fetch(`${emulator.url}/openeo/1.2/jobs/${jobId}`, {
    headers: { Authorization: `Bearer basic//${token}` },
  });
  assert.equal(response.status, 200);
  return (await response.json()) as Awaited<ReturnType<typeof jobDocument>>;
}

describe('a batch of places × periods on the emulator', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness();
    await h.startWorker();
  });
  after(async () => h?.teardown());

  it('runs one job per place and month, each with its own temporal extent and merged job options', async () => {
    const spec = h.spec({
      batchId: 'monthly',
      parameterDefaults: {},
      parameterMapping: { geometry: 'geometry', temporal_extent: 'temporal_extent' },
      periods: { every: 'month', start: '2024-06-01', end: '2024-08-01' },
      jobOptions: { 'executor-memory': '2g', 'driver-memory': '1g' },
      jobOptionsProperty: 'jobOptions',
      tiles: {
        type: 'FeatureCollection',
        features: [
          {
            type: 'Feature',
            id: 'north',
            geometry: { type: 'Polygon', coordinates: [square(4.4, 51.25)] },
            properties: { jobOptions: { 'executor-memory': '8g' } },
          },
          {
            type: 'Feature',
            id: 'south',
            geometry: { type: 'Polygon', coordinates: [square(4.4, 51.15)] },
            properties: {},
          },
        ],
      },
    });
    const { handle } = await h.client.start(spec);
    const summary = await handle.result();
    assert.equal(summary.totalTiles, 4);
    assert.equal(summary.counts.finished, 4, JSON.stringify(summary));

    const records = await h.client.tiles('monthly');
    assert.deepEqual(records.map((r) => r.tileId).sort(), [
      'north_2024-06',
      'north_2024-07',
      'south_2024-06',
      'south_2024-07',
    ]);

    // The map and the exports read the batch's records: one row per place and period, each with its place's outline.
    const { tiles: rows } = await h.client.records('monthly');
    assert.deepEqual(rows.map((r) => [r.tileId, r.status]).sort(), [
      ['north_2024-06', 'finished'],
      ['north_2024-07', 'finished'],
      ['south_2024-06', 'finished'],
      ['south_2024-07', 'finished'],
    ]);
    assert.ok(
      rows.every((r) => r.geometry !== null),
      'every row has its outline',
    );

    const jobs = h.emulator.admin.jobs().filter((j) => j.title?.startsWith('monthly/'));
    assert.equal(jobs.length, 4, 'one job per place and period');
    const expectedExtent: Record<string, string[]> = {
      '2024-06': ['2024-06-01', '2024-07-01'],
      '2024-07': ['2024-07-01', '2024-08-01'],
    };
    for (const job of jobs) {
      const [, place, month] = /^monthly\/(north|south)_(2024-0[67]) attempt 1$/.exec(job.title ?? '') ?? [];
      assert.ok(place && month, `job title ${job.title}`);
      const [node] = Object.values((await jobDocument(h.emulator, job.id)).process.process_graph);
      assert.deepEqual(node.arguments.temporal_extent, expectedExtent[month], `${job.title}: its own month`);
      assert.deepEqual(
        node.arguments.geometry,
        { type: 'Polygon', coordinates: [square(4.4, place === 'north' ? 51.25 : 51.15)] },
        `${job.title}: its place`,
      );
      assert.equal(
        job.options['executor-memory'],
        place === 'north' ? '8g' : '2g',
        `${job.title}: the tile's options win`,
      );
      assert.equal(job.options['driver-memory'], '1g', `${job.title}: the batch's other options stay`);
    }
  });

  it('runs a place added to a running batch in every period, and refuses a place it already has', async () => {
    const spec = h.spec({
      batchId: 'monthly-added',
      parameterDefaults: {},
      parameterMapping: { geometry: 'geometry', temporal_extent: 'temporal_extent' },
      periods: { every: 'month', start: '2024-06-01', end: '2024-08-01' },
      tiles: {
        type: 'FeatureCollection',
        features: [
          {
            type: 'Feature',
            id: 'north',
            geometry: { type: 'Polygon', coordinates: [square(4.4, 51.25)] },
            properties: {},
          },
        ],
      },
    });
    const { handle } = await h.client.start(spec);
    // Paused, so the batch is still running when the places arrive.
    await h.client.pause('monthly-added');
    const place = (west: number, id?: string) => ({
      type: 'Feature' as const,
      ...(id ? { id } : {}),
      geometry: { type: 'Polygon' as const, coordinates: [square(west, 51.05)] },
      properties: {},
    });
    const ids = await h.client.addTiles('monthly-added', [place(4.5, 'east'), place(4.6)]);
    assert.equal(ids.length, 4, `two places × two months: ${ids.join(', ')}`);
    assert.deepEqual(ids.slice(0, 2), ['east_2024-06', 'east_2024-07']);
    assert.match(ids[2], /^tile-\d+_2024-06$/, 'a default place id, then the period');
    await assert.rejects(h.client.addTiles('monthly-added', [place(4.7, 'east')]), (err: Error) => {
      assert.match(
        String((err.cause as Error | undefined)?.message),
        /tile id "east_2024-06" is already a tile of this batch/,
      );
      return true;
    });
    await h.client.resume('monthly-added');

    const summary = await handle.result();
    assert.equal(summary.totalTiles, 6, JSON.stringify(summary));
    assert.equal(summary.counts.finished, 6, JSON.stringify(summary));
    const jobs = h.emulator.admin.jobs().filter((j) => j.title?.startsWith('monthly-added/east_'));
    assert.equal(jobs.length, 2, 'one job per added place and month');
    for (const job of jobs) {
      const month = /_(2024-0[67]) attempt 1$/.exec(job.title ?? '')?.[1];
      const [node] = Object.values((await jobDocument(h.emulator, job.id)).process.process_graph);
      assert.deepEqual(
        node.arguments.temporal_extent,
        month === '2024-06' ? ['2024-06-01', '2024-07-01'] : ['2024-07-01', '2024-08-01'],
        `${job.title}: its own month`,
      );
    }
  });
});
