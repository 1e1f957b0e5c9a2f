/**
 * An area's outline under a grid: only the cells that share area with it become tiles (checked
 * against turf's own intersection of every cell of the bounding box), islands of a
 * MultiPolygon each get theirs, `clip` cuts tiles to the area, any CRS for the grid and for the
 * outline, and bad outlines are named at the front door.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { area, booleanIntersects, booleanWithin, buffer, featureCollection, intersect, polygon } from '@turf/turf';
import type { Feature, MultiPolygon, Polygon } from 'geojson';
import proj4 from 'proj4';
import { inspectSpecOffline } from '../../src/core/batch-spec/prepare';
import {
  planTiles,
  tilePage,
  type AreaTiling,
  type GridTileProperties,
  type Tile,
} from '../../src/core/batch-spec/tiling';

const example = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'examples', 'antwerp-bap.json'), 'utf8'));

/** A "C" open to the east: its bounding box holds many cells the C does not touch. */
const cShape = [
  [4, 50],
  [6, 50],
  [6, 50.5],
  [4.5, 50.5],
  [4.5, 51.5],
  [6, 51.5],
  [6, 52],
  [4, 52],
  [4, 50],
];
const island = (west: number, south: number) => [
  [west, south],
  [west + 0.4, south],
  [west + 0.4, south + 0.3],
  [west, south + 0.3],
  [west, south],
];

function asFeature(geometry: Tile['geometry']): Feature<Polygon | MultiPolygon> {
  return { type: 'Feature', properties: {}, geometry: geometry as Polygon | MultiPolygon };
}

/** Ids of the bounding box's cells that share area with the outline, by turf alone. */
function cellsMeeting(outline: Feature<Polygon | MultiPolygon>, bbox: Tile[]): string[] {
  return bbox
    .filter((cell) => {
      const cut = intersect(featureCollection([asFeature(cell.geometry), outline]));
      return cut !== null && area(cut) > 1;
    })
    .map((t) => t.id);
}

describe('an outline under a lon/lat grid', () => {
  const tiling: AreaTiling = { aoi: { type: 'Polygon', coordinates: [cShape] }, tileSize: 0.25 };
  const tiles = tilePage(tiling, 0, 10_000);
  // The same grid over the whole bounding box, as a bbox AOI.
  const box = tilePage(
    { aoi: { west: 4, south: 50, east: 6, north: 52, crs: 'EPSG:4326' }, tileSize: 0.25 },
    0,
    10_000,
  );

  it('keeps exactly the cells that share area with a concave outline, not its bounding box', () => {
    assert.equal(box.length, 64);
    assert.deepEqual(tiles.map((t) => t.id).sort(), cellsMeeting(polygon([cShape]), box).sort());
    assert.equal(tiles.length, 64 - 6 * 4, 'the C minus its open middle (6 × 4 cells)');
    assert.ok(tiles.length < box.length);
  });

  it("keeps the grid's ids, col/row and column-major order; index is the position", () => {
    const byId = new Map(box.map((t) => [t.id, t]));
    for (const [i, tile] of tiles.entries()) {
      const cell = byId.get(tile.id)!;
      assert.deepEqual(tile.geometry, cell.geometry);
      assert.equal((tile.properties as GridTileProperties).col, (cell.properties as GridTileProperties).col);
      assert.equal(tile.properties.index, i);
      if (i > 0) assert.ok(cell.properties.index > byId.get(tiles[i - 1].id)!.properties.index, 'in grid order');
    }
  });
});

describe('a MultiPolygon of two islands', () => {
  const islands: AreaTiling = {
    aoi: { type: 'MultiPolygon', coordinates: [[island(3, 50)], [island(5, 51)]] },
    tileSize: 0.1,
  };

  it('gives each island its cells and none to the sea between them', () => {
    const count = (coordinates: number[][]) =>
      planTiles({ aoi: { type: 'Polygon', coordinates: [coordinates] }, tileSize: 0.1 }).count;
    const plan = planTiles(islands);
    assert.equal(plan.count, count(island(3, 50)) + count(island(5, 51)));
    assert.equal(plan.count, 2 * 4 * 3);
    const bboxCells = Math.round((5.4 - 3) / 0.1) * Math.round((51.3 - 50) / 0.1);
    assert.ok(plan.count < bboxCells / 10, `${plan.count} of ${bboxCells}`);
  });

  it('reads a FeatureCollection of the islands, and a Feature, the same way', () => {
    const features = [island(3, 50), island(5, 51)].map((ring) => ({
      type: 'Feature' as const,
      properties: {},
      geometry: { type: 'Polygon' as const, coordinates: [ring] },
    }));
    const ids = (tiling: AreaTiling) => tilePage(tiling, 0, 1000).map((t) => t.id);
    assert.deepEqual(ids({ aoi: { type: 'FeatureCollection', features }, tileSize: 0.1 }), ids(islands));
    assert.deepEqual(
      ids({ aoi: { type: 'Feature', geometry: islands.aoi as MultiPolygon }, tileSize: 0.1 } as AreaTiling),
      ids(islands),
    );
  });
});

describe('clip: tiles cut to the area', () => {
  // A disc of about 20 km radius around Antwerp, under a 5 km UTM grid.
  const disc = buffer(
    polygon([
      [
        [4.4, 51.2],
        [4.41, 51.2],
        [4.41, 51.21],
        [4.4, 51.21],
        [4.4, 51.2],
      ],
    ]),
    20,
    { units: 'kilometers' },
  )!;
  const clipped: AreaTiling = { aoi: disc.geometry as Polygon, crs: 'EPSG:32631', tileSize: 5000, clip: true };
  const tiles = tilePage(clipped, 0, 1000);
  const whole = tilePage({ ...clipped, clip: false }, 0, 1000);

  it('covers the area itself: the clipped tiles add up to its area, the whole cells to more', () => {
    const clippedArea = tiles.reduce((sum, t) => sum + area(asFeature(t.geometry)), 0);
    const cellsArea = whole.reduce((sum, t) => sum + area(asFeature(t.geometry)), 0);
    assert.ok(Math.abs(clippedArea / area(disc) - 1) < 0.005, `${clippedArea} vs ${area(disc)}`);
    assert.ok(cellsArea > area(disc) * 1.1);
  });

  it('keeps each clipped tile inside its cell, and a cell inside the area whole', () => {
    assert.deepEqual(
      tiles.map((t) => t.id),
      whole.map((t) => t.id),
    );
    let inside = 0;
    for (const [i, tile] of tiles.entries()) {
      const cell = asFeature(whole[i].geometry);
      assert.ok(booleanIntersects(asFeature(tile.geometry), cell));
      assert.ok(area(asFeature(tile.geometry)) <= area(cell) * (1 + 1e-6), tile.id);
      if (booleanWithin(cell, disc)) {
        inside += 1;
        assert.deepEqual(tile.geometry, whole[i].geometry, `${tile.id} lies inside: the whole cell`);
      }
    }
    assert.ok(inside > 0 && inside < tiles.length);
  });
});

describe('any CRS', () => {
  it('lays an EPSG:3035 grid over a lon/lat outline on multiples of the tile size', () => {
    const tiles = tilePage(
      { aoi: { type: 'Polygon', coordinates: [cShape] }, crs: 'EPSG:3035', tileSize: 20_000 },
      0,
      10_000,
    );
    assert.ok(tiles.length > 20);
    for (const tile of tiles) {
      assert.match(tile.id, /^E\d+0000-N\d+0000$/, 'ids on the 20 km lines');
      assert.ok(booleanIntersects(asFeature(tile.geometry), polygon([cShape])), tile.id);
    }
  });

  it('reads an outline in UTM coordinates through the GeoJSON crs member, as ogr2ogr writes it', () => {
    const utm = '+proj=utm +zone=31 +datum=WGS84 +units=m +no_defs';
    const ring = [
      [4.2, 51.1],
      [4.6, 51.1],
      [4.6, 51.3],
      [4.4, 51.2],
      [4.2, 51.3],
      [4.2, 51.1],
    ];
    const lonLat = tilePage(
      { aoi: { type: 'Polygon', coordinates: [ring] }, crs: 'EPSG:32631', tileSize: 2000 },
      0,
      1000,
    );
    const projected = {
      type: 'Polygon' as const,
      coordinates: [ring.map((p) => proj4('EPSG:4326', utm, p))],
      crs: { type: 'name', properties: { name: 'urn:ogc:def:crs:EPSG::32631' } },
    };
    const fromUtm = tilePage({ aoi: projected, crs: 'EPSG:32631', tileSize: 2000 }, 0, 1000);
    assert.ok(lonLat.length > 10);
    assert.deepEqual(
      fromUtm.map((t) => t.id),
      lonLat.map((t) => t.id),
    );
  });
});

describe('outlines at the front door', () => {
  const spec = (tiles: unknown) => ({ ...example, tiles });
  const problemsOf = (tiles: unknown) => inspectSpecOffline(spec(tiles)).problems;

  it("counts the outline's tiles", () => {
    const inspection = inspectSpecOffline(spec({ aoi: { type: 'Polygon', coordinates: [cShape] }, tileSize: 0.25 }));
    assert.deepEqual(inspection.problems, []);
    assert.equal(inspection.tiles?.count, 40);
  });

  it('refuses what is not a polygon, naming tiles.aoi', () => {
    const [problem] = problemsOf({
      aoi: {
        type: 'LineString',
        coordinates: [
          [4, 50],
          [5, 51],
        ],
      },
      tileSize: 0.25,
    });
    assert.equal(problem.field, 'tiles.aoi');
    assert.equal(problem.code, 'not_a_polygon');
    assert.match(problem.fix, /Polygon or MultiPolygon/);
  });

  it('refuses an outline that crosses itself, saying where', () => {
    const bowtie = [
      [4, 50],
      [5, 51],
      [5, 50],
      [4, 51],
      [4, 50],
    ];
    const [problem] = problemsOf({ aoi: { type: 'Polygon', coordinates: [bowtie] }, tileSize: 0.25 });
    assert.equal(problem.field, 'tiles.aoi');
    assert.equal(problem.code, 'self_intersecting');
    assert.match(problem.problem, /crosses itself at \[4\.5, 50\.5\]/);
  });

  it('refuses an unclosed ring, an unknown grid CRS and an outline too large to travel with the batch', () => {
    assert.equal(
      problemsOf({ aoi: { type: 'Polygon', coordinates: [cShape.slice(0, -1)] }, tileSize: 0.25 })[0].field,
      'tiles.aoi.coordinates[0]',
    );
    assert.equal(
      problemsOf({ aoi: { type: 'Polygon', coordinates: [cShape] }, crs: 'EPSG:99999', tileSize: 0.25 })[0].field,
      'tiles.crs',
    );
    const detailed = Array.from({ length: 5000 }, (_, i) => [
      5 + Math.cos((2 * Math.PI * i) / 5000),
      51 + Math.sin((2 * Math.PI * i) / 5000) / 2,
    ]);
    detailed.push(detailed[0]);
    const large = problemsOf({ aoi: { type: 'Polygon', coordinates: [detailed] }, tileSize: 0.25 });
    assert.ok(
      large.some((p) => p.code === 'inline_aoi_too_large' && /simplify/.test(p.fix)),
      JSON.stringify(large),
    );
  });
});
