/**
 * A plan without network or server: where the batch's window would send each tile (the
 * window's own placement, round after round), the plan's counts, area, jobs and duration, and
 * the tiles it carries for a map.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { durationText, planText } from '../../src/app/cli/plan-text';
import { planBatch } from '../../src/app/plan';
import { pilotSpec, projectedFromPilot } from '../../src/app/plan/pilot';
import { emptyCounts } from '../../src/core/records';
import { noTilePinned, placeBatch } from '../../src/app/plan/placement';
import { parseBatchSpec } from '../../src/core/batch-spec/validate';
import { planTiles, type TileFeatureCollection } from '../../src/core/batch-spec/tiling';

const example = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'examples', 'antwerp-bap.json'), 'utf8'));
const twoBackends = [
  { name: 'a', url: 'https://a.example.org', parallelJobs: 2 },
  { name: 'b', url: 'https://b.example.org', parallelJobs: 3 },
];

function squares(
  count: number,
  properties: (i: number) => Record<string, unknown> = () => ({}),
): TileFeatureCollection {
  const features = Array.from({ length: count }, (_, i) => {
    const [w, s] = [4 + (i % 10) * 0.01, 51 + Math.floor(i / 10) * 0.01];
    return {
      type: 'Feature' as const,
      id: `t${i}`,
      geometry: {
        type: 'Polygon' as const,
        coordinates: [
          [
            [w, s],
            [w + 0.01, s],
            [w + 0.01, s + 0.01],
            [w, s + 0.01],
            [w, s],
          ],
        ],
      },
      properties: properties(i),
    };
  });
  return { type: 'FeatureCollection', features };
}

describe('placement as the batch would do it', () => {
  it('shares unpinned tiles by free slots, and the two-round shortcut agrees with round-by-round', () => {
    const spec = parseBatchSpec({ ...example, backends: twoBackends });
    const tiles = planTiles(spec.tiles as never);
    const quick = placeBatch(spec, tiles, true);
    const full = placeBatch(spec, tiles, false);
    assert.deepEqual(quick.tiles, { a: 6, b: 10 });
    assert.equal(quick.rounds, 4);
    assert.deepEqual(quick.roundsPerBackend, { a: 3, b: 4 });
    assert.deepEqual(
      Array.from({ length: 16 }, (_, i) => quick.backendOf(i)),
      Array.from({ length: 16 }, (_, i) => full.backendOf(i)),
    );
    assert.deepEqual(full.tiles, quick.tiles);
  });

  it('sends pinned tiles to their backend, and the others where there is room', () => {
    const collection = squares(12, (i) => (i < 6 ? { backend: 'a' } : {}));
    const spec = parseBatchSpec({ ...example, backends: twoBackends, tiles: collection });
    const tiles = planTiles(collection);
    assert.equal(noTilePinned(tiles), false);
    const placement = placeBatch(spec, tiles, false);
    for (let i = 0; i < 6; i++) assert.equal(placement.backendOf(i), 'a');
    assert.equal((placement.tiles.a ?? 0) + (placement.tiles.b ?? 0), 12);
    assert.equal(
      placement.roundsPerBackend.a >= 3,
      true,
      'six tiles pinned to a backend of two slots take three rounds',
    );
  });

  it('runs partitions one after the other, and maxQueued does not hold a round back', () => {
    const spec = parseBatchSpec({
      ...example,
      backends: [{ ...twoBackends[0], parallelJobs: 4, maxQueued: 1 }],
      scheduling: { partitionAboveTiles: 10, tilesPerPartition: 6 },
    });
    const placement = placeBatch(spec, planTiles(spec.tiles as never), true);
    // 16 tiles in partitions of 6, 6 and 4: rounds of 4 → 2 + 2 + 1.
    assert.deepEqual(placement.tiles, { a: 16 });
    assert.equal(placement.rounds, 5);
  });
});

describe('an offline plan', () => {
  it('counts tiles, area, jobs and rounds, and carries the tiles with their backend', async () => {
    const plan = await planBatch({ ...example, backends: twoBackends }, { offline: true, typicalJobMinutes: 30 });
    assert.equal(plan.ok, true, JSON.stringify(plan.problems));
    assert.equal(plan.totalTiles, 16);
    // 20 × 20 km in UTM is a little less on the ground (the scale factor is 0.9996 at the centre).
    assert.ok(plan.areaKm2 !== undefined && plan.areaKm2 > 395 && plan.areaKm2 < 400, String(plan.areaKm2));
    assert.deepEqual(plan.jobs, { expected: 16, atMost: 32 });
    assert.deepEqual(
      plan.backends.map((b) => [b.name, b.tiles, b.rounds]),
      [
        ['a', 6, 3],
        ['b', 10, 4],
      ],
    );
    assert.equal(plan.estimate?.minutes, 120);
    assert.equal(plan.tiles?.features.length, 16);
    assert.deepEqual(
      plan.tiles?.features.slice(0, 5).map((f) => f.properties.backend),
      ['b', 'a', 'b', 'a', 'b'],
    );
    assert.equal(plan.tiles?.features[0].properties.tileId, 'E590000-N5660000');
    assert.match(plan.unchecked.join(), /offline/);
  });

  it('says the projected cost is unknown (no job to estimate) and shows the budget that bounds it', async () => {
    const plan = await planBatch(
      { ...example, backends: twoBackends, budget: { credits: 40, backends: { b: 25 } } },
      { offline: true },
    );
    assert.equal(plan.costs?.projected, undefined);
    assert.deepEqual(plan.costs?.budget, { credits: 40, backends: { b: 25 } });
    const text = planText(plan, 'spec.json');
    assert.match(text, /\n {2}costs: {4}projected cost unknown: a backend estimates only a job that exists/);
    assert.match(text, /\n {2}budget: {3}40 credits, b: 25 credits; no job starts that would pass it/);
    assert.doesNotMatch(planText(await planBatch(example, { offline: true }), 'spec.json'), /budget:/);
  });

  it('projects nothing from a pilot whose backends reported no costs, and refuses a pilot of a batch with periods', async () => {
    const summary = {
      batchId: 'p',
      totalTiles: 2,
      counts: { ...emptyCounts(), finished: 2 },
      failedTiles: [],
      outputDir: '/out',
      costs: 0,
    };
    assert.deepEqual(projectedFromPilot(summary, 100), {
      how: 'projected cost unknown: pilot p: 2 of 2 tiles ran a job and reported 0 credits',
    });
    assert.equal(projectedFromPilot({ ...summary, costs: 3 }, 100).projected, 150);
    const plan = await planBatch({ ...example, backends: twoBackends, budget: { credits: 5 } }, { offline: true });
    const pilot = pilotSpec({ ...example, backends: twoBackends, budget: { credits: 5 } }, plan, 3, 'p');
    assert.equal(pilot.budget, undefined, "the pilot is not held back by the batch's budget");
    assert.deepEqual(
      (pilot.tiles as unknown as { features: { properties: { backend: string } }[] }).features.map(
        (f) => f.properties.backend,
      ),
      ['b', 'a', 'b'],
    );
    assert.throws(
      () => pilotSpec({ ...example, periods: { every: 'year', start: '2023-01-01', end: '2025-01-01' } }, plan, 3, 'p'),
      /--pilot: a batch with periods/,
    );
  });

  it('measures an AOI given without its crs (EPSG:4326 by default)', async () => {
    const plan = await planBatch(
      { ...example, tiles: { aoi: { west: 4.4, south: 51.2, east: 4.5, north: 51.3 }, tileSize: 0.05 } },
      { offline: true },
    );
    assert.equal(plan.totalTiles, 4);
    // 0.1° × 0.1° at 51° N: about 11.1 km × 7.0 km.
    assert.ok(plan.areaKm2 !== undefined && plan.areaKm2 > 76 && plan.areaKm2 < 80, String(plan.areaKm2));
  });

  it('waits for job starts a quota allows, when they take longer than the jobs', async () => {
    const plan = await planBatch(
      { ...example, backends: [{ ...twoBackends[0], parallelJobs: 16, maxJobStartsPerMinute: 2 }] },
      { offline: true, typicalJobMinutes: 1 },
    );
    assert.equal(plan.estimate?.rounds, 1);
    assert.equal(plan.estimate?.minutes, 8);
    assert.match(plan.estimate?.how ?? '', /maxJobStartsPerMinute/);
  });

  it('lists the problems and leaves out the tiles of a batch above maxTiles', async () => {
    const plan = await planBatch({ ...example, tiles: { ...example.tiles, tileSize: 100 } }, { offline: true });
    assert.equal(plan.ok, false);
    assert.equal(plan.totalTiles, 40_000);
    assert.deepEqual(
      plan.problems.map((p) => p.field),
      ['maxTiles'],
    );
    assert.equal(plan.tiles, undefined);
    assert.equal(plan.backends[0].tiles, 40_000);
  });

  it('reads file tiles as a worker would, pinned ones going to their backend, and names a file it cannot read', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'plan-offline-'));
    try {
      const file = join(dir, 'tiles.geojson');
      await writeFile(file, JSON.stringify(squares(30, (i) => (i < 10 ? { backend: 'b' } : {}))));
      const plan = await planBatch({ ...example, backends: twoBackends, tiles: { file } }, { offline: true });
      assert.equal(plan.ok, true, JSON.stringify(plan.problems));
      assert.equal(plan.totalTiles, 30);
      assert.ok(plan.tiles?.features.slice(0, 10).every((f) => f.properties.backend === 'b'));
      assert.equal(
        plan.backends.reduce((sum, b) => sum + b.tiles, 0),
        30,
      );
      const missing = await planBatch({ ...example, tiles: { file: join(dir, 'missing.geojson') } }, { offline: true });
      assert.deepEqual(
        missing.problems.map((p) => p.field),
        ['tiles.file'],
      );
      assert.match(missing.problems[0].problem, /cannot read .*missing\.geojson/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('shows durations in words', () => {
    assert.equal(durationText(45), '45 min');
    assert.equal(durationText(95), '1 h 35 min');
    assert.equal(durationText(60 * 50), '2 days 2 h');
  });
});
