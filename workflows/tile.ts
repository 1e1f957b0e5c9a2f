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
  sleep,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { OpenEOActivities } from '../activities';
import type { JobSnapshot } from '../activities/openeo-jobs';
import type { BackendRef } from '../src/openeo/connections';
import type { OpenEOJobStatus, TileError, TileRecord } from '../src/records';
import { TERMINAL_JOB_STATUSES } from '../src/records';
import { OPENEO_JOB_ID, TILE_STATUS } from '../src/search-attributes';
import { tileArguments, tileProcessGraph, type ProcessGraph, type Tile } from '../src/spec/arguments';
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
  /** openEO jobs for this tile at most, in this run. @default 1 */
  maxAttempts?: number;
  /** Number of this tile's first job (above 1 when failed tiles are retried). @default 1 */
  firstAttempt?: number;
  timeouts?: BatchSpec['timeouts'];
}

/** Activity proxies with the batch's timeouts. */
function activitiesFor(timeouts: TileWorkflowInput['timeouts']) {
  const heartbeatTimeout = (timeouts?.heartbeatSeconds ?? 60) * 1000;
  const maximumInterval = (timeouts?.retryMaxIntervalSeconds ?? 120) * 1000;
  const retry = { initialInterval: Math.min(2000, maximumInterval), backoffCoefficient: 2, maximumInterval, maximumAttempts: 30 };
  return {
    quick: proxyActivities<OpenEOActivities>({ startToCloseTimeout: (timeouts?.activitySeconds ?? 120) * 1000, retry }),
    // A job may queue and run for days; the heartbeat notices a lost worker.
    waiting: proxyActivities<OpenEOActivities>({ startToCloseTimeout: '30d', heartbeatTimeout, retry }),
    transfers: proxyActivities<OpenEOActivities>({ startToCloseTimeout: '6h', heartbeatTimeout: 2 * heartbeatTimeout, retry }),
  };
}

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

/** How one attempt's job ended: its last snapshot, or a phase that ran past its limit. */
type AttemptOutcome = { job: JobSnapshot; timedOutIn?: undefined } | { job: JobSnapshot; timedOutIn: 'queue' | 'run' };

/** Waits for the job's next status, or `'timeout'` after `limitMs` (the activity is cancelled). */
async function waitForChange(
  waiting: ReturnType<typeof activitiesFor>['waiting'],
  args: Parameters<OpenEOActivities['waitForJobStatusChange']>[0],
  limitMs: number | undefined,
): Promise<JobSnapshot | 'timeout'> {
  if (limitMs === undefined) return waiting.waitForJobStatusChange(args);
  if (limitMs <= 0) return 'timeout';
  return CancellationScope.cancellable(async () => {
    const change = waiting.waitForJobStatusChange(args);
    const timer = sleep(limitMs).then(() => 'timeout' as const);
    // The loser is cancelled below; its rejection is expected.
    change.catch(() => undefined);
    timer.catch(() => undefined);
    const first = await Promise.race([change, timer]);
    CancellationScope.current().cancel();
    return first;
  });
}

/**
 * Runs one tile's openEO job to its end, resubmitting a job that fails or times out up to
 * `maxAttempts` jobs in all. Never throws for a failed job, only for cancellation.
 */
export async function tileWorkflow(input: TileWorkflowInput): Promise<TileRecord> {
  const { batchId, tile, backend } = input;
  const firstAttempt = input.firstAttempt ?? 1;
  const lastAttempt = firstAttempt - 1 + (input.maxAttempts ?? 1);
  const { quick, waiting, transfers } = activitiesFor(input.timeouts);
  const record: TileRecord = { batchId, tileId: tile.id, status: 'running', backend: backend.name, attempts: firstAttempt - 1 };
  setHandler(tileProgress, () => record);

  const show = () =>
    setCurrentDetails(
      `**Tile** ${tile.id} on **${backend.name}**: ${record.status}, attempt ${record.attempts} of ${lastAttempt}` +
        (record.openeoJobId ? `\n\nopenEO job \`${record.openeoJobId}\`: ${record.backendStatus ?? 'unknown'}` : '') +
        (record.error ? `\n\nError ${record.error.code}: ${record.error.message}` : ''),
    );
  let reportedRunning = false;
  let runningSince: number | undefined;
  /** Credits per openEO job of this tile: a tile that needed two jobs paid for both. */
  const costsByJob: Record<string, number> = {};
  const observe = (job: JobSnapshot) => {
    record.backendStatus = job.status;
    if (job.status === 'running' && runningSince === undefined) runningSince = Date.now();
    if (job.status === 'running' && !record.runningAt) record.runningAt = nowIso();
    if (input.reportRunning && !reportedRunning && job.status !== 'created' && job.status !== 'queued') {
      reportedRunning = true;
      void tellParent((parent) => parent.signal(tileJobRunning, { tileId: tile.id }));
    }
    if (job.costs !== undefined && record.openeoJobId) {
      costsByJob[record.openeoJobId] = job.costs;
      record.costs = Object.values(costsByJob).reduce((a, b) => a + b, 0);
    }
    if (job.usage) record.usage = job.usage;
    show();
  };
  const output = () => ({ backend, jobId: record.openeoJobId!, outputDir: input.outputDir, batchId, tileId: tile.id, attempt: record.attempts });

  /** One openEO job: create, start, and wait for its end within the phase limits. */
  const runAttempt = async (processGraph: ProcessGraph): Promise<AttemptOutcome> => {
    record.openeoJobId = await quick.createJob({
      backend,
      jobTitle: `${batchId}/${tile.id} attempt ${record.attempts}`,
      processGraph,
      jobOptions: input.jobOptions,
    });
    const createdAt = Date.now();
    runningSince = undefined;
    record.createdAt ??= nowIso();
    record.backendStatus = 'created';
    upsertSearchAttributes([{ key: OPENEO_JOB_ID, value: record.openeoJobId }]);

    let job = await quick.startJob({ backend, jobId: record.openeoJobId });
    observe(job);
    const { maxQueuedSeconds, cancelRunningJobAfterSeconds } = input.timeouts ?? {};
    while (!TERMINAL_JOB_STATUSES.includes(job.status)) {
      const phase = job.status === 'running' ? 'run' : 'queue';
      const limitSeconds = phase === 'run' ? cancelRunningJobAfterSeconds : maxQueuedSeconds;
      const phaseStart = phase === 'run' ? (runningSince ?? Date.now()) : createdAt;
      const limitMs = limitSeconds === undefined ? undefined : limitSeconds * 1000 - (Date.now() - phaseStart);
      const next = await waitForChange(
        waiting,
        {
          backend,
          jobId: record.openeoJobId,
          knownStatus: job.status as OpenEOJobStatus,
          initialIntervalMs: input.polling.initialIntervalSeconds * 1000,
          maxIntervalMs: input.polling.maxIntervalSeconds * 1000,
        },
        limitMs,
      );
      if (next === 'timeout') {
        // Over its limit: stop it on the backend, so it costs nothing more.
        observe(await quick.cancelJob({ backend, jobId: record.openeoJobId }));
        return { job, timedOutIn: phase };
      }
      job = next;
      observe(job);
    }
    return { job };
  };

  try {
    show();
    const processGraph = tileProcessGraph(input.process, tileArguments(tile, input.parameterDefaults, input.parameterMapping));
    for (;;) {
      record.attempts += 1;
      const { job, timedOutIn } = await runAttempt(processGraph);
      if (job.status === 'finished' && !timedOutIn) {
        await tellParent((parent) => parent.signal(tileJobEnded, { tileId: tile.id, jobStatus: 'finished' }));
        const downloaded = await transfers.downloadResults(output());
        record.outputDir = downloaded.tileDir;
        record.files = downloaded.files;
        record.status = 'finished';
        record.error = undefined;
        break;
      }
      if (job.status === 'canceled' && !timedOutIn) {
        await tellParent((parent) => parent.signal(tileJobEnded, { tileId: tile.id, jobStatus: 'canceled' }));
        record.status = 'canceled';
        record.error = { code: 'JobCanceled', message: 'the openEO job was canceled on the backend' };
        break;
      }
      if (timedOutIn) {
        const limit = timedOutIn === 'run' ? `cancelRunningJobAfterSeconds (${input.timeouts?.cancelRunningJobAfterSeconds} s)` : `maxQueuedSeconds (${input.timeouts?.maxQueuedSeconds} s)`;
        record.error = { code: timedOutIn === 'run' ? 'JobRanTooLong' : 'JobQueuedTooLong', message: `job ${record.openeoJobId} was cancelled after ${limit}` };
      } else {
        // Every attempt's logs are kept; the last one's reason is the tile's.
        const saved = await quick.saveErrorLogs(output());
        record.error = saved.error;
        record.outputDir = saved.tileDir;
      }
      // A resubmitted job keeps the batch's slot, so parallelJobs stays exact meanwhile.
      if (record.attempts < lastAttempt) continue;
      await tellParent((parent) => parent.signal(tileJobEnded, { tileId: tile.id, jobStatus: 'error', error: record.error }));
      record.status = 'error';
      break;
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
