/**
 * Activities that bring a job's outcome home: its result assets (verified) or its error logs,
 * plus the job metadata, into the tile's folder of the result store (`<outputDir>/` + the spec's
 * `outputPath`, by default `<outputDir>/<batchId>/<tileId>/`; `outputDir` may be `s3://…`).
 */
import { log } from '@temporalio/activity';
import { rm } from 'node:fs/promises';

import type { OpenEOConnections } from '../src/core/openeo/connections';
import type { EndedJobDescriptions } from './ended-jobs';
import type { TileError, UncheckedChecksum } from '../src/core/records';
import { sameOrigin } from '../src/core/openeo/credentials';
import type { AssetFetchContext } from './asset-downloads';
import { transferHeartbeat } from './transfer-heartbeats';
import { readJobLogs, type JobLogs } from './error-logs';
import { callOpenEO } from './failures';
import { makeQuicklook, quicklookSource, QUICKLOOK_IMAGE, QUICKLOOK_INFO, type DownloadedAsset } from './quicklook';
import { jobHandle, snapshot, type JobDescription } from './job-requests';
import type { JobRef, JobSnapshot } from './openeo-jobs';
import {
  localFolder,
  stageFromStore,
  storeAsset,
  storeDocument,
  storeFailure,
  tileFolder,
  type TileFolder,
} from './tile-output';
import { stacSettings, type StacSettings } from '../src/core/batch-spec/stac-settings';
import { publishTileStac, type TileFile } from './stac/publish';
import type { ItemTile } from './stac/item';
import { stacStoreIn } from './stac/result-store';
import { uncheckedReason } from './store/checksum';

export interface TileOutputInput extends JobRef {
  outputDir: string;
  /** The spec's `outputPath` template; today's layout when absent (workflows of older releases). */
  outputPath?: string;
  /** The tile's period id, for `{period}`. */
  period?: string;
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
  /** The tile's folder: absolute on the worker's file system, or `s3://bucket/…`. */
  tileDir: string;
  /** Files written, relative to `tileDir`. */
  files: string[];
  bytes: number;
  /** Files kept although their checksum could not be checked (their size was); absent when none. */
  uncheckedChecksums?: UncheckedChecksum[];
  /**
   * The job as its description (read for `job.json`) gives it: the costs and usage of a job
   * whose end the tile learnt from a listing's summary. Absent in results of older workers.
   */
  job?: JobSnapshot;
}

interface StacAsset {
  href: string;
  type?: string;
  roles?: string[];
  'file:size'?: number;
  'file:checksum'?: string;
}

type ResultsDocument = { assets?: Record<string, StacAsset & { title?: string }>; properties?: { datetime?: string } };

/** The key of the worker's quicklook in the tile's STAC item. */
const QUICKLOOK_ASSET_KEY = 'quicklook';

/** Names of the files the worker writes itself next to the assets, and its quicklook's item key. */
const OWN_FILES = new Set(['job.json', 'error-logs.json', QUICKLOOK_IMAGE, QUICKLOOK_INFO, QUICKLOOK_ASSET_KEY]);

/**
 * A file name for an asset that cannot leave the tile's folder: the last path segment of the
 * asset key, reduced to a safe alphabet. `../../etc/passwd` becomes `passwd`. It is also the
 * asset's key in the tile's STAC item, since consumers of the item use keys as file names.
 */
export function assetFileName(key: string, index: number, taken: Set<string>): string {
  const last =
    key
      .split(/[\\/]/)
      .filter((part) => part !== '' && part !== '.' && part !== '..')
      .pop() ?? '';
  let name = last.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '');
  if (!name || OWN_FILES.has(name)) name = `asset-${index}`;
  while (taken.has(name)) name = `${index}-${name}`;
  taken.add(name);
  return name;
}

/** The staged copies of a remote store's assets, once they are stored and the quicklook is made. */
async function dropStaging(tile: TileFolder): Promise<void> {
  if (tile.store.remote) await rm(localFolder(tile), { recursive: true, force: true });
}

/**
 * The tile's STAC item and the batch's collection, in the batch's folder of the result store
 * (`<outputDir>/<batchId>/`), read from the files on this machine (the tile's folder, or the
 * staged copies of object storage, whose hrefs are then the objects' URLs).
 */
async function publishStac(
  input: TileOutputInput & TileStacContext & { tile: ItemTile },
  tile: TileFolder,
  resultTime: string,
  files: TileFile[],
): Promise<void> {
  const { store } = tile;
  // Object storage: sizes from the objects themselves (the quicklook, for one, is never staged).
  if (store.remote)
    files = await Promise.all(
      files.map(async (file) => ({ ...file, size: (await store.head(tile.key(file.file)))?.size })),
    );
  const stac = {
    batchId: input.batchId,
    batchDir: store.location(input.batchId),
    tileDir: localFolder(tile),
    tile: input.tile,
    settings: input.stac ?? stacSettings(input.batchId, undefined),
    job: { id: input.jobId, backend: input.backend.name, backendUrl: input.backend.url },
    resultTime,
    files,
    ...(store.remote ? { hrefFor: (file: TileFile) => store.location(tile.key(file.file)) } : {}),
  };
  try {
    await publishTileStac(stac, stacStoreIn(store, input.batchId));
  } catch (err) {
    // A STAC API's own failures come typed (retryable or not); a store outage is waited out.
    if (err instanceof Error && err.name === 'ApplicationFailure') throw err;
    throw storeFailure('the STAC item', tile, err);
  }
}

/** A job's documents: its description and its results (a STAC collection or item). */
interface JobDocuments {
  job: JobDescription;
  results: ResultsDocument;
}

/** The `job.json` an earlier download (or error-log save) wrote into the tile's folder, if any. */
async function readStoredJob(tile: TileFolder): Promise<Partial<JobDocuments> | undefined> {
  const stored = await tile.store.get(tile.key('job.json'));
  if (!stored) return undefined;
  const chunks: Buffer[] = [];
  for await (const chunk of stored.body) chunks.push(chunk as Buffer);
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as Partial<JobDocuments>;
  } catch {
    // Half a document (a store without atomic writes) proves nothing.
    return undefined;
  }
}

/** Every asset of `results` is in the tile's folder under the name a download gives it, verified. */
async function assetsAllHeld(tile: TileFolder, results: ResultsDocument): Promise<boolean> {
  const taken = new Set<string>();
  for (const [index, [key, asset]] of Object.entries(results.assets ?? {}).entries()) {
    const expect = { size: asset['file:size'], checksum: asset['file:checksum'] };
    if (!(await tile.store.holds(tile.key(assetFileName(key, index, taken)), expect))) return false;
  }
  return true;
}

/**
 * Brings a finished job's assets into the tile's folder (those there and verified are kept),
 * then makes the quicklook and the STAC item: everything a tile's results need after `job.json`.
 */
async function bringHome(
  input: TileOutputInput & TileStacContext,
  tile: TileFolder,
  documents: JobDocuments,
  context: AssetFetchContext,
): Promise<DownloadedResults> {
  const { job: description, results } = documents;
  const taken = new Set<string>();
  const files: string[] = [];
  const assets: DownloadedAsset[] = [];
  const stacFiles: TileFile[] = [];
  const unchecked: UncheckedChecksum[] = [];
  let bytes = 0;
  for (const [index, [key, asset]] of Object.entries(results.assets ?? {}).entries()) {
    const name = assetFileName(key, index, taken);
    const expect = { size: asset['file:size'], checksum: asset['file:checksum'] };
    bytes += await storeAsset(tile, { key, name, href: asset.href, expect, type: asset.type }, context);
    const reason = await uncheckedReason(expect.checksum);
    if (reason !== undefined) {
      unchecked.push({ file: name, reason });
      log.warn(
        `the checksum of ${name} of tile ${input.tileId} of batch ${input.batchId} could not be checked: the file is kept ${expect.size === undefined ? 'unchecked' : 'on its size alone'}`,
        { reason },
      );
    }
    files.push(name);
    assets.push({ file: name, type: asset.type, roles: asset.roles });
    // The item states only a checksum this file was verified against, never a malformed one.
    stacFiles.push({
      key: name,
      file: name,
      type: asset.type,
      title: asset.title,
      roles: asset.roles,
      checksum: reason === undefined ? asset['file:checksum'] : undefined,
    });
  }
  // Made here, after every file is verified, so the tile needs no step of its own for it.
  await stageFromStore(tile, quicklookSource(assets));
  const quicklook = await makeQuicklook(localFolder(tile), assets, {
    target: tile,
    onRows: (rows) => transferHeartbeat({ quicklook: rows }),
  });
  if (quicklook.status === 'failed')
    log.warn(`tile ${input.tileId} of batch ${input.batchId} has no quicklook`, { reason: quicklook.reason });
  if (quicklook.status === 'made')
    stacFiles.push({
      key: QUICKLOOK_ASSET_KEY,
      file: QUICKLOOK_IMAGE,
      type: 'image/png',
      title: 'Quicklook',
      roles: ['overview'],
    });
  if (input.tile) {
    const resultTime = results.properties?.datetime ?? description.updated ?? new Date().toISOString();
    await publishStac(
      input as TileOutputInput & Required<Pick<TileStacContext, 'tile'>> & TileStacContext,
      tile,
      resultTime,
      stacFiles,
    );
  }
  await dropStaging(tile);
  files.push(...quicklook.files, 'job.json');
  return {
    tileDir: tile.location,
    files,
    bytes,
    ...(unchecked.length > 0 ? { uncheckedChecksums: unchecked } : {}),
    job: snapshot(description),
  };
}

export function createResultActivities(
  connections: OpenEOConnections,
  options: { downloadIdleTimeoutMs: number; ended?: EndedJobDescriptions<JobDescription> },
) {
  /** How assets of one job are fetched: headers per URL, and fresh links when one is refused. */
  const fetchContext = (input: TileOutputInput): AssetFetchContext => ({
    jobId: input.jobId,
    idleTimeoutMs: options.downloadIdleTimeoutMs,
    headersFor: (url) => connections.authHeadersFor(input.backend, url),
    renewLink: async (key, refused) => {
      // A refused token on the backend's own origin is dropped, so the next call logs in again.
      if (sameOrigin(refused, input.backend.url)) await connections.forget(input.backend);
      const fresh = await callOpenEO(
        connections,
        input.backend,
        'fetch fresh result links',
        async (connection) => (await jobHandle(connection, input.jobId).getResultsAsStac()) as ResultsDocument,
      );
      return fresh.assets?.[key]?.href;
    },
    onProgress: (asset, bytes) => transferHeartbeat({ asset, bytes }),
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
      const tile = tileFolder(input);
      const [description, results] = await callOpenEO(connections, backend, 'fetch the results', async (connection) => {
        // The description, unless this worker's tracker just read it; the results document is one more request.
        const job =
          options.ended?.take(backend, jobId) ?? ((await connection.getJob(jobId)) as unknown as JobDescription);
        return [job, (await jobHandle(connection, jobId).getResultsAsStac()) as ResultsDocument];
      });
      await storeDocument(tile, 'job.json', { job: description, results });
      return bringHome(input, tile, { job: description, results }, fetchContext(input));
    },

    /**
     * The results of a job that disappeared from its backend, when an earlier download left all
     * of them in the tile's folder: `job.json` names this job and every asset it lists is there,
     * verified. The tile finishes from them as from a download (quicklook, STAC item), with
     * nothing fetched. Undefined when anything is missing: the tile needs a new job.
     */
    async resultsLeftBehind(input: TileOutputInput & TileStacContext): Promise<DownloadedResults | undefined> {
      const tile = tileFolder(input);
      const stored = await readStoredJob(tile);
      if (stored?.job?.id !== input.jobId || !stored.results) return undefined;
      if (!(await assetsAllHeld(tile, stored.results))) return undefined;
      return bringHome(input, tile, { job: stored.job, results: stored.results }, fetchContext(input));
    },

    /**
     * Saves the logs of a job that ended in `error` as `error-logs.json`, with `job.json` (which
     * also says how the logs were read), and returns the first error entry: the tile's reason.
     */
    async saveErrorLogs(input: TileOutputInput): Promise<{ error: TileError; tileDir: string }> {
      const { backend, jobId } = input;
      const tile = tileFolder(input);
      const [description, logs] = await callOpenEO(connections, backend, 'fetch the error logs', async (connection) => {
        const job = await connection.getJob(jobId);
        return [job, await readJobLogs(connection, jobId)] as const;
      });
      // error-logs.json is the latest attempt's; error-logs.attempt-<n>.json keeps every attempt's.
      await storeDocument(tile, 'error-logs.json', logs.entries);
      if (input.attempt !== undefined)
        await storeDocument(tile, `error-logs.attempt-${input.attempt}.json`, logs.entries);
      await storeDocument(tile, 'job.json', { job: description, logs: logReport(logs) });
      const first = logs.entries.find((entry) => entry.level === 'error');
      const error = {
        code: first?.code || 'JobFailed',
        message: first?.message || 'the openEO job ended in error without an error log entry',
      };
      return { error, tileDir: tile.location };
    },
  };
}

/** How the logs were read, without the entries themselves. */
function logReport(logs: JobLogs): Omit<JobLogs, 'entries'> & { entries: number } {
  return {
    entries: logs.entries.length,
    pages: logs.pages,
    complete: logs.complete,
    stoppedBecause: logs.stoppedBecause,
  };
}
