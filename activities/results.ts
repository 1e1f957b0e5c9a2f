/**
 * Activities that bring a job's outcome home: its result assets (verified on disk) or its error
 * logs, plus the job metadata, into `<outputDir>/<batchId>/<tileId>/`.
 */
import { Context, log } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import type { OpenEOConnections } from '../core/openeo/connections';
import type { TileError } from '../core/records';
import { sameOrigin } from '../core/openeo/credentials';
import { fetchAsset, type AssetFetchContext } from './asset-downloads';
import { isAlreadyDownloaded } from './download';
import { readJobLogs, type JobLogs } from './error-logs';
import { callOpenEO } from './failures';
import { makeQuicklook, QUICKLOOK_IMAGE, QUICKLOOK_INFO, type DownloadedAsset } from './quicklook';
import { jobHandle, type JobRef } from './openeo-jobs';
import { stacSettings, type StacSettings } from '../core/spec/stac-settings';
import { publishTileStac, type TileFile } from './stac/publish';
import type { ItemTile } from './stac/item';

export interface TileOutputInput extends JobRef {
  outputDir: string;
  batchId: string;
  tileId: string;
  /** Which of the tile's jobs this is; each attempt's error logs are kept apart. */
  attempt?: number;
}

/** What the download also needs to write the tile's STAC item (absent in activities scheduled by older workers). */
export interface TileStacContext {
  tile?: ItemTile;
  stac?: StacSettings;
}

export interface DownloadedResults {
  /** The tile's folder, absolute, on the worker's file system. */
  tileDir: string;
  /** Files written, relative to `tileDir`. */
  files: string[];
  bytes: number;
}

interface StacAsset {
  href: string;
  title?: string;
  type?: string;
  roles?: string[];
  'file:size'?: number;
  'file:checksum'?: string;
}

type ResultsDocument = { assets?: Record<string, StacAsset>; properties?: { datetime?: string | null } };

/** `<outputDir>/<batchId>/<tileId>`, refusing ids that would climb out of `outputDir`. */
export function tileDirectory(outputDir: string, batchId: string, tileId: string): string {
  const base = resolve(outputDir);
  const dir = resolve(base, batchId, tileId);
  if (!dir.startsWith(base + sep)) {
    throw ApplicationFailure.nonRetryable(`tile "${tileId}" of batch "${batchId}" would be written outside ${base}`, 'UnsafePath');
  }
  return dir;
}

/** Names of the files the worker writes itself next to the assets. */
const OWN_FILES = new Set(['job.json', 'error-logs.json', QUICKLOOK_IMAGE, QUICKLOOK_INFO]);

/**
 * A file name for an asset that cannot leave the tile's folder: the last path segment of the
 * asset key, reduced to a safe alphabet. `../../etc/passwd` becomes `passwd`.
 */
export function assetFileName(key: string, index: number, taken: Set<string>): string {
  const last = key.split(/[\\/]/).filter((part) => part !== '' && part !== '.' && part !== '..').pop() ?? '';
  let name = last.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '');
  if (!name || OWN_FILES.has(name)) name = `asset-${index}`;
  while (taken.has(name)) name = `${index}-${name}`;
  taken.add(name);
  return name;
}

async function writeJson(path: string, value: unknown): Promise<void> {
  await writeFile(path, `${JSON.stringify(value, null, 2)}\n`);
}

export function createResultActivities(connections: OpenEOConnections, options: { downloadIdleTimeoutMs: number }) {
  /** How assets of one job are fetched: headers per URL, and fresh links when one is refused. */
  const fetchContext = (input: TileOutputInput): AssetFetchContext => ({
    jobId: input.jobId,
    idleTimeoutMs: options.downloadIdleTimeoutMs,
    headersFor: (url) => connections.authHeadersFor(input.backend, url),
    renewLink: async (key, refused) => {
      // A refused token on the backend's own origin is dropped, so the next call logs in again.
      if (sameOrigin(refused, input.backend.url)) await connections.forget(input.backend);
      const fresh = await callOpenEO(connections, input.backend, 'fetch fresh result links', async (connection) =>
        (await jobHandle(connection, input.jobId).getResultsAsStac()) as ResultsDocument,
      );
      return fresh.assets?.[key]?.href;
    },
    onProgress: (asset, bytes) => Context.current().heartbeat({ asset, bytes }),
  });

  return {
    /**
     * Downloads every asset of a finished job, verified against `file:size`/`file:checksum`,
     * and writes `job.json` (the job's description and results document) first, so it is there
     * also when a download fails. Then makes the quicklook of the result GeoTIFF (`quicklook.ts`);
     * a result without one still finishes. Assets already on disk and verified are kept, so a retry only
     * fetches what is missing. Permanent failures (404, refused links, wrong checksums) end the
     * activity without retries; see `asset-downloads.ts`.
     */
    async downloadResults(input: TileOutputInput & TileStacContext): Promise<DownloadedResults> {
      const { backend, jobId } = input;
      const tileDir = tileDirectory(input.outputDir, input.batchId, input.tileId);
      const [description, results] = await callOpenEO(connections, backend, 'fetch the results', async (connection) => {
        // getJob fetches the description; the results document is one more request.
        const job = await connection.getJob(jobId);
        return [job, (await job.getResultsAsStac()) as ResultsDocument];
      });
      await mkdir(tileDir, { recursive: true });
      await writeJson(join(tileDir, 'job.json'), { job: description, results });
      const context = fetchContext(input);
      const taken = new Set<string>();
      const files: string[] = [];
      const assets: DownloadedAsset[] = [];
      const stacFiles: TileFile[] = [];
      let bytes = 0;
      for (const [index, [key, asset]] of Object.entries(results.assets ?? {}).entries()) {
        const name = assetFileName(key, index, taken);
        const target = join(tileDir, name);
        const expect = { size: asset['file:size'], checksum: asset['file:checksum'] };
        if (!(await isAlreadyDownloaded(target, expect))) bytes += await fetchAsset({ key, href: asset.href, target, expect }, context);
        files.push(name);
        assets.push({ file: name, type: asset.type, roles: asset.roles });
        stacFiles.push({ key, file: name, type: asset.type, title: asset.title, roles: asset.roles, checksum: asset['file:checksum'] });
      }
      // Made here, after every file is verified, so the tile needs no step of its own for it.
      const quicklook = await makeQuicklook(tileDir, assets, { onRows: (rows) => Context.current().heartbeat({ quicklook: rows }) });
      if (quicklook.status === 'failed') log.warn(`tile ${input.tileId} of batch ${input.batchId} has no quicklook`, { reason: quicklook.reason });
      files.push(...quicklook.files, 'job.json');
      if (quicklook.status === 'made') stacFiles.push({ key: 'quicklook', file: QUICKLOOK_IMAGE, type: 'image/png', title: 'Quicklook', roles: ['overview'] });
      if (input.tile) {
        const resultTime = results.properties?.datetime ?? description.updated ?? new Date().toISOString();
        const stac = { batchId: input.batchId, batchDir: resolve(input.outputDir, input.batchId), tileDir, tile: input.tile, settings: input.stac ?? stacSettings(input.batchId, undefined) };
        await publishTileStac({ ...stac, job: { id: jobId, backend: backend.name, backendUrl: backend.url }, resultTime, files: stacFiles });
      }
      return { tileDir, files, bytes };
    },

    /**
     * Saves the logs of a job that ended in `error` as `error-logs.json`, with `job.json` (which
     * also says how the logs were read), and returns the first error entry: the tile's reason.
     */
    async saveErrorLogs(input: TileOutputInput): Promise<{ error: TileError; tileDir: string }> {
      const { backend, jobId } = input;
      const tileDir = tileDirectory(input.outputDir, input.batchId, input.tileId);
      const [description, logs] = await callOpenEO(connections, backend, 'fetch the error logs', async (connection) => {
        const job = await connection.getJob(jobId);
        return [job, await readJobLogs(connection, jobId)] as const;
      });
      await mkdir(tileDir, { recursive: true });
      // error-logs.json is the latest attempt's; error-logs.attempt-<n>.json keeps every attempt's.
      await writeJson(join(tileDir, 'error-logs.json'), logs.entries);
      if (input.attempt !== undefined) await writeJson(join(tileDir, `error-logs.attempt-${input.attempt}.json`), logs.entries);
      await writeJson(join(tileDir, 'job.json'), { job: description, logs: logReport(logs) });
      const first = logs.entries.find((entry) => entry.level === 'error');
      const error = {
        code: first?.code || 'JobFailed',
        message: first?.message || 'the openEO job ended in error without an error log entry',
      };
      return { error, tileDir };
    },
  };
}

/** How the logs were read, without the entries themselves. */
function logReport(logs: JobLogs): Omit<JobLogs, 'entries'> & { entries: number } {
  return { entries: logs.entries.length, pages: logs.pages, complete: logs.complete, stoppedBecause: logs.stoppedBecause };
}
