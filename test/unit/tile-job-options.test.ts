/**
 * Per-tile job options (`jobOptionsProperty`): a tile's own object merged over the batch's job
 * options, shallowly, and a value that is not an object named at the front door.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { InvalidTileJobOptionsError, tileJobOptions } from '../../src/core/batch-spec/arguments';
import { inspectSpecOffline } from '../../src/core/batch-spec/prepare';
import type { Tile } from '../../src/core/batch-spec/tiling';

const example = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'examples', 'antwerp-bap.json'), 'utf8'));

const tileWith = (properties: Record<string, unknown>): Tile => ({
  id: 't1',
  geometry: {
    type: 'Polygon',
    coordinates: [
      [
        [4, 51],
        [4.1, 51],
        [4.1, 51.1],
        [4, 51.1],
        [4, 51],
      ],
    ],
  },
  properties: { index: 0, bbox: { west: 4, south: 51, east: 4.1, north: 51.1 }, crs: 'EPSG:4326', ...properties },
});

describe('tileJobOptions', () => {
  const batch = { 'executor-memory': '2g', 'python-memory': '1g', 'udf-dependency-archives': ['a.zip'] };

  it("merges the tile's options over the batch's: the tile wins, key by key", () => {
    const merged = tileJobOptions(
      tileWith({ options: { 'executor-memory': '8g', 'udf-dependency-archives': ['b.zip'], 'max-executors': 20 } }),
      batch,
      'options',
    );
    assert.deepEqual(merged, {
      'executor-memory': '8g',
      'python-memory': '1g',
      'udf-dependency-archives': ['b.zip'],
      'max-executors': 20,
    });
    assert.deepEqual(batch['udf-dependency-archives'], ['a.zip'], 'the batch options are not changed');
  });

  it("gives a tile's options alone when the batch has none", () => {
    assert.deepEqual(tileJobOptions(tileWith({ options: { 'executor-memory': '8g' } }), undefined, 'options'), {
      'executor-memory': '8g',
    });
  });

  it("leaves the batch's options as they are without a property name, or for a tile without the property", () => {
    assert.equal(tileJobOptions(tileWith({ options: { a: 1 } }), batch, undefined), batch);
    assert.equal(tileJobOptions(tileWith({}), batch, 'options'), batch);
    assert.equal(tileJobOptions(tileWith({}), undefined, undefined), undefined);
  });

  it('fails the tile for a value that is not an object, naming the tile and the property', () => {
    for (const value of ['big', 4, ['a'], true]) {
      assert.throws(
        () => tileJobOptions(tileWith({ options: value }), batch, 'options'),
        (err: unknown) =>
          err instanceof InvalidTileJobOptionsError &&
          /tile "t1": its property "options" \(jobOptionsProperty\)/.test(err.message),
      );
    }
  });
});

describe('jobOptionsProperty at the front door', () => {
  const square = (x: number) => [
    [x, 51],
    [x + 0.01, 51],
    [x + 0.01, 51.01],
    [x, 51.01],
    [x, 51],
  ];
  const collection = (values: unknown[]) => ({
    type: 'FeatureCollection',
    features: values.map((value, i) => ({
      type: 'Feature',
      id: `f${i}`,
      geometry: { type: 'Polygon', coordinates: [square(4 + i / 10)] },
      properties: value === undefined ? {} : { jobOptions: value },
    })),
  });

  it('accepts tiles with an object, or without the property', () => {
    const input = {
      ...example,
      jobOptionsProperty: 'jobOptions',
      tiles: collection([{ 'executor-memory': '4g' }, undefined]),
    };
    assert.deepEqual(inspectSpecOffline(input).problems, []);
  });

  it('names every inline tile whose property is not an object', () => {
    const input = { ...example, jobOptionsProperty: 'jobOptions', tiles: collection([{ a: 1 }, '4g', undefined, [1]]) };
    const problems = inspectSpecOffline(input).problems;
    assert.deepEqual(
      problems.map((p) => p.field),
      ['tiles.features[1].properties.jobOptions', 'tiles.features[3].properties.jobOptions'],
    );
    assert.ok(problems.every((p) => p.code === 'invalid_tile_job_options'));
  });
});
