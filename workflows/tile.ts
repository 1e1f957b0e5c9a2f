/**
 * One tile, one openEO batch job: create → start → wait until it ends → download results (or
 * save error logs). The record it returns, and signals to its batch, is the tile's row in the
 * "job database" that Temporal history has become.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  condition,
  getExternalWorkflowHandle,
  isCancellation,
  patched,
  setCurrentDetails,
  setHandler,
  upsertMemo,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { CancelledJob, JobSnapshot } from '../activities/openeo-jobs';
import type { DownloadedResults } from '../activities/results';
import type { TileError, TileRecord } from '../src/core/records';
import { tileWorkflowId } from '../src/core/ids';
import { TILE_RECORD_MEMO, TILE_STATUS } from '../src/core/search-attributes';
import { tileArguments, tileJobOptions, tileProcessGraph, type ProcessGraph } from '../src/core/batch-spec/arguments';
import { tilePeriodId } from '../src/core/batch-spec/output-path';
import { tileActivities } from './activity-options';
import { slotGiven, tileCompleted, tileJobEnded, tileJobRunning, tileNeedsWord, tileProgress } from './messages';
import { LEAN_TILE_PATCH, runAttempt, type AttemptContext, type JobDefinition } from './tile-attempt';
import { definitionFrom, planJob, postprocessTile } from './tile-hooks';
import type { TileWorkflowInput } from './tile-input';
import { TileJournal } from './tile-journal';
import { jobVanished, vanishedNote, VANISHED_JOB_PATCH } from './vanished-job';

export type { TileWorkflowInput } from './tile-input';

/** The reason to show for a failed activity: the openEO code and message, not a stack. */
function errorOf(err: unknown): TileError {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof ApplicationFailure) return { code: cause.type ?? 'Error', message: cause.message };
  return { code: 'Error', message: err instanceof Error ? err.message : String(err) };
}

/** False only when the backend still reports the job active after our cancel request. */
function cancelTook(cancelled: CancelledJob): boolean {
  return cancelled.cancelTaken !== false;
}

/** What the backend said to a cancel that did not take; the tile must not claim it was cancelled. */
function cancelNotTaken(cancelled: CancelledJob): string {
  return `cancel requested; the backend still reports ${cancelled.status}`;
}

/** The error of an attempt whose job ran past a phase limit and was cancelled (or not). */
function timeoutError(jobId: string, phase: 'queue' | 'run', timeouts: TileWorkflowInput['timeouts'], cancelled: CancelledJob): TileError {
  const limit = phase === 'run' ? `cancelRunningJobAfterSeconds (${timeouts?.cancelRunningJobAfterSeconds} s)` : `maxQueuedSeconds (${timeouts?.maxQueuedSeconds} s)`;
  const code = phase === 'run' ? 'JobRanTooLong' : 'JobQueuedTooLong';
  if (!cancelTook(cancelled)) return { code, message: `job ${jobId} ran past ${limit}: ${cancelNotTaken(cancelled)}` };
  return { code, message: `job ${jobId} was cancelled after ${limit}` };
}

/**
 * Runs one tile's openEO job to its end, resubmitting a job that fails or times out up to
 * `maxAttempts` jobs in all. Never throws for a failed job, only for cancellation.
 */
export async function tileWorkflow(input: TileWorkflowInput): Promise<TileRecord> {
  const { batchId, tile, backend } = input;
  const firstAttempt = input.firstAttempt ?? 1;
  const journal = new TileJournal(batchId, tile.id, backend.name, firstAttempt, firstAttempt - 1 + (input.maxAttempts ?? 1));
  const { record } = journal;
  const activities = tileActivities(input.timeouts);
  const { quick, transfers } = activities;
  setHandler(tileProgress, () => record);

  const show = () => setCurrentDetails(journal.details());
  const observe = (job: JobSnapshot) => {
    if (journal.observe(job) && input.reportRunning) void tellParent((parent) => parent.signal(tileJobRunning, { tileId: tile.id }));
    show();
  };
  const attempt: AttemptContext = { batchId, backend, polling: input.polling, timeouts: input.timeouts, activities, journal, observe };
  if (input.behind) attempt.lineUp = lineUpBehind(batchId, tile.id, input.behind.tileId);
  const place = { outputDir: input.outputDir, outputPath: input.outputPath, period: tilePeriodId(tile.properties) };
  const output = () => ({ backend, jobId: record.openeoJobId!, ...place, batchId, tileId: tile.id, attempt: record.attempts });

  /** The attempt's job has ended and the batch was told so: its slot is free. */
  let jobEndTold = false;
  const tellJobEnded = async (jobStatus: 'finished' | 'canceled' | 'error') => {
    jobEndTold = true;
    // The costs so far count against the batch's budget from the moment the job ends.
    await tellParent((parent) => parent.signal(tileJobEnded, { tileId: tile.id, jobStatus, ...(jobStatus === 'error' ? { error: record.error } : {}), ...costsOf(record) }));
  };

  /** The tile's results are in its folder, verified: it has finished (post-processing aside). */
  const keepResults = async (results: DownloadedResults) => {
    // The description read for job.json has the usage a listing's summary may lack.
    if (results.job) journal.observe(results.job);
    record.outputDir = results.tileDir;
    record.files = results.files;
    // Data only, no command: histories from before it replay the same.
    if (results.uncheckedChecksums !== undefined) record.uncheckedChecksums = results.uncheckedChecksums;
    record.status = 'finished';
    record.error = undefined;
    if (input.postprocess !== undefined) await postprocessTile({ ...input, postprocess: input.postprocess }, record);
  };

  /** The job finished: its slot is free, and its results are downloaded and verified. */
  const downloadFinished = async () => {
    await tellJobEnded('finished');
    // The tile and STAC settings ride along as data, for the item the activity writes.
    await keepResults(await transfers.downloadResults({ ...output(), tile, stac: input.stac }));
  };

  /** This attempt's job: the spec's graph, or the job factory's plan (undefined: skip the tile). */
  const jobFor = async (specGraph: ProcessGraph | undefined): Promise<JobDefinition | undefined> => {
    // Pure: without jobOptionsProperty the batch's options as they are, so old inputs replay unchanged.
    const jobOptions = tileJobOptions(tile, input.jobOptions, input.jobOptionsProperty);
    if (input.jobFactory === undefined) return { processGraph: specGraph!, jobOptions };
    const plan = await planJob({ ...input, jobFactory: input.jobFactory }, record.attempts);
    if (!('skip' in plan)) return definitionFrom(plan, jobOptions);
    record.attempts -= 1;
    record.status = 'skipped';
    record.skipReason = plan.skip;
    // An earlier attempt's failure is not why the tile ends: the factory's reason is.
    record.error = undefined;
    return undefined;
  };

  /** One job of the tile, to its end: `again` when the tile makes another. */
  const runJob = async (definition: JobDefinition): Promise<'ended' | 'again'> => {
    const outcome = await runAttempt(attempt, definition);
    // Only the first job is lined up; a job resubmitted after a failure keeps the slot it has.
    attempt.lineUp = undefined;
    const { job, timedOutIn } = outcome;
    if (job.status === 'finished' && !timedOutIn) {
      await downloadFinished();
      return 'ended';
    }
    if (job.status === 'canceled' && !timedOutIn) {
      await tellJobEnded('canceled');
      record.status = 'canceled';
      record.error = { code: 'JobCanceled', message: 'the openEO job was canceled on the backend' };
      return 'ended';
    }
    if (outcome.timedOutIn) {
      record.error = timeoutError(record.openeoJobId!, outcome.timedOutIn, input.timeouts, outcome.cancelled);
    } else {
      // Every attempt's logs are kept; the last one's reason is the tile's.
      const saved = await quick.saveErrorLogs(output());
      record.error = saved.error;
      record.outputDir = saved.tileDir;
    }
    // A resubmitted job keeps the batch's slot, so parallelJobs stays exact meanwhile; a job
    // the backend still runs after our cancel keeps it too, so no second job joins it.
    const stillRunning = outcome.timedOutIn !== undefined && !cancelTook(outcome.cancelled);
    if (record.attempts < journal.lastAttempt && !stillRunning) return 'again';
    await tellJobEnded('error');
    record.status = 'error';
    return 'ended';
  };

  /**
   * The backend no longer knows the attempt's job (see {@link VANISHED_JOB_PATCH}): the tile
   * finishes from the results an earlier download left complete, or makes a new job while it
   * has attempts left. A job that vanished after it finished has given its slot back; the new
   * job then runs beside the batch's `parallelJobs` (a backend's own limit still holds it back).
   */
  const afterVanishedJob = async (err: unknown): Promise<'ended' | 'again'> => {
    attempt.lineUp = undefined;
    const jobId = record.openeoJobId;
    if (!jobVanished(err) || jobId === undefined || !patched(VANISHED_JOB_PATCH)) throw err;
    const leftBehind = await transfers.resultsLeftBehind({ ...output(), tile, stac: input.stac });
    if (leftBehind) {
      journal.note(vanishedNote(jobId, backend.name, 'finished from its files'));
      if (!jobEndTold) await tellJobEnded('finished');
      await keepResults(leftBehind);
      return 'ended';
    }
    record.error = { code: 'JobNotFound', message: `job ${jobId} disappeared from backend "${backend.name}"` };
    if (record.attempts < journal.lastAttempt) {
      journal.note(vanishedNote(jobId, backend.name, 'new job'));
      return 'again';
    }
    journal.note(vanishedNote(jobId, backend.name, 'no attempts left'));
    if (!jobEndTold) await tellJobEnded('error');
    record.status = 'error';
    return 'ended';
  };

  try {
    show();
    if (input.finishedJobId !== undefined) {
      // retry-failed of a tile whose job finished but whose download failed: no new job.
      journal.jobCreated(input.finishedJobId);
      observe({ status: 'finished' });
      await downloadFinished();
      await finish(journal);
      return record;
    }
    if (input.postprocessOnly !== undefined && input.postprocess !== undefined) {
      await postprocessAgain({ ...input, postprocess: input.postprocess }, journal, input.postprocessOnly);
      await finish(journal);
      return record;
    }
    // A job factory builds each job itself, from the tile's properties as they are.
    const processGraph = input.jobFactory === undefined && input.process ? tileProcessGraph(input.process, tileArguments(tile, input.parameterDefaults, input.parameterMapping)) : undefined;
    for (;;) {
      record.attempts += 1;
      const definition = await jobFor(processGraph);
      if (!definition) break;
      jobEndTold = false;
      const next = await runJob(definition).catch(afterVanishedJob);
      if (next === 'ended') break;
    }
  } catch (err) {
    if (isCancellation(err)) {
      record.status = 'canceled';
      await CancellationScope.nonCancellable(async () => {
        if (record.openeoJobId) {
          const cancelled = await quick.cancelJob({ backend, jobId: record.openeoJobId, withdrawUnstarted: true });
          observe(cancelled);
          if (!cancelTook(cancelled)) record.error = { code: 'CancelNotConfirmed', message: `job ${record.openeoJobId}: ${cancelNotTaken(cancelled)}` };
        }
        await finish(journal);
      });
      throw err;
    }
    record.status = 'error';
    record.error = errorOf(err);
  }
  await finish(journal);
  return record;
}

/** The costs the tile's jobs reported so far, for its window's budget (nothing when none did). */
function costsOf(record: TileRecord): { costs?: number } {
  return record.costs === undefined ? {} : { costs: record.costs };
}

/**
 * `postprocess` re-run of a tile whose results are on disk: its earlier record comes back, its job
 * is not touched (its slot is given back at once), and only the post-processing runs.
 */
async function postprocessAgain(input: TileWorkflowInput & { postprocess: string }, journal: TileJournal, earlier: TileRecord): Promise<void> {
  const { record } = journal;
  Object.assign(record, { ...earlier, status: 'running', error: undefined, postprocessResult: undefined, finishedAt: undefined });
  await tellParent((parent) => parent.signal(tileJobEnded, { tileId: record.tileId, jobStatus: 'finished' }));
  await postprocessTile(input, record);
}

/**
 * How a lined-up tile waits for its slot when its job was not started for it: it asks its window,
 * which answers once the tile ahead gave the slot up (at once if it has).
 */
function lineUpBehind(batchId: string, tileId: string, aheadTileId: string): NonNullable<AttemptContext['lineUp']> {
  let slotIsOurs = false;
  setHandler(slotGiven, () => {
    slotIsOurs = true;
  });
  return {
    aheadWorkflowId: tileWorkflowId(batchId, aheadTileId),
    slotIsOurs: () => slotIsOurs,
    awaitSlot: async () => {
      await tellParent((parent) => parent.signal(tileNeedsWord, { tileId }));
      await condition(() => slotIsOurs);
    },
  };
}

/**
 * Patch id: the finished record is also kept in the tile workflow's memo, so one visibility
 * listing gives every ended tile's row (map, exports) without reading each history.
 */
export const RECORD_MEMO_PATCH = 'tile-record-memo';

/** Stamps the end, makes it searchable, and tells the batch (which may have ended already). */
async function finish(journal: TileJournal): Promise<void> {
  const details = journal.finish();
  upsertSearchAttributes([{ key: TILE_STATUS, value: journal.record.status }]);
  if (patched(RECORD_MEMO_PATCH)) upsertMemo({ [TILE_RECORD_MEMO]: journal.record });
  setCurrentDetails(details);
  await tellParent((parent) => parent.signal(tileCompleted, journal.record), true);
}


/**
 * Signals the window that started this tile; a window that is gone is not an error. Since
 * {@link LEAN_TILE_PATCH} a tile that goes on afterwards does not wait for the signal to be
 * taken: it goes out with the tile's next step (e.g. the download) in the same workflow task.
 * The tile's last signal is always waited for: the server drops a signal whose sender has
 * closed by the time it would be delivered.
 */
async function tellParent(send: (parent: ReturnType<typeof getExternalWorkflowHandle>) => Promise<void>, last = false): Promise<void> {
  const parent = workflowInfo().parent;
  if (!parent) return;
  const sent = send(getExternalWorkflowHandle(parent.workflowId)).catch(() => {
    // The batch ended or was terminated: the record stays in this workflow's result.
  });
  if (last || !patched(LEAN_TILE_PATCH)) await sent;
}
