/**
 * Results with several bands are multi-band GeoTIFFs described band by band
 * in the STAC asset, single-band processes stay single-band, and browsers
 * can talk to the emulator (CORS headers and OPTIONS preflight answers).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';

import { fromArrayBuffer } from 'geotiff';

import { BAP_COMPOSITE_NAMESPACE, ManualClock, startEmulator, type RunningEmulator } from '../../src/tools/emulator';
import { api, assertApiError, login } from '../support/emulator-api';

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
const RASTER_SIZE = 16;

/** `node` saved as GeoTIFF. */
function saved(nodes: Record<string, unknown>, last: string): Record<string, unknown> {
  return {
    process_graph: {
      ...nodes,
      save: { process_id: 'save_result', arguments: { data: { from_node: last }, format: 'GTiff' }, result: true },
    },
  };
}

function bapCall(extra: Record<string, unknown> = {}): Record<string, unknown> {
  const args = { geometry: GEOMETRY, temporal_extent: ['2024-06-01', '2024-09-01'], ...extra };
  return saved({ bap: { process_id: 'bap_composite', namespace: BAP_COMPOSITE_NAMESPACE, arguments: args } }, 'bap');
}

interface Asset {
  href: string;
  'file:size': number;
  'file:checksum': string;
  'eo:bands'?: Array<{ name: string }>;
  bands?: Array<{ name: string }>;
}

describe('emulator results: one GeoTIFF band per band of the result', () => {
  let emulator: RunningEmulator;
  let token: string;
  const clock = new ManualClock();

  before(async () => {
    emulator = await startEmulator({ clock, rasterSize: RASTER_SIZE, jobDurations: { queuedMs: 0, runningMs: 1000 } });
    token = await login(emulator);
  });
  after(() => emulator.close());

  /** Runs `process` to the end; returns the job's estimate and its single asset with the downloaded bytes. */
  async function run(
    process: Record<string, unknown>,
  ): Promise<{ asset: Asset; bytes: Buffer; estimate: { size: number } }> {
    const created = await api(emulator, '/jobs', { method: 'POST', token, body: { process } });
    assert.equal(created.status, 201, created.text);
    const id = created.headers.get('openeo-identifier');
    const estimate = (await api(emulator, `/jobs/${id}/estimate`, { token })).body;
    assert.equal((await api(emulator, `/jobs/${id}/results`, { method: 'POST', token })).status, 202);
    clock.advance(2000);
    const results = await api(emulator, `/jobs/${id}/results`, { token });
    assert.equal(results.status, 200, results.text);
    const asset = Object.values<Asset>(results.body.assets)[0];
    const bytes = Buffer.from(await (await fetch(asset.href)).arrayBuffer());
    return { asset, bytes, estimate };
  }

  async function bandsOfFile(bytes: Buffer): Promise<{ rasters: Uint16Array[]; names: unknown[] }> {
    const image = await (
      await fromArrayBuffer(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer)
    ).getImage();
    const rasters = (await image.readRasters()) as unknown as Uint16Array[];
    const names: unknown[] = [];
    for (let sample = 0; sample < image.getSamplesPerPixel(); sample++)
      names.push((await image.getGDALMetadata(sample))?.DESCRIPTION);
    return { rasters, names };
  }

  function assertFileMatchesAsset(asset: Asset, bytes: Buffer, estimate: { size: number }): void {
    assert.equal(bytes.length, asset['file:size']);
    assert.equal(asset['file:checksum'], `1220${createHash('sha256').update(bytes).digest('hex')}`);
    assert.equal(estimate.size, asset['file:size'], 'the estimate predicts the multi-band size');
  }

  it('writes the BAP composite default bands (B04, B03, B02) as three bands with their names', async () => {
    const { asset, bytes, estimate } = await run(bapCall());
    assertFileMatchesAsset(asset, bytes, estimate);
    assert.deepEqual(asset['eo:bands'], [{ name: 'B04' }, { name: 'B03' }, { name: 'B02' }]);
    assert.deepEqual(asset.bands, asset['eo:bands']);
    const { rasters, names } = await bandsOfFile(bytes);
    assert.equal(rasters.length, 3);
    assert.deepEqual(names, ['B04', 'B03', 'B02']);
    for (const raster of rasters) assert.equal(raster.length, RASTER_SIZE * RASTER_SIZE);
    assert.notDeepEqual(rasters[0], rasters[1], 'bands have different values');
    assert.notDeepEqual(rasters[1], rasters[2], 'bands have different values');
  });

  it('follows the bands argument of the BAP call, and load_collection bands through filters', async () => {
    const bap = await run(bapCall({ bands: ['B08', 'B11'] }));
    assert.deepEqual(bap.asset['eo:bands'], [{ name: 'B08' }, { name: 'B11' }]);
    assert.equal((await bandsOfFile(bap.bytes)).rasters.length, 2);

    const filtered = await run(
      saved(
        {
          load: {
            process_id: 'load_collection',
            arguments: {
              id: 'SENTINEL2_L2A',
              spatial_extent: null,
              temporal_extent: null,
              bands: ['B02', 'B03', 'B04', 'B08'],
            },
          },
          pick: { process_id: 'filter_bands', arguments: { data: { from_node: 'load' }, bands: ['B08', 'B04'] } },
          clip: { process_id: 'filter_spatial', arguments: { data: { from_node: 'pick' }, geometries: GEOMETRY } },
        },
        'clip',
      ),
    );
    assertFileMatchesAsset(filtered.asset, filtered.bytes, filtered.estimate);
    assert.deepEqual(filtered.asset['eo:bands'], [{ name: 'B08' }, { name: 'B04' }]);
    assert.deepEqual((await bandsOfFile(filtered.bytes)).names, ['B08', 'B04']);
  });

  it('keeps the bands through a temporal median: a two-band composite with its band names', async () => {
    const median = {
      process_graph: {
        m: { process_id: 'median', arguments: { data: { from_parameter: 'data' } }, result: true },
      },
    };
    const { asset, bytes, estimate } = await run(
      saved(
        {
          load: {
            process_id: 'load_collection',
            arguments: {
              id: 'SENTINEL2_L2A',
              spatial_extent: GEOMETRY,
              temporal_extent: ['2024-06-01', '2024-07-01'],
              bands: ['B04', 'B08'],
            },
          },
          composite: {
            process_id: 'reduce_dimension',
            arguments: { data: { from_node: 'load' }, dimension: 't', reducer: median },
          },
        },
        'composite',
      ),
    );
    assertFileMatchesAsset(asset, bytes, estimate);
    assert.deepEqual(asset['eo:bands'], [{ name: 'B04' }, { name: 'B08' }]);
    assert.deepEqual((await bandsOfFile(bytes)).names, ['B04', 'B08']);
  });

  it('keeps single-band processes single-band: a reduced band dimension has one unnamed band', async () => {
    const reducer = {
      process_graph: {
        first: { process_id: 'array_element', arguments: { data: { from_parameter: 'data' }, index: 0 }, result: true },
      },
    };
    const { asset, bytes, estimate } = await run(
      saved(
        {
          load: {
            process_id: 'load_collection',
            arguments: { id: 'SENTINEL2_L2A', spatial_extent: null, temporal_extent: null, bands: ['B04', 'B08'] },
          },
          reduce: {
            process_id: 'reduce_dimension',
            arguments: { data: { from_node: 'load' }, dimension: 'bands', reducer },
          },
        },
        'reduce',
      ),
    );
    assertFileMatchesAsset(asset, bytes, estimate);
    assert.equal(asset['eo:bands'], undefined);
    assert.equal(asset.bands, undefined);
    const { rasters, names } = await bandsOfFile(bytes);
    assert.equal(rasters.length, 1);
    assert.deepEqual(names, [undefined]);
  });
});

describe('emulator CORS: browsers may call every endpoint', () => {
  let emulator: RunningEmulator;
  const ORIGIN = 'https://editor.openeo.org';

  before(async () => {
    emulator = await startEmulator({ assetOrigin: 'separate' });
  });
  after(() => emulator.close());

  function assertCorsHeaders(headers: Headers): void {
    assert.equal(headers.get('access-control-allow-origin'), '*');
    const exposed = (headers.get('access-control-expose-headers') ?? '').split(',').map((h) => h.trim());
    for (const name of ['Location', 'OpenEO-Identifier', 'OpenEO-Costs', 'Link'])
      assert.ok(exposed.includes(name), `${name} is exposed`);
    for (const name of ['Content-Type', 'Content-Length'])
      assert.ok(!exposed.includes(name), `${name} must not be listed`);
  }

  it('answers a preflight with 204, the endpoint methods and the allowed request headers, without authentication', async () => {
    const response = await fetch(`${emulator.apiUrl}/jobs/some-job`, {
      method: 'OPTIONS',
      headers: {
        Origin: ORIGIN,
        'Access-Control-Request-Method': 'PATCH',
        'Access-Control-Request-Headers': 'authorization, content-type',
      },
    });
    assert.equal(response.status, 204);
    assert.equal(await response.text(), '');
    assertCorsHeaders(response.headers);
    const methods = (response.headers.get('access-control-allow-methods') ?? '').split(',').map((m) => m.trim());
    for (const method of ['OPTIONS', 'GET', 'PATCH', 'DELETE'])
      assert.ok(methods.includes(method), `${method} allowed: ${methods.join()}`);
    assert.ok(!methods.includes('PUT'), 'only implemented methods are listed');
    const headers = (response.headers.get('access-control-allow-headers') ?? '').toLowerCase();
    assert.match(headers, /authorization/);
    assert.match(headers, /content-type/);
  });

  it('exposes Location and OpenEO-Identifier on job creation, and CORS headers on errors too', async () => {
    const token = await login(emulator);
    const process = {
      process_graph: { load: { process_id: 'load_collection', arguments: { id: 'SENTINEL2_L2A' }, result: true } },
    };
    const created = await api(emulator, '/jobs', {
      method: 'POST',
      token,
      body: { process },
      headers: { Origin: ORIGIN },
    });
    assert.equal(created.status, 201);
    assertCorsHeaders(created.headers);
    const unauthenticated = await api(emulator, '/jobs', { headers: { Origin: ORIGIN } });
    assert.equal(unauthenticated.status, 401);
    assertCorsHeaders(unauthenticated.headers);
  });

  it('sends CORS headers from the separate asset origin, and 404 for a preflight to nowhere', async () => {
    assert.ok(emulator.assetUrl);
    const preflight = await fetch(`${emulator.assetUrl}/openeo/1.2/jobs/j-1/results/assets/openEO.tif`, {
      method: 'OPTIONS',
      headers: { Origin: ORIGIN },
    });
    assert.equal(preflight.status, 204);
    assertCorsHeaders(preflight.headers);
    const nowhere = await api(emulator, '/no-such-endpoint', { method: 'OPTIONS', headers: { Origin: ORIGIN } });
    assertApiError(nowhere, 404, 'NotFound');
    assertCorsHeaders(nowhere.headers);
  });
});
