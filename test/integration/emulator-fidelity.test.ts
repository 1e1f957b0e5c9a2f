/**
 * The emulator rejects what real back-ends reject, over real HTTP and through
 * @openeo/js-client: unknown collections and bands, unknown output formats,
 * remote process calls that do not match the process's parameters; at job
 * creation, at start or as a failed run (graphChecks); and POST /validation
 * reports the same problems without creating a job, and what a dry run finds besides.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';

import { OpenEO, type Connection } from '@openeo/js-client';

import {
  BAP_COMPOSITE_NAMESPACE,
  emulatorOptionsFromFlags,
  ManualClock,
  startEmulator,
  type RunningEmulator,
} from '../../src/tools/emulator';
import { api, assertApiError, login, withEmulator } from '../support/emulator-api';

const AREA = { west: 4.35, south: 51.18, east: 4.45, north: 51.24 };
const GEOMETRY = {
  type: 'Polygon',
  coordinates: [
    [
      [4.35, 51.18],
      [4.45, 51.18],
      [4.45, 51.24],
      [4.35, 51.18],
    ],
  ],
};

/** load_collection → save_result with the given load arguments and format. */
function loadAndSave(load: Record<string, unknown>, format = 'GTiff'): Record<string, unknown> {
  return {
    process_graph: {
      load: {
        process_id: 'load_collection',
        arguments: {
          id: 'SENTINEL2_L2A',
          spatial_extent: AREA,
          temporal_extent: ['2024-05-01', '2024-06-01'],
          ...load,
        },
      },
      save: { process_id: 'save_result', arguments: { data: { from_node: 'load' }, format }, result: true },
    },
  };
}

/** A call of the BAP composite UDP with the given arguments, saved as GeoTIFF. */
function bapCall(args: Record<string, unknown>): Record<string, unknown> {
  return {
    process_graph: {
      bap: { process_id: 'bap_composite', namespace: BAP_COMPOSITE_NAMESPACE, arguments: args },
      save: { process_id: 'save_result', arguments: { data: { from_node: 'bap' }, format: 'GTiff' }, result: true },
    },
  };
}

const VALID_BAP_ARGS = { geometry: GEOMETRY, temporal_extent: ['2024-06-01', '2024-09-01'] };

describe('emulator fidelity: job creation rejects what real back-ends reject', () => {
  let emulator: RunningEmulator;
  let token: string;
  let connection: Connection;

  before(async () => {
    emulator = await startEmulator({ jobDurations: { queuedMs: 0, runningMs: 50 } });
    token = await login(emulator);
    connection = await OpenEO.connect(emulator.url);
    await connection.authenticateBasic('demo', 'demo-password');
  });
  after(() => emulator.close());

  async function rejectedCreate(process: Record<string, unknown>, status: number, code: string): Promise<string> {
    const before = emulator.admin.jobs().length;
    const response = await api(emulator, '/jobs', { method: 'POST', token, body: { process } });
    assertApiError(response, status, code);
    assert.equal(emulator.admin.jobs().length, before, 'no job is created');
    return response.body.message as string;
  }

  it('answers 404 CollectionNotFound for an unknown collection id, raw and through the js-client', async () => {
    const message = await rejectedCreate(loadAndSave({ id: 'SENTINEL2_L9Z' }), 404, 'CollectionNotFound');
    assert.match(message, /'SENTINEL2_L9Z'/);
    assert.match(message, /node 'load'/);
    await assert.rejects(
      connection.createJob(loadAndSave({ id: 'SENTINEL2_L9Z' })),
      (error: { code: string; response: { status: number } }) => {
        assert.equal(error.code, 'CollectionNotFound');
        assert.equal(error.response.status, 404);
        return true;
      },
    );
  });

  it('answers ProcessParameterInvalid naming the bands parameter and the unknown band', async () => {
    const message = await rejectedCreate(loadAndSave({ bands: ['B04', 'B99'] }), 400, 'ProcessParameterInvalid');
    assert.match(message, /parameter 'bands'/);
    assert.match(message, /'B99'/);
    assert.doesNotMatch(message, /'B04'/, 'only the unknown band is named as the problem');
    // Band names and common names that the collection lists are fine.
    assert.equal(
      (
        await api(emulator, '/jobs', {
          method: 'POST',
          token,
          body: { process: loadAndSave({ bands: ['B04', 'nir', 'SCL'] }) },
        })
      ).status,
      201,
    );
  });

  it('answers FormatUnsuitable for a save_result format that GET /file_formats does not list', async () => {
    const formats = await api(emulator, '/file_formats');
    assert.deepEqual(Object.keys(formats.body.output), ['GTiff']);
    const message = await rejectedCreate(loadAndSave({}, 'PNG'), 400, 'FormatUnsuitable');
    assert.match(message, /'PNG'/);
    assert.match(message, /GTiff/, 'the message lists the allowed formats');
    // Format names match case-insensitively, as on the openeo-python-driver back-ends.
    assert.equal(
      (await api(emulator, '/jobs', { method: 'POST', token, body: { process: loadAndSave({}, 'gtiff') } })).status,
      201,
    );
  });

  it('answers ProcessParameterUnsupported for an argument the UDP does not declare', async () => {
    const message = await rejectedCreate(
      bapCall({ ...VALID_BAP_ARGS, resolution: 10 }),
      400,
      'ProcessParameterUnsupported',
    );
    assert.match(message, /'resolution'/);
    assert.match(message, /bap_composite/);
  });

  it('answers ProcessParameterRequired at creation when a required UDP argument is missing', async () => {
    const message = await rejectedCreate(bapCall({ geometry: GEOMETRY }), 400, 'ProcessParameterRequired');
    assert.match(message, /'temporal_extent'/);
  });

  it('answers ProcessParameterInvalid naming the parameter for UDP arguments of the wrong type', async () => {
    const cases: Array<[string, unknown]> = [
      ['temporal_extent', '2024-06-01/2024-09-01'],
      ['temporal_extent', ['2024-06-01']],
      ['temporal_extent', ['2024-06-01', '2024-07-01', '2024-09-01']],
      ['temporal_extent', ['June', '2024-09-01']],
      ['geometry', 'POLYGON((4 51, 5 51, 5 52, 4 51))'],
      ['max_cloud_cover', 'low'],
      ['max_cloud_cover', 150],
      ['bands', 'B04'],
      ['bands', ['B04', 'B99']],
    ];
    for (const [name, value] of cases) {
      const message = await rejectedCreate(
        bapCall({ ...VALID_BAP_ARGS, [name]: value }),
        400,
        'ProcessParameterInvalid',
      );
      assert.match(
        message,
        new RegExp(`parameter '${name}' in process 'bap_composite'`),
        `${name} = ${JSON.stringify(value)}: ${message}`,
      );
    }
    await assert.rejects(connection.createJob(bapCall({ ...VALID_BAP_ARGS, max_cloud_cover: 'low' })), {
      code: 'ProcessParameterInvalid',
    });
  });

  it('accepts values that are only known when the process runs, and valid optional arguments', async () => {
    const deferred = loadAndSave({ id: { from_parameter: 'collection' }, bands: [{ from_parameter: 'band' }] });
    assert.equal((await api(emulator, '/jobs', { method: 'POST', token, body: { process: deferred } })).status, 201);
    const full = bapCall({
      ...VALID_BAP_ARGS,
      temporal_extent: ['2024-06-01T00:00:00Z', null],
      bands: ['B08', 'B11'],
      max_cloud_cover: 40,
    });
    assert.equal((await api(emulator, '/jobs', { method: 'POST', token, body: { process: full } })).status, 201);
  });

  it('rejects a PATCH with a bad process and keeps the job as it was', async () => {
    const created = await api(emulator, '/jobs', { method: 'POST', token, body: { process: loadAndSave({}) } });
    const id = created.headers.get('openeo-identifier');
    const patched = await api(emulator, `/jobs/${id}`, {
      method: 'PATCH',
      token,
      body: { process: loadAndSave({ id: 'NOPE' }) },
    });
    assertApiError(patched, 404, 'CollectionNotFound');
    assert.deepEqual((await api(emulator, `/jobs/${id}`, { token })).body.process, loadAndSave({}));
  });

  it('lists the bands of every collection as real back-ends do, including the BAP UDP collection', async () => {
    const collection = (await api(emulator, '/collections/SENTINEL2_L2A')).body;
    const values: string[] = collection['cube:dimensions'].bands.values;
    assert.ok(
      ['B02', 'B03', 'B04', 'B08', 'B8A', 'B11', 'B12', 'SCL'].every((band) => values.includes(band)),
      values.join(),
    );
    assert.deepEqual(
      collection.summaries['eo:bands'].map((band: { name: string }) => band.name),
      values,
    );
    const listed = (await api(emulator, '/collections')).body.collections;
    for (const each of listed) assert.ok(each['cube:dimensions'].bands.values.length > 0, `${each.id} lists its bands`);
  });
});

describe('emulator fidelity: POST /validation', () => {
  let emulator: RunningEmulator;
  let connection: Connection;

  before(async () => {
    emulator = await startEmulator();
    connection = await OpenEO.connect(emulator.url);
  });
  after(() => emulator.close());

  async function validate(body: unknown): Promise<Array<{ code: string; message: string }>> {
    const response = await api(emulator, '/validation', { method: 'POST', body });
    assert.equal(response.status, 200, response.text);
    return response.body.errors;
  }

  it('is listed in the capabilities and answers an empty list for a valid process, without a job', async () => {
    const capabilities = await api(emulator, '/');
    assert.ok(
      capabilities.body.endpoints.some(
        (e: { path: string; methods: string[] }) => e.path === '/validation' && e.methods.includes('POST'),
      ),
    );
    assert.deepEqual(await validate(bapCall(VALID_BAP_ARGS)), []);
    assert.equal(emulator.admin.jobs().length, 0);
  });

  it('reports every problem of the graph, with the codes job creation would answer', async () => {
    const graph = {
      process_graph: {
        load: { process_id: 'load_collection', arguments: { id: 'NOPE' } },
        bap: {
          process_id: 'bap_composite',
          namespace: BAP_COMPOSITE_NAMESPACE,
          arguments: { geometry: GEOMETRY, temporal_extent: 'summer', extra: 1 },
        },
        save: {
          process_id: 'save_result',
          arguments: { data: { from_node: 'bap' }, format: 'JPEG2000' },
          result: true,
        },
      },
    };
    const errors = await validate(graph);
    // The dry run also finds load_collection without its required extents.
    assert.deepEqual(errors.map((e) => e.code).sort(), [
      'CollectionNotFound',
      'FormatUnsuitable',
      'ProcessParameterInvalid',
      'ProcessParameterRequired',
      'ProcessParameterRequired',
      'ProcessParameterUnsupported',
    ]);
    assert.ok(errors.some((e) => /'temporal_extent'/.test(e.message)));
    assert.ok(errors.some((e) => /'extra'/.test(e.message)));
    // The js-client's validateProcess sees the same list.
    const viaClient = await connection.validateProcess(graph);
    assert.deepEqual(viaClient.map((e: { code: string }) => e.code).sort(), errors.map((e) => e.code).sort());
    assert.equal(emulator.admin.jobs().length, 0);
  });

  it('reports, like a dry run, processes the backend does not offer and calls of predefined processes that do not match them', async () => {
    const graph = loadAndSave({});
    const nodes = graph.process_graph as Record<string, { process_id: string; arguments: Record<string, unknown> }>;
    nodes.ndvi = { process_id: 'ndvi', arguments: { data: { from_node: 'load' }, nir: 'B08', scale: 2 } };
    nodes.smooth = { process_id: 'smooth_everything', arguments: { data: { from_node: 'ndvi' } } };
    nodes.filter = {
      process_id: 'filter_spatial',
      arguments: {
        data: { from_node: 'smooth' },
        callback: { process_graph: { x: { process_id: 'lte', arguments: { x: 1 }, result: true } } },
      },
    };
    delete nodes.load.arguments.temporal_extent;
    const errors = await validate(graph);
    const found = errors.map((e) => `${e.code} ${e.message}`);
    assert.ok(
      found.some((e) => /^ProcessUnsupported .*'smooth_everything' is not available/.test(e)),
      found.join('\n'),
    );
    assert.ok(
      found.some((e) => /^ProcessParameterRequired .*'load_collection' parameter 'temporal_extent'/.test(e)),
      found.join('\n'),
    );
    assert.ok(
      found.some((e) => /^ProcessParameterUnsupported .*'ndvi' does not support parameter 'scale'/.test(e)),
      found.join('\n'),
    );
    assert.ok(
      found.some((e) => /^ProcessParameterRequired .*'filter_spatial' parameter 'geometries'/.test(e)),
      found.join('\n'),
    );
    assert.ok(
      found.some((e) => /^ProcessParameterRequired .*'lte' parameter 'y' is required \(node 'x'\)/.test(e)),
      'callbacks are checked too',
    );
    assert.equal(errors.length, 6, found.join('\n'));
    // Job creation takes the graph as it is, as on back-ends that check only when the job runs.
    const token = await login(emulator);
    assert.equal((await api(emulator, '/jobs', { method: 'POST', token, body: { process: graph } })).status, 201);
  });

  it('reports a malformed graph in the list, and answers 400 only when there is no graph', async () => {
    const noResult = await validate({
      process_graph: { a: { process_id: 'load_collection', arguments: { id: 'SENTINEL2_L2A' } } },
    });
    assert.deepEqual(
      noResult.map((e) => e.code),
      ['ProcessGraphInvalid'],
    );
    assertApiError(
      await api(emulator, '/validation', { method: 'POST', body: { title: 'no graph' } }),
      400,
      'ProcessGraphMissing',
    );
  });
});

describe('emulator fidelity: when graph problems surface (graphChecks)', () => {
  it('start: creation succeeds, the start request is refused and the job stays created (as on CDSE)', async () => {
    await withEmulator({ graphChecks: 'start' }, async (emulator) => {
      const token = await login(emulator);
      const created = await api(emulator, '/jobs', {
        method: 'POST',
        token,
        body: { process: loadAndSave({ id: 'NOPE' }) },
      });
      assert.equal(created.status, 201, created.text);
      const id = created.headers.get('openeo-identifier');
      const started = await api(emulator, `/jobs/${id}/results`, { method: 'POST', token });
      assertApiError(started, 404, 'CollectionNotFound');
      assert.equal((await api(emulator, `/jobs/${id}`, { token })).body.status, 'created');
    });
  });

  it('run: the job starts and ends in error with the problem in its log', async () => {
    const clock = new ManualClock();
    await withEmulator(
      { graphChecks: 'run', clock, jobDurations: { queuedMs: 0, runningMs: 1000 } },
      async (emulator) => {
        const token = await login(emulator);
        const created = await api(emulator, '/jobs', {
          method: 'POST',
          token,
          body: { process: loadAndSave({}, 'PNG') },
        });
        assert.equal(created.status, 201, created.text);
        const id = created.headers.get('openeo-identifier');
        assert.equal((await api(emulator, `/jobs/${id}/results`, { method: 'POST', token })).status, 202);
        clock.advance(2000);
        assert.equal((await api(emulator, `/jobs/${id}`, { token })).body.status, 'error');
        const logs = (await api(emulator, `/jobs/${id}/logs?level=error`, { token })).body.logs;
        assert.equal(logs[0].code, 'FormatUnsuitable');
        assert.match(logs[0].message, /'PNG'/);
      },
    );
  });

  it('refuses an unknown mode with the option named, in code and on the command line', async () => {
    await assert.rejects(startEmulator({ graphChecks: 'later' as never }), /graphChecks/);
    const flags = { port: 0, queuedSeconds: 1, runningSeconds: 1, maxRunning: 1 };
    assert.equal((await emulatorOptionsFromFlags({ ...flags, graphChecks: 'start' })).graphChecks, 'start');
    await assert.rejects(
      emulatorOptionsFromFlags({ ...flags, graphChecks: 'never' }),
      /--graph-checks must be one of create, start, run/,
    );
  });
});
