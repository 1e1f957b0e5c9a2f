/**
 * `plan` and the front door against a real dev server and emulators: a plan shows the tiles,
 * where they go and what the backends say, and creates no job and no workflow; bad specs get
 * every problem at once from `plan` and `start`; a batch above maxTiles starts only when
 * confirmed; a UDP namespace that answers 404 fails the batch before any job.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { readFile, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import type { BatchPlan, PlannedTiles } from '../../src/app/plan';
import type { CredentialStore } from '../../src/core/openeo/credentials';
import type { BatchSpecInput } from '../../src/core/batch-spec/schema';
import { InvalidSpecError } from '../../src/core/batch-spec/validate';
import { BAP_COMPOSITE_UDP, DEFAULT_UDP_REGISTRY } from '../../src/tools/emulator';
import { EMULATOR_USER, startHarness, type Harness } from '../support/harness';

const run = promisify(execFile);
const CLI = join(__dirname, '..', '..', 'src', 'app', 'cli', 'main.js');

/** The BAP composite's definition as its namespace URL serves it (the parameters as published). */
const BAP_DEFINITION = {
  id: 'bap_composite',
  summary: 'Best-available-pixel composite',
  parameters: BAP_COMPOSITE_UDP.parameters,
  process_graph: {
    load: {
      process_id: 'load_collection',
      arguments: {
        id: 'SENTINEL2_L2A',
        spatial_extent: { from_parameter: 'geometry' },
        temporal_extent: { from_parameter: 'temporal_extent' },
        bands: { from_parameter: 'bands' },
      },
      result: true,
    },
  },
};

/** A web server with a UDP definition, a URL that is gone, and a page that is not JSON. */
async function startUdpHost(): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    if (req.url === '/bap_composite.json')
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(BAP_DEFINITION));
    else if (req.url === '/about.html')
      res.writeHead(200, { 'content-type': 'text/html' }).end('<html>a page about the UDP</html>');
    else res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

const square = (w: number, s: number) => [
  [w, s],
  [w + 0.02, s],
  [w + 0.02, s + 0.02],
  [w, s + 0.02],
  [w, s],
];
const bowtie = (w: number, s: number) => [
  [w, s],
  [w + 0.02, s + 0.02],
  [w + 0.02, s],
  [w, s + 0.02],
  [w, s],
];

describe('plan and the front door', () => {
  let h: Harness;
  let udpHost: { server: Server; url: string };
  let credentials: CredentialStore;
  let udpUrl: string;

  before(async () => {
    udpHost = await startUdpHost();
    udpUrl = `${udpHost.url}/bap_composite.json`;
    const udpRegistry = { ...DEFAULT_UDP_REGISTRY, [udpUrl]: BAP_COMPOSITE_UDP };
    h = await startHarness({ udpRegistry, maxRunningJobsPerUser: 10 }, { second: { udpRegistry } });
    credentials = Object.fromEntries(
      [
        ['emulator', h.emulator.url],
        ['second', h.backends.second.url],
      ].map(([name, url]) => [name, { url, auth: { type: 'basic' as const, ...EMULATOR_USER } }]),
    );
    await h.startWorker();
  });
  after(async () => {
    await h?.teardown();
    udpHost?.server.close();
  });

  /** A spec over two backends calling the UDP on the local host. */
  function twoBackendSpec(
    batchId: string,
    overrides: Partial<BatchSpecInput> & { cols?: number; rows?: number } = {},
  ): BatchSpecInput {
    return h.spec({
      batchId,
      cols: 3,
      rows: 2,
      backends: [
        { name: 'emulator', url: h.emulator.url, parallelJobs: 2 },
        { name: 'second', url: h.backends.second.url, parallelJobs: 1 },
      ],
      process: { processId: 'bap_composite', namespace: udpUrl },
      ...overrides,
    });
  }

  /** Runs the project's CLI with the worker's backend variables; resolves also when it exits non-zero. */
  async function openeoTemporal(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    const env = {
      ...process.env,
      TEMPORAL_ADDRESS: h.server.address,
      TEMPORAL_NAMESPACE: h.server.namespace,
      OPENEO_BACKEND_EMULATOR_URL: h.emulator.url,
      OPENEO_BACKEND_SECOND_URL: h.backends.second.url,
      ...Object.fromEntries(
        ['EMULATOR', 'SECOND'].flatMap((n) => [
          [`OPENEO_BACKEND_${n}_USERNAME`, EMULATOR_USER.username],
          [`OPENEO_BACKEND_${n}_PASSWORD`, EMULATOR_USER.password],
        ]),
      ),
    };
    try {
      const { stdout, stderr } = await run(process.execPath, [CLI, ...args], { env });
      return { code: 0, stdout, stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  }

  const jobsCreated = () => h.emulator.admin.stats().jobs.created + h.backends.second.admin.stats().jobs.created;

  async function assertNoWorkflow(batchId: string): Promise<void> {
    await assert.rejects(h.temporal.workflow.getHandle(batchId).describe(), `no workflow ${batchId}`);
  }

  it('plans a good batch: tiles per backend, area, jobs, duration, the tiles as GeoJSON, the backends asked, and no job or workflow', async () => {
    const specFile = join(h.workDir, 'planned.json');
    const tilesFile = join(h.workDir, 'planned-tiles.geojson');
    await writeFile(specFile, JSON.stringify(twoBackendSpec('planned')));
    const result = await openeoTemporal(['plan', specFile, '--tiles-out', tilesFile, '--job-minutes', '10', '--json']);
    assert.equal(result.code, 0, result.stderr + result.stdout);
    const plan = JSON.parse(result.stdout) as BatchPlan & { tilesFile: string };
    assert.deepEqual(plan.problems, []);
    assert.deepEqual(plan.unchecked, []);
    assert.equal(plan.totalTiles, 6);
    assert.deepEqual(
      plan.backends.map((b) => [b.name, b.tiles, b.rounds]),
      [
        ['emulator', 4, 2],
        ['second', 2, 2],
      ],
    );
    for (const backend of plan.backends) assert.deepEqual(backend.checked, ['login', 'collections', 'validation']);
    assert.ok(plan.areaKm2 !== undefined && plan.areaKm2 > 148 && plan.areaKm2 < 150.5, String(plan.areaKm2));
    assert.deepEqual(plan.jobs, { expected: 6, atMost: 12 });
    assert.equal(plan.estimate?.minutes, 20);

    const tiles = JSON.parse(await readFile(tilesFile, 'utf8')) as PlannedTiles;
    assert.equal(tiles.type, 'FeatureCollection');
    assert.equal(tiles.features.filter((f) => f.properties.backend === 'emulator').length, 4);
    assert.equal(tiles.features.filter((f) => f.properties.backend === 'second').length, 2);
    assert.ok(tiles.features.every((f) => f.geometry.type === 'Polygon' && f.id === f.properties.tileId));

    const text = await openeoTemporal(['plan', specFile]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /tiles: +6 \(maxTiles 10,000\), covering 1\d\d\.\d km²/);
    assert.match(
      text.stdout,
      /second \(http:\/\/127\.0\.0\.1:\d+\): 2 tiles, 2 rounds of up to 1 jobs; checked: login, collections, validation/,
    );
    assert.match(text.stdout, /no problems found/);

    assert.equal(jobsCreated(), 0, 'a plan creates no openEO job');
    await assertNoWorkflow('planned');
  });

  it('lists every problem of a bad spec at once, and start refuses them all before any workflow', async () => {
    const spec = twoBackendSpec('bad-everything', {
      process: { processId: 'bap_composite', namespace: `${udpHost.url}/gone.json` },
    });
    spec.backends[0].parallelJobs = 0;
    spec.tiles = { aoi: { west: 4.4, south: 51.2, east: 4.5, north: 51.3, crs: 'EPSG:99999' }, tileSize: 1e9 };
    const expected = ['backends[0].parallelJobs', 'tiles.aoi.crs', 'tiles.tileSize', 'process.namespace'];

    const plan = await h.client.plan(spec, { credentials });
    const fields = plan.problems.map((p) => p.field);
    assert.equal(plan.ok, false);
    for (const field of expected) assert.ok(fields.includes(field), `${field} in ${fields.join(', ')}`);
    assert.match(
      plan.problems.find((p) => p.field === 'process.namespace')?.problem ?? '',
      /gone\.json answers HTTP 404/,
    );

    await assert.rejects(h.client.start(spec), (err: unknown) => {
      assert.ok(err instanceof InvalidSpecError);
      for (const field of expected)
        assert.ok(
          err.issues.some((i) => i.field === field),
          `${field} in ${err.message}`,
        );
      return true;
    });
    await assertNoWorkflow('bad-everything');
  });

  it('names self-intersecting tiles and the parameters the UDP does not take or needs, and what the backends find', async () => {
    const features = [
      {
        type: 'Feature' as const,
        id: 'fine',
        geometry: { type: 'Polygon', coordinates: [square(4.4, 51.2)] },
        properties: {},
      },
      {
        type: 'Feature' as const,
        id: 'crossed',
        geometry: { type: 'Polygon', coordinates: [bowtie(4.5, 51.2)] },
        properties: {},
      },
    ];
    const spec = twoBackendSpec('bad-tiles', {
      tiles: { type: 'FeatureCollection', features },
      parameterDefaults: { temporal_extnt: ['2024-06-01', '2024-09-01'] },
    });
    const plan = await h.client.plan(spec, { credentials });
    const byField = new Map(plan.problems.map((p) => [p.field, p]));
    assert.match(byField.get('tiles.features[1].geometry')?.problem ?? '', /tile "crossed" is not a valid polygon/);
    assert.match(byField.get('parameterDefaults.temporal_extnt')?.problem ?? '', /has no parameter "temporal_extnt"/);
    assert.match(byField.get('parameterDefaults')?.problem ?? '', /requires the parameter "temporal_extent"/);
    // The backends' own POST /validation of the first tile's job says the same, in their words.
    assert.ok(
      plan.problems.some((p) => p.field === 'backends[0]' && /ProcessParameterRequired/.test(p.problem)),
      JSON.stringify(plan.problems, null, 1),
    );
    await assert.rejects(
      h.client.start(spec),
      (err: unknown) => err instanceof InvalidSpecError && /tiles\.features\[1\]\.geometry/.test(err.message),
    );
    assert.equal(jobsCreated(), 0);
  });

  it('asks each backend for the collections and formats of a process graph', async () => {
    const processGraph = {
      load: {
        process_id: 'load_collection',
        arguments: { id: 'NO_SUCH_COLLECTION', spatial_extent: { from_parameter: 'geometry' }, temporal_extent: null },
      },
      save: { process_id: 'save_result', arguments: { data: { from_node: 'load' }, format: 'JPEG2000' }, result: true },
    };
    const plan = await h.client.plan(
      twoBackendSpec('bad-graph', { process: { processGraph }, parameterDefaults: {} }),
      { credentials },
    );
    const codes = plan.problems.filter((p) => p.field === 'backends[1]').map((p) => p.code);
    assert.ok(
      codes.includes('collection_not_found') &&
        codes.includes('format_not_supported') &&
        codes.includes('backend_validation'),
      codes.join(),
    );
    assert.match(
      plan.problems.find((p) => p.code === 'collection_not_found')?.problem ?? '',
      /has no collection "NO_SUCH_COLLECTION"/,
    );
    assert.equal(jobsCreated(), 0);
  });

  /** An inline graph that loads `collection` and saves GTiff, otherwise fine on the emulator. */
  function collectionSpec(batchId: string, collection: string): BatchSpecInput {
    const processGraph = {
      load: {
        process_id: 'load_collection',
        arguments: {
          id: collection,
          spatial_extent: { from_parameter: 'geometry' },
          temporal_extent: ['2024-06-01', '2024-07-01'],
        },
      },
      save: { process_id: 'save_result', arguments: { data: { from_node: 'load' }, format: 'GTiff' }, result: true },
    };
    return h.spec({ batchId, cols: 2, rows: 1, process: { processGraph }, parameterDefaults: {} });
  }

  it('refuses a collection the backend does not have in plan and in the batch alike, before any job, also when started without the client', async () => {
    const spec = collectionSpec('no-collection', 'NO_SUCH_COLLECTION');
    const plan = await h.client.plan(spec, { credentials });
    assert.equal(plan.ok, false);
    const missing = plan.problems.find((p) => p.code === 'collection_not_found');
    assert.equal(missing?.field, 'backends[0]');
    assert.match(
      missing?.problem ?? '',
      /has no collection "NO_SUCH_COLLECTION", which the process loads \(load_collection id; GET \/collections\/NO_SUCH_COLLECTION answered HTTP 404 CollectionNotFound/,
    );

    const before = jobsCreated();
    // Started as the plain Temporal CLI would: only the batch's own check stands before the jobs.
    const handle = await h.temporal.workflow.start('batchWorkflow', {
      taskQueue: h.taskQueue,
      workflowId: 'no-collection',
      args: [spec],
    });
    await assert.rejects(handle.result(), (err: unknown) => {
      assert.ok(err instanceof WorkflowFailedError);
      const cause = err.cause as Error & { type?: string };
      assert.equal(cause.type, 'InvalidBatchSpec');
      assert.match(cause.message, /backends\[0\]: backend "emulator" has no collection "NO_SUCH_COLLECTION"/);
      // Every problem plan names, the batch names.
      for (const problem of plan.problems)
        assert.ok(cause.message.includes(problem.problem), `${problem.problem} in ${cause.message}`);
      return true;
    });
    assert.equal(jobsCreated(), before, 'no job was created');
    assert.deepEqual(
      h.emulator.admin.jobs().filter((j) => j.title?.startsWith('no-collection/')),
      [],
    );
  });

  it('says a collection could not be checked when the backend answers its lookup with 404 JobNotFound, and neither plan nor the batch refuses', async () => {
    // A backend that answers paths it does not know with 404 JobNotFound: that says nothing about the collection.
    h.emulator.admin.setFaults({
      routes: [
        {
          route: 'GET /collections/{collection_id}',
          fault: { type: 'status', status: 404, code: 'JobNotFound', message: 'no such job' },
        },
      ],
    });
    try {
      const spec = collectionSpec('unknown-answer', 'SENTINEL2_L2A');
      const plan = await h.client.plan(spec, { credentials });
      assert.deepEqual(plan.problems, []);
      assert.equal(plan.ok, true);
      assert.ok(
        plan.unchecked.some((u) =>
          /^backends\[0\] \(emulator\): collection "SENTINEL2_L2A" could not be checked \(GET \/collections\/SENTINEL2_L2A answered HTTP 404 JobNotFound/.test(
            u,
          ),
        ),
        plan.unchecked.join('\n'),
      );
      assert.ok(!plan.backends[0].checked.includes('collections'), plan.backends[0].checked.join());

      const { handle } = await h.client.start(spec);
      const summary = await handle.result();
      assert.equal(summary.counts.finished, 2);
    } finally {
      h.emulator.admin.setFaults({});
    }
  });

  it('refuses a batch above maxTiles until confirmed; start --yes runs it', async () => {
    const specFile = join(h.workDir, 'confirm.json');
    await writeFile(specFile, JSON.stringify(h.spec({ batchId: 'confirm-size', cols: 2, rows: 2, maxTiles: 3 })));
    const refused = await openeoTemporal(['start', specFile, '--task-queue', h.taskQueue]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /maxTiles: the batch has 4 tiles, more than maxTiles \(3\)/);
    assert.match(refused.stderr, /start --yes/);
    await assertNoWorkflow('confirm-size');

    const confirmed = await openeoTemporal(['start', specFile, '--task-queue', h.taskQueue, '--yes', '--wait']);
    assert.equal(confirmed.code, 0, confirmed.stderr);
    assert.match(confirmed.stdout, /4\/4 tiles done/);
  });

  it('fails a batch whose UDP namespace answers 404 before any job, also when started without the client', async () => {
    const before = jobsCreated();
    const spec = h.spec({
      batchId: 'gone-direct',
      process: { processId: 'bap_composite', namespace: `${udpHost.url}/gone.json` },
    });
    const handle = await h.temporal.workflow.start('batchWorkflow', {
      taskQueue: h.taskQueue,
      workflowId: 'gone-direct',
      args: [spec],
    });
    await assert.rejects(handle.result(), (err: unknown) => {
      assert.ok(err instanceof WorkflowFailedError);
      const cause = err.cause as Error & { type?: string };
      assert.equal(cause.type, 'InvalidBatchSpec');
      assert.match(cause.message, /process\.namespace: .*gone\.json answers HTTP 404/);
      return true;
    });
    const page = h.spec({
      batchId: 'not-json',
      process: { processId: 'bap_composite', namespace: `${udpHost.url}/about.html` },
    });
    await assert.rejects(
      h.client.start(page),
      (err: unknown) =>
        err instanceof InvalidSpecError && /about\.html does not answer JSON \(text\/html\)/.test(err.message),
    );
    assert.equal(jobsCreated(), before, 'no job was created');
  });
});
