/**
 * The openEO emulator over real HTTP on 127.0.0.1: discovery, auth, the job
 * lifecycle through @openeo/js-client and raw fetch, limits, failures,
 * remote processes, logs and signed asset downloads.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';

import { OpenEO } from '@openeo/js-client';
import { fromArrayBuffer } from 'geotiff';
import proj4 from 'proj4';

import {
  BAP_COMPOSITE_NAMESPACE,
  ManualClock,
  startEmulator,
  type RequestHook,
  type RunningEmulator,
} from '../../src/tools/emulator';
import { api, login, withEmulator, type ApiResponse } from '../support/emulator-api';

// ---------------------------------------------------------------- helpers

/** A bbox object as sent by tiling clients. */
interface BoxArg {
  west: number;
  south: number;
  east: number;
  north: number;
  crs?: string | number;
}

/** Asserts an openEO error response with the given status and code. */
function assertApiError(response: ApiResponse, status: number, code: string): void {
  assert.equal(response.status, status, `expected HTTP ${status}, got ${response.status}: ${response.text}`);
  assert.equal(response.body?.code, code, response.text);
  assert.equal(typeof response.body.message, 'string');
  assert.equal(typeof response.body.id, 'string');
  assert.deepEqual(response.body.links, []);
}

/** Creates a job through raw HTTP and returns its id. */
async function createJob(
  emulator: RunningEmulator,
  token: string,
  process: Record<string, unknown>,
  title: string | null = null,
  extra: Record<string, unknown> = {},
): Promise<string> {
  const response = await api(emulator, '/jobs', { method: 'POST', token, body: { title, process, ...extra } });
  assert.equal(response.status, 201, response.text);
  const id = response.headers.get('openeo-identifier');
  assert.ok(id, 'OpenEO-Identifier header missing');
  return id;
}

/** Starts a job through raw HTTP. */
async function startJob(emulator: RunningEmulator, token: string, id: string): Promise<void> {
  const response = await api(emulator, `/jobs/${id}/results`, { method: 'POST', token });
  assert.equal(response.status, 202, response.text);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `GET /jobs/{id}` until the job has one of `statuses`; returns the job document. */
async function waitForStatus(
  emulator: RunningEmulator,
  token: string,
  id: string,
  statuses: string[],
  timeoutMs = 3000,
): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    const response = await api(emulator, `/jobs/${id}`, { token });
    assert.equal(response.status, 200, response.text);
    last = response.body.status;
    if (statuses.includes(last)) return response.body;
    await sleep(10);
  }
  throw new Error(`job ${id} did not reach ${statuses.join('/')} within ${timeoutMs} ms (last status ${last})`);
}

/** A load_collection → save_result graph over `box`. */
function tileProcess(box: BoxArg): Record<string, unknown> {
  return {
    process_graph: {
      load: {
        process_id: 'load_collection',
        arguments: {
          id: 'SENTINEL2_L2A',
          spatial_extent: box,
          temporal_extent: ['2024-05-01', '2024-06-01'],
          bands: ['B04'],
        },
      },
      save: { process_id: 'save_result', arguments: { data: { from_node: 'load' }, format: 'GTiff' }, result: true },
    },
  };
}

/** A graph calling the APEx bap_composite UDP by namespace URL with the given arguments. */
function bapProcess(args: Record<string, unknown>, namespace = BAP_COMPOSITE_NAMESPACE): Record<string, unknown> {
  return {
    process_graph: {
      bap: { process_id: 'bap_composite', namespace, arguments: args },
      save: { process_id: 'save_result', arguments: { data: { from_node: 'bap' }, format: 'GTiff' }, result: true },
    },
  };
}

const ANTWERP: BoxArg = { west: 4.35, south: 51.18, east: 4.45, north: 51.24 };

/** Fast jobs for the lifecycle tests. */
const FAST = { queuedMs: 20, runningMs: 60 };

// ---------------------------------------------------------------- tests

describe('emulator: discovery', () => {
  let emulator: RunningEmulator;
  before(async () => {
    emulator = await startEmulator({ jobDurations: FAST });
  });
  after(() => emulator.close());

  it('serves the well-known document with an absolute URL of API 1.2.0', async () => {
    const response = await api(emulator, `${emulator.url}/.well-known/openeo`);
    assert.equal(response.status, 200);
    assert.deepEqual(response.body.versions, [
      { url: `${emulator.url}/openeo/1.2`, api_version: '1.2.0', production: true },
    ]);
  });

  it('lists exactly the implemented endpoints in the capabilities', async () => {
    const response = await api(emulator, '/');
    assert.equal(response.status, 200);
    const capabilities = response.body;
    for (const field of [
      'api_version',
      'backend_version',
      'stac_version',
      'id',
      'title',
      'description',
      'endpoints',
      'links',
    ]) {
      assert.ok(field in capabilities, `capabilities lack ${field}`);
    }
    assert.equal(capabilities.api_version, '1.2.0');
    assert.deepEqual(capabilities.billing, { currency: 'credits' });
    const listed = new Map<string, string[]>(
      capabilities.endpoints.map((e: { path: string; methods: string[] }) => [e.path, [...e.methods].sort()]),
    );
    assert.deepEqual(listed.get('/jobs'), ['GET', 'POST']);
    assert.deepEqual(listed.get('/jobs/{job_id}'), ['DELETE', 'GET', 'PATCH']);
    assert.deepEqual(listed.get('/jobs/{job_id}/estimate'), ['GET']);
    assert.deepEqual(listed.get('/conformance'), ['GET']);
    assert.ok(!listed.has('/credentials/oidc'), 'no OIDC provider configured, so the endpoint is not advertised');
    assert.deepEqual(listed.get('/jobs/{job_id}/results'), ['DELETE', 'GET', 'POST']);
    assert.deepEqual(listed.get('/jobs/{job_id}/logs'), ['GET']);
    assert.deepEqual(listed.get('/credentials/basic'), ['GET']);
    for (const path of listed.keys()) {
      assert.ok(!path.includes('_emulator') && !path.includes('assets'), `unexpected endpoint ${path}`);
    }
    // Every listed endpoint must answer something other than 404/405.
    const token = await login(emulator);
    for (const [path, methods] of listed) {
      if (!methods.includes('GET') || path.includes('{job_id}') || path.startsWith('/credentials')) continue;
      const probe = await api(emulator, path.replace('{collection_id}', 'SENTINEL2_L2A'), { token });
      assert.equal(probe.status, 200, `${path}: ${probe.text}`);
    }
  });

  it('enables the js-client features the tiling workflow uses', async () => {
    const connection = await OpenEO.connect(emulator.url);
    const capabilities = connection.capabilities();
    for (const feature of [
      'createJob',
      'describeJob',
      'updateJob',
      'estimateJob',
      'startJob',
      'stopJob',
      'listResults',
      'debugJob',
      'listJobs',
      'deleteJob',
      'authenticateBasic',
    ]) {
      assert.ok(capabilities.hasFeature(feature), `feature ${feature} not detected`);
    }
    assert.equal(capabilities.hasFeature('authenticateOIDC'), false, 'no OIDC provider is configured');
    assert.equal(
      capabilities.hasConformance('https://api.openeo.org/extensions/remote-process-definition/0.1.0'),
      true,
    );
  });

  it('describes collections, processes and file formats', async () => {
    const collections = await api(emulator, '/collections');
    const s2 = collections.body.collections.find((c: { id: string }) => c.id === 'SENTINEL2_L2A');
    assert.ok(s2, 'SENTINEL2_L2A missing');
    assert.ok(Array.isArray(s2.links) && s2.links.length > 0);
    assert.ok(Array.isArray(s2.extent.spatial.bbox));
    assert.ok(Array.isArray(collections.body.links));
    const processes = await api(emulator, '/processes');
    assert.ok(processes.body.processes.length >= 5);
    for (const process of processes.body.processes) {
      assert.equal(typeof process.id, 'string');
      assert.equal(typeof process.description, 'string');
      assert.ok(Array.isArray(process.parameters));
      assert.ok(process.returns && 'schema' in process.returns);
    }
    const formats = await api(emulator, '/file_formats');
    assert.deepEqual(formats.body.output.GTiff.gis_data_types, ['raster']);
    assert.equal(typeof formats.body.input, 'object');
    assertApiError(await api(emulator, '/collections/NOPE'), 404, 'CollectionNotFound');
  });

  it('answers unknown routes with 404 NotFound and wrong methods with 405', async () => {
    assertApiError(await api(emulator, '/nothing-here'), 404, 'NotFound');
    assertApiError(await api(emulator, `${emulator.url}/openeo/1.1/jobs`), 404, 'UnsupportedApiVersion');
    const wrongMethod = await api(emulator, '/jobs/some-id', { method: 'PUT' });
    assertApiError(wrongMethod, 405, 'MethodNotAllowed');
    assert.match(wrongMethod.headers.get('allow') ?? '', /GET/);
  });
});

describe('emulator: authentication', () => {
  let emulator: RunningEmulator;
  before(async () => {
    emulator = await startEmulator({
      jobDurations: FAST,
      users: [
        { username: 'alice', password: 'a-secret' },
        { username: 'bob', password: 'b-secret' },
      ],
    });
  });
  after(() => emulator.close());

  it('requires HTTP Basic credentials and rejects wrong passwords', async () => {
    const missing = await api(emulator, '/credentials/basic');
    assertApiError(missing, 401, 'AuthenticationRequired');
    const basic = Buffer.from('alice:wrong').toString('base64');
    assertApiError(
      await api(emulator, '/credentials/basic', { headers: { Authorization: `Basic ${basic}` } }),
      403,
      'CredentialsInvalid',
    );
    const unknownUser = Buffer.from('mallory:a-secret').toString('base64');
    assertApiError(
      await api(emulator, '/credentials/basic', { headers: { Authorization: `Basic ${unknownUser}` } }),
      403,
      'CredentialsInvalid',
    );
  });

  it('checks Bearer tokens: missing 401, unknown 403, valid 200 with the user id', async () => {
    assertApiError(await api(emulator, '/jobs'), 401, 'AuthenticationRequired');
    assertApiError(await api(emulator, '/jobs', { token: 'not-a-token' }), 403, 'TokenInvalid');
    const withoutPrefix = await api(emulator, '/me', {
      headers: { Authorization: `Bearer ${await login(emulator, 'alice', 'a-secret')}` },
    });
    assertApiError(withoutPrefix, 403, 'TokenInvalid');
    const me = await api(emulator, '/me', { token: await login(emulator, 'alice', 'a-secret') });
    assert.equal(me.status, 200);
    assert.equal(me.body.user_id, 'alice');
  });

  it('expires tokens after the configured lifetime', async () => {
    const shortLived = await startEmulator({ tokenLifetimeMs: 300 });
    try {
      const token = await login(shortLived);
      assert.equal((await api(shortLived, '/me', { token })).status, 200);
      await sleep(350);
      assertApiError(await api(shortLived, '/me', { token }), 403, 'TokenInvalid');
    } finally {
      await shortLived.close();
    }
  });

  it("hides other users' jobs (404 JobNotFound) and lists only own jobs", async () => {
    const alice = await login(emulator, 'alice', 'a-secret');
    const bob = await login(emulator, 'bob', 'b-secret');
    const id = await createJob(emulator, alice, tileProcess(ANTWERP), 'alice-job');
    assertApiError(await api(emulator, `/jobs/${id}`, { token: bob }), 404, 'JobNotFound');
    assertApiError(await api(emulator, `/jobs/${id}/results`, { method: 'POST', token: bob }), 404, 'JobNotFound');
    assertApiError(await api(emulator, `/jobs/${id}`, { method: 'DELETE', token: bob }), 404, 'JobNotFound');
    const bobsList = await api(emulator, '/jobs', { token: bob });
    assert.deepEqual(bobsList.body.jobs, []);
    const alicesList = await api(emulator, '/jobs', { token: alice });
    assert.deepEqual(
      alicesList.body.jobs.map((j: { id: string }) => j.id),
      [id],
    );
  });
});

describe('emulator: job lifecycle through @openeo/js-client', () => {
  // The emulator's clock is driven by the test: a loaded machine cannot skip a status.
  const clock = new ManualClock();
  let emulator: RunningEmulator;
  before(async () => {
    emulator = await startEmulator({ jobDurations: { queuedMs: 30, runningMs: 150 }, clock });
  });
  after(() => emulator.close());

  it('creates, starts, monitors, lists results and logs, then deletes a job', async () => {
    const connection = await OpenEO.connect(emulator.url);
    await connection.authenticateBasic('demo', 'demo-password');
    const job = await connection.createJob(tileProcess(ANTWERP), 'tile-antwerp');
    assert.match(job.id, /^[\w\-.~]+$/);
    assert.equal(job.status, 'created');
    assert.equal(job.progress, 0);

    await job.startJob();
    assert.equal(job.status, 'queued');

    clock.advance(30);
    await job.describeJob();
    assert.equal(job.status, 'running');
    clock.advance(75);
    await job.describeJob();
    assert.equal(job.status, 'running');
    assert.ok(job.progress > 0 && job.progress < 100, `running progress ${job.progress}`);
    clock.advance(100);
    await job.describeJob();
    assert.equal(job.status, 'finished');
    assert.equal(job.progress, 100);
    assert.equal(typeof job.costs, 'number');
    // The js-client stores `usage` but its typings don't declare it.
    const usage = (job as unknown as { usage: Record<string, { value: number; unit: string }> }).usage;
    assert.equal(usage.cpu.unit, 'cpu-seconds');
    assert.equal(usage.memory.unit, 'mb-seconds');
    assert.equal(usage.duration.unit, 'seconds');
    assert.ok(usage.duration.value >= 0.1, `duration ${usage.duration.value}`);

    const item = await job.getResultsAsStac();
    assert.equal(item.type, 'Feature');
    assert.equal(item.id, job.id);
    assert.deepEqual(item.bbox, [ANTWERP.west, ANTWERP.south, ANTWERP.east, ANTWERP.north]);
    assert.deepEqual(item.geometry, {
      type: 'Polygon',
      coordinates: [
        [
          [ANTWERP.west, ANTWERP.south],
          [ANTWERP.east, ANTWERP.south],
          [ANTWERP.east, ANTWERP.north],
          [ANTWERP.west, ANTWERP.north],
          [ANTWERP.west, ANTWERP.south],
        ],
      ],
    });
    assert.equal(item.properties.datetime, '2024-05-01T00:00:00.000Z');
    const assets = Object.values(item.assets) as Array<Record<string, unknown>>;
    assert.equal(assets.length, 1);
    assert.match(
      String(assets[0].href),
      /^http:\/\/127\.0\.0\.1:\d+\/openeo\/1\.2\/jobs\/.+\/results\/assets\/.+\?expires=\d+&signature=[0-9a-f]{64}$/,
    );
    assert.equal(assets[0].type, 'image/tiff; application=geotiff');
    assert.deepEqual(assets[0].roles, ['data']);
    assert.match(String(assets[0]['file:checksum']), /^1220[0-9a-f]{64}$/);

    const logs = job.debugJob();
    const first = await logs.nextLogs();
    assert.ok(first.length >= 4);
    assert.ok(
      first.every((entry) => typeof entry.id === 'string' && typeof (entry as { time?: unknown }).time === 'string'),
    );
    assert.deepEqual(await logs.nextLogs(), [], 'offset must skip entries already received');

    const listed = await connection.listJobs();
    assert.ok(listed.some((j: { id: string }) => j.id === job.id));
    await job.deleteJob();
    const token = await login(emulator);
    assertApiError(await api(emulator, `/jobs/${job.id}`, { token }), 404, 'JobNotFound');
  });
});

describe('emulator: job endpoints over raw HTTP', () => {
  let emulator: RunningEmulator;
  let token: string;
  before(async () => {
    emulator = await startEmulator({ jobDurations: FAST });
    token = await login(emulator);
  });
  after(() => emulator.close());

  it('answers POST /jobs with 201, absolute Location, OpenEO-Identifier and no body', async () => {
    const response = await api(emulator, '/jobs', {
      method: 'POST',
      token,
      body: {
        title: null,
        description: null,
        plan: null,
        budget: null,
        process: tileProcess(ANTWERP),
        job_options: { memory: '2G' },
      },
    });
    assert.equal(response.status, 201);
    assert.equal(response.text, '');
    const id = response.headers.get('openeo-identifier');
    assert.ok(id);
    assert.equal(response.headers.get('location'), `${emulator.apiUrl}/jobs/${id}`);
    const job = await api(emulator, `/jobs/${id}`, { token });
    assert.equal(job.body.status, 'created');
    assert.equal(job.body.title, null);
    assert.deepEqual(job.body.process, tileProcess(ANTWERP));
    assert.equal(typeof job.body.created, 'string');
    assert.deepEqual(emulator.admin.job(id)?.options, { job_options: { memory: '2G' } });
  });

  it('rejects requests without a process graph (ProcessGraphMissing)', async () => {
    assertApiError(
      await api(emulator, '/jobs', { method: 'POST', token, body: { title: 'x' } }),
      400,
      'ProcessGraphMissing',
    );
    assertApiError(
      await api(emulator, '/jobs', { method: 'POST', token, body: { process: {} } }),
      400,
      'ProcessGraphMissing',
    );
  });

  it('rejects graphs without exactly one result node (ProcessGraphInvalid)', async () => {
    const none = { process_graph: { a: { process_id: 'load_collection', arguments: {} } } };
    assertApiError(
      await api(emulator, '/jobs', { method: 'POST', token, body: { process: none } }),
      400,
      'ProcessGraphInvalid',
    );
    const two = {
      process_graph: {
        a: { process_id: 'load_collection', arguments: {}, result: true },
        b: { process_id: 'save_result', arguments: { data: { from_node: 'a' } }, result: true },
      },
    };
    assertApiError(
      await api(emulator, '/jobs', { method: 'POST', token, body: { process: two } }),
      400,
      'ProcessGraphInvalid',
    );
    const dangling = {
      process_graph: { b: { process_id: 'save_result', arguments: { data: { from_node: 'zz' } }, result: true } },
    };
    assertApiError(
      await api(emulator, '/jobs', { method: 'POST', token, body: { process: dangling } }),
      400,
      'ProcessGraphInvalid',
    );
  });

  it('reports JobNotFinished until the job is finished', async () => {
    const id = await createJob(emulator, token, tileProcess(ANTWERP), 'not-yet');
    assertApiError(await api(emulator, `/jobs/${id}/results`, { token }), 400, 'JobNotFinished');
    await startJob(emulator, token, id);
    assertApiError(await api(emulator, `/jobs/${id}/results`, { token }), 400, 'JobNotFinished');
    await waitForStatus(emulator, token, id, ['finished']);
    assert.equal((await api(emulator, `/jobs/${id}/results`, { token })).status, 200);
  });

  it('cancels: queued → created, running → canceled, and restarts a canceled job', async () => {
    // A manual clock: a job is cancelled in the phase the test means, however busy the machine.
    const clock = new ManualClock();
    await withEmulator({ clock, jobDurations: { queuedMs: 1_000, runningMs: 1_000 } }, async (manual) => {
      const manualToken = await login(manual);
      const queuedId = await createJob(manual, manualToken, tileProcess(ANTWERP), 'cancel-queued');
      await startJob(manual, manualToken, queuedId);
      assert.equal((await api(manual, `/jobs/${queuedId}`, { token: manualToken })).body.status, 'queued');
      assert.equal(
        (await api(manual, `/jobs/${queuedId}/results`, { method: 'DELETE', token: manualToken })).status,
        204,
      );
      assert.equal((await api(manual, `/jobs/${queuedId}`, { token: manualToken })).body.status, 'created');

      const runningId = await createJob(manual, manualToken, tileProcess(ANTWERP), 'cancel-running');
      await startJob(manual, manualToken, runningId);
      clock.advance(1_000);
      assert.equal((await api(manual, `/jobs/${runningId}`, { token: manualToken })).body.status, 'running');
      assert.equal(
        (await api(manual, `/jobs/${runningId}/results`, { method: 'DELETE', token: manualToken })).status,
        204,
      );
      const canceled = await api(manual, `/jobs/${runningId}`, { token: manualToken });
      assert.equal(canceled.body.status, 'canceled');
      assert.ok('usage' in canceled.body);

      await startJob(manual, manualToken, runningId);
      assert.equal((await api(manual, `/jobs/${runningId}`, { token: manualToken })).body.status, 'queued');
      await startJob(manual, manualToken, runningId); // no-op while queued
      clock.advance(1_000);
      clock.advance(1_000);
      assert.equal((await api(manual, `/jobs/${runningId}`, { token: manualToken })).body.status, 'finished');
      assert.equal(manual.admin.job(runningId)?.runs, 2);
    });
  });

  it('deleting a running job frees its slot and forgets it', async () => {
    const id = await createJob(emulator, token, tileProcess(ANTWERP), 'delete-running');
    await startJob(emulator, token, id);
    await waitForStatus(emulator, token, id, ['running']);
    assert.equal((await api(emulator, `/jobs/${id}`, { method: 'DELETE', token })).status, 204);
    assertApiError(await api(emulator, `/jobs/${id}`, { token }), 404, 'JobNotFound');
    assert.equal(emulator.admin.stats().runningJobsPerUser.demo.current, 0);
  });

  it('lists jobs newest first and paginates with limit and a next link', async () => {
    const fresh = await startEmulator({ jobDurations: FAST });
    try {
      const t = await login(fresh);
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push(await createJob(fresh, t, tileProcess(ANTWERP), `page-${i}`));
      const all = await api(fresh, '/jobs', { token: t });
      assert.deepEqual(
        all.body.jobs.map((j: { id: string }) => j.id),
        [...ids].reverse(),
      );
      assert.ok(!all.body.links.some((l: { rel: string }) => l.rel === 'next'));
      assert.ok(all.body.jobs.every((j: Record<string, unknown>) => !('process' in j)));

      const collected: string[] = [];
      let url: string | undefined = `${fresh.apiUrl}/jobs?limit=2`;
      for (let pages = 0; url; pages++) {
        assert.ok(pages < 10, 'job list pagination does not terminate');
        const page = await api(fresh, url, { token: t });
        assert.ok(page.body.jobs.length <= 2);
        collected.push(...page.body.jobs.map((j: { id: string }) => j.id));
        url = page.body.links.find((l: { rel: string }) => l.rel === 'next')?.href;
      }
      assert.deepEqual(collected, [...ids].reverse());
    } finally {
      await fresh.close();
    }
  });
});

describe('emulator: per-user running limit', () => {
  it('keeps the third of three started jobs queued with a limit of 2, FIFO', async () => {
    // queuedMs 0: a started job runs at once if a slot is free, so the statuses are
    // deterministic right after the three start requests (well within runningMs).
    const emulator = await startEmulator({ jobDurations: { queuedMs: 0, runningMs: 300 }, maxRunningJobsPerUser: 2 });
    try {
      const token = await login(emulator);
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) ids.push(await createJob(emulator, token, tileProcess(ANTWERP), `limit-${i}`));
      for (const id of ids) await startJob(emulator, token, id);
      assert.deepEqual(
        ids.map((id) => emulator.admin.job(id)?.status),
        ['running', 'running', 'queued'],
      );
      const third = await api(emulator, `/jobs/${ids[2]}`, { token });
      assert.equal(third.body.status, 'queued');
      assert.equal(third.body.progress, 0);

      await waitForStatus(emulator, token, ids[2], ['finished'], 3000);
      // FIFO: the queued job ran only after one of the first two ended.
      const thirdLogs = await api(emulator, `/jobs/${ids[2]}/logs`, { token });
      const firstLogs = await api(emulator, `/jobs/${ids[0]}/logs`, { token });
      const timeOf = (logs: ApiResponse, text: string) =>
        Date.parse(logs.body.logs.find((e: { message: string }) => e.message.includes(text)).time);
      assert.ok(timeOf(thirdLogs, 'started running') >= timeOf(firstLogs, 'finished'));
      const stats = emulator.admin.stats();
      assert.equal(stats.runningJobsPerUser.demo.max, 2);
      // Two running and one queued: started, not yet ended.
      assert.equal(stats.startedJobsPerUser.demo.max, 3);
      assert.equal(stats.activeJobsPerUser.demo.max, 3);
      assert.equal(stats.activeJobsPerUser.demo.current, 0);
      assert.ok(stats.maxRunningJobsTotal <= 2);
      assert.deepEqual(stats.jobs.createdByTitle, { 'limit-0': 1, 'limit-1': 1, 'limit-2': 1 });
    } finally {
      await emulator.close();
    }
  });

  it('finishes instantly with zero durations', async () => {
    const emulator = await startEmulator({ jobDurations: { queuedMs: 0, runningMs: 0 } });
    try {
      const token = await login(emulator);
      const id = await createJob(emulator, token, tileProcess(ANTWERP), 'instant');
      await startJob(emulator, token, id);
      const job = await api(emulator, `/jobs/${id}`, { token });
      assert.equal(job.body.status, 'finished');
      assert.equal(job.body.progress, 100);
    } finally {
      await emulator.close();
    }
  });
});

describe('emulator: failing jobs and remote processes', () => {
  let emulator: RunningEmulator;
  let token: string;
  before(async () => {
    emulator = await startEmulator({
      jobDurations: FAST,
      failure: { failTitlesContaining: ['tile-13'] },
      failJob: (job) => (job.options.fail_me === true ? { code: 'CustomFailure', message: 'asked to fail' } : null),
    });
    token = await login(emulator);
  });
  after(() => emulator.close());

  it('fails the job whose title matches, with an error log entry and 424 results', async () => {
    const okId = await createJob(emulator, token, tileProcess(ANTWERP), 'tile-12');
    const badId = await createJob(emulator, token, tileProcess(ANTWERP), 'tile-13');
    await startJob(emulator, token, okId);
    await startJob(emulator, token, badId);
    await waitForStatus(emulator, token, okId, ['finished', 'error']);
    const bad = await waitForStatus(emulator, token, badId, ['finished', 'error']);
    assert.equal((await api(emulator, `/jobs/${okId}`, { token })).body.status, 'finished');
    assert.equal(bad.status, 'error');
    assert.ok((bad.progress as number) < 100);

    const errors = await api(emulator, `/jobs/${badId}/logs?level=error`, { token });
    assert.equal(errors.body.logs.length, 1);
    assert.equal(errors.body.logs[0].level, 'error');
    assert.match(errors.body.logs[0].message, /tile-13/);

    const results = await api(emulator, `/jobs/${badId}/results`, { token });
    assert.equal(results.status, 424);
    assert.deepEqual(results.body, errors.body.logs[0]);
  });

  it('consults the failJob hook with the job options', async () => {
    const id = await createJob(emulator, token, tileProcess(ANTWERP), 'hooked', { fail_me: true });
    await startJob(emulator, token, id);
    await waitForStatus(emulator, token, id, ['error']);
    const results = await api(emulator, `/jobs/${id}/results`, { token });
    assert.equal(results.body.code, 'CustomFailure');
  });

  it('rejects a UDP call without a required argument at creation, with ProcessParameterRequired naming it', async () => {
    const process = bapProcess({
      geometry: {
        type: 'Polygon',
        coordinates: [
          [
            [4, 51],
            [5, 51],
            [5, 52],
            [4, 51],
          ],
        ],
      },
    });
    const response = await api(emulator, '/jobs', {
      method: 'POST',
      token,
      body: { title: 'bap-missing-time', process },
    });
    assertApiError(response, 400, 'ProcessParameterRequired');
    assert.match(response.body.message, /temporal_extent/);
  });

  it('rejects an unknown namespace URL at creation with ProcessNamespaceInvalid', async () => {
    const response = await api(emulator, '/jobs', {
      method: 'POST',
      token,
      body: { process: bapProcess({}, 'https://example.invalid/udp.json') },
    });
    assertApiError(response, 400, 'ProcessNamespaceInvalid');
  });

  it('with graphChecks "run", ends such jobs in error with the code in the error log instead', async () => {
    const runEmulator = await startEmulator({ jobDurations: FAST, graphChecks: 'run' });
    try {
      const runToken = await login(runEmulator);
      const process = bapProcess({
        geometry: {
          type: 'Polygon',
          coordinates: [
            [
              [4, 51],
              [5, 51],
              [5, 52],
              [4, 51],
            ],
          ],
        },
      });
      const id = await createJob(runEmulator, runToken, process, 'bap-missing-time');
      await startJob(runEmulator, runToken, id);
      await waitForStatus(runEmulator, runToken, id, ['error']);
      const connection = await OpenEO.connect(runEmulator.url);
      await connection.authenticateBasic('demo', 'demo-password');
      const entries = await (await connection.getJob(id)).debugJob('error').nextLogs();
      assert.equal(entries.length, 1);
      assert.equal(entries[0].code, 'ProcessParameterRequired');
      assert.match(entries[0].message, /temporal_extent/);

      const unknown = await createJob(
        runEmulator,
        runToken,
        bapProcess({}, 'https://example.invalid/udp.json'),
        'bap-unknown',
      );
      await startJob(runEmulator, runToken, unknown);
      await waitForStatus(runEmulator, runToken, unknown, ['error']);
      assert.equal(
        (await api(runEmulator, `/jobs/${unknown}/results`, { token: runToken })).body.code,
        'ProcessNamespaceInvalid',
      );
    } finally {
      await runEmulator.close();
    }
  });

  it('runs a complete UDP call and takes the area from its geometry argument', async () => {
    const geometry = {
      type: 'FeatureCollection',
      features: [
        {
          type: 'Feature',
          properties: {},
          geometry: {
            type: 'Polygon',
            coordinates: [
              [
                [4.1, 50.9],
                [4.3, 50.9],
                [4.3, 51.05],
                [4.1, 50.9],
              ],
            ],
          },
        },
      ],
    };
    const id = await createJob(
      emulator,
      token,
      bapProcess({ geometry, temporal_extent: ['2024-06-01', '2024-09-01'] }),
      'bap-ok',
    );
    await startJob(emulator, token, id);
    await waitForStatus(emulator, token, id, ['finished']);
    const results = await api(emulator, `/jobs/${id}/results`, { token });
    assert.deepEqual(results.body.bbox, [4.1, 50.9, 4.3, 51.05]);
    assert.equal(results.body.properties.start_datetime, '2024-06-01T00:00:00.000Z');
  });
});

describe('emulator: logs pagination', () => {
  it('pages with limit/offset, filters by level and links to the next page', async () => {
    const emulator = await startEmulator({ jobDurations: { queuedMs: 0, runningMs: 0 } });
    try {
      const token = await login(emulator);
      const id = await createJob(emulator, token, tileProcess(ANTWERP), 'logs', { log_level: 'debug' });
      await startJob(emulator, token, id);
      const all = await api(emulator, `/jobs/${id}/logs`, { token });
      assert.ok(
        all.body.logs.some((e: { level: string }) => e.level === 'debug'),
        'debug entries kept with log_level debug',
      );
      assert.deepEqual(all.body.links, []);

      const pagedIds: string[] = [];
      let url: string | undefined = `${emulator.apiUrl}/jobs/${id}/logs?limit=2`;
      for (let pages = 0; url; pages++) {
        assert.ok(pages < 20, 'log pagination does not terminate');
        const page = await api(emulator, url, { token });
        assert.ok(page.body.logs.length <= 2);
        pagedIds.push(...page.body.logs.map((e: { id: string }) => e.id));
        url = page.body.links.find((l: { rel: string }) => l.rel === 'next')?.href;
      }
      assert.deepEqual(
        pagedIds,
        all.body.logs.map((e: { id: string }) => e.id),
      );

      const info = await api(emulator, `/jobs/${id}/logs?level=info`, { token });
      assert.equal(info.body.level, 'info');
      assert.ok(info.body.logs.length > 0 && info.body.logs.every((e: { level: string }) => e.level !== 'debug'));
      const afterSecond = await api(emulator, `/jobs/${id}/logs?offset=2`, { token });
      assert.deepEqual(
        afterSecond.body.logs.map((e: { id: string }) => e.id),
        pagedIds.slice(2),
      );
    } finally {
      await emulator.close();
    }
  });
});

describe('emulator: result assets', () => {
  let emulator: RunningEmulator;
  let token: string;
  let item: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- STAC JSON, checked field by field
  let href: string;
  const utmBox: BoxArg = { west: 590000, south: 5660000, east: 595000, north: 5665000, crs: 'EPSG:32631' };

  before(async () => {
    emulator = await startEmulator({ jobDurations: { queuedMs: 0, runningMs: 0 } });
    token = await login(emulator);
    const id = await createJob(emulator, token, tileProcess(ANTWERP), 'asset-tile');
    await startJob(emulator, token, id);
    item = (await api(emulator, `/jobs/${id}/results`, { token })).body;
    href = (Object.values(item.assets)[0] as { href: string }).href;
  });
  after(() => emulator.close());

  it('downloads the asset with matching size and sha2-256 multihash', async () => {
    const asset = Object.values(item.assets)[0] as Record<string, unknown>;
    const response = await fetch(href);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('accept-ranges'), 'bytes');
    const bytes = Buffer.from(await response.arrayBuffer());
    assert.equal(Number(response.headers.get('content-length')), bytes.length);
    assert.equal(bytes.length, asset['file:size']);
    assert.equal(`1220${createHash('sha256').update(bytes).digest('hex')}`, asset['file:checksum']);
    assert.ok(emulator.admin.stats().bytesServed.assets >= bytes.length);
  });

  it('serves byte ranges with 206 and HEAD without a body', async () => {
    const full = Buffer.from(await (await fetch(href)).arrayBuffer());
    const partial = await fetch(href, { headers: { Range: 'bytes=100-199' } });
    assert.equal(partial.status, 206);
    assert.equal(partial.headers.get('content-range'), `bytes 100-199/${full.length}`);
    assert.deepEqual(Buffer.from(await partial.arrayBuffer()), full.subarray(100, 200));
    const tail = await fetch(href, { headers: { Range: `bytes=${full.length - 10}-` } });
    assert.deepEqual(Buffer.from(await tail.arrayBuffer()), full.subarray(full.length - 10));
    const beyond = await fetch(href, { headers: { Range: `bytes=${full.length}-` } });
    assert.equal(beyond.status, 416);
    assert.equal(beyond.headers.get('content-range'), `bytes */${full.length}`);
    const head = await fetch(href, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(Number(head.headers.get('content-length')), full.length);
    assert.equal((await head.arrayBuffer()).byteLength, 0);
  });

  it('rejects tampered signatures with 403', async () => {
    const tampered = new URL(href);
    tampered.searchParams.set('expires', String(Number(tampered.searchParams.get('expires')) + 60_000));
    const response = await api(emulator, tampered.toString());
    assertApiError(response, 403, 'ResultLinkInvalid');
    assertApiError(await api(emulator, href.split('?')[0]), 403, 'ResultLinkInvalid');
  });

  it('answers expired links with 410 ResultLinkExpired', async () => {
    const shortLived = await startEmulator({ jobDurations: { queuedMs: 0, runningMs: 0 }, resultLinkTtlMs: 300 });
    try {
      const t = await login(shortLived);
      const id = await createJob(shortLived, t, tileProcess(ANTWERP), 'expiring');
      await startJob(shortLived, t, id);
      const results = await api(shortLived, `/jobs/${id}/results`, { token: t });
      const link = (Object.values(results.body.assets)[0] as { href: string }).href;
      assert.equal((await fetch(link)).status, 200);
      await sleep(350);
      assertApiError(await api(shortLived, link), 410, 'ResultLinkExpired');
      // Requesting the results again yields a fresh, working link.
      const again = await api(shortLived, `/jobs/${id}/results`, { token: t });
      assert.equal((await fetch((Object.values(again.body.assets)[0] as { href: string }).href)).status, 200);
    } finally {
      await shortLived.close();
    }
  });

  it('is a GeoTIFF in the UTM zone of the job area, over just that area', async () => {
    const tiff = await fromArrayBuffer(await (await fetch(href)).arrayBuffer());
    const image = await tiff.getImage();
    assert.equal(image.getWidth(), 64);
    assert.equal(image.getHeight(), 64);
    assert.equal(image.getBitsPerSample(), 16);
    assert.equal(image.getSampleFormat(), 1, 'unsigned integer');
    // Antwerp (4.35–4.45 E) lies in UTM zone 31 north: a projected CRS in metres, pixels as areas.
    assert.deepEqual(image.getGeoKeys(), {
      GTModelTypeGeoKey: 1,
      GTRasterTypeGeoKey: 1,
      ProjectedCSTypeGeoKey: 32631,
      ProjLinearUnitsGeoKey: 9001,
    });
    const [west, south, east, north] = image.getBoundingBox();
    // Georeferenced by ModelTiepoint and ModelPixelScale, north up.
    assert.ok(image.fileDirectory.hasTag('ModelTiepoint') && image.fileDirectory.hasTag('ModelPixelScale'));
    const [xSize, ySize] = image.getResolution();
    assert.ok(xSize > 0 && ySize < 0, `resolution ${xSize}, ${ySize}`);
    const corners = [
      [ANTWERP.west, ANTWERP.south],
      [ANTWERP.east, ANTWERP.south],
      [ANTWERP.east, ANTWERP.north],
      [ANTWERP.west, ANTWERP.north],
    ];
    const projected = corners.map((corner) =>
      proj4('EPSG:4326', '+proj=utm +zone=31 +datum=WGS84 +units=m +no_defs', corner),
    );
    const xs = projected.map(([x]) => x);
    const ys = projected.map(([, y]) => y);
    // The raster is the envelope of the area's outline: it holds every corner, and not much more.
    assert.ok(
      Math.abs(west - Math.min(...xs)) < 1 && Math.abs(east - Math.max(...xs)) < 1,
      `x ${west}..${east} vs ${xs}`,
    );
    assert.ok(
      Math.abs(south - Math.min(...ys)) < 1 && Math.abs(north - Math.max(...ys)) < 1,
      `y ${south}..${north} vs ${ys}`,
    );
    const [band] = (await image.readRasters()) as unknown as Uint16Array[];
    assert.equal(band.length, 64 * 64);
    assert.ok(new Set(band).size > 1, 'raster should not be constant');
  });

  it('reprojects a UTM bbox argument to EPSG:4326 for the result area', async () => {
    const id = await createJob(emulator, token, tileProcess(utmBox), 'utm-tile');
    await startJob(emulator, token, id);
    const results = await api(emulator, `/jobs/${id}/results`, { token });
    const [west, south, east, north] = results.body.bbox as number[];
    // 590–595 km E, 5660–5665 km N in zone 31N is just east of Antwerp, around 4.28–4.36°E, 51.08–51.13°N.
    assert.ok(west > 4.2 && west < 4.35 && east > west && east < 4.45, `lon ${west}..${east}`);
    assert.ok(south > 51.0 && south < 51.15 && north > south && north < 51.2, `lat ${south}..${north}`);
  });

  it('exposes request and byte counters over the admin API and resets them', async () => {
    const stats = await api(emulator, `${emulator.url}/_emulator/stats`);
    assert.equal(stats.status, 200);
    const assetRoute = 'GET /openeo/1.2/jobs/{job_id}/results/assets/{asset_key}';
    assert.ok(stats.body.requests.byRoute[assetRoute]['200'] >= 1);
    assert.ok(stats.body.requests.byRoute[assetRoute]['206'] >= 1);
    assert.ok(stats.body.bytesServed.total >= stats.body.bytesServed.assets);
    const reset = await api(emulator, `${emulator.url}/_emulator/reset-stats`, { method: 'POST' });
    assert.equal(reset.status, 204);
    const after = emulator.admin.stats();
    assert.equal(after.bytesServed.assets, 0);
    // The reset request itself completes after the reset, the stats request above before it.
    assert.ok(!(assetRoute in after.requests.byRoute));
  });
});

describe('emulator: extension points', () => {
  it('can require the Bearer token of the owner on asset downloads', async () => {
    const emulator = await startEmulator({
      jobDurations: { queuedMs: 0, runningMs: 0 },
      assetsRequireToken: true,
      users: [
        { username: 'alice', password: 'a' },
        { username: 'bob', password: 'b' },
      ],
    });
    try {
      const alice = await login(emulator, 'alice', 'a');
      const id = await createJob(emulator, alice, tileProcess(ANTWERP), 'private');
      await startJob(emulator, alice, id);
      const results = await api(emulator, `/jobs/${id}/results`, { token: alice });
      const link = (Object.values(results.body.assets)[0] as { href: string }).href;
      assertApiError(await api(emulator, link), 401, 'AuthenticationRequired');
      assertApiError(await api(emulator, link, { token: await login(emulator, 'bob', 'b') }), 404, 'JobNotFound');
      assert.equal((await api(emulator, link, { token: alice })).status, 200);
    } finally {
      await emulator.close();
    }
  });

  it('lets a request hook answer, reset or truncate before the handler runs', async () => {
    const seen: string[] = [];
    const hook: RequestHook = {
      beforeRoute: ({ req, res, route }) => {
        seen.push(route);
        if (req.url?.endsWith('/collections')) {
          res.writeHead(503, { 'Content-Type': 'application/json' });
          res.end(JSON.stringify({ code: 'InfrastructureBusy', message: 'injected', links: [] }));
          return { handled: true };
        }
        if (req.url?.endsWith('/processes')) {
          req.socket.destroy();
          return { handled: true };
        }
        if (req.url?.endsWith('/file_formats')) {
          return {
            beforeSend: (out, raw) => {
              raw.writeHead(out.status, out.headers);
              raw.write(out.body.subarray(0, 5));
              raw.socket?.destroy();
              return true;
            },
          };
        }
        return undefined;
      },
    };
    const emulator = await startEmulator({ requestHook: hook });
    try {
      assert.equal((await api(emulator, '/collections')).status, 503);
      await assert.rejects(fetch(`${emulator.apiUrl}/processes`));
      await assert.rejects(async () => {
        const truncated = await fetch(`${emulator.apiUrl}/file_formats`);
        await truncated.text(); // the body ends early: Content-Length promised more
      });
      assert.equal((await api(emulator, '/me')).status, 401, 'untouched requests pass through');
      assert.ok(seen.includes('GET /openeo/1.2/collections'));
      const byRoute = emulator.admin.stats().requests.byRoute;
      assert.equal(byRoute['GET /openeo/1.2/collections']['503'], 1);
      assert.equal(byRoute['GET /openeo/1.2/processes'].aborted, 1);
    } finally {
      await emulator.close();
    }
  });
});
