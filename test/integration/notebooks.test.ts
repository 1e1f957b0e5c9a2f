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
import { fromArrayBuffer, type GeoTIFFImage } from 'geotiff';
import { createDashboard } from '../../src/app/dashboard';
import type { TileRecord } from '../../src/core/records';
import { serveDashboard } from '../harness/dashboard-page';
import { api, login } from '../support/emulator-api';
import { EMULATOR_USER, startHarness, type Harness } from '../support/harness';
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

/** The first image of a GeoTIFF file. */
async function geotiffImage(path: string): Promise<GeoTIFFImage> {
  const bytes = await readFile(path);
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  return (await fromArrayBuffer(buffer)).getImage();
}

/** A GeoTIFF's bands by their names (GDAL's band descriptions), as floats. */
async function bandsByName(path: string): Promise<Map<string, Float64Array>> {
  const image = await geotiffImage(path);
  const rasters = (await image.readRasters()) as unknown as ArrayLike<number>[];
  const bands = new Map<string, Float64Array>();
  for (let i = 0; i < rasters.length; i++)
    bands.set(String((await image.getGDALMetadata(i))?.DESCRIPTION), Float64Array.from(rasters[i]!));
  return bands;
}

interface GraphNode {
  process_id: string;
  arguments: Record<string, unknown>;
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
  const tileRecord = (batchId: string, tileId: string): Promise<TileRecord> =>
    h.temporal.workflow.getHandle(`${batchId}/tile-${tileId}`).result();

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

  it('lcfm-s1s2-extraction: a Python job factory picks S1 or S2 per row and month, skips some rows', async () => {
    const { printed } = await run(
      'lcfm-s1s2-extraction.ipynb',
      settings('nb', { OPENEO_TEMPORAL_HOOKS_TASK_QUEUE: `${h.taskQueue}-lcfm` }),
    );
    const batchId = 'lcfm-s1s2-nb';

    // 2 polygons × 2 sensors × 3 months; Sentinel-1 in December 2022 is skipped.
    const progress = await h.client.progress(batchId);
    assert.equal(progress.closed, true);
    assert.equal(progress.totalTiles, 12);
    assert.deepEqual([progress.counts.finished, progress.counts.skipped, progress.counts.error], [10, 2, 0]);
    for (const row of ['poly1-s1', 'poly2-s1']) {
      const skipped = await tileRecord(batchId, `${row}_2022-12`);
      assert.equal(skipped.status, 'skipped');
      assert.equal(skipped.skipReason, 'no Sentinel-1 monthly product for 2022-12: it starts in 2023-01');
    }

    // The jobs the factory built, as the backend received them.
    const token = await login(h.emulator, EMULATOR_USER.username, EMULATOR_USER.password);
    const jobs = h.emulator.admin.jobs().filter((j) => j.title?.includes(` — ${batchId}/`));
    assert.equal(jobs.length, 10, 'one job per row and month, none for a skipped one');
    for (const job of jobs) {
      const tileId = /— lcfm-s1s2-nb\/(\S+) attempt 1$/.exec(job.title ?? '')?.[1];
      assert.ok(tileId, `job title ${job.title}`);
      const graph = (await api(h.emulator, `/jobs/${job.id}`, { token })).body.process.process_graph as Record<
        string,
        GraphNode
      >;
      const nodes = Object.values(graph);
      const load = nodes.find((n) => n.process_id === 'load_collection')!;
      const period = tileId.split('_')[1]!;
      assert.deepEqual(load.arguments.temporal_extent, [`${period}-01`, nextMonth(period)], `${tileId}: its month`);
      assert.ok(
        nodes.some((n) => n.process_id === 'reduce_dimension' && n.arguments.dimension === 't'),
        `${tileId}: a monthly composite`,
      );
      if (tileId.includes('-s1_')) {
        assert.equal(job.title, `S1 backscatter ${tileId} — ${batchId}/${tileId} attempt 1`);
        assert.equal(load.arguments.id, 'SENTINEL1_GRD');
        assert.ok(
          nodes.some((n) => n.process_id === 'sar_backscatter'),
          `${tileId}: sar_backscatter`,
        );
        assert.equal(job.options['executor-memory'], '3g');
      } else {
        assert.equal(job.title, `S2 reflectance ${tileId} — ${batchId}/${tileId} attempt 1`);
        assert.equal(load.arguments.id, 'SENTINEL2_L2A');
        assert.ok(load.arguments.properties, `${tileId}: scenes filtered by cloud cover`);
      }
      assert.match(printed, new RegExp(`^\\s*${tileId}\\s+finished\\s+${String(load.arguments.id)}\\s+${job.id}`, 'm'));
    }
    // The records it printed: the skipped rows with their reason.
    assert.match(printed, /^\s*poly1-s1_2022-12\s+skipped\s.*no Sentinel-1 monthly product for 2022-12/m);
    assert.match(printed, /^\s*poly2-s1_2022-12\s+skipped\s.*no Sentinel-1 monthly product for 2022-12/m);
    assert.match(printed, /^job factory worker stopped$/m);
  });

  it('custom-job-manager: a Python post-processor writes NDVI under names of its own, listed in STAC', async () => {
    const { printed } = await run(
      'custom-job-manager.ipynb',
      settings('nb', { OPENEO_TEMPORAL_HOOKS_TASK_QUEUE: `${h.taskQueue}-ndvi` }),
    );
    const batchId = 'ndvi-nb';

    const progress = await h.client.progress(batchId);
    assert.equal(progress.closed, true);
    assert.equal(progress.totalTiles, 4);
    assert.equal(progress.counts.postprocessed, 4, JSON.stringify(progress.counts));

    for (const period of ['spring', 'summer'])
      for (const place of ['ghent-west', 'ghent-east']) {
        const tileId = `${place}_${period}`;
        const folder = join(outputDir, batchId, period, place);
        const record = await tileRecord(batchId, tileId);
        assert.equal(record.outputDir, folder, 'the outputPath layout: range, then place');
        const [tif, json] = [`${tileId}_ndvi.tif`, `${tileId}_ndvi.json`];
        const files = record.files ?? [];
        assert.ok(files.includes(tif) && files.includes(json), String(files));

        // The NDVI raster: one float band on the result's grid, (B08 - B04) / (B08 + B04) of the result.
        const result = files.find((f) => f.startsWith('openEO') && f.endsWith('.tif'))!;
        const source = await bandsByName(join(folder, result));
        const [red, nir] = [source.get('B04')!, source.get('B08')!];
        const image = await geotiffImage(join(folder, tif));
        assert.deepEqual([image.getSamplesPerPixel(), image.getBitsPerSample(), image.getSampleFormat()], [1, 32, 3]);
        assert.deepEqual(image.getBoundingBox(), (await geotiffImage(join(folder, result))).getBoundingBox());
        const ndvi = (await image.readRasters())[0] as Float32Array;
        let sum = 0;
        ndvi.forEach((value, i) => {
          const expected = (nir[i]! - red[i]!) / (nir[i]! + red[i]!);
          assert.ok(Math.abs(value - expected) < 1e-5, `${tif}: pixel ${i} is ${value}, not ${expected}`);
          sum += value;
        });
        // Its summary: the file it wrote and the record's postprocessResult.
        const summary = JSON.parse(await readFile(join(folder, json), 'utf8')) as Record<string, { mean: number }>;
        assert.deepEqual(record.postprocessResult, summary);
        assert.ok(Math.abs(summary[tif]!.mean - sum / ndvi.length) < 1e-3, JSON.stringify(summary));

        // Both files are assets of the tile's STAC item, beside the result.
        const item = JSON.parse(await readFile(join(outputDir, batchId, 'items', `${tileId}.json`), 'utf8')) as {
          assets: Record<string, { href: string; roles: string[] }>;
        };
        assert.ok(item.assets[result], 'the result stays in the item');
        assert.deepEqual(item.assets[tif]?.roles, ['data']);
        assert.deepEqual(item.assets[json]?.roles, ['metadata']);
        // What the notebook printed when it read the collection with pystac.
        assert.match(printed, new RegExp(`^ {2}${tif.replace(/\./g, '\\.')}\\s+data\\s`, 'm'));
        assert.match(printed, new RegExp(`^ {2}${json.replace(/\./g, '\\.')}\\s+metadata\\s`, 'm'));
      }
    assert.match(printed, /^collection ndvi-nb: NDVI around Ghent, 2024, 4 items$/m);
    assert.match(printed, /^post-processor worker stopped$/m);
  });
});

/** The first day of the month after `YYYY-MM`, as a date. */
function nextMonth(month: string): string {
  const [year, m] = month.split('-').map(Number) as [number, number];
  return m === 12 ? `${year + 1}-01-01` : `${year}-${String(m + 1).padStart(2, '0')}-01`;
}
