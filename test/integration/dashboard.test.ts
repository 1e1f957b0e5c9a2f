/**
 * The live map in a real browser (Debian's Chromium, driven by playwright-core) against a real
 * batch: every tile drawn, colours that follow the tiles as they end, a tooltip with the job id,
 * the side panel with the Temporal UI link, result previews, live updates without reloading, and
 * not one request that leaves the dashboard's own server.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page, Request } from 'playwright-core';
import { OpenEOBatchClient } from '../../src/app/client';
import { createDashboard, createPlanMap, STATUS_COLOURS } from '../../src/app/dashboard';
import { launchBrowser, type HeadlessBrowser } from '../harness/browser';
import { drawnTiles, pageStats, rgbOfColours, serveDashboard, type DrawnTile } from '../harness/dashboard-page';
import { eventually } from '../support/eventually';
import { startHarness, type Harness } from '../support/harness';

const BROKEN_TILE = 'E595000-N5665000';
const CLI = join(__dirname, '..', '..', 'src', 'app', 'cli', 'main.js');
const SCREENSHOTS = process.env.OPENEO_TEMPORAL_SCREENSHOTS;

/** Every request the page makes, to check none leaves the dashboard. */
function recordRequests(page: Page): string[] {
  const urls: string[] = [];
  page.on('request', (request: Request) => urls.push(request.url()));
  return urls;
}

function assertAllLocal(urls: string[], origin: string): void {
  assert.ok(urls.length > 5, 'the page made its requests');
  const outside = urls.filter((url) => !url.startsWith(origin) && !url.startsWith('data:'));
  assert.deepEqual(outside, [], `every request goes to the dashboard at ${origin}`);
}

describe('the live map of a batch', () => {
  let h: Harness;
  let browser: HeadlessBrowser;
  before(async () => {
    // Jobs of 1.3 s, two at a time: the 12-tile batch runs about 8 s, long enough for the page to
    // see tiles wait and then change colour live.
    h = await startHarness({ jobDurations: { queuedMs: 300, runningMs: 1_000 } });
    h.emulator.admin.setFaults({
      jobs: { rules: [{ titleContains: BROKEN_TILE, failFirst: 99, code: 'TileBroken' }] },
    });
    await h.startWorker();
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await h?.teardown();
  });

  it('draws every tile, recolours tiles as they end, shows job ids, previews and the panel, live and offline', async () => {
    const spec = h.spec({ batchId: 'map', cols: 4, rows: 3, maxAttempts: 1 });
    spec.backends = [{ name: 'emulator', url: h.emulator.url, parallelJobs: 2 }];
    await h.client.start(spec);
    const dashboard = await serveDashboard(
      createDashboard({ client: h.client, batchId: 'map', intervalMs: 500, uiUrl: 'http://127.0.0.1:8233' }),
    );
    const page = await browser.newPage();
    const requests = recordRequests(page);
    try {
      await page.goto(dashboard.url);
      await page.evaluate(() => ((globalThis as unknown as { loadedOnce: boolean }).loadedOnce = true));
      const colours = await rgbOfColours(page, STATUS_COLOURS);
      await eventually(async () => (await drawnTiles(page)).length === 12, 'the page draws the 12 tiles');

      // A tile that waits is light grey; later it turns to its end colour without the page reloading.
      const waiting = (await drawnTiles(page)).find((t) => t.mapStatus === 'not_started');
      assert.ok(waiting, 'with 2 jobs at a time, tiles wait at first');
      assert.deepEqual(waiting.rgb, colours.not_started, 'a waiting tile is light grey on the map');

      // A finished tile's quicklook lies over it, while the batch runs on.
      const finished = await waitForTile(page, (t) => t.mapStatus === 'finished', 'a tile finishes on the map');
      const preview = page.locator(`img.preview[src*="/tiles/${encodeURIComponent(finished.tileId)}/quicklook.png"]`);
      await preview.waitFor({ timeout: 30_000 });
      await eventually(
        async () => (await preview.evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth)) > 0,
        'the preview image loads',
      );

      // Hovering a tile shows its job id; clicking it opens its record, with its page in the Temporal UI.
      const jobId = (await h.client.records('map')).tiles.find((t) => t.tileId === finished.tileId)?.openeoJobId;
      assert.ok(jobId && finished.openeoJobId === jobId, "the page has the tile's job id");
      await page.mouse.move(finished.x, finished.y);
      await page.waitForSelector(`.leaflet-tooltip:has-text("job ${jobId}")`, { timeout: 30_000 });
      await page.mouse.click(finished.x, finished.y);
      const panel = page.locator('#panel');
      await panel.getByText(`tile ${finished.tileId}`).waitFor();
      assert.equal(
        await panel.locator('a').getAttribute('href'),
        `http://127.0.0.1:8233/namespaces/${h.server.namespace}/workflows/${encodeURIComponent(`map/tile-${finished.tileId}`)}`,
      );
      assert.match(await panel.innerText(), new RegExp(`openEO job\\s+${jobId}`));
      assert.match(await panel.innerText(), /quicklook\.png/, 'the files, the quicklook among them');
      if (SCREENSHOTS) {
        // Mid-run, once the broken tile failed: every kind of tile on one picture.
        await waitForTile(page, (t) => t.tileId === BROKEN_TILE && t.mapStatus === 'error', 'the broken tile fails');
        await page.screenshot({ path: `${SCREENSHOTS}/dashboard-batch.png` });
      }

      await h.client.handle('map').result();
      const ended = await waitForTile(
        page,
        (t) => t.tileId === waiting.tileId && (t.mapStatus === 'finished' || t.mapStatus === 'error'),
        `tile ${waiting.tileId} ends on the map`,
      );
      assert.deepEqual(ended.rgb, colours[ended.mapStatus], 'the waiting tile took its new colour');
      await eventually(
        async () => (await drawnTiles(page)).every((t) => t.mapStatus === 'finished' || t.mapStatus === 'error'),
        'every tile ended on the map',
      );
      const tiles = await drawnTiles(page);
      for (const tile of tiles)
        assert.deepEqual(
          tile.rgb,
          colours[tile.mapStatus],
          `tile ${tile.tileId} is drawn ${STATUS_COLOURS[tile.mapStatus as keyof typeof STATUS_COLOURS]}`,
        );
      assert.equal(tiles.find((t) => t.tileId === BROKEN_TILE)?.mapStatus, 'error', 'the broken tile is dark red');
      assert.equal(tiles.filter((t) => t.mapStatus === 'finished').length, 11);
      const records = new Map((await h.client.records('map')).tiles.map((t) => [t.tileId, t]));
      for (const tile of tiles)
        assert.equal(tile.openeoJobId, records.get(tile.tileId)?.openeoJobId, `tile ${tile.tileId}'s job id`);
      await eventually(
        async () => /12 \/ 12 tiles done/.test(await page.locator('#done').innerText()),
        'the header counts 12 of 12 tiles done',
      );

      const stats = await pageStats(page);
      assert.equal(stats.snapshots, 1, 'one snapshot: the page never reloaded nor reconnected');
      assert.ok(stats.updates > 3, `the page took in updates (${stats.updates})`);
      assert.equal(
        await page.evaluate(() => (globalThis as unknown as { loadedOnce?: boolean }).loadedOnce),
        true,
        'the page was not reloaded',
      );
      assertAllLocal(requests, dashboard.url);
    } finally {
      await page.close();
      await dashboard.close();
    }
  });

  it('serves only the quicklooks that records list, and only the batch it shows', async () => {
    const handler = createDashboard({ client: h.client, batchId: 'map', intervalMs: 500 });
    const dashboard = await serveDashboard(handler);
    try {
      const get = (path: string) => fetch(new URL(path, dashboard.url));
      const records = (await h.client.records('map')).tiles;
      const finished = records.find((t) => t.status === 'finished')!;
      const broken = records.find((t) => t.tileId === BROKEN_TILE)!;
      // The feed reads the batch when a page first connects; the image route asks it.
      const events = await get('api/batches/map/events');
      await events.body?.cancel();
      const image = await get(`api/batches/map/tiles/${encodeURIComponent(finished.tileId)}/quicklook.png`);
      assert.equal(image.status, 200);
      assert.equal(image.headers.get('content-type'), 'image/png');
      assert.deepEqual(
        [...new Uint8Array(await image.arrayBuffer()).slice(1, 4)],
        [...Buffer.from('PNG')],
        'a PNG file',
      );
      assert.equal(
        (await get(`api/batches/map/tiles/${BROKEN_TILE}/quicklook.png`)).status,
        404,
        'a failed tile has no quicklook',
      );
      assert.equal(
        (await get(`api/batches/map/tiles/${encodeURIComponent('../../etc')}/quicklook.png`)).status,
        404,
        'no path outside the records',
      );
      assert.equal(
        (await get(`api/batches/map/tiles/${encodeURIComponent(finished.tileId)}/job.json`)).status,
        404,
        'no other file of the tile',
      );
      assert.equal((await get('api/batches/other/events')).status, 404, 'a dashboard of one batch shows no other');
      assert.equal((await get('api/batches')).status, 404, 'nor lists them');
      assert.equal(broken.status, 'error');
      // A service that stops the dashboard but keeps its server: pages are told, so they stop asking.
      await handler.close();
      assert.equal((await get('api/batches/map/events')).status, 503);
    } finally {
      await dashboard.close();
    }
  });

  it('reads Temporal once per interval, however many pages are open', async () => {
    // The real client, counting the batch's progress queries (one per reading).
    class CountingClient extends OpenEOBatchClient {
      readings = 0;
      override progress(batchId: string): ReturnType<OpenEOBatchClient['progress']> {
        this.readings++;
        return super.progress(batchId);
      }
    }
    const client = new CountingClient(h.temporal, h.taskQueue);
    const dashboard = await serveDashboard(createDashboard({ client, batchId: 'map', intervalMs: 300 }));
    try {
      const url = new URL('api/batches/map/events', dashboard.url);
      const [first, second] = await Promise.all([events(url, 6), events(url, 6)]);
      assert.deepEqual([first[0]?.event, second[0]?.event], ['snapshot', 'snapshot']);
      assert.ok(
        [...first, ...second].slice(1).some((e) => e.event === 'update'),
        'then updates',
      );
      // Two pages took in 5 updates each: about 6 readings, not 12.
      assert.ok(client.readings <= 8, `${client.readings} readings for two pages`);
    } finally {
      await dashboard.close();
    }
  });

  it('says on the page when a batch cannot be read', async () => {
    const dashboard = await serveDashboard(createDashboard({ client: h.client, intervalMs: 500 }));
    try {
      const [first] = await events(new URL('api/batches/nope/events', dashboard.url), 1);
      assert.ok(first);
      assert.equal(first.event, 'snapshot');
      const snapshot = JSON.parse(first.data) as { tiles: unknown[]; summary: { problem?: string } };
      assert.deepEqual(snapshot.tiles, []);
      assert.match(snapshot.summary.problem ?? '', /cannot read batch nope from Temporal/);
    } finally {
      await dashboard.close();
    }
  });

  it('serves the map from the command line, and refuses a basemap that is not a URL', async () => {
    const env = { ...process.env, TEMPORAL_ADDRESS: h.server.address, TEMPORAL_NAMESPACE: h.server.namespace };
    const child = spawn(process.execPath, [CLI, 'dashboard', 'map', '--port', '0'], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      await eventually(
        async () => /on the map: http:\/\/127\.0\.0\.1:\d+\//.test(output),
        'the command prints its URL',
      );
      const url = /(http:\/\/127\.0\.0\.1:\d+\/)/.exec(output)![1]!;
      assert.deepEqual(await (await fetch(new URL('api/config', url))).json(), {
        mode: 'batch',
        batchId: 'map',
        colours: { ...STATUS_COLOURS },
      });
      assert.match(await (await fetch(url)).text(), /<div id="map">/);
    } finally {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    const refused = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        [CLI, 'dashboard', '--basemap', 'tiles/{z}/{x}/{y}.png', '--port', '0'],
        { env },
        (err, _stdout, stderr) => resolve({ code: err ? (err.code as number) : 0, stderr }),
      );
    });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /basemap: "tiles\/\{z\}\/\{x\}\/\{y\}\.png" is not an http\(s\) URL template/);
  });

  it('lists the batches to choose from when started without a batch id', async () => {
    const dashboard = await serveDashboard(createDashboard({ client: h.client, intervalMs: 500 }));
    const page = await browser.newPage();
    const requests = recordRequests(page);
    try {
      await page.goto(dashboard.url);
      await page.getByRole('link', { name: 'map', exact: true }).click();
      await eventually(async () => (await drawnTiles(page)).length === 12, 'the chosen batch is drawn');
      assert.match(page.url(), /\?batch=map$/);
      assertAllLocal(requests, dashboard.url);
    } finally {
      await page.close();
      await dashboard.close();
    }
  });
});

describe('the map of planned tiles', () => {
  it('draws every planned tile as not started, with no server but its own', async () => {
    const features = [0, 1, 2, 3, 4].map((i) => ({
      type: 'Feature' as const,
      id: `plan-${i}`,
      geometry: {
        type: 'Polygon' as const,
        coordinates: [
          [
            [4 + i * 0.1, 51],
            [4.1 + i * 0.1, 51],
            [4.1 + i * 0.1, 51.1],
            [4 + i * 0.1, 51.1],
            [4 + i * 0.1, 51],
          ],
        ],
      },
      properties: {},
    }));
    const browser = await launchBrowser();
    const dashboard = await serveDashboard(
      createPlanMap({ type: 'FeatureCollection', features }, { title: 'antwerp plan' }),
    );
    try {
      const page = await browser.newPage();
      const requests = recordRequests(page);
      await page.goto(dashboard.url);
      await eventually(async () => (await drawnTiles(page)).length === 5, 'the 5 planned tiles are drawn');
      const colours = await rgbOfColours(page, STATUS_COLOURS);
      for (const tile of await drawnTiles(page))
        assert.deepEqual(tile.rgb, colours.not_started, `${tile.tileId} is light grey`);
      assert.equal(await page.locator('#title').innerText(), 'antwerp plan');
      assert.equal(await page.locator('.legend [data-status="not_started"] .count').innerText(), '5');
      assertAllLocal(requests, dashboard.url);

      // Stopped while the page is open: it stops at once (the open stream does not hold it up), and
      // the page says it lost its connection (it reconnects when the dashboard is back).
      await dashboard.close();
      await page.locator('#live', { hasText: 'connection lost' }).waitFor({ timeout: 30_000 });
    } finally {
      await dashboard.close();
      await browser.close();
    }
  });

  it('refuses a planned tile without an outline, naming it', () => {
    assert.throws(() => createPlanMap([{ id: 'a' } as never]), /tiles\[0\]\.geometry/);
  });
});

/** Waits until the page draws a tile that `test` accepts; returns it. */
async function waitForTile(page: Page, test: (tile: DrawnTile) => boolean, what: string): Promise<DrawnTile> {
  let found: DrawnTile | undefined;
  await eventually(async () => (found = (await drawnTiles(page)).find(test)) !== undefined, what);
  return found!;
}

/** The first `count` server-sent events of a stream (then the stream is closed). */
async function events(url: URL, count: number): Promise<{ event: string; data: string }[]> {
  const response = await fetch(url, { signal: AbortSignal.timeout(60_000) });
  assert.equal(response.headers.get('content-type'), 'text/event-stream; charset=utf-8');
  const reader = response.body!.getReader();
  const found: { event: string; data: string }[] = [];
  let text = '';
  try {
    while (found.length < count) {
      const { value, done } = await reader.read();
      if (done) break;
      text += Buffer.from(value).toString();
      let match: RegExpExecArray | null;
      while ((match = /event: (\S+)\ndata: (.*)\n\n/.exec(text))) {
        found.push({ event: match[1]!, data: match[2]! });
        text = text.slice(match.index + match[0].length);
      }
    }
  } finally {
    await reader.cancel();
  }
  return found.slice(0, count);
}
