/**
 * Scenario 5: exporting a batch's job database (CSV, GeoJSON, GeoParquet) the way a user does,
 * with `client.exportTiles`: every tile read back from Temporal, encoded, written to a file.
 *
 * Running 10,000 tiles to the end takes a quarter of an hour, so the scenario's own batch is
 * started with instant jobs, paused once a tenth of its tiles finished, and exported when the
 * tiles in flight have ended: ended tiles come from their memos in one visibility listing, the
 * rest are tiled again from the spec. When the throughput scenario ran in the same benchmark,
 * its largest batch (every tile ended) is exported too.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { OpenEOBatchClient } from '../../src/app/client';
import { EXPORT_FORMATS, type ExportFormat } from '../../src/core/job-database';
import { MB, type Report } from '../report';
import { gridSpec } from '../specs';
import type { BenchWorld } from '../world';

export interface ExportedBatch {
  batchId: string;
  tiles: number;
  /** Tiles that had ended (finished or failed) when exported. */
  ended: number;
  /** One read of the batch's records, without encoding. */
  readSeconds: number;
  /** Whole exports (read, encode, write) per format. */
  seconds: Record<ExportFormat, number>;
  megabytes: Record<ExportFormat, number>;
}

const PARALLEL_JOBS = 100;
/** Tiles that finish before the pause: enough that a tenth of the rows come from ended tiles. */
const ENDED_SHARE = 0.1;
const EXTENSIONS: Record<ExportFormat, string> = { csv: 'csv', geojson: 'geojson', parquet: 'parquet' };

/** Exports `batchId` in every format and reports the times; checks each export has every tile. */
async function measureExports(
  client: OpenEOBatchClient,
  world: BenchWorld,
  batchId: string,
  report: Report,
): Promise<ExportedBatch> {
  let started = Date.now();
  const records = await client.records(batchId);
  const readSeconds = (Date.now() - started) / 1000;
  const tiles = records.tiles.length;
  const ended = records.tiles.filter((t) => t.status === 'finished' || t.status === 'error').length;
  const key = (name: string) => `export.${batchId}.${name}`;
  report.figure(key('tiles'), `${batchId}: tiles (ended when exported)`, `${tiles} (${ended})`);
  report.figure(key('readSeconds'), `${batchId}: reading the records`, readSeconds, 's');
  const seconds = {} as Record<ExportFormat, number>;
  const megabytes = {} as Record<ExportFormat, number>;
  for (const format of EXPORT_FORMATS) {
    started = Date.now();
    const result = await client.exportTiles(batchId, {
      format,
      out: join(world.workDir, `${batchId}.${EXTENSIONS[format]}`),
    });
    seconds[format] = (Date.now() - started) / 1000;
    megabytes[format] = result.bytes.byteLength / MB;
    if (result.rows !== tiles)
      throw new Error(`the ${format} export of ${batchId} has ${result.rows} rows, not ${tiles}`);
    report.figure(
      key(`${format}Seconds`),
      `${batchId}: ${format} export (read, encode, write; ${megabytes[format].toFixed(1)} MiB)`,
      seconds[format],
      's',
    );
  }
  return { batchId, tiles, ended, readSeconds, seconds, megabytes };
}

/** Runs the batch until a tenth of its tiles finished, pauses it, and waits for the tiles in flight. */
async function pausedBatch(client: OpenEOBatchClient, batchId: string, tiles: number, report: Report): Promise<void> {
  const target = Math.ceil(tiles * ENDED_SHARE);
  const deadline = Date.now() + 30 * 60_000;
  let progress = await client.progress(batchId).catch(() => undefined);
  while ((progress?.counts.finished ?? 0) < target) {
    if (Date.now() > deadline) throw new Error(`${batchId}: ${target} tiles did not finish within 30 minutes`);
    await sleep(1000);
    progress = await client.progress(batchId).catch(() => progress);
  }
  await client.pause(batchId);
  while ((await client.progress(batchId)).counts.running > 0) {
    if (Date.now() > deadline) throw new Error(`${batchId}: tiles in flight did not end after the pause`);
    await sleep(1000);
  }
  report.note(
    `${batchId}: paused after ${target} of ${tiles} tiles finished; the tiles in flight ended before the exports`,
  );
}

export async function exportScenario(
  world: BenchWorld,
  tiles: number,
  report: Report,
  endedBatch?: string,
): Promise<ExportedBatch[]> {
  const backend = await world.startBackend(`export${tiles}`, {
    jobDurations: { queuedMs: 0, runningMs: 0 },
    maxRunningJobsPerUser: 100_000,
    rasterSize: 8,
  });
  const batchId = `bench-export-${tiles}`;
  const measured: ExportedBatch[] = [];
  try {
    const spec = gridSpec({
      batchId,
      backend: { name: backend.name, url: backend.emulator.url },
      parallelJobs: PARALLEL_JOBS,
      tiles,
      tileSize: 1000,
      outputDir: backend.outputDir,
    });
    await backend.client.start(spec);
    await pausedBatch(backend.client, batchId, tiles, report);
    measured.push(await measureExports(backend.client, world, batchId, report));
    // A small batch may have had every tile in flight at the pause, and ended by itself.
    await backend.client
      .handle(batchId)
      .terminate('benchmark: exported')
      .catch(() => undefined);
  } finally {
    await backend.close();
  }
  if (endedBatch) {
    // Ended tiles need no worker: their records are in their memos.
    measured.push(await measureExports(new OpenEOBatchClient(world.temporal), world, endedBatch, report));
  }
  return measured;
}
