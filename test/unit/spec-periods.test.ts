/**
 * Periods: calendar steps and listed ranges, tiles × periods in the tiling layer (ids, order,
 * pages of inline collections), the mapping sources `temporal_extent` and `period`, and the
 * front door's checks (a period spec that yields nothing, periods no parameter receives,
 * maxTiles counting the pairs).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { planText } from '../../src/app/cli/plan-text';
import { planBatch } from '../../src/app/plan';
import { tileArguments } from '../../src/core/batch-spec/arguments';
import { SpecError } from '../../src/core/batch-spec/errors';
import { expandPeriods, type Period, type PeriodsSpec } from '../../src/core/batch-spec/periods';
import { checkSpecOffline, inspectSpecOffline } from '../../src/core/batch-spec/prepare';
import { pagePlaces } from '../../src/core/batch-spec/tile-periods';
import {
  addedPeriodTiles,
  featureSlicePeriodTiles,
  tilePage,
  type Tile,
  type TileFeatureCollection,
} from '../../src/core/batch-spec/tiling';

const example = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'examples', 'antwerp-bap.json'), 'utf8'));
const withPeriods = (periods: unknown, extra: Record<string, unknown> = {}) => ({
  ...example,
  parameterMapping: { geometry: 'geometry', temporal_extent: 'temporal_extent' },
  periods,
  ...extra,
});

function specErrorOf(spec: PeriodsSpec): SpecError {
  try {
    expandPeriods(spec);
  } catch (err) {
    assert.ok(err instanceof SpecError, String(err));
    return err;
  }
  assert.fail(`${JSON.stringify(spec)} was accepted`);
}

/** Periods cover [start, end) without gap or overlap. */
function assertContiguous(periods: Period[], start: string, end: string): void {
  assert.equal(periods[0].start, start);
  assert.equal(periods[periods.length - 1].end, end);
  for (let i = 1; i < periods.length; i++)
    assert.equal(periods[i].start, periods[i - 1].end, `gap before ${periods[i].id}`);
}

describe('calendar periods', () => {
  it("splits a year into its twelve months, each from its first day to the next month's", () => {
    const months = expandPeriods({ every: 'month', start: '2024-01-01', end: '2025-01-01' });
    assert.deepEqual(
      months.map((p) => p.id),
      Array.from({ length: 12 }, (_, i) => `2024-${String(i + 1).padStart(2, '0')}`),
    );
    assertContiguous(months, '2024-01-01', '2025-01-01');
    assert.deepEqual(months[11], { id: '2024-12', start: '2024-12-01', end: '2025-01-01' });
  });

  it('knows leap years: February 2024 has 29 days, February 2023 has 28', () => {
    const [feb2024] = expandPeriods({ every: 'month', start: '2024-02-01', end: '2024-03-01' });
    assert.deepEqual(feb2024, { id: '2024-02', start: '2024-02-01', end: '2024-03-01' });
    const span = expandPeriods({ every: 'month', start: '2023-02-10', end: '2024-03-05' });
    assert.equal(span.length, 14);
    assert.deepEqual(span[0], { id: '2023-02', start: '2023-02-10', end: '2023-03-01' });
    assert.deepEqual(expandPeriods({ ranges: [['2024-02-29', '2024-03-01']] })[0].start, '2024-02-29');
    assert.equal(specErrorOf({ ranges: [['2023-02-29', '2023-03-01']] }).field, 'periods.ranges[0][0]');
  });

  it('aligns quarters to the calendar and clips the first and last to start and end', () => {
    const quarters = expandPeriods({ every: 'quarter', start: '2023-11-15', end: '2024-08-01' });
    assert.deepEqual(quarters, [
      { id: '2023-Q4', start: '2023-11-15', end: '2024-01-01' },
      { id: '2024-Q1', start: '2024-01-01', end: '2024-04-01' },
      { id: '2024-Q2', start: '2024-04-01', end: '2024-07-01' },
      { id: '2024-Q3', start: '2024-07-01', end: '2024-08-01' },
    ]);
  });

  it('splits into calendar years, clipped likewise', () => {
    const years = expandPeriods({ every: 'year', start: '2023-06-01', end: '2025-03-01' });
    assert.deepEqual(
      years.map((p) => [p.id, p.start, p.end]),
      [
        ['2023', '2023-06-01', '2024-01-01'],
        ['2024', '2024-01-01', '2025-01-01'],
        ['2025', '2025-01-01', '2025-03-01'],
      ],
    );
  });

  it('refuses a span that yields nothing, and a date that is no day, naming the field', () => {
    const empty = specErrorOf({ every: 'month', start: '2024-05-01', end: '2024-05-01' });
    assert.equal(empty.field, 'periods.end');
    assert.equal(empty.code, 'empty_period');
    assert.match(empty.fix, /end later than the start/);
    assert.equal(specErrorOf({ every: 'month', start: '2024-13-01', end: '2025-01-01' }).field, 'periods.start');
    assert.equal(specErrorOf({ every: 'year', start: '2024-01-01', end: '2023-01-01' }).code, 'empty_period');
  });
});

describe('listed periods', () => {
  it('numbers unnamed ranges p1, p2, … and keeps named ones', () => {
    const periods = expandPeriods({
      ranges: [
        ['2024-01-01', '2024-04-01'],
        { id: 'winter', start: '2024-12-01', end: '2025-03-01' },
        ['2024-06-01T00:00:00Z', '2024-06-02T12:00:00Z'],
      ],
    });
    assert.deepEqual(
      periods.map((p) => p.id),
      ['p1', 'winter', 'p3'],
    );
    assert.deepEqual(periods[2], { id: 'p3', start: '2024-06-01T00:00:00Z', end: '2024-06-02T12:00:00Z' });
  });

  it('refuses an empty list, a backwards range, a repeated id and an id with "_"', () => {
    assert.equal(specErrorOf({ ranges: [] }).field, 'periods.ranges');
    assert.equal(
      specErrorOf({
        ranges: [
          ['2024-01-01', '2024-04-01'],
          ['2024-04-01', '2024-03-01'],
        ],
      }).field,
      'periods.ranges[1]',
    );
    const twice = specErrorOf({
      ranges: [
        { id: 'a', start: '2024-01-01', end: '2024-02-01' },
        { id: 'a', start: '2024-02-01', end: '2024-03-01' },
      ],
    });
    assert.equal(twice.field, 'periods.ranges[1].id');
    assert.equal(
      specErrorOf({ ranges: [{ id: 'a_b', start: '2024-01-01', end: '2024-02-01' }] }).code,
      'invalid_period_id',
    );
  });
});

const twoPlaces = {
  aoi: { west: 590000, south: 5660000, east: 600000, north: 5665000, crs: 'EPSG:32631' },
  tileSize: 5000,
};
const quarterly: PeriodsSpec = { every: 'quarter', start: '2024-01-01', end: '2024-10-01' };

describe('tiles × periods', () => {
  const tiles = tilePage(twoPlaces, 0, 100, quarterly);

  it('makes one tile per place and period, place-major, with the period in its id and properties', () => {
    assert.deepEqual(
      tiles.map((t) => t.id),
      [
        'E590000-N5660000_2024-Q1',
        'E590000-N5660000_2024-Q2',
        'E590000-N5660000_2024-Q3',
        'E595000-N5660000_2024-Q1',
        'E595000-N5660000_2024-Q2',
        'E595000-N5660000_2024-Q3',
      ],
    );
    assert.deepEqual(tiles[4].properties.period, { id: '2024-Q2', start: '2024-04-01', end: '2024-07-01' });
    assert.deepEqual(
      tiles.map((t) => t.properties.index),
      [0, 1, 2, 3, 4, 5],
    );
    assert.equal(tiles[4].properties.col, 1, 'grid properties stay');
    assert.deepEqual(tiles[3].geometry, tiles[5].geometry, 'every period of a place has its geometry');
  });

  it('builds any page by position, the same as the whole', () => {
    assert.deepEqual(tilePage(twoPlaces, 2, 3, quarterly), tiles.slice(2, 5));
    assert.deepEqual(
      tilePage(twoPlaces, 0, 100),
      tilePage(twoPlaces, 0, 100, undefined),
      'without periods, the places themselves',
    );
    assert.equal(tilePage(twoPlaces, 0, 100).length, 2);
  });

  it('pages an inline collection from the slice of places the page needs, as a workflow hands it over', () => {
    const square = (x: number) => [
      [x, 51],
      [x + 0.01, 51],
      [x + 0.01, 51.01],
      [x, 51.01],
      [x, 51],
    ];
    const collection: TileFeatureCollection = {
      type: 'FeatureCollection',
      features: Array.from({ length: 5 }, (_, i) => ({
        type: 'Feature' as const,
        geometry: { type: 'Polygon' as const, coordinates: [square(4 + i / 10)] },
        properties: { name: `n${i}` },
      })),
    };
    const whole = tilePage(collection, 0, 100, quarterly);
    assert.equal(whole.length, 15);
    for (const [offset, limit] of [
      [0, 4],
      [4, 5],
      [13, 10],
      [7, 1],
    ]) {
      const [from, to] = pagePlaces(quarterly, offset, limit);
      const slice = { ...collection, features: collection.features.slice(from, to) };
      assert.deepEqual(
        featureSlicePeriodTiles(slice, quarterly, offset, limit),
        whole.slice(offset, offset + limit),
        `page ${offset}+${limit}`,
      );
    }
    assert.equal(whole[4].id, 'tile-1_2024-Q2');
    assert.equal(whole[4].properties.name, 'n1');
  });

  it('pairs places added to a running batch with every period, numbering on from the batch', () => {
    const square = [
      [5, 51],
      [5.01, 51],
      [5.01, 51.01],
      [5, 51.01],
      [5, 51],
    ];
    const feature = (id?: string) => ({
      type: 'Feature' as const,
      ...(id ? { id } : {}),
      geometry: { type: 'Polygon' as const, coordinates: [square] },
      properties: {},
    });
    // A batch of 2 places × 3 quarters has tiles 0…5: the added places are places 2 and 3.
    const added = addedPeriodTiles([feature('lake'), feature()], quarterly, 6);
    assert.deepEqual(
      added.map((t) => t.id),
      ['lake_2024-Q1', 'lake_2024-Q2', 'lake_2024-Q3', 'tile-3_2024-Q1', 'tile-3_2024-Q2', 'tile-3_2024-Q3'],
    );
    assert.deepEqual(
      added.map((t) => t.properties.index),
      [6, 7, 8, 9, 10, 11],
    );
    assert.deepEqual(added[5].properties.period, { id: '2024-Q3', start: '2024-07-01', end: '2024-10-01' });
  });
});

describe('the mapping sources temporal_extent and period', () => {
  const [tile] = tilePage(twoPlaces, 4, 1, quarterly);

  it("gives a tile's period as [start, end] and as its id", () => {
    const args = tileArguments(
      tile,
      { bands: ['B04'] },
      { geometry: 'geometry', temporal_extent: 'temporal_extent', label: 'period' },
    );
    assert.deepEqual(args.temporal_extent, ['2024-04-01', '2024-07-01']);
    assert.equal(args.label, '2024-Q2');
    assert.deepEqual(args.bands, ['B04']);
  });

  it('without periods, reads a tile property of that name as before, else says to add periods', () => {
    const place: Tile = {
      ...tile,
      id: 'x',
      properties: { ...tile.properties, period: undefined, temporal_extent: ['2020-01-01', '2021-01-01'] },
    };
    assert.deepEqual(tileArguments(place, {}, { temporal_extent: 'temporal_extent' }).temporal_extent, [
      '2020-01-01',
      '2021-01-01',
    ]);
    const bare: Tile = { ...tile, id: 'y', properties: { index: 0, bbox: tile.properties.bbox, crs: 'EPSG:4326' } };
    assert.throws(
      () => tileArguments(bare, {}, { temporal_extent: 'temporal_extent' }),
      /has no period.*add "periods" to the spec/,
    );
  });
});

describe('periods at the front door', () => {
  it('counts tiles × periods', () => {
    const prepared = checkSpecOffline(withPeriods({ every: 'month', start: '2024-01-01', end: '2024-07-01' }));
    assert.equal(prepared.totalTiles, 16 * 6);
  });

  it('refuses periods that no parameter receives, saying to map temporal_extent', () => {
    const problems = inspectSpecOffline(
      withPeriods(quarterly, { parameterMapping: { geometry: 'geometry' } }),
    ).problems;
    const unused = problems.find((p) => p.code === 'period_unused');
    assert.ok(unused, JSON.stringify(problems));
    assert.equal(unused.field, 'parameterMapping');
    assert.match(unused.fix, /"temporal_extent": "temporal_extent"/);
    assert.equal(
      inspectSpecOffline(withPeriods(quarterly, { parameterMapping: { geometry: 'geometry', name: 'period' } }))
        .problems.length,
      0,
    );
  });

  it('names a period spec that yields nothing, and one the schema refuses', () => {
    const empty = inspectSpecOffline(withPeriods({ every: 'month', start: '2024-03-01', end: '2024-02-01' })).problems;
    assert.deepEqual(
      empty.map((p) => p.field),
      ['periods.end'],
    );
    const noRanges = inspectSpecOffline(withPeriods({ ranges: [] })).problems;
    assert.ok(
      noRanges.some((p) => p.field.startsWith('periods')),
      JSON.stringify(noRanges),
    );
    const badStep = inspectSpecOffline(withPeriods({ every: 'week', start: '2024-01-01', end: '2024-02-01' })).problems;
    assert.ok(
      badStep.some((p) => p.field === 'periods' && /every/.test(p.fix)),
      JSON.stringify(badStep),
    );
  });

  it('holds the pairs to maxTiles, saying places × periods', () => {
    const problems = inspectSpecOffline(
      withPeriods({ every: 'month', start: '2024-01-01', end: '2025-01-01' }, { maxTiles: 100 }),
    ).problems;
    const [size] = problems;
    assert.equal(size.field, 'maxTiles');
    assert.match(size.problem, /192 tiles \(16 places × 12 periods\), more than maxTiles \(100\)/);
  });
});

describe('examples/monthly-polygon.json', () => {
  const monthly = JSON.parse(
    readFileSync(join(__dirname, '..', '..', '..', 'examples', 'monthly-polygon.json'), 'utf8'),
  );

  it('plans as places under the outline × six months, fewer places than its bounding box has cells', async () => {
    const plan = await planBatch(monthly, { offline: true });
    assert.deepEqual(plan.problems, []);
    assert.deepEqual(plan.periods, { places: 24, periods: 6, first: '2024-01', last: '2024-06' });
    assert.equal(plan.totalTiles, 24 * 6);
    assert.match(
      planText(plan, 'examples/monthly-polygon.json'),
      /periods: {2}24 places × 6 periods \(2024-01 … 2024-06\): 24 jobs per period/,
    );
    const ids = new Set(plan.tiles?.features.map((f) => f.id));
    assert.ok(ids.has(`${plan.tiles?.features[0].id.split('_')[0]}_2024-06`));
    // The outline's bounding box as the area: the same grid, more places.
    const [west, south, east, north] = [4.217, 51.145, 4.52, 51.375];
    const box = {
      ...monthly.tiles,
      aoi: {
        type: 'Polygon',
        coordinates: [
          [
            [west, south],
            [east, south],
            [east, north],
            [west, north],
            [west, south],
          ],
        ],
      },
    };
    const boxPlaces = inspectSpecOffline({ ...monthly, tiles: box }).tiles?.places?.count ?? 0;
    assert.ok(boxPlaces > 24 + 5, `${boxPlaces} places under the bounding box`);
  });
});
