import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { countTiles, tilePage, type TileSource } from '../../src/core/batch-spec/tiling';
import { assertSpecError } from '../support/tiling';

/** A lon/lat square with its lower-left corner at (lon, lat). */
function square(lon: number, lat: number, size = 0.1): number[][][] {
  return [
    [
      [lon, lat],
      [lon + size, lat],
      [lon + size, lat + size],
      [lon, lat + size],
      [lon, lat],
    ],
  ];
}

function collection(features: unknown[], extra: Record<string, unknown> = {}): TileSource {
  // Specs come from JSON, so tests feed shapes the types forbid.
  return { type: 'FeatureCollection', features, ...extra } as unknown as TileSource;
}

const feature = (
  id: unknown,
  coordinates: unknown,
  properties: Record<string, unknown> = {},
  type = 'Polygon',
): unknown => ({
  type: 'Feature',
  ...(id === undefined ? {} : { id }),
  geometry: { type, coordinates },
  properties,
});

describe('FeatureCollection tiles', () => {
  const source = collection([
    feature('antwerp-north', square(4.4, 51.2), { name: 'north' }),
    feature(undefined, square(4.4, 51.1), { id: 'antwerp-south', name: 'south' }),
    feature(undefined, [square(4.5, 51.1), square(4.7, 51.1)], {}, 'MultiPolygon'),
    feature(7, square(4.5, 51.2 + 1e-9)),
  ]);

  it('counts and pages features in collection order', () => {
    assert.equal(countTiles(source), 4);
    const tiles = tilePage(source, 0, 10);
    assert.deepEqual(
      tiles.map((t) => t.id),
      ['antwerp-north', 'antwerp-south', 'tile-2', '7'],
    );
    assert.deepEqual([...tilePage(source, 0, 3), ...tilePage(source, 3, 3)], tiles);
    assert.deepEqual(tilePage(source, 2, 1)[0], tiles[2]);
  });

  it('keeps user properties and adds index, lon/lat bbox and crs', () => {
    const [north, , multi] = tilePage(source, 0, 3);
    assert.equal(north.properties.name, 'north');
    assert.equal(north.properties.index, 0);
    assert.equal(north.properties.crs, 'EPSG:4326');
    assert.deepEqual(north.properties.bbox, { west: 4.4, south: 51.2, east: 4.5, north: 51.3 });
    assert.equal(multi.geometry.type, 'MultiPolygon');
    assert.deepEqual(multi.properties.bbox, { west: 4.5, south: 51.1, east: 4.8, north: 51.2 });
  });

  it('rounds coordinates to 7 decimals like grid tiles, and returns copies', () => {
    const [tile] = tilePage(source, 3, 1);
    assert.equal((tile.geometry.coordinates as number[][][])[0][0][1], 51.2);
    (tile.geometry.coordinates as number[][][])[0][0][0] = 0;
    assert.equal((tilePage(source, 3, 1)[0].geometry.coordinates as number[][][])[0][0][0], 4.5);
  });

  it('rejects geometries that are not polygons, naming the feature', () => {
    const point = { type: 'Feature', geometry: { type: 'Point', coordinates: [4.4, 51.2] }, properties: {} };
    assertSpecError(
      collection([feature('a', square(4.4, 51.2)), point]),
      'tiles.features[1].geometry',
      /Polygon or MultiPolygon, got a Point/,
    );
    assertSpecError(collection([{ type: 'Feature', geometry: null, properties: {} }]), 'tiles.features[0].geometry');
  });

  it('rejects projected or out-of-range coordinates with a hint to reproject', () => {
    const utm = [
      [
        [590000, 5660000],
        [595000, 5660000],
        [595000, 5665000],
        [590000, 5660000],
      ],
    ];
    assertSpecError(
      collection([
        feature('a', square(4.4, 51.2)),
        feature('b', square(4.5, 51.2)),
        feature('c', square(4.6, 51.2)),
        feature('d', utm),
      ]),
      'tiles.features[3].geometry',
      /coordinates\[0\]\[0\].*reproject the tiles to EPSG:4326/,
    );
    assertSpecError(collection([feature('a', square(4.4, 95))]), 'tiles.features[0].geometry', /EPSG:4326/);
  });

  it('rejects malformed rings', () => {
    const triangleWithoutClosure = [
      [
        [4.4, 51.2],
        [4.5, 51.2],
        [4.5, 51.3],
      ],
    ];
    assertSpecError(
      collection([feature('a', triangleWithoutClosure)]),
      'tiles.features[0].geometry',
      /at least 4 positions/,
    );
    const unclosed = [
      [
        [4.4, 51.2],
        [4.5, 51.2],
        [4.5, 51.3],
        [4.4, 51.3],
        [4.41, 51.2],
      ],
    ];
    assertSpecError(collection([feature('a', unclosed)]), 'tiles.features[0].geometry', /not closed/);
    assertSpecError(collection([feature('a', [[['4.4', 51.2]]])]), 'tiles.features[0].geometry');
    const acrossDateline = [
      [
        [179.9, 0],
        [-179.9, 0],
        [-179.9, 1],
        [179.9, 1],
        [179.9, 0],
      ],
    ];
    assertSpecError(collection([feature('a', acrossDateline)]), 'tiles.features[0].geometry', /antimeridian/);
  });

  it('rejects duplicate ids, naming both features', () => {
    const error = assertSpecError(
      collection([
        feature('x', square(4.4, 51.2)),
        feature('y', square(4.5, 51.2)),
        feature(undefined, square(4.6, 51.2), { id: 'x' }),
      ]),
      'tiles.features[2]',
      /duplicate tile id 'x' \(also used by tiles.features\[0\]\)/,
    );
    assert.equal(error.code, 'duplicate_tile_id');
    // A fallback id can collide with an explicit one too.
    assertSpecError(
      collection([feature('tile-1', square(4.4, 51.2)), feature(undefined, square(4.5, 51.2))]),
      'tiles.features[1]',
      /duplicate/,
    );
  });

  it('rejects ids that cannot be part of a workflow id', () => {
    assertSpecError(collection([feature('tile 1', square(4.4, 51.2))]), 'tiles.features[0].id', /letters, digits/);
    assertSpecError(
      collection([feature(undefined, square(4.4, 51.2), { id: 'a/b' })]),
      'tiles.features[0].properties.id',
    );
    assertSpecError(collection([feature({ nested: true }, square(4.4, 51.2))]), 'tiles.features[0].id');
  });

  it('rejects empty collections, non-features and non-WGS 84 crs members', () => {
    assertSpecError(collection([]), 'tiles.features', /non-empty/);
    assertSpecError(
      collection([{ type: 'Polygon', coordinates: square(4.4, 51.2) }]),
      'tiles.features[0]',
      /not a GeoJSON Feature/,
    );
    const crs = { type: 'name', properties: { name: 'urn:ogc:def:crs:EPSG::32631' } };
    assertSpecError(collection([feature('a', square(4.4, 51.2))], { crs }), 'tiles.crs', /EPSG:4326/);
    const wgs84 = { type: 'name', properties: { name: 'urn:ogc:def:crs:OGC:1.3:CRS84' } };
    assert.equal(countTiles(collection([feature('a', square(4.4, 51.2))], { crs: wgs84 })), 1);
  });
});
