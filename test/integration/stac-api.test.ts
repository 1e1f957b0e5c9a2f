/**
 * A batch that pushes its STAC to a real STAC API: stac-fastapi-pgstac with the Transactions
 * extension over PostgreSQL + PostGIS (test/harness/stac-api.ts), a real Temporal dev server and the
 * emulator. The collection and every item are read back through the API's search; a push
 * repeated does not duplicate an item; an API that is down, or takes no transactions, refuses
 * the batch before any openEO job; an API that goes down in the middle of a batch is waited for,
 * and the items arrive once it is back.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { WorkflowFailedError } from '@temporalio/client';
import { tilePage, type TileSource } from '../../src/core/batch-spec/tiling';
import { StacApiClient, type CollectionDocument } from '../../activities/stac/api';
import { publishTileStac } from '../../activities/stac/publish';
import type { StacItem } from '../../activities/stac/item';
import { stacSettings } from '../../src/core/batch-spec/stac-settings';
import { InvalidSpecError } from '../../src/core/batch-spec/validate';
import { findFreePorts } from '../../src/tools/devserver/free-port';
import { postgresWithPostgis, startStacApi, type StacApiServer } from '../harness/stac-api';
import { installedStacPython, stacPython } from '../harness/stac-python';
import { validateStac } from '../harness/stac-validator';
import { downloadsWaitingOn } from '../support/downloads-waiting';
import { eventually } from '../support/eventually';
import { startHarness, type Harness } from '../support/harness';

interface SearchPage {
  features: StacItem[];
}

async function search(api: StacApiServer, query: string): Promise<SearchPage> {
  const response = await fetch(`${api.url}/search?${query}`);
  assert.equal(response.status, 200, await response.clone().text());
  return (await response.json()) as SearchPage;
}

/** An address where nothing listens. */
async function closedPort(): Promise<string> {
  const [port] = await findFreePorts(1);
  return `http://127.0.0.1:${port}/stac`;
}

const postgres = postgresWithPostgis();
/** Why the test cannot run here; in CI a missing piece is a failure, not a skip. */
const missing = 'missing' in postgres ? postgres.missing : undefined;
if (missing && !process.env.CI) console.warn(`\n*** SKIPPING the STAC API tests: ${missing} ***\n`);

describe('pushing a batch to a STAC API', { skip: missing && !process.env.CI ? missing : false }, () => {
  let h: Harness;
  let api: StacApiServer;
  let python: string;

  before(async () => {
    python = (await installedStacPython()) ?? (await stacPython((line) => console.log(line)));
    api = await startStacApi(python);
    // "slow" runs jobs for 6 s: time to take the STAC API down (it stops in well under a second)
    // between a batch's check and its downloads.
    h = await startHarness({}, { slow: { jobDurations: { queuedMs: 100, runningMs: 6_000 } } });
    await h.startWorker();
  });
  after(async () => {
    await h?.teardown();
    await api?.stop();
  });

  it('creates the collection and one item per tile, readable through the search (by collection and by bbox)', async () => {
    const spec = h.spec({
      batchId: 'stac-push',
      cols: 2,
      rows: 1,
      stac: { title: 'Pushed', license: 'CC-BY-4.0', api: { url: api.url, collectionId: 'pushed-results' } },
    });
    const { handle } = await h.client.start(spec);
    assert.equal((await handle.result()).counts.finished, 2);

    const collection = (await (await fetch(`${api.url}/collections/pushed-results`)).json()) as {
      title?: string;
      license?: string;
    };
    assert.equal(collection.title, 'Pushed');
    assert.equal(collection.license, 'CC-BY-4.0');
    const all = await search(api, 'collections=pushed-results&limit=50');
    const tiles = await h.client.tiles('stac-push');
    assert.deepEqual(all.features.map((f) => f.id).sort(), tiles.map((t) => t.tileId).sort());
    for (const item of all.features) {
      assert.equal(item.collection, 'pushed-results');
      assert.match(String(item.assets['openEO.tif'].href), /^file:\/\/.*\/openEO\.tif$/);
      assert.equal(item.assets['openEO.tif']['proj:code'], 'EPSG:32631');
    }

    // A bbox inside the western tile finds that tile only.
    const west = all.features.reduce((a, b) => (a.bbox[0] < b.bbox[0] ? a : b));
    const [w, s, e, n] = west.bbox;
    const inner = [w + (e - w) * 0.1, s + (n - s) * 0.4, w + (e - w) * 0.3, s + (n - s) * 0.6];
    const found = await search(api, `collections=pushed-results&bbox=${inner.join(',')}`);
    assert.deepEqual(
      found.features.map((f) => f.id),
      [west.id],
    );

    // The local documents are there too, and valid.
    const batchDir = join(String(spec.outputDir), 'stac-push');
    const local = JSON.parse(await readFile(join(batchDir, 'collection.json'), 'utf8'));
    const localItems = await Promise.all(
      tiles.map(async (t) => JSON.parse(await readFile(join(batchDir, 'items', `${t.tileId}.json`), 'utf8'))),
    );
    for (const result of await validateStac(python, [local, ...localItems]))
      assert.deepEqual(result.errors, [], `${result.type} ${result.id}`);
  });

  it('pushing a tile again updates its item instead of adding one', async () => {
    const [tile] = await h.client.tiles('stac-push');
    const batchDir = join(String(h.spec().outputDir), 'stac-push');
    const item = JSON.parse(await readFile(join(batchDir, 'items', `${tile.tileId}.json`), 'utf8')) as StacItem;
    const again = await publishTileStac({
      batchId: 'stac-push',
      batchDir,
      tileDir: join(batchDir, tile.tileId),
      tile: { id: item.id, geometry: item.geometry },
      settings: stacSettings('stac-push', { api: { url: api.url, collectionId: 'pushed-results' } }),
      job: { id: String(item.properties['openeo:job_id']), backend: 'emulator', backendUrl: h.emulator.url },
      resultTime: String(item.properties.datetime),
      files: [{ key: 'openEO.tif', file: 'openEO.tif', type: 'image/tiff; application=geotiff', roles: ['data'] }],
    });
    assert.deepEqual(again.pushed, { collection: 'updated', item: 'updated' });
    const all = await search(api, 'collections=pushed-results&limit=50');
    assert.equal(all.features.length, 2);
    assert.equal(all.features.filter((f) => f.id === item.id).length, 1);
  });

  it('an update of the collection from a worker that knows fewer tiles does not shrink its extent', async () => {
    const url = `${api.url}/collections/pushed-results`;
    const full = (await (await fetch(url)).json()) as CollectionDocument & { license: string; description: string };
    const [w, s, e, n] = full.extent.spatial.bbox[0];
    const westHalf = { ...full, links: [], extent: { ...full.extent, spatial: { bbox: [[w, s, (w + e) / 2, n]] } } };
    assert.equal(await new StacApiClient(api.url).upsertCollection(westHalf), 'updated');
    const after = (await (await fetch(url)).json()) as CollectionDocument;
    assert.deepEqual(after.extent.spatial.bbox[0], [w, s, e, n]);
  });

  it('waits out an outage of the STAC API in the middle of a batch: nothing is lost, the items arrive once it is back', async () => {
    const slow = h.backends.slow;
    const spec = h.spec({
      batchId: 'stac-outage',
      cols: 2,
      rows: 1,
      backends: [{ name: 'slow', url: slow.url, parallelJobs: 2 }],
      // Short retry pauses, so the test does not wait minutes once the API is back.
      timeouts: { heartbeatSeconds: 60, activitySeconds: 120, retryMaxIntervalSeconds: 3 },
      stac: { api: { url: api.url, collectionId: 'outage-results' } },
    });
    const tileIds = tilePage(spec.tiles as TileSource, 0, 10).map((t) => t.id);
    const { handle } = await h.client.start(spec);
    // The batch checked the API before its first job; the jobs run for 6 s.
    await eventually(
      async () => slow.admin.jobs().filter((j) => j.title?.startsWith('stac-outage/')).length === 2,
      'both jobs created',
    );
    await api.takeDown();
    try {
      // Each tile's job finishes and its download retries, waiting for the API.
      await downloadsWaitingOn(h, 'stac-outage', tileIds, /the STAC API at .* did not answer/, 'the STAC API');
      const { counts } = await h.client.progress('stac-outage');
      assert.equal(counts.finished ?? 0, 0, 'no tile ends while the API is down');
    } finally {
      await api.bringBack();
    }

    const summary = await handle.result();
    assert.equal(summary.counts.finished, 2, JSON.stringify(summary));
    const pushed = await search(api, 'collections=outage-results&limit=50');
    assert.deepEqual(pushed.features.map((f) => f.id).sort(), [...tileIds].sort());
    assert.equal(
      slow.admin.jobs().filter((j) => j.title?.startsWith('stac-outage/')).length,
      2,
      'one job per tile: the outage cost no job',
    );
  });

  it('refuses a batch whose STAC API is down, naming stac.api.url, before any openEO job', async () => {
    const url = await closedPort();
    const before = h.emulator.admin.jobs().length;
    // The client's own check first.
    await assert.rejects(
      h.client.start(h.spec({ batchId: 'stac-down-client', stac: { api: { url } } })),
      (err: unknown) => {
        assert.ok(err instanceof InvalidSpecError);
        assert.match(err.message, /stac\.api\.url: .*did not answer/);
        return true;
      },
    );
    // Started without the client, the worker refuses it too.
    const handle = await h.temporal.workflow.start('batchWorkflow', {
      taskQueue: h.taskQueue,
      workflowId: 'stac-down',
      args: [h.spec({ stac: { api: { url } } })],
    });
    await assert.rejects(handle.result(), (err: unknown) => {
      assert.ok(err instanceof WorkflowFailedError);
      const cause = err.cause as Error & { type?: string };
      assert.equal(cause.type, 'InvalidBatchSpec');
      assert.match(cause.message, /stac\.api\.url: .*did not answer/);
      return true;
    });
    assert.equal(h.emulator.admin.jobs().length, before, 'no openEO job was created');
  });

  it('refuses a STAC URL without the Transactions extension', async () => {
    // The openEO emulator's landing page has a conformsTo list, without transactions.
    await assert.rejects(
      h.client.start(h.spec({ batchId: 'stac-readonly', stac: { api: { url: `${h.emulator.url}` } } })),
      (err: unknown) => {
        assert.ok(err instanceof InvalidSpecError);
        assert.match(err.message, /stac\.api\.url: .*Transactions extension/);
        return true;
      },
    );
  });
});
