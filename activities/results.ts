/**
 * Activities that bring a job's outcome home: its result assets (verified on disk) or its error
 * logs, plus the job metadata, into `<outputDir>/<batchId>/<tileId>/`.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import type { OpenEOConnections } from '../core/openeo/connections';
import type { TileError } from '../core/records';
import { downloadAsset, DownloadError, isAlreadyDownloaded } from './download';
import { callOpenEO } from './failures';
import type { JobRef } from './openeo-jobs';

export interface TileOutputInput extends JobRef {
  outputDir: string;
  batchId: string;
  tileId: string;
  /** Which of the tile's jobs this is; each attempt's error logs are kept apart. */
  attempt?: number;
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
  type?: string;
  'file:size'?: number;
  'file:checksum'?: string;
}

interface LogEntry {
  id?: string;
  level?: string;
  code?: string;
  message?: string;
}

/** `<outputDir>/<batchId>/<tileId>`, refusing ids that would climb out of `outputDir`. */
export function tileDirectory(outputDir: string, batchId: string, tileId: string): string {
  const base = resolve(outputDir);
  const dir = resolve(base, batchId, tileId);
  if (!dir.startsWith(base + sep)) {
    throw ApplicationFailure.nonRetryable(`tile "${tileId}" of batch "${batchId}" would be written outside ${base}`, 'UnsafePath');
  }
  return dir;
}

/**
 * A file name for an asset that cannot leave the tile's folder: the last path segment of the
 * asset key, reduced to a safe alphabet. `../../etc/passwd` becomes `passwd`.
 */
export function assetFileName(key: string, index: number, taken: Set<string>): string {
  const last = key.split(/[\\/]/).filter((part) => part !== '' && part !== '.' && part !== '..').pop() ?? '';
  let name = last.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '');
  if (!name || name === 'job.json' || name === 'error-logs.json') name = `asset-${index}`;
  while (taken.has(name)) name = `${index}-${name}`;
  taken.add(name);
  return name;
}

async function writeJson(path: string, value: unknown): Promise<void> {
  await writeFile(path, `${JSON.stringify(value, null, 2)}\n`);
}

export function createResultActivities(connections: OpenEOConnections, options: { downloadIdleTimeoutMs: number }) {
  return {
    /**
     * Downloads every asset of a finished job, verified against `file:size`/`file:checksum`,
     * and writes `job.json` (the job's description and results document). Assets already on
     * disk and verified are kept, so a retry only fetches what is missing.
     */
    async downloadResults(input: TileOutputInput): Promise<DownloadedResults> {
      const { backend, jobId } = input;
      const tileDir = tileDirectory(input.outputDir, input.batchId, input.tileId);
      const [description, results] = await callOpenEO(connections, backend, 'fetch the results', async (connection) => {
        // getJob fetches the description; the results document is one more request.
        const job = await connection.getJob(jobId);
        return [job, (await job.getResultsAsStac()) as { assets?: Record<string, StacAsset> }];
      });
      await mkdir(tileDir, { recursive: true });
      const taken = new Set<string>();
      const files: string[] = [];
      let bytes = 0;
      for (const [index, [key, asset]] of Object.entries(results.assets ?? {}).entries()) {
        const name = assetFileName(key, index, taken);
        const target = join(tileDir, name);
        const expect = { size: asset['file:size'], checksum: asset['file:checksum'] };
        if (!(await isAlreadyDownloaded(target, expect))) {
          try {
            bytes += await downloadAsset(asset.href, target, {
              ...expect,
              headers: await connections.authHeadersFor(backend, asset.href),
              idleTimeoutMs: options.downloadIdleTimeoutMs,
              onProgress: (done) => Context.current().heartbeat({ asset: key, bytes: done }),
            });
          } catch (err) {
            // Every failed download is worth another attempt; a new attempt fetches the
            // results document again, which also renews expired signed links.
            const code = err instanceof DownloadError ? err.code : 'DownloadFailed';
            const reason = err instanceof Error ? err.message : String(err);
            throw ApplicationFailure.retryable(`could not download asset "${key}" of job ${jobId}: ${reason}`, code);
          }
        }
        files.push(name);
      }
      await writeJson(join(tileDir, 'job.json'), { job: description, results });
      files.push('job.json');
      return { tileDir, files, bytes };
    },

    /**
     * Saves the logs of a job that ended in `error` as `error-logs.json`, with `job.json`, and
     * returns the first error entry: the reason shown for the tile.
     */
    async saveErrorLogs(input: TileOutputInput): Promise<{ error: TileError; tileDir: string }> {
      const { backend, jobId } = input;
      const tileDir = tileDirectory(input.outputDir, input.batchId, input.tileId);
      const [description, logs] = await callOpenEO(connections, backend, 'fetch the error logs', async (connection) => {
        const job = await connection.getJob(jobId);
        const reader = job.debugJob();
        const entries: LogEntry[] = [];
        // Pages until the backend has nothing new; bounded so a chatty job cannot fill the disk.
        for (let page = 0; page < 100; page++) {
          const next = (await reader.nextLogs(1000)) as LogEntry[];
          if (next.length === 0) break;
          entries.push(...next);
        }
        return [job, entries];
      });
      await mkdir(tileDir, { recursive: true });
      // error-logs.json is the latest attempt's; error-logs.attempt-<n>.json keeps every attempt's.
      await writeJson(join(tileDir, 'error-logs.json'), logs);
      if (input.attempt !== undefined) await writeJson(join(tileDir, `error-logs.attempt-${input.attempt}.json`), logs);
      await writeJson(join(tileDir, 'job.json'), { job: description });
      const first = logs.find((entry) => entry.level === 'error');
      const error = {
        code: first?.code || 'JobFailed',
        message: first?.message || 'the openEO job ended in error without an error log entry',
      };
      return { error, tileDir };
    },
  };
}
