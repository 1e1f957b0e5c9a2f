/**
 * One tile, one openEO batch job: create → start → wait until it ends → download results (or
 * save error logs). The record it returns, and signals to its batch, is the tile's row in the
 * "job database" that Temporal history has become.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  getExternalWorkflowHandle,
  isCancellation,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { OpenEOActivities } from '../activities';
import type { JobSnapshot } from '../activities/openeo-jobs';
import type { BackendRef } from '../src/openeo/connections';
import type { OpenEOJobStatus, TileError, TileRecord } from '../src/records';
import { TERMINAL_JOB_STATUSES } from '../src/records';
import { OPENEO_JOB_ID, TILE_STATUS } from '../src/search-attributes';
import { tileArguments, tileProcessGraph, type Tile } from '../src/spec/arguments';
import type { BatchSpec } from '../src/spec/schema';
import { tileCompleted, tileJobEnded, tileJobRunning, tileProgress } from './messages';

/** Everything a tile needs, as the batch hands it over. */
export interface TileWorkflowInput {
  batchId: string;
  tile: Tile;
  backend: BackendRef;
  process: BatchSpec['process'];
  parameterDefaults: BatchSpec['parameterDefaults'];
  parameterMapping: BatchSpec['parameterMapping'];
  jobOptions?: BatchSpec['jobOptions'];
  outputDir: string;
  polling: BatchSpec['polling'];
  /** Tell the batch when the job starts running (its backend limits queued jobs). */
  reportRunning?: boolean;
}

const retry = { initialInterval: '2s', backoffCoefficient: 2, maximumInterval: '2m', maximumAttempts: 30 };

const quick = proxyActivities<OpenEOActivities>({ startToCloseTimeout: '2m', retry });
const waiting = proxyActivities<OpenEOActivities>({
  // A job may queue and run for days; the heartbeat notices a lost worker within a minute.
  startToCloseTimeout: '30d',
  heartbeatTimeout: '1m',
  retry,
});
const transfers = proxyActivities<OpenEOActivities>({ startToCloseTimeout: '6h', heartbeatTimeout: '2m', retry });

function nowIso(): string {
  // The workflow clock: deterministic on replay.
  return new Date().toISOString();
}

/** The reason to show for a failed activity: the openEO code and message, not a stack. */
function errorOf(err: unknown): TileError {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof ApplicationFailure) return { code: cause.type ?? 'Error', message: cause.message };
  return { code: 'Error', message: err instanceof Error ? err.message : String(err) };
}

/** Runs one tile's openEO job to its end; never throws for a failed job, only for cancellation. */
export async function tileWorkflow(input: TileWorkflowInput): Promise<TileRecord> {
  const { batchId, tile, backend } = input;
  const record: TileRecord = { batchId, tileId: tile.id, status: 'running', backend: backend.name, attempts: 1 };
  setHandler(tileProgress, () => record);

  const show = () =>
    setCurrentDetails(
      `**Tile** ${tile.id} on **${backend.name}**: ${record.status}` +
        (record.openeoJobId ? `\n\nopenEO job \`${record.openeoJobId}\`: ${record.backendStatus ?? 'unknown'}` : '') +
        (record.error ? `\n\nError ${record.error.code}: ${record.error.message}` : ''),
    );
  let reportedRunning = false;
  const observe = (job: JobSnapshot) => {
    record.backendStatus = job.status;
    if (job.status === 'running' && !record.runningAt) record.runningAt = nowIso();
    if (input.reportRunning && !reportedRunning && job.status !== 'created' && job.status !== 'queued') {
      reportedRunning = true;
      void tellParent((parent) => parent.signal(tileJobRunning, { tileId: tile.id }));
    }
    if (job.costs !== undefined) record.costs = job.costs;
    if (job.usage) record.usage = job.usage;
    show();
  };
  const output = () => ({ backend, jobId: record.openeoJobId!, outputDir: input.outputDir, batchId, tileId: tile.id });

  try {
    show();
    const processGraph = tileProcessGraph(
      input.process,
      tileArguments(tile, input.parameterDefaults, input.parameterMapping),
    );
    record.openeoJobId = await quick.createJob({
      backend,
      jobTitle: `${batchId}/${tile.id} attempt ${record.attempts}`,
      processGraph,
      jobOptions: input.jobOptions,
    });
    record.createdAt = nowIso();
    record.backendStatus = 'created';
    upsertSearchAttributes([{ key: OPENEO_JOB_ID, value: record.openeoJobId }]);

    let job = await quick.startJob({ backend, jobId: record.openeoJobId });
    observe(job);
    while (!TERMINAL_JOB_STATUSES.includes(job.status)) {
      job = await waiting.waitForJobStatusChange({
        backend,
        jobId: record.openeoJobId,
        knownStatus: job.status as OpenEOJobStatus,
        initialIntervalMs: input.polling.initialIntervalSeconds * 1000,
        maxIntervalMs: input.polling.maxIntervalSeconds * 1000,
      });
      observe(job);
    }
    // The job no longer occupies the backend: free the batch's slot before the download.
    const jobEnded = { tileId: tile.id, jobStatus: job.status, ...(job.status === 'error' ? { error: { code: 'JobFailed', message: 'the openEO job ended in error' } } : {}) };
    await tellParent((parent) => parent.signal(tileJobEnded, jobEnded));

    if (job.status === 'finished') {
      const downloaded = await transfers.downloadResults(output());
      record.outputDir = downloaded.tileDir;
      record.files = downloaded.files;
      record.status = 'finished';
    } else if (job.status === 'error') {
      const saved = await quick.saveErrorLogs(output());
      record.error = saved.error;
      record.outputDir = saved.tileDir;
      record.status = 'error';
    } else {
      record.status = 'canceled';
      record.error = { code: 'JobCanceled', message: 'the openEO job was canceled on the backend' };
    }
  } catch (err) {
    if (isCancellation(err)) {
      record.status = 'canceled';
      await CancellationScope.nonCancellable(async () => {
        if (record.openeoJobId) observe(await quick.cancelJob({ backend, jobId: record.openeoJobId }));
        await finish(record);
      });
      throw err;
    }
    record.status = 'error';
    record.error = errorOf(err);
  }
  await finish(record);
  return record;
}

/** Stamps the end, makes it searchable, and tells the batch (which may have ended already). */
async function finish(record: TileRecord): Promise<void> {
  record.finishedAt = nowIso();
  upsertSearchAttributes([{ key: TILE_STATUS, value: record.status }]);
  setCurrentDetails(`**Tile** ${record.tileId}: ${record.status}${record.error ? ` (${record.error.code}: ${record.error.message})` : ''}`);
  await tellParent((parent) => parent.signal(tileCompleted, record));
}

/** Signals the window that started this tile; a window that is gone is not an error. */
async function tellParent(send: (parent: ReturnType<typeof getExternalWorkflowHandle>) => Promise<void>): Promise<void> {
  const parent = workflowInfo().parent;
  if (!parent) return;
  try {
    await send(getExternalWorkflowHandle(parent.workflowId));
  } catch {
    // The batch ended or was terminated: the record stays in this workflow's result.
  }
}
