/**
 * Faithfulness of the emulator to openEO API 1.2 and its modes: conformance,
 * PATCH and estimates, progress, STAC Item and Collection results, failed
 * results as CDSE answers them, projected GeoTIFFs, the separate asset
 * origin, the CDSE concurrency limit, OIDC tokens and token expiry. Time is
 * driven by a ManualClock wherever a test depends on it.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';

import { OpenEO, type Job } from '@openeo/js-client';
import { fromArrayBuffer } from 'geotiff';

import { ManualClock, startEmulator, type EmulatorOptions, type RunningEmulator } from '../../src/tools/emulator';
import { api, assertApiError, login, withEmulator, type ApiResponse } from '../support/emulator-api';

// ---------------------------------------------------------------- helpers

const ANTWERP = { west: 4.35, south: 51.18, east: 4.45, north: 51.24 };

function tileProcess(box: Record<string, unknown> = ANTWERP): Record<string, unknown> {
  return {
    process_graph: {
      load: {
        process_id: 'load_collection',
        arguments: { id: 'SENTINEL2_L2A', spatial_extent: box, temporal_extent: ['2024-05-01', '2024-06-01'] },
      },
      save: { process_id: 'save_result', arguments: { data: { from_node: 'load' }, format: 'GTiff' }, result: true },
    },
  };
}

async function createJob(
  emulator: RunningEmulator,
  token: string,
  title: string,
  process = tileProcess(),
): Promise<string> {
  const response = await api(emulator, '/jobs', { method: 'POST', token, body: { title, process } });
  assert.equal(response.status, 201, response.text);
  return response.headers.get('openeo-identifier') as string;
}

async function startJob(emulator: RunningEmulator, token: string, id: string): Promise<ApiResponse> {
  return api(emulator, `/jobs/${id}/results`, { method: 'POST', token });
}

/** An emulator on a manual clock, so job phases advance only when the test says so. */
async function manualEmulator(
  options: EmulatorOptions = {},
): Promise<{ emulator: RunningEmulator; clock: ManualClock }> {
  const clock = new ManualClock();
  const emulator = await startEmulator({ clock, jobDurations: { queuedMs: 0, runningMs: 10_000 }, ...options });
  return { emulator, clock };
}

// ---------------------------------------------------------------- tests

describe('emulator API: discovery', () => {
  it('serves /conformance equal to conformsTo, with the remote process extension, and links it', async () => {
    await withEmulator({}, async (emulator) => {
      const capabilities = await api(emulator, '/');
      const conformance = await api(emulator, '/conformance');
      assert.equal(conformance.status, 200);
      assert.deepEqual(conformance.body.conformsTo, capabilities.body.conformsTo);
      assert.ok(conformance.body.conformsTo.includes('https://api.openeo.org/1.2.0'));
      assert.ok(
        conformance.body.conformsTo.includes('https://api.openeo.org/extensions/remote-process-definition/0.1.0'),
      );
      const link = capabilities.body.links.find((l: { rel: string }) => l.rel === 'conformance');
      assert.equal(link.href, `${emulator.apiUrl}/conformance`);
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
        assert.ok(field in capabilities.body, `capabilities lack ${field}`);
      }
    });
  });

  it('lists, without an OpenID provider, a stand-in that says so, as a valid provider entry', async () => {
    await withEmulator({}, async (emulator) => {
      const { providers } = (await api(emulator, '/credentials/oidc')).body as {
        providers: { id: string; issuer: string; title: string; scopes: string[] }[];
      };
      // openEO API 1.2: at least one provider, each with an id of 1-20 word characters, an issuer URL
      // without a trailing slash, a title, and scopes that include `openid`.
      assert.equal(providers.length, 1);
      const [none] = providers;
      assert.match(none.id, /^\w{1,20}$/);
      assert.doesNotMatch(none.issuer, /\/$/);
      assert.equal(new URL(none.issuer).origin, new URL(emulator.url).origin);
      assert.match(none.title, /No OpenID provider/);
      assert.ok(none.scopes.includes('openid'));
      // A client that follows the issuer learns why there is nothing, and how to get a provider.
      const discovery = await api(emulator, `${none.issuer}/.well-known/openid-configuration`);
      assertApiError(discovery, 404, 'NotFound');
      assert.match(discovery.body.message, /runs no OpenID provider.*Basic.*--oidc-provider local/);
      // Not advertised: clients that read the capabilities offer Basic login only.
      const capabilities = await api(emulator, '/');
      assert.ok(!capabilities.body.endpoints.some((e: { path: string }) => e.path === '/credentials/oidc'));
    });
  });
});

describe('emulator API: job metadata', () => {
  it('PATCH changes title, description, process and options (204), and JobLocked while queued or running', async () => {
    const { emulator, clock } = await manualEmulator({ jobDurations: { queuedMs: 1000, runningMs: 1000 } });
    try {
      const token = await login(emulator);
      const id = await createJob(emulator, token, 'before');
      const moved = tileProcess({ west: 5, south: 50, east: 5.1, north: 50.1 });
      const patch = await api(emulator, `/jobs/${id}`, {
        method: 'PATCH',
        token,
        body: { title: 'after', description: 'changed', process: moved, job_options: { memory: '4G' } },
      });
      assert.equal(patch.status, 204, patch.text);
      assert.equal(patch.text, '');
      const job = (await api(emulator, `/jobs/${id}`, { token })).body;
      assert.equal(job.title, 'after');
      assert.equal(job.description, 'changed');
      assert.equal(job.status, 'created');
      assert.deepEqual(job.process, moved);
      assert.deepEqual(emulator.admin.job(id)?.area, { west: 5, south: 50, east: 5.1, north: 50.1 });
      assert.deepEqual(emulator.admin.job(id)?.options, { job_options: { memory: '4G' } });
      assertApiError(
        await api(emulator, `/jobs/${id}`, { method: 'PATCH', token, body: { process: {} } }),
        400,
        'ProcessGraphMissing',
      );

      assert.equal((await startJob(emulator, token, id)).status, 202);
      assertApiError(
        await api(emulator, `/jobs/${id}`, { method: 'PATCH', token, body: { title: 'x' } }),
        400,
        'JobLocked',
      );
      clock.advance(1000);
      assert.equal(emulator.admin.job(id)?.status, 'running');
      assertApiError(
        await api(emulator, `/jobs/${id}`, { method: 'PATCH', token, body: { title: 'x' } }),
        400,
        'JobLocked',
      );
      clock.advance(1000);
      assert.equal(
        (await api(emulator, `/jobs/${id}`, { method: 'PATCH', token, body: { title: 'done' } })).status,
        204,
      );

      // The js-client's updateJob uses the same endpoint.
      const connection = await OpenEO.connect(emulator.url);
      await connection.authenticateBasic('demo', 'demo-password');
      // The typings demand every property; the API (and the js-client at run time) take any subset.
      const changes = { title: 'via js-client' } as unknown as Parameters<Job['updateJob']>[0];
      const updated = await (await connection.getJob(id)).updateJob(changes);
      assert.equal(updated.title, 'via js-client');
    } finally {
      await emulator.close();
    }
  });

  it('estimates costs, duration, size and expiry per the spec, matching the real run', async () => {
    const { emulator, clock } = await manualEmulator({ jobDurations: { queuedMs: 2000, runningMs: 10_000 } });
    try {
      const token = await login(emulator);
      const id = await createJob(emulator, token, 'estimate');
      const estimate = (await api(emulator, `/jobs/${id}/estimate`, { token })).body;
      assert.deepEqual(Object.keys(estimate).sort(), ['costs', 'downloads_included', 'duration', 'expires', 'size']);
      assert.equal(estimate.duration, 'PT12S');
      assert.equal(estimate.downloads_included, null);
      assert.ok(Date.parse(estimate.expires) > clock.now());
      assert.equal(Number.isInteger(estimate.size), true);

      await startJob(emulator, token, id);
      clock.advance(12_000);
      const job = (await api(emulator, `/jobs/${id}`, { token })).body;
      assert.equal(job.status, 'finished');
      assert.equal(job.costs, estimate.costs);
      const results = await api(emulator, `/jobs/${id}/results`, { token });
      assert.equal(results.headers.get('openeo-costs'), '0', 'downloads are included in the estimate');
      assert.equal(Object.values<{ 'file:size': number }>(results.body.assets)[0]['file:size'], estimate.size);

      const connection = await OpenEO.connect(emulator.url);
      await connection.authenticateBasic('demo', 'demo-password');
      assert.deepEqual(await (await connection.getJob(id)).estimateJob(), {
        ...estimate,
        expires: (await api(emulator, `/jobs/${id}/estimate`, { token })).body.expires,
      });
    } finally {
      await emulator.close();
    }
  });

  it('reports progress 0 while created or queued, linear in running time, 100 when finished; usage only once ended', async () => {
    const { emulator, clock } = await manualEmulator({ jobDurations: { queuedMs: 500, runningMs: 10_000 } });
    try {
      const token = await login(emulator);
      const id = await createJob(emulator, token, 'progress');
      const read = async () => (await api(emulator, `/jobs/${id}`, { token })).body;
      assert.equal((await read()).progress, 0);
      await startJob(emulator, token, id);
      assert.deepEqual([(await read()).status, (await read()).progress], ['queued', 0]);
      clock.advance(500);
      const seen: number[] = [];
      for (let i = 0; i < 4; i++) {
        clock.advance(2000);
        const job = await read();
        assert.equal(job.status, 'running');
        assert.ok(!('usage' in job) && !('costs' in job), 'no usage or costs while running');
        seen.push(job.progress);
      }
      assert.deepEqual(seen, [20, 40, 60, 80]);
      clock.advance(2000);
      const done = await read();
      assert.equal(done.progress, 100);
      assert.deepEqual(done.usage, {
        cpu: { value: 20, unit: 'cpu-seconds' },
        memory: { value: 20480, unit: 'mb-seconds' },
        duration: { value: 10, unit: 'seconds' },
      });
      assert.equal(done.updated, new Date(clock.now()).toISOString());

      // Logs: an empty offset means from the start; level and limit narrow the answer.
      const all = (await api(emulator, `/jobs/${id}/logs?offset=`, { token })).body;
      assert.deepEqual(
        all.logs.map((e: { id: string }) => e.id),
        all.logs.map((_: unknown, i: number) => String(i + 1)),
      );
      assert.ok(
        all.logs.every((e: Record<string, unknown>) =>
          ['id', 'level', 'message', 'time'].every((k) => typeof e[k] === 'string'),
        ),
      );
      const limited = (await api(emulator, `/jobs/${id}/logs?offset=1&limit=1&level=info`, { token })).body;
      assert.deepEqual(
        limited.logs.map((e: { id: string }) => e.id),
        ['2'],
      );
      assert.equal(limited.links[0].rel, 'next');
    } finally {
      await emulator.close();
    }
  });
});

describe('emulator API: results', () => {
  it('answers a STAC Collection with collection-level assets in collection mode', async () => {
    await withEmulator({ resultsMode: 'collection', jobDurations: { queuedMs: 0, runningMs: 0 } }, async (emulator) => {
      const token = await login(emulator);
      const id = await createJob(emulator, token, 'collection');
      await startJob(emulator, token, id);
      const response = await api(emulator, `/jobs/${id}/results`, { token });
      assert.equal(response.status, 200);
      assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
      const collection = response.body;
      assert.equal(collection.type, 'Collection');
      for (const field of ['stac_version', 'id', 'description', 'license', 'extent', 'links', 'assets']) {
        assert.ok(field in collection, `collection lacks ${field}`);
      }
      assert.deepEqual(collection.extent.spatial.bbox, [[ANTWERP.west, ANTWERP.south, ANTWERP.east, ANTWERP.north]]);
      assert.deepEqual(collection.extent.temporal.interval, [['2024-05-01T00:00:00.000Z', '2024-06-01T00:00:00.000Z']]);
      assert.deepEqual(
        collection.links.map((l: { rel: string }) => l.rel),
        ['self', 'canonical'],
      );
      const [asset] = Object.values<Record<string, unknown>>(collection.assets);
      assert.deepEqual(asset.bbox, [ANTWERP.west, ANTWERP.south, ANTWERP.east, ANTWERP.north]);
      assert.equal((asset.geometry as { type: string }).type, 'Polygon');
      assert.deepEqual(asset.roles, ['data']);
      const bytes = Buffer.from(await (await fetch(asset.href as string)).arrayBuffer());
      assert.equal(bytes.length, asset['file:size']);
      assert.equal(`1220${createHash('sha256').update(bytes).digest('hex')}`, asset['file:checksum']);

      const connection = await OpenEO.connect(emulator.url);
      await connection.authenticateBasic('demo', 'demo-password');
      const stac = await (await connection.getJob(id)).getResultsAsStac();
      assert.equal(stac.type, 'Collection');
      assert.equal(Object.keys(stac.assets).length, 1);
    });
  });

  it('answers results of a failed job with 400 JobNotFinished in cdse mode', async () => {
    await withEmulator(
      {
        failedJobResults: 'cdse',
        jobDurations: { queuedMs: 0, runningMs: 0 },
        failure: { failTitlesContaining: ['bad'] },
      },
      async (emulator) => {
        const token = await login(emulator);
        const id = await createJob(emulator, token, 'bad tile');
        await startJob(emulator, token, id);
        assert.equal(emulator.admin.job(id)?.status, 'error');
        assertApiError(await api(emulator, `/jobs/${id}/results`, { token }), 400, 'JobNotFinished');
        assertApiError(await api(emulator, `/jobs/${id}/results?partial=true`, { token }), 400, 'JobNotFinished');
        const errors = await api(emulator, `/jobs/${id}/logs?level=error`, { token });
        assert.match(errors.body.logs[0].message, /bad/);
      },
    );
  });

  it('writes the GeoTIFF in the projected CRS of a UTM bounding box, over exactly that box', async () => {
    await withEmulator({ jobDurations: { queuedMs: 0, runningMs: 0 } }, async (emulator) => {
      const token = await login(emulator);
      const utm = { west: 590000, south: 5660000, east: 595000, north: 5665000, crs: 'EPSG:32631' };
      const id = await createJob(emulator, token, 'utm', tileProcess(utm));
      await startJob(emulator, token, id);
      const item = (await api(emulator, `/jobs/${id}/results`, { token })).body;
      const asset = Object.values<Record<string, unknown>>(item.assets)[0];
      assert.equal(asset['proj:epsg'], 32631);
      assert.deepEqual(asset['proj:bbox'], [590000, 5660000, 595000, 5665000]);
      assert.ok(item.bbox[0] > 4.2 && item.bbox[2] < 4.45, 'the item bbox stays in EPSG:4326');
      const image = await (await fromArrayBuffer(await (await fetch(asset.href as string)).arrayBuffer())).getImage();
      assert.equal(image.getGeoKeys()?.ProjectedCSTypeGeoKey, 32631);
      assert.deepEqual(image.getBoundingBox(), [590000, 5660000, 595000, 5665000]);
    });
  });
});

describe('emulator API: asset origins', () => {
  it('serves signed links from a second origin that needs no token, and not from the API origin', async () => {
    await withEmulator(
      { assetOrigin: 'separate', assetsRequireToken: true, jobDurations: { queuedMs: 0, runningMs: 0 } },
      async (emulator) => {
        assert.ok(emulator.assetUrl && emulator.assetUrl !== emulator.url);
        const token = await login(emulator);
        const id = await createJob(emulator, token, 'separate');
        await startJob(emulator, token, id);
        const item = (await api(emulator, `/jobs/${id}/results`, { token })).body;
        const asset = Object.values<Record<string, unknown>>(item.assets)[0];
        const href = asset.href as string;
        assert.ok(href.startsWith(`${emulator.assetUrl}/`), href);

        const full = await fetch(href);
        assert.equal(full.status, 200);
        assert.equal((await full.arrayBuffer()).byteLength, asset['file:size']);
        const head = await fetch(href, { method: 'HEAD' });
        assert.equal(head.headers.get('accept-ranges'), 'bytes');
        assert.equal(Number(head.headers.get('content-length')), asset['file:size']);
        const part = await fetch(href, { headers: { Range: 'bytes=0-9' } });
        assert.equal(part.status, 206);
        assert.equal((await part.arrayBuffer()).byteLength, 10);
        assert.deepEqual(emulator.admin.stats().assetOrigin, { requests: 3, withAuthorization: 0 });

        const onApiOrigin = href.replace(emulator.assetUrl, emulator.url);
        assertApiError(await api(emulator, onApiOrigin), 404, 'NotFound');
        // The counter notices a client that sends its token to storage.
        await fetch(href, { headers: { Authorization: `Bearer basic//${token}` } });
        assert.equal(emulator.admin.stats().assetOrigin.withAuthorization, 1);
      },
    );
  });
});

describe('emulator API: concurrency modes', () => {
  it('rejects a start beyond the limit with ConcurrentJobLimit in reject mode (CDSE)', async () => {
    const { emulator, clock } = await manualEmulator({
      concurrencyMode: 'reject',
      maxRunningJobsPerUser: 2,
      jobDurations: { queuedMs: 100, runningMs: 1000 },
    });
    try {
      const token = await login(emulator);
      const ids = [
        await createJob(emulator, token, 'a'),
        await createJob(emulator, token, 'b'),
        await createJob(emulator, token, 'c'),
      ];
      assert.equal((await startJob(emulator, token, ids[0])).status, 202);
      assert.equal((await startJob(emulator, token, ids[1])).status, 202);
      // Queued jobs count too: both are still queued here.
      assertApiError(await startJob(emulator, token, ids[2]), 400, 'ConcurrentJobLimit');
      assert.equal(
        (await startJob(emulator, token, ids[0])).status,
        202,
        'starting a queued job again is a no-op, not a rejection',
      );
      clock.advance(100);
      assertApiError(await startJob(emulator, token, ids[2]), 400, 'ConcurrentJobLimit');
      clock.advance(1000);
      assert.equal((await startJob(emulator, token, ids[2])).status, 202);
      assert.equal(emulator.admin.job(ids[2])?.status, 'queued');
      assert.equal(emulator.admin.stats().runningJobsPerUser.demo.max, 2);
    } finally {
      await emulator.close();
    }
  });
});

describe('emulator API: tokens', () => {
  const provider = { id: 'egi', issuer: 'https://aai.example.org/oidc', title: 'EGI Check-in' };

  it('lists a configured OIDC provider and accepts its registered tokens until they expire', async () => {
    const { emulator, clock } = await manualEmulator({
      oidcProviders: [provider],
      oidcTokens: [{ provider: 'egi', token: 'static-token', user: 'alice' }],
    });
    try {
      const providers = await api(emulator, '/credentials/oidc');
      assert.deepEqual(providers.body.providers, [{ ...provider, scopes: ['openid'] }]);
      const capabilities = await api(emulator, '/');
      assert.ok(capabilities.body.endpoints.some((e: { path: string }) => e.path === '/credentials/oidc'));

      const me = await api(emulator, '/me', { bearer: 'oidc/egi/static-token' });
      assert.equal(me.body.user_id, 'alice');
      assertApiError(await api(emulator, '/me', { bearer: 'oidc/egi/unknown' }), 403, 'TokenInvalid');
      assertApiError(await api(emulator, '/me', { bearer: 'oidc/other/static-token' }), 403, 'TokenInvalid');

      const registered = await api(emulator, `${emulator.url}/_emulator/oidc-tokens`, {
        method: 'POST',
        body: { provider: 'egi', token: 'short', user: 'bob', expiresInMs: 1000 },
      });
      assert.equal(registered.status, 204);
      assert.equal((await api(emulator, '/me', { bearer: 'oidc/egi/short' })).body.user_id, 'bob');
      assertApiError(
        await api(emulator, `${emulator.url}/_emulator/oidc-tokens`, {
          method: 'POST',
          body: { provider: 'nope', token: 't', user: 'x' },
        }),
        400,
        'RequestBodyInvalid',
      );
      clock.advance(1000);
      assertApiError(await api(emulator, '/me', { bearer: 'oidc/egi/short' }), 403, 'TokenInvalid');

      // The js-client's bearer path, as the worker uses it for OIDC tokens.
      const connection = await OpenEO.connect(emulator.url);
      connection.setAuthToken('oidc', 'egi', 'static-token');
      assert.equal((await connection.describeAccount()).user_id, 'alice');
    } finally {
      await emulator.close();
    }
  });

  it('expires every token on request, so clients must log in again', async () => {
    await withEmulator({}, async (emulator) => {
      const connection = await OpenEO.connect(emulator.url);
      await connection.authenticateBasic('demo', 'demo-password');
      assert.equal((await connection.describeAccount()).user_id, 'demo');
      assert.equal((await fetch(`${emulator.url}/_emulator/expire-tokens`, { method: 'POST' })).status, 204);
      await assert.rejects(connection.describeAccount(), (error: { code?: string }) => error.code === 'TokenInvalid');
      // The refresh path of the worker: a fresh connection logs in again.
      const fresh = await OpenEO.connect(emulator.url);
      await fresh.authenticateBasic('demo', 'demo-password');
      assert.equal((await fresh.describeAccount()).user_id, 'demo');
    });
  });
});
