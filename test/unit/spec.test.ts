/** The batch spec: validation messages, defaults, and how a tile becomes a process graph. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tileArguments, tileProcessGraph, type Tile } from '../../src/core/batch-spec/arguments';
import { checkSpecOffline } from '../../src/core/batch-spec/prepare';
import { InvalidSpecError, parseBatchSpec } from '../../src/core/batch-spec/validate';

const example = JSON.parse(readFileSync(join(__dirname, '..', '..', '..', 'examples', 'antwerp-bap.json'), 'utf8'));

function problems(input: unknown): string[] {
  try {
    parseBatchSpec(input);
  } catch (err) {
    assert.ok(err instanceof InvalidSpecError);
    return err.issues.map((i) => `${i.field}: ${i.problem}`);
  }
  assert.fail('the spec was accepted');
}

const tile: Tile = {
  id: 't1',
  geometry: {
    type: 'Polygon',
    coordinates: [
      [
        [4, 51],
        [4.1, 51],
        [4.1, 51.1],
        [4, 51],
      ],
    ],
  },
  properties: { index: 0, bbox: { west: 4, south: 51, east: 4.1, north: 51.1 }, crs: 'EPSG:4326', year: 2024 },
};

describe('batch spec', () => {
  it('accepts the Antwerp example: 16 tiles, defaults filled in', () => {
    const { spec, totalTiles } = checkSpecOffline(example);
    assert.equal(totalTiles, 16);
    assert.equal(spec.backends[0].parallelJobs, 2);
    assert.deepEqual(spec.parameterMapping, { geometry: 'geometry' });
  });

  it('refuses more parallel jobs than Temporal allows pending children, and says why', () => {
    const found = problems({ ...example, backends: [{ ...example.backends[0], parallelJobs: 10_000 }] });
    assert.ok(
      found.some((p) =>
        /^backends\[0\]\.parallelJobs: at most 2,000 \(Temporal allows a workflow 2,000 pending child workflows/.test(
          p,
        ),
      ),
      found.join('\n'),
    );
  });

  it('continues a run as new at 4,000 events by default, within what the server suggests', () => {
    assert.equal(parseBatchSpec(example).scheduling.maxEventsPerRun, 4_000);
  });

  it('refuses an inline tile collection too large for a workflow input, pointing to tiles.file and tiles.url', () => {
    const square = (i: number) => ({
      type: 'Feature',
      id: `t${i}`,
      geometry: {
        type: 'Polygon',
        coordinates: [
          [
            [4 + i * 1e-4, 51],
            [4.00005 + i * 1e-4, 51],
            [4.00005 + i * 1e-4, 51.00005],
            [4 + i * 1e-4, 51],
          ],
        ],
      },
      properties: { note: 'x'.repeat(200) },
    });
    const tiles = { type: 'FeatureCollection', features: Array.from({ length: 1500 }, (_, i) => square(i)) };
    assert.throws(
      () => checkSpecOffline({ ...example, tiles }),
      (err: unknown) =>
        err instanceof InvalidSpecError &&
        /^tiles: the inline FeatureCollection has \d+ KB, more than 256 KB/.test(
          `${err.issues[0].field}: ${err.issues[0].problem}`,
        ) &&
        /tiles\.file|"file"/.test(err.issues[0].fix),
    );
    assert.equal(
      checkSpecOffline({ ...example, tiles: { ...tiles, features: tiles.features.slice(0, 100) } }).totalTiles,
      100,
    );
  });

  it('names each offending field and says what to do', () => {
    const bad = { ...example, backends: [{ name: 'a b', url: 'ftp://x', parallelJobs: 0 }], extra: 1 };
    const found = problems(bad);
    assert.ok(
      found.some((p) => p.startsWith('backends[0].name')),
      found.join('\n'),
    );
    assert.ok(
      found.some((p) => p.startsWith('backends[0].url')),
      found.join('\n'),
    );
    assert.ok(
      found.some((p) => p.startsWith('backends[0].parallelJobs')),
      found.join('\n'),
    );
    assert.ok(
      found.some((p) => p.startsWith('(the spec itself): unknown field(s) "extra"')),
      found.join('\n'),
    );
  });

  it('explains the two forms of process and tiles', () => {
    const found = problems({ ...example, process: { id: 'x' }, tiles: { bbox: [] } });
    assert.ok(
      found.some((p) => p === 'process: does not match any allowed form'),
      found.join('\n'),
    );
    assert.ok(
      found.some((p) => p === 'tiles: does not match any allowed form'),
      found.join('\n'),
    );
  });

  it('reports a missing backends list as missing', () => {
    const { backends: _unused, ...rest } = example;
    assert.deepEqual(problems(rest), ['backends: is missing']);
  });

  it('refuses the same backend name twice', () => {
    const backend = example.backends[0];
    assert.deepEqual(problems({ ...example, backends: [backend, backend] }), [
      `backends[1].name: backend name "${backend.name}" is used twice; give each backend its own name`,
    ]);
  });

  it('takes a budget in credits, in all and per backend, and refuses one that names no backend of the batch or no limit', () => {
    const name = example.backends[0].name;
    assert.deepEqual(parseBatchSpec({ ...example, budget: { credits: 40, backends: { [name]: 25.5 } } }).budget, {
      credits: 40,
      backends: { [name]: 25.5 },
    });
    assert.equal(parseBatchSpec(example).budget, undefined);
    assert.deepEqual(problems({ ...example, budget: { credits: 0 } }), [
      'budget.credits: must be more than 0 credits (leave it out for no limit)',
    ]);
    assert.deepEqual(problems({ ...example, budget: { backends: { elsewhere: 10 } } }), [
      `budget.backends.elsewhere: names backend "elsewhere", which is not one of the batch's backends`,
    ]);
    assert.deepEqual(problems({ ...example, budget: {} }), ['budget: sets no limit']);
    assert.throws(
      () => parseBatchSpec({ ...example, budget: { backends: { elsewhere: 10 } } }),
      (err: unknown) => err instanceof InvalidSpecError && err.issues[0].fix === `use one of "${name}"`,
    );
  });

  it('refuses a parameter mapping to a property the tiles lack, before any job', () => {
    assert.throws(
      () => checkSpecOffline({ ...example, parameterMapping: { geometry: 'geometry', year: 'acquisition_year' } }),
      (err: unknown) => err instanceof InvalidSpecError && err.issues[0].field === 'parameterMapping.year',
    );
  });
});

describe('a tile becomes a process graph', () => {
  it('maps tile properties over the defaults', () => {
    const args = tileArguments(
      tile,
      { temporal_extent: ['2024-06-01', '2024-09-01'], year: 2000 },
      { geometry: 'geometry', year: 'year' },
    );
    assert.deepEqual(args, { temporal_extent: ['2024-06-01', '2024-09-01'], year: 2024, geometry: tile.geometry });
  });

  it('calls a remote process by namespace as the single result node', () => {
    const graph = tileProcessGraph(
      { processId: 'bap_composite', namespace: 'https://example.org/bap.json' },
      { geometry: tile.geometry },
    );
    assert.deepEqual(graph, {
      bapcomposite1: {
        process_id: 'bap_composite',
        namespace: 'https://example.org/bap.json',
        arguments: { geometry: tile.geometry },
        result: true,
      },
    });
  });

  it('fills parameters of an inline graph, also inside callbacks, and leaves callback parameters alone', () => {
    const graph = tileProcessGraph(
      {
        processGraph: {
          load: {
            process_id: 'load_collection',
            arguments: { id: 'S2', spatial_extent: { from_parameter: 'geometry' } },
          },
          filter: {
            process_id: 'filter',
            arguments: {
              data: { from_node: 'load' },
              condition: {
                process_graph: {
                  lte: {
                    process_id: 'lte',
                    arguments: { x: { from_parameter: 'value' }, y: { from_parameter: 'max_cc' } },
                    result: true,
                  },
                },
              },
            },
            result: true,
          },
        },
      },
      { geometry: tile.geometry, max_cc: 60 },
    );
    assert.deepEqual(graph.load.arguments.spatial_extent, tile.geometry);
    const callback = (
      graph.filter.arguments.condition as { process_graph: Record<string, { arguments: Record<string, unknown> }> }
    ).process_graph;
    assert.deepEqual(callback.lte.arguments, { x: { from_parameter: 'value' }, y: 60 });
  });
});
