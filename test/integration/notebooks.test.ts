/**
 * The example notebooks end to end, each executed top to bottom by nbclient in a real Jupyter
 * kernel against the dev server, the emulator and a TypeScript worker: the Antwerp BAP grid with
 * its status map, the Sentinel-1/Sentinel-2 extraction with a Python job factory, and the custom
 * post-processing with a Python post-processor and the batch's STAC catalogue. The assertions
 * read what the notebooks made (the batch in Temporal, files on disk), not only that they ran.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createDashboard } from '../../src/app/dashboard';
import { serveDashboard } from '../harness/dashboard-page';
import { startHarness, type Harness } from '../support/harness';
import { notebookPython, runNotebook, type NotebookRun } from '../support/notebooks';

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** The first server-sent event of a stream, parsed (the stream is closed then). */
async function firstEvent(url: URL): Promise<{ event: string; data: unknown }> {
  const response = await fetch(url, { signal: AbortSignal.timeout(60_000) });
  assert.equal(response.status, 200, `GET ${url.href}`);
  const reader = response.body!.getReader();
  let text = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) assert.fail(`${url.href} ended before its first event`);
      text += Buffer.from(value).toString();
      const match = /event: (\S+)\ndata: (.*)\n\n/.exec(text);
      if (match) return { event: match[1]!, data: JSON.parse(match[2]!) as unknown };
    }
  } finally {
    await reader.cancel();
  }
}

describe('the example notebooks', () => {
  let h: Harness;
  let python: string;
  let outputDir: string;

  /** The settings every notebook reads, pointing at this harness; `extra` adds a notebook's own. */
  const settings = (suffix: string, extra: Record<string, string> = {}): Record<string, string> => ({
    TEMPORAL_ADDRESS: h.server.address,
    TEMPORAL_NAMESPACE: h.server.namespace,
    OPENEO_TEMPORAL_TASK_QUEUE: h.taskQueue,
    OPENEO_TEMPORAL_BACKEND: 'emulator',
    OPENEO_TEMPORAL_BACKEND_URL: h.emulator.url,
    OPENEO_TEMPORAL_OUTPUT_DIR: outputDir,
    OPENEO_TEMPORAL_BATCH_SUFFIX: suffix,
    ...extra,
  });

  /** Runs a notebook; fails with the cell's error and the runner's output when a cell failed. */
  const run = async (name: string, env: Record<string, string>): Promise<NotebookRun> => {
    const executed = join(h.workDir, name.replace(/\.ipynb$/, '.executed.ipynb'));
    const result = await runNotebook(python, name, executed, env, h.workDir);
    assert.equal(result.code, 0, `${name} failed:\n${result.stderr}\n--- it printed:\n${result.printed}`);
    return result;
  };

  before(async () => {
    python = await notebookPython((line) => console.log(line));
    h = await startHarness({ maxRunningJobsPerUser: 10 });
    await h.startWorker();
    outputDir = join(h.workDir, 'output');
  });
  after(async () => h?.teardown());

  it('antwerp-bap: runs the BAP grid, draws the status map as a PNG and links the live map of the batch', async () => {
    const dashboard = await serveDashboard(createDashboard({ client: h.client, intervalMs: 500 }));
    try {
      const { printed } = await run(
        'antwerp-bap.ipynb',
        settings('nb', { OPENEO_TEMPORAL_DASHBOARD_URL: dashboard.url }),
      );
      const batchId = 'antwerp-bap-nb';

      // The batch it started: the 20 km box in 5 km tiles, every tile finished on the emulator.
      const progress = await h.client.progress(batchId);
      assert.equal(progress.closed, true);
      assert.equal(progress.totalTiles, 16);
      assert.equal(progress.counts.finished, 16, JSON.stringify(progress.counts));
      assert.match(printed, /^ended: 16\/16 done · finished 16 · error 0/m, 'it followed the batch to its end');
      assert.match(printed, /^finished\s+16$/m, 'its GeoDataFrame holds the 16 finished tiles');

      const png = await readFile(join(outputDir, `${batchId}-status.png`));
      assert.deepEqual(png.subarray(0, 8), PNG_SIGNATURE, 'the status map is a PNG');
      assert.ok(png.length > 10_000, `a map with the tiles' previews, not an empty figure (${png.length} bytes)`);

      // The link it printed opens the live map of this batch.
      const link = /^map page: (\S+)$/m.exec(printed)?.[1];
      assert.equal(link, `${dashboard.url}?batch=${batchId}`);
      const page = await fetch(link);
      assert.equal(page.status, 200);
      assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
      const snapshot = await firstEvent(new URL(`api/batches/${batchId}/events`, link));
      const tiles = (snapshot.data as { tiles: Array<{ status: string }> }).tiles;
      assert.equal(snapshot.event, 'snapshot');
      assert.deepEqual(
        tiles.map((t) => t.status),
        Array.from({ length: 16 }, () => 'finished'),
      );
    } finally {
      await dashboard.close();
    }
  });
});
