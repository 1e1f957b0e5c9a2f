import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { area, difference, featureCollection, intersect, polygon, union } from '@turf/turf';
import type { Feature, Polygon } from 'geojson';
import proj4 from 'proj4';

import {
  countTiles,
  tilePage,
  type AoiTiling,
  type GridTileProperties,
  type Tile,
} from '../../src/core/batch-spec/tiling';

const UTM31N = '+proj=utm +zone=31 +datum=WGS84 +units=m +no_defs';
const WGS84 = '+proj=longlat +datum=WGS84 +no_defs';

const antwerp: AoiTiling = {
  aoi: { west: 590000, south: 5660000, east: 610000, north: 5680000, crs: 'EPSG:32631' },
  tileSize: 5000,
};

function asFeature(tile: Tile): Feature<Polygon> {
  assert.equal(tile.geometry.type, 'Polygon');
  return polygon(tile.geometry.coordinates as number[][][]);
}

/** The AOI outline in lon/lat, computed independently of the tiling code and densely (200 points per edge). */
function aoiInLonLat(): Feature<Polygon> {
  const { west, south, east, north } = antwerp.aoi;
  const n = 200;
  const native: number[][] = [];
  for (let i = 0; i < n; i++) native.push([west + ((east - west) * i) / n, south]);
  for (let i = 0; i < n; i++) native.push([east, south + ((north - south) * i) / n]);
  for (let i = 0; i < n; i++) native.push([east - ((east - west) * i) / n, north]);
  for (let i = 0; i < n; i++) native.push([west, north - ((north - south) * i) / n]);
  native.push([west, south]);
  return polygon([native.map((p) => proj4(UTM31N, WGS84, p))]);
}

describe('AOI tiling: Antwerp, UTM 31N, 20 km × 20 km in 5 km tiles', () => {
  const tiles = tilePage(antwerp, 0, 1000);

  it('yields exactly 16 tiles', () => {
    assert.equal(countTiles(antwerp), 16);
    assert.equal(tiles.length, 16);
  });

  it('gives every tile a closed lon/lat polygon around Antwerp', () => {
    for (const tile of tiles) {
      assert.equal(tile.geometry.type, 'Polygon');
      const ring = (tile.geometry.coordinates as number[][][])[0];
      assert.ok(ring.length > 5, `tile ${tile.id} edges are densified`);
      assert.deepEqual(ring[0], ring[ring.length - 1]);
      for (const [lon, lat] of ring) {
        assert.ok(lon > 4.28 && lon < 4.6, `lon ${lon} of ${tile.id}`);
        assert.ok(lat > 51.08 && lat < 51.27, `lat ${lat} of ${tile.id}`);
      }
    }
    const lons = tiles.flatMap((t) => (t.geometry.coordinates as number[][][])[0].map((p) => p[0]));
    assert.ok(Math.min(...lons) < 4.3 && Math.max(...lons) > 4.57, 'tiles span the AOI east-west');
  });

  it('puts each tile corner where proj4 puts the native corner', () => {
    for (const tile of tiles) {
      const { bbox, crs } = tile.properties;
      assert.equal(crs, 'EPSG:32631');
      assert.equal(bbox.east - bbox.west, 5000);
      assert.equal(bbox.north - bbox.south, 5000);
      const [lon, lat] = proj4(UTM31N, WGS84, [bbox.west, bbox.south]);
      const first = (tile.geometry.coordinates as number[][][])[0][0];
      assert.ok(Math.abs(first[0] - lon) < 1e-7 && Math.abs(first[1] - lat) < 1e-7, `corner of ${tile.id}`);
    }
  });

  it('covers the AOI without gaps: union is one hole-free polygon and AOI minus union is ~0', () => {
    const merged = union(featureCollection(tiles.map(asFeature)));
    assert.ok(merged);
    assert.equal(merged.geometry.type, 'Polygon', 'union of the tiles is a single polygon');
    assert.equal((merged.geometry as Polygon).coordinates.length, 1, 'union has no holes');
    const aoi = aoiInLonLat();
    const aoiArea = area(aoi);
    assert.ok(Math.abs(aoiArea - 400e6) < 2e6, `AOI area ${aoiArea} m² is about 400 km²`);
    const uncovered = difference(featureCollection([aoi, merged as Feature<Polygon>]));
    const uncoveredArea = uncovered ? area(uncovered) : 0;
    // Rounding to 1e-7° (< 1 cm) may leave slivers: allow 1 cm along the 80 km perimeter.
    const slivers = 80_000 * 0.01;
    assert.ok(uncoveredArea < slivers, `uncovered area ${uncoveredArea} m²`);
    assert.ok(Math.abs(area(merged) - aoiArea) < 2 * slivers, `union area ${area(merged)} m² matches the AOI`);
  });

  it('tiles do not overlap', () => {
    const features = tiles.map(asFeature);
    let overlap = 0;
    for (let i = 0; i < features.length; i++) {
      for (let j = i + 1; j < features.length; j++) {
        const common = intersect(featureCollection([features[i], features[j]]));
        if (common) overlap += area(common);
      }
    }
    assert.ok(overlap < 1, `total pairwise overlap ${overlap} m²`);
  });

  it('neighbouring tiles share bit-identical edge coordinates', () => {
    const byCell = new Map(
      tiles.map((t) => [`${(t.properties as GridTileProperties).col},${(t.properties as GridTileProperties).row}`, t]),
    );
    const points = (t: Tile | undefined): Set<string> =>
      new Set((t?.geometry.coordinates as number[][][])[0].map((p) => p.join(',')));
    for (const [cell, tile] of byCell) {
      const [col, row] = cell.split(',').map(Number);
      for (const neighbour of [byCell.get(`${col + 1},${row}`), byCell.get(`${col},${row + 1}`)]) {
        if (!neighbour) continue;
        const shared = [...points(tile)].filter((p) => points(neighbour).has(p));
        assert.equal(shared.length, 9, `${tile.id} and ${neighbour.id} share one densified edge`);
      }
    }
  });

  it('orders tiles column-major and derives ids from the lower-left corner', () => {
    tiles.forEach((tile, index) => {
      const props = tile.properties as GridTileProperties;
      assert.equal(props.index, index);
      assert.equal(props.col, Math.floor(index / 4));
      assert.equal(props.row, index % 4);
      assert.equal(props.bbox.west, 590000 + props.col * 5000);
      assert.equal(props.bbox.south, 5660000 + props.row * 5000);
      assert.equal(tile.id, `E${props.bbox.west}-N${props.bbox.south}`);
    });
    assert.equal(tiles[0].id, 'E590000-N5660000');
    assert.equal(tiles[1].id, 'E590000-N5665000');
    assert.equal(new Set(tiles.map((t) => t.id)).size, 16);
  });

  it('is deterministic across calls', () => {
    assert.deepEqual(tilePage({ ...antwerp, aoi: { ...antwerp.aoi } }, 0, 1000), tiles);
  });
});

describe('paging', () => {
  it('pages concatenated equal the full list, for several page sizes', () => {
    const all = tilePage(antwerp, 0, 16);
    for (const limit of [1, 3, 5, 16, 100]) {
      const pages: Tile[] = [];
      for (let offset = 0; offset < countTiles(antwerp); offset += limit)
        pages.push(...tilePage(antwerp, offset, limit));
      assert.deepEqual(pages, all, `limit ${limit}`);
    }
  });

  it('returns a short last page and nothing past the end', () => {
    assert.equal(tilePage(antwerp, 14, 5).length, 2);
    assert.deepEqual(tilePage(antwerp, 16, 5), []);
    assert.deepEqual(tilePage(antwerp, 0, 0), []);
  });

  it('rejects negative or fractional offsets and limits', () => {
    assert.throws(() => tilePage(antwerp, -1, 5), RangeError);
    assert.throws(() => tilePage(antwerp, 0.5, 5), RangeError);
    assert.throws(() => tilePage(antwerp, 0, -1), RangeError);
  });

  it('serves any page of a 1000 × 1000 grid (LAEA Europe, 1 km tiles)', () => {
    const europe: AoiTiling = {
      aoi: { west: 3000000, south: 2000000, east: 4000000, north: 3000000, crs: 'EPSG:3035' },
      tileSize: 1000,
    };
    assert.equal(countTiles(europe), 1_000_000);
    const page = tilePage(europe, 500_000, 3);
    assert.deepEqual(
      page.map((t) => t.id),
      ['E3500000-N2000000', 'E3500000-N2001000', 'E3500000-N2002000'],
    );
    assert.deepEqual(
      [(page[0].properties as GridTileProperties).col, (page[0].properties as GridTileProperties).row],
      [500, 0],
    );
    const last = tilePage(europe, 999_999, 10);
    assert.deepEqual(
      last.map((t) => t.id),
      ['E3999000-N2999000'],
    );
    // A tile depends only on the grid, not on which page it was requested from.
    const single = tilePage(
      { aoi: { ...europe.aoi, west: 3500000, east: 3501000, north: 2001000 }, tileSize: 1000 },
      0,
      1,
    );
    assert.deepEqual(single[0].geometry, page[0].geometry);
  });
});

describe('AOI tiling in degrees (EPSG:4326)', () => {
  const tiling: AoiTiling = { aoi: { west: 4.5, south: 51, east: 4.75, north: 51.1, crs: 'EPSG:4326' }, tileSize: 0.1 };

  it('lets the last column and row extend past the AOI, with compact degree ids', () => {
    const tiles = tilePage(tiling, 0, 100);
    assert.deepEqual(
      tiles.map((t) => t.id),
      ['E4p5-N51', 'E4p6-N51', 'E4p7-N51'],
    );
    assert.deepEqual(tiles[2].properties.bbox, { west: 4.7, south: 51, east: 4.8, north: 51.1 });
    assert.deepEqual(tiles[0].geometry.coordinates, [
      [
        [4.5, 51],
        [4.6, 51],
        [4.6, 51.1],
        [4.5, 51.1],
        [4.5, 51],
      ],
    ]);
  });

  it('uses W/S for negative coordinates', () => {
    const ids = tilePage(
      { aoi: { west: -0.5, south: -10.25, east: 0.5, north: -10, crs: 'EPSG:4326' }, tileSize: 0.25 },
      0,
      100,
    ).map((t) => t.id);
    assert.deepEqual(ids, ['W0p5-S10p25', 'W0p25-S10p25', 'E0-S10p25', 'E0p25-S10p25']);
    for (const id of ids) assert.match(id, /^[A-Za-z0-9._-]+$/);
  });

  it('clips tiles at 90°N instead of producing invalid latitudes', () => {
    const tiles = tilePage(
      { aoi: { west: 0, south: 89.5, east: 1, north: 89.9, crs: 'EPSG:4326' }, tileSize: 1 },
      0,
      10,
    );
    assert.equal(tiles.length, 1);
    assert.equal(tiles[0].properties.bbox.north, 90);
  });
});
