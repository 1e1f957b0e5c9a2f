/**
 * The Temporal UI (served by the dev server) in a real browser: a running batch's page shows its
 * progress as current details, and the workflow list filtered by the `OpenEOTileStatus` search
 * attribute shows exactly the tile workflows in that status.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { launchBrowser, type HeadlessBrowser } from '../harness/browser';
import { batchProgress } from '../../workflows/messages';
import { eventually } from '../support/eventually';
import { startHarness, type Harness } from '../support/harness';

const STUCK_TILE = 'E590000-N5665000';
const BROKEN_TILE = 'E595000-N5660000';
const SCREENSHOTS = process.env.OPENEO_TEMPORAL_SCREENSHOTS;

/** The text of every frame of the page (the UI renders current details in a frame of their own). */
async function allText(page: Page): Promise<string> {
  const texts = await Promise.all(
    page.frames().map((frame) =>
      frame
        .locator('body')
        .innerText()
        .catch(() => ''),
    ),
  );
  return texts.join('\n');
}

/** The tile workflow ids the UI lists on its page of workflows. */
async function listedTileWorkflows(page: Page, batchId: string): Promise<string[]> {
  const text = await page.locator('main').innerText();
  const ids = text.match(new RegExp(`${batchId}/tile-[A-Z0-9-]+`, 'g')) ?? [];
  return [...new Set(ids)].sort();
}

describe('the Temporal UI', () => {
  let h: Harness;
  let browser: HeadlessBrowser;
  before(async () => {
    h = await startHarness({ jobDurations: { queuedMs: 200, runningMs: 800 } }, {}, { ui: true });
    // One tile's job never leaves the queue (the batch keeps running), one fails.
    h.emulator.admin.setFaults({
      jobs: {
        rules: [
          { titleContains: STUCK_TILE, stuckIn: 'queued' },
          { titleContains: BROKEN_TILE, failFirst: 99, code: 'TileBroken' },
        ],
      },
    });
    await h.startWorker();
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await h?.client.cancel('ui').catch(() => undefined);
    await h?.teardown();
  });

  it("shows a running batch's progress and lists its tiles by status", async () => {
    assert.ok(h.server.uiUrl, 'the dev server serves its UI');
    const ui = h.server.uiUrl;
    const spec = h.spec({ batchId: 'ui', cols: 3, rows: 2, maxAttempts: 1 });
    spec.backends = [{ name: 'emulator', url: h.emulator.url, parallelJobs: 3 }];
    const { handle } = await h.client.start(spec);
    // Four tiles finish, one fails; the stuck one keeps the batch running.
    await eventually(async () => {
      const { counts } = await handle.query(batchProgress);
      return counts.finished === 4 && counts.error === 1 && counts.running === 1;
    }, 'all tiles but the stuck one ended');
    const page = await browser.newPage();
    try {
      await page.goto(`${ui}/namespaces/${h.server.namespace}/workflows/ui`);
      // Current details are on the "User Metadata" tab.
      await page.getByText('User Metadata', { exact: true }).first().click();
      await eventually(
        async () =>
          /5 \/ 6 tiles done.*finished 4, error 1, canceled 0, skipped 0, running 1, not started 0/.test(
            await allText(page),
          ),
        "the batch's current details show its progress",
      );
      assert.match(await allText(page), /emulator: 1 \/ 3 jobs/, "with the backend's slots in use");
      // The batch's own summary and details, given when the client started it.
      const text = await allText(page);
      assert.match(
        text,
        /openEO batch ui: `?bap_composite`? from https:\/\/\S+ on emulator/,
        'the batch has a summary',
      );
      assert.match(text, /Backends:? emulator \(3 at once\)/, 'and details');
      assert.doesNotMatch(text, /No summary available|No details available/);
      if (SCREENSHOTS) await page.screenshot({ path: `${SCREENSHOTS}/temporal-ui-batch.png` });

      const tiles = await h.client.tiles('ui');
      for (const status of ['finished', 'error', 'running'] as const) {
        const expected = tiles
          .filter((t) => t.status === status)
          .map((t) => t.workflowId)
          .sort();
        const query = `OpenEOBatchId="ui" AND OpenEOTileStatus="${status}"`;
        await page.goto(`${ui}/namespaces/${h.server.namespace}/workflows?query=${encodeURIComponent(query)}`);
        let listed: string[] = [];
        await eventually(
          async () => (listed = await listedTileWorkflows(page, 'ui')).length === expected.length,
          `the UI lists the ${status} tiles`,
        );
        assert.deepEqual(listed, expected, `the tile workflows with OpenEOTileStatus="${status}"`);
        if (SCREENSHOTS && status === 'finished')
          await page.screenshot({ path: `${SCREENSHOTS}/temporal-ui-tiles-by-status.png` });
      }
      assert.deepEqual(
        tiles.filter((t) => t.status === 'running').map((t) => t.tileId),
        [STUCK_TILE],
      );
    } finally {
      await page.close();
    }
  });
});
