/**
 * The real worker, unchanged, against every emulator mode: a small batch on a
 * real Temporal dev server must finish with verified files on disk whether
 * results are a STAC Collection, assets come from a second origin or need
 * the token, the backend rejects jobs beyond its limit (CDSE), requests fail
 * now and then, or the worker authenticates with an OIDC bearer token.
 */
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fromArrayBuffer } from 'geotiff';

import { startEmulator, type EmulatorOptions, type RunningEmulator } from '../../src/tools/emulator';
import type { CredentialStore } from '../../src/core/openeo/credentials';
import { tileFoldersIn } from '../support/batch-folder';
import { EMULATOR_USER, startHarness, type Harness } from '../support/harness';

/** The modes besides the harness's own emulator (which runs with collection results). */
const MODES: Record<string, EmulatorOptions> = {
  separate: { assetOrigin: 'separate' },
  token: { assetsRequireToken: true },
  cdse: { concurrencyMode: 'reject', maxRunningJobsPerUser: 2, resultsMode: 'collection', failedJobResults: 'cdse' },
  faulty: {
    // 10% of job status requests fail with 503, and the second one always, so the retry path surely runs.
    faults: {
      seed: 7,
      routes: [{ route: 'GET /jobs/{job_id}', probability: 0.1, onCalls: [2], fault: { type: 'status', status: 503 } }],
    },
  },
  oidc: {
    oidcProviders: [{ id: 'test', issuer: 'https://issuer.example.org', title: 'Test issuer' }],
    oidcTokens: [{ provider: 'test', token: 'worker-access-token', user: EMULATOR_USER.username }],
  },
};

describe('the worker against every emulator mode', () => {
  let h: Harness;
  const emulators: Record<string, RunningEmulator> = {};

  before(async () => {
    h = await startHarness({ resultsMode: 'collection' });
    for (const [name, options] of Object.entries(MODES)) {
      emulators[name] = await startEmulator({
        users: [EMULATOR_USER],
        jobDurations: { queuedMs: 50, runningMs: 150 },
        ...options,
      });
    }
    const basic = { type: 'basic' as const, ...EMULATOR_USER };
    const credentials: CredentialStore = { emulator: { url: h.emulator.url, auth: basic } };
    for (const [name, emulator] of Object.entries(emulators)) {
      const auth = name === 'oidc' ? { type: 'bearer' as const, token: 'oidc/test/worker-access-token' } : basic;
      credentials[name] = { url: emulator.url, auth };
    }
    await h.startWorker({ credentials });
  });

  after(async () => {
    await h?.teardown();
    await Promise.all(Object.values(emulators).map((emulator) => emulator.close()));
  });

  /** Runs a 2-tile batch against one backend and checks every tile's files. */
  async function runBatch(backend: string, url: string): Promise<void> {
    const batchId = `mode-${backend}`;
    const spec = h.spec({ batchId, cols: 2, rows: 1 });
    spec.backends = [{ name: backend, url, parallelJobs: 2 }];
    const { handle } = await h.client.start(spec);
    const summary = await handle.result();
    assert.equal(summary.totalTiles, 2);
    assert.deepEqual(summary.counts.finished, 2, JSON.stringify(summary));

    const root = join(h.workDir, 'output', batchId);
    const tiles = tileFoldersIn(await readdir(root));
    assert.deepEqual(tiles, ['E590000-N5660000', 'E595000-N5660000']);
    assert.deepEqual(
      (await readdir(join(root, 'items'))).sort(),
      tiles.map((id) => `${id}.json`),
      'one STAC item per tile',
    );
    for (const tile of tiles) {
      const files = await readdir(join(root, tile));
      const tif = files.find((f) => f.endsWith('.tif'));
      assert.ok(tif && files.includes('job.json'), `${tile}: ${files.join(', ')}`);
      const data = await readFile(join(root, tile, tif));
      const image = await (await fromArrayBuffer(new Uint8Array(data).buffer)).getImage();
      // The raster is the tile's square in UTM zone 31N, as the tile id names its lower-left corner.
      assert.equal(image.getGeoKeys()?.ProjectedCSTypeGeoKey, 32631);
      const [tileWest, tileSouth] = tile.match(/\d+/g)!.map(Number);
      const expected = [tileWest, tileSouth, tileWest + 5000, tileSouth + 5000];
      const bbox = image.getBoundingBox();
      assert.ok(
        bbox.every((value, i) => Math.abs(value - expected[i]) < 1),
        `${tile} bbox ${bbox}`,
      );
    }
  }

  it('downloads results given as a STAC Collection', async () => {
    await runBatch('emulator', h.emulator.url);
    const metadata = JSON.parse(
      await readFile(join(h.workDir, 'output', 'mode-emulator', 'E590000-N5660000', 'job.json'), 'utf8'),
    );
    assert.equal(metadata.results.type, 'Collection');
  });

  it('downloads from a separate asset origin without ever sending it the token', async () => {
    await runBatch('separate', emulators.separate.url);
    const { assetOrigin } = emulators.separate.admin.stats();
    assert.ok(assetOrigin.requests >= 2, `asset origin saw ${assetOrigin.requests} requests`);
    assert.equal(assetOrigin.withAuthorization, 0);
  });

  it('sends the token to same-origin asset links that require it', async () => {
    await runBatch('token', emulators.token.url);
    const byRoute =
      emulators.token.admin.stats().requests.byRoute['GET /openeo/1.2/jobs/{job_id}/results/assets/{asset_key}'];
    assert.deepEqual(byRoute, { '200': 2 });
  });

  it('stays within a CDSE-style limit that rejects jobs beyond it', async () => {
    await runBatch('cdse', emulators.cdse.url);
    const stats = emulators.cdse.admin.stats();
    assert.equal(
      stats.requests.byRoute['POST /openeo/1.2/jobs/{job_id}/results']['400'],
      undefined,
      'no ConcurrentJobLimit',
    );
    assert.ok(stats.runningJobsPerUser[EMULATOR_USER.username].max <= 2);
  });

  it('finishes despite 503s on job status requests', async () => {
    await runBatch('faulty', emulators.faulty.url);
    const stats = emulators.faulty.admin.stats();
    assert.ok((stats.faults.byType.status ?? 0) >= 1, 'faults were injected');
    assert.equal(stats.jobs.created, 2, 'a failed status request never creates a second job');
  });

  it('authenticates with an OIDC bearer token', async () => {
    await runBatch('oidc', emulators.oidc.url);
    assert.equal(emulators.oidc.admin.stats().jobs.created, 2);
  });
});
