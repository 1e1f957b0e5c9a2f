/**
 * Scenario 5: the live map of a 10,000-tile batch in headless Chromium. The batch runs until a
 * few hundred tiles ended, is paused (tiles in flight finish, no new ones start) and its map
 * opened: most tiles are not started, some finished, a few in flight. Measured: how long the page
 * takes to show all tiles (the dashboard's first reading of the batch included), its JS heap,
 * and, with the batch resumed, that it keeps taking in updates.
 */
import type { Page } from 'playwright-core';
import { createDashboard } from '../../src/app/dashboard';
import { launchBrowser } from '../../test/harness/browser';
import { pageStats, serveDashboard } from '../../test/harness/dashboard-page';
import { batchProgress } from '../../workflows/messages';
import { MB, type Report } from '../report';
import { gridSpec } from '../specs';
import type { BenchWorld } from '../world';

export interface DashboardFigures {
  tiles: number;
  tilesDrawn: number;
  /** Navigation → every tile painted, ms (includes the dashboard reading the batch). */
  firstPaintMs: number;
  /** Navigation → the snapshot arrived, ms. */
  snapshotMs: number;
  jsHeapMb: number;
  /** Updates taken in while the resumed batch ran on. */
  liveUpdates: number;
  /** Tiles finished on the page and in the batch, at the end of the live period. */
  finishedOnPage: number;
  finishedInBatch: number;
}

/** Tiles the page shows finished. */
function finishedOnPage(page: Page): Promise<number> {
  return page.evaluate(
    () =>
      (
        globalThis as unknown as { openeoDashboard: { tileMap: { counts(): Record<string, number> } } }
      ).openeoDashboard.tileMap.counts().finished ?? 0,
  );
}

const TILES = 10_000;
const ENDED_BEFORE_PAUSE = 300;
const LIVE_SECONDS = 30;

export async function dashboardScenario(world: BenchWorld, report: Report): Promise<DashboardFigures> {
  const backend = await world.startBackend('dashboard', {
    jobDurations: { queuedMs: 500, runningMs: 2_000 },
    maxRunningJobsPerUser: 100_000,
    rasterSize: 8,
  });
  const browser = await launchBrowser();
  const batchId = 'bench-dashboard';
  let dashboard: Awaited<ReturnType<typeof serveDashboard>> | undefined;
  try {
    const spec = gridSpec({
      batchId,
      backend: { name: backend.name, url: backend.emulator.url },
      parallelJobs: 100,
      tiles: TILES,
      tileSize: 1000,
      outputDir: backend.outputDir,
    });
    const { handle } = await backend.client.start(spec);
    await until(
      async () => (await handle.query(batchProgress)).counts.finished >= ENDED_BEFORE_PAUSE,
      10 * 60_000,
      `${ENDED_BEFORE_PAUSE} tiles finish`,
    );
    await backend.client.pause(batchId);
    await until(
      async () => (await handle.query(batchProgress)).counts.running === 0,
      5 * 60_000,
      'the paused batch has no tile in flight',
    );
    const counts = (await handle.query(batchProgress)).counts;
    report.note(
      `dashboard: a ${TILES}-tile batch paused after ${counts.finished} tiles finished (${counts.not_started} not started) is opened in headless Chromium (1280×800, no GPU)`,
    );

    dashboard = await serveDashboard(createDashboard({ client: backend.client, batchId }));
    const page = await browser.newPage();
    await page.goto(dashboard.url);
    await page.waitForFunction(
      () =>
        typeof (globalThis as unknown as { openeoDashboard: { stats: { firstPaintMs?: unknown } } }).openeoDashboard
          .stats.firstPaintMs === 'number',
      undefined,
      { timeout: 5 * 60_000 },
    );
    const stats = await pageStats(page);
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Performance.enable');
    const metrics = new Map((await cdp.send('Performance.getMetrics')).metrics.map((m) => [m.name, m.value]));
    const tilesDrawn = await page.evaluate(
      () =>
        (globalThis as unknown as { openeoDashboard: { tileMap: { tiles: Map<string, unknown> } } }).openeoDashboard
          .tileMap.tiles.size,
    );

    // What of the first paint is the dashboard reading the batch: the same reading once more.
    const readingStarted = Date.now();
    await backend.client.records(batchId);
    const recordsSeconds = (Date.now() - readingStarted) / 1000;

    // Live: the batch goes on, the page follows without reloading.
    await backend.client.resume(batchId);
    await new Promise((resolve) => setTimeout(resolve, LIVE_SECONDS * 1000));
    const live = await pageStats(page);
    const [finishedInBatch, finishedShown] = [
      (await handle.query(batchProgress)).counts.finished,
      await finishedOnPage(page),
    ];
    const liveHeap =
      new Map((await cdp.send('Performance.getMetrics')).metrics.map((m) => [m.name, m.value])).get('JSHeapUsedSize') ??
      0;
    await handle.terminate('benchmark: the dashboard scenario measured what it needed');

    const figures: DashboardFigures = {
      tiles: TILES,
      tilesDrawn,
      firstPaintMs: stats.firstPaintMs!,
      snapshotMs: stats.snapshotMs!,
      jsHeapMb: (metrics.get('JSHeapUsedSize') ?? 0) / MB,
      liveUpdates: live.updates,
      finishedOnPage: finishedShown,
      finishedInBatch,
    };
    report.figure('dashboard.tilesDrawn', 'dashboard: tiles drawn', tilesDrawn);
    report.figure(
      'dashboard.snapshotSeconds',
      'dashboard: navigation → snapshot of all tiles received',
      figures.snapshotMs / 1000,
      's',
    );
    report.figure(
      'dashboard.firstPaintSeconds',
      'dashboard: navigation → all tiles painted',
      figures.firstPaintMs / 1000,
      's',
    );
    report.figure(
      'dashboard.recordsSeconds',
      "dashboard: of which reading the batch's records (client.records, read again)",
      recordsSeconds,
      's',
    );
    report.figure('dashboard.jsHeapMb', 'dashboard: page JS heap with all tiles', figures.jsHeapMb, 'MiB');
    report.figure('dashboard.domNodes', 'dashboard: DOM nodes', metrics.get('Nodes') ?? 0);
    report.figure(
      'dashboard.liveUpdates',
      `dashboard: updates in ${LIVE_SECONDS} s of the resumed batch (page JS heap then ${(liveHeap / MB).toFixed(1)} MiB)`,
      live.updates,
    );
    report.figure(
      'dashboard.finished',
      `dashboard: tiles finished after ${LIVE_SECONDS} s live, on the page / in the batch`,
      [finishedShown, finishedInBatch],
    );
    return figures;
  } finally {
    await browser.close();
    await dashboard?.close();
    await backend.close();
  }
}

async function until(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }
}
