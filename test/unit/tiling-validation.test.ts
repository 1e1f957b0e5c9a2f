import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { countTiles, resolveCrs, SpecError, type AoiTiling, type TileSource } from '../../src/core/batch-spec/tiling';
import { assertSpecError } from '../support/tiling';

const valid: AoiTiling = {
  aoi: { west: 590000, south: 5660000, east: 610000, north: 5680000, crs: 'EPSG:32631' },
  tileSize: 5000,
};

function withAoi(changes: Record<string, unknown>, tileSize = valid.tileSize): TileSource {
  // Deliberately loose: specs come from JSON, so tests feed values the types forbid.
  return { aoi: { ...valid.aoi, ...changes }, tileSize } as unknown as TileSource;
}

describe('AOI tiling validation', () => {
  it('accepts the valid spec used as the base of these cases', () => {
    assert.equal(countTiles(valid), 16);
  });

  for (const tileSize of [0, -5000, Number.NaN, Number.POSITIVE_INFINITY]) {
    it(`rejects tileSize ${tileSize}`, () => {
      assertSpecError(withAoi({}, tileSize), 'tiles.tileSize', /positive number/);
    });
  }

  it('rejects a non-numeric tileSize from JSON', () => {
    assertSpecError(withAoi({}, '5000' as unknown as number), 'tiles.tileSize');
  });

  it('rejects west >= east and south >= north', () => {
    assertSpecError(withAoi({ west: 610000, east: 590000 }), 'tiles.aoi', /west .* less than east/);
    assertSpecError(withAoi({ west: 600000, east: 600000 }), 'tiles.aoi', /west .* less than east/);
    assertSpecError(withAoi({ south: 5680000, north: 5660000 }), 'tiles.aoi', /south .* less than north/);
  });

  it('rejects non-finite coordinates, naming the coordinate', () => {
    assertSpecError(withAoi({ west: Number.NaN }), 'tiles.aoi.west');
    assertSpecError(withAoi({ north: '5680000' }), 'tiles.aoi.north');
  });

  it('asks to split an EPSG:4326 AOI that crosses the antimeridian', () => {
    const crossing = { west: 170, south: -10, east: -170, north: 10, crs: 'EPSG:4326' };
    assertSpecError(withAoi(crossing, 1), 'tiles.aoi', /antimeridian.*split it into two AOIs/);
    const beyond = { west: 170, south: -10, east: 190, north: 10, crs: 'EPSG:4326' };
    assertSpecError(withAoi(beyond, 1), 'tiles.aoi.east', /outside \[-180, 180\].*antimeridian.*split/);
  });

  it('rejects latitudes outside [-90, 90]', () => {
    assertSpecError(
      withAoi({ west: 0, south: 80, east: 10, north: 95, crs: 'EPSG:4326' }, 1),
      'tiles.aoi.north',
      /latitude 95/,
    );
    assertSpecError(
      withAoi({ west: 0, south: -91, east: 10, north: 0, crs: 'EPSG:4326' }, 1),
      'tiles.aoi.south',
      /latitude -91/,
    );
  });

  it('rejects an absurd number of tiles and says what to change', () => {
    const error = assertSpecError(withAoi({}, 10), 'tiles.tileSize', /2000 × 2000 = 4000000 tiles.*larger tileSize/);
    assert.equal(error.code, 'too_many_tiles');
    // The suggested size really brings the count under the limit.
    const suggested = Number(/at least about ([\d.]+)/.exec(error.message)?.[1]);
    assert.ok(countTiles(withAoi({}, suggested)) <= 1_000_000);
  });

  it('rejects an unknown CRS with the list of supported ones', () => {
    const error = assertSpecError(withAoi({ crs: 'EPSG:9999' }), 'tiles.aoi.crs', /unknown CRS 'EPSG:9999'/);
    assert.equal(error.code, 'unknown_crs');
    assert.match(error.message, /4326.*3857.*3035.*326xx\/327xx.*proj4/);
  });

  it('rejects an AOI a CRS cannot map to lon/lat', () => {
    assertSpecError(withAoi({ crs: '+proj=utm +datum=WGS84' }), 'tiles.aoi', /cannot map/);
  });

  it('rejects sources that are neither an AOI nor a FeatureCollection', () => {
    assertSpecError({ type: 'Feature' } as unknown as TileSource, 'tiles');
    assertSpecError({ tileSize: 5 } as unknown as TileSource, 'tiles');
  });
});

describe('resolveCrs', () => {
  const near = (actual: number[], expected: number[], tolerance = 1e-9): void => {
    assert.ok(
      actual.every((v, i) => Math.abs(v - expected[i]) < tolerance),
      `${actual} ≈ ${expected}`,
    );
  };

  it('builds UTM zones from the code: central meridian and hemisphere', () => {
    near(resolveCrs('EPSG:32631').toWgs84(500000, 0), [3, 0]);
    near(resolveCrs('EPSG:32601').toWgs84(500000, 0), [-177, 0]);
    near(resolveCrs('EPSG:32660').toWgs84(500000, 0), [177, 0]);
    // Southern zones put the equator at a false northing of 10,000 km.
    near(resolveCrs('EPSG:32731').toWgs84(500000, 10_000_000), [3, 0]);
    assert.ok(resolveCrs('EPSG:32731').toWgs84(500000, 5_000_000)[1] < -40);
    const [lon, lat] = resolveCrs('epsg:32631').toWgs84(590000, 5660000);
    assert.ok(lon > 4.28 && lon < 4.29 && lat > 51.08 && lat < 51.09, `${lon}, ${lat}`);
  });

  it('knows LAEA Europe, Web Mercator and WGS 84', () => {
    near(resolveCrs('EPSG:3035').toWgs84(4321000, 3210000), [10, 52]);
    near(resolveCrs('EPSG:3035').toWgs84(4321000, 2000000), [10, 41.1], 0.1);
    near(resolveCrs('EPSG:3857').toWgs84(Math.PI * 6378137, 0), [180, 0]);
    near(resolveCrs('EPSG:3857').toWgs84(0, 0), [0, 0]);
    near(resolveCrs('EPSG:4326').toWgs84(4.5, 51), [4.5, 51]);
    assert.equal(resolveCrs('EPSG:4326').geographic, true);
    assert.equal(resolveCrs('EPSG:3035').geographic, false);
  });

  it('accepts proj4 strings', () => {
    const crs = resolveCrs('+proj=utm +zone=31 +datum=WGS84 +units=m +no_defs');
    near(crs.toWgs84(500000, 0), [3, 0]);
    assert.equal(resolveCrs('+proj=longlat +datum=WGS84').geographic, true);
  });

  it('rejects unknown codes and junk with a SpecError for the given field', () => {
    for (const crs of ['EPSG:9999', 'EPSG:32600', 'EPSG:32661', 'EPSG:32761', 'WGS84', '+proj=nonsense', '']) {
      assert.throws(
        () => resolveCrs(crs, 'job.crs'),
        (e: unknown) => e instanceof SpecError && e.field === 'job.crs' && e.code === 'unknown_crs',
        crs,
      );
    }
  });
});
