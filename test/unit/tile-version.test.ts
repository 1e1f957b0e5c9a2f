/**
 * Tile versions (workflows/tile-version.ts): what the window writes into each tile's input, and
 * what a tile of a version takes without a patch marker.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseBatchSpec } from '../../src/core/batch-spec/validate';
import { LEAN_TILE_PATCH } from '../../workflows/tile-attempt';
import { STAC_EXTRAS_PATCH } from '../../workflows/tile-hooks';
import { tileInput } from '../../workflows/tile-starts';
import { PATCHES_BY_VERSION, TILE_VERSION, tileIsAtLeast, tileTakes, versionOf } from '../../workflows/tile-version';
import { MARKERS_UP_FRONT_PATCH, RECORD_MEMO_PATCH } from '../../workflows/tile-window';
import { VANISHED_JOB_PATCH } from '../../workflows/vanished-job';
import { initialWindowState } from '../../workflows/window-state';

const backend = { name: 'a', url: 'http://a.test', parallelJobs: 2 };

function inputFor(scheduling: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  const spec = parseBatchSpec({
    backends: [backend],
    process: { processId: 'p' },
    tiles: { aoi: { west: 0, south: 0, east: 2, north: 1 }, tileSize: 1 },
    scheduling,
    ...extra,
  });
  const state = initialWindowState({ start: 0, end: 2 }, spec.backends);
  const ring = [
    [0, 0],
    [1, 0],
    [1, 1],
    [0, 0],
  ];
  const properties = { index: 0, bbox: { west: 0, south: 0, east: 1, north: 1 }, crs: 'EPSG:4326' };
  const tile = { id: 't1', geometry: { type: 'Polygon' as const, coordinates: [ring] }, properties };
  return tileInput('b', spec, state, tile, spec.backends[0]!);
}

describe('tile versions', () => {
  it('every tile patch of earlier releases is in the table, at a version this release starts tiles with', () => {
    const patches = [LEAN_TILE_PATCH, RECORD_MEMO_PATCH, MARKERS_UP_FRONT_PATCH, VANISHED_JOB_PATCH, STAC_EXTRAS_PATCH];
    assert.deepEqual(Object.keys(PATCHES_BY_VERSION).sort(), [...patches].sort());
    for (const version of Object.values(PATCHES_BY_VERSION)) assert.ok(version <= TILE_VERSION);
  });

  it('a tile of version 1 takes them without asking for a marker (outside a workflow, asking would throw)', () => {
    for (const id of Object.keys(PATCHES_BY_VERSION) as (keyof typeof PATCHES_BY_VERSION)[])
      assert.equal(tileTakes({ tileVersion: 1 }, id), true);
    assert.throws(() => tileTakes({}, 'lean-tile'), 'a tile without a version asks patched()');
  });

  it('a tile started without a version is version 0', () => {
    assert.equal(versionOf({}), 0);
    assert.equal(tileIsAtLeast({}, 1), false);
    assert.equal(tileIsAtLeast({ tileVersion: 1 }, 1), true);
  });

  it("the window starts tiles with this release's version", () => {
    assert.equal(inputFor({}).tileVersion, TILE_VERSION);
  });

  it('asks for the end of a job only when no lined-up tile takes its slot at once', () => {
    assert.equal(inputFor({}).jobEndWanted, false, 'lined-up tiles by default');
    assert.equal(inputFor({ lineUpJobs: false }).jobEndWanted, true);
    assert.equal(inputFor({}, { postprocess: 'stats' }).jobEndWanted, true, 'a post-processor may run long');
  });
});
