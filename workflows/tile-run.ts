/**
 * The steps of one tile workflow, over the state they share: the tile's journal, the context of
 * its attempts, and whether its window was told the current job ended. `tileWorkflow` tells the
 * story with them; each step issues its commands in the order the tile always did, so histories
 * of earlier releases replay.
 */
import { CancellationScope, setCurrentDetails, setHandler } from '@temporalio/workflow';
import type { JobSnapshot } from '../activities/openeo-jobs';
import type { DownloadedResults } from '../activities/results';
import type { TileRecord } from '../src/core/records';
import { tileArguments, tileJobOptions, tileProcessGraph, type ProcessGraph } from '../src/core/batch-spec/arguments';
import { tilePeriodId } from '../src/core/batch-spec/output-path';
import { tileActivities, type TileActivities } from './activity-options';
import { tileJobEnded, tileJobRunning, tileProgress } from './messages';
import { runAttempt, type AttemptContext, type AttemptOutcome, type JobDefinition } from './tile-attempt';
import { cancelNotTaken, cancelTook, timeoutError } from './tile-errors';
import { definitionFrom, planJob, postprocessTile } from './tile-hooks';
import type { TileWorkflowInput } from './tile-input';
import { TileJournal } from './tile-journal';
import { finish, lineUpBehind, patchesUpFront, tellParent } from './tile-window';
import { tileIsAtLeast, tileTakes } from './tile-version';
import { jobVanished, vanishedNote } from './vanished-job';

/** After one job of the tile: `ended` when the tile is done with jobs, `again` when it makes another. */
type JobEnd = 'ended' | 'again';

/** The costs the tile's jobs reported so far, for its window's budget (nothing when none did). */
function costsOf(record: TileRecord): { costs?: number } {
  return record.costs === undefined ? {} : { costs: record.costs };
}

export class TileRun {
  readonly journal: TileJournal;
  readonly record: TileRecord;
  private readonly activities: TileActivities;
  private readonly attempt: AttemptContext;
  /** Where the tile's files go: its batch's folder, layout and the tile's period. */
  private readonly place: { outputDir: string; outputPath?: string; period?: string };
  /** The attempt's job has ended and the batch was told so: its slot is free. */
  private jobEndTold = false;

  constructor(private readonly input: TileWorkflowInput) {
    // First, in the tile's first workflow task: every patch marker in one billed Action (none
    // for a tile whose input has a version).
    patchesUpFront(input);
    const { batchId, tile, backend } = input;
    const firstAttempt = input.firstAttempt ?? 1;
    this.journal = new TileJournal(
      batchId,
      tile.id,
      backend.name,
      firstAttempt,
      firstAttempt - 1 + (input.maxAttempts ?? 1),
    );
    this.record = this.journal.record;
    this.activities = tileActivities(input.timeouts);
    setHandler(tileProgress, () => this.record);
    const observe = (job: JobSnapshot) => this.observe(job);
    const { polling, timeouts } = input;
    const { activities, journal } = this;
    this.attempt = { tile: input, batchId, backend, polling, timeouts, activities, journal, observe };
    if (input.behind) this.attempt.lineUp = lineUpBehind(input, batchId, tile.id, input.behind.tileId);
    this.place = { outputDir: input.outputDir, outputPath: input.outputPath, period: tilePeriodId(tile.properties) };
  }

  /** The tile's current details, in the Temporal UI. */
  show(): void {
    setCurrentDetails(this.journal.details());
  }

  /** Notes what the backend says of the job; the batch hears when the tile's first job runs. */
  observe(job: JobSnapshot): void {
    const { tile } = this.input;
    if (this.journal.observe(job) && this.input.reportRunning)
      void tellParent(this.input, (parent) => parent.signal(tileJobRunning, { tileId: tile.id }));
    this.show();
  }

  /** The current job's results, as the activities that download them or save its logs know it. */
  private output() {
    const { batchId, tile, backend } = this.input;
    return {
      backend,
      jobId: this.record.openeoJobId!,
      ...this.place,
      batchId,
      tileId: tile.id,
      attempt: this.record.attempts,
    };
  }

  /**
   * Tells the batch the attempt's job ended: its slot is free. `workAhead`: the tile still has
   * results to download or post-process. A tile of version 1 on says so only then, and only when
   * its window asked (`jobEndWanted`): otherwise the tile's end, which follows at once or after a
   * download while a lined-up tile takes the slot, is what frees it, and a signal (a billed
   * Action) is saved.
   */
  private async tellJobEnded(jobStatus: 'finished' | 'canceled' | 'error', workAhead = false): Promise<void> {
    const { record, input } = this;
    if (tileIsAtLeast(input, 1) && !(workAhead && input.jobEndWanted === true)) return;
    this.jobEndTold = true;
    // The costs so far count against the batch's budget from the moment the job ends.
    await tellParent(input, (parent) =>
      parent.signal(tileJobEnded, {
        tileId: this.input.tile.id,
        jobStatus,
        ...(jobStatus === 'error' ? { error: record.error } : {}),
        ...costsOf(record),
      }),
    );
  }

  /** The tile's results are in its folder, verified: it has finished (post-processing aside). */
  private async keepResults(results: DownloadedResults): Promise<void> {
    const { record, input } = this;
    // The description read for job.json has the usage a listing's summary may lack.
    if (results.job) this.journal.observe(results.job);
    record.outputDir = results.tileDir;
    record.files = results.files;
    // Data only, no command: histories from before it replay the same.
    if (results.uncheckedChecksums !== undefined) record.uncheckedChecksums = results.uncheckedChecksums;
    record.status = 'finished';
    record.error = undefined;
    if (input.postprocess !== undefined) await postprocessTile({ ...input, postprocess: input.postprocess }, record);
  }

  /** The job finished: its slot is free, and its results are downloaded and verified. */
  private async downloadFinished(): Promise<void> {
    await this.tellJobEnded('finished', true);
    // The tile and STAC settings ride along as data, for the item the activity writes.
    await this.keepResults(
      await this.activities.transfers.downloadResults({
        ...this.output(),
        tile: this.input.tile,
        stac: this.input.stac,
      }),
    );
  }

  /** retry-failed of a tile whose job finished but whose download failed: no new job, only the download. */
  async downloadFinishedJob(jobId: string): Promise<void> {
    this.journal.jobCreated(jobId);
    this.observe({ status: 'finished' });
    await this.downloadFinished();
  }

  /** The tile's jobs, one after another, until one ends the tile (or the job factory skips it). */
  async runJobs(): Promise<void> {
    const { input, record } = this;
    // A job factory builds each job itself, from the tile's properties as they are.
    const processGraph =
      input.jobFactory === undefined && input.process
        ? tileProcessGraph(input.process, tileArguments(input.tile, input.parameterDefaults, input.parameterMapping))
        : undefined;
    for (;;) {
      record.attempts += 1;
      const definition = await this.jobFor(processGraph);
      if (!definition) break;
      this.jobEndTold = false;
      const next = await this.runJob(definition).catch((err: unknown) => this.afterVanishedJob(err));
      if (next === 'ended') break;
    }
  }

  /** This attempt's job: the spec's graph, or the job factory's plan (undefined: skip the tile). */
  private async jobFor(specGraph: ProcessGraph | undefined): Promise<JobDefinition | undefined> {
    const { input, record } = this;
    // Pure: without jobOptionsProperty the batch's options as they are, so old inputs replay unchanged.
    const jobOptions = tileJobOptions(input.tile, input.jobOptions, input.jobOptionsProperty);
    if (input.jobFactory === undefined) return { processGraph: specGraph!, jobOptions };
    const plan = await planJob({ ...input, jobFactory: input.jobFactory }, record.attempts);
    if (!('skip' in plan)) return definitionFrom(plan, jobOptions);
    record.attempts -= 1;
    record.status = 'skipped';
    record.skipReason = plan.skip;
    // An earlier attempt's failure is not why the tile ends: the factory's reason is.
    record.error = undefined;
    return undefined;
  }

  /** One job of the tile, to its end: `again` when the tile makes another. */
  private async runJob(definition: JobDefinition): Promise<JobEnd> {
    const { record } = this;
    const outcome = await runAttempt(this.attempt, definition);
    // Only the first job is lined up; a job resubmitted after a failure keeps the slot it has.
    this.attempt.lineUp = undefined;
    const { job, timedOutIn } = outcome;
    if (job.status === 'finished' && !timedOutIn) {
      await this.downloadFinished();
      return 'ended';
    }
    if (job.status === 'canceled' && !timedOutIn) {
      await this.tellJobEnded('canceled');
      record.status = 'canceled';
      record.error = { code: 'JobCanceled', message: 'the openEO job was canceled on the backend' };
      return 'ended';
    }
    return this.afterFailedJob(outcome);
  }

  /** The job failed or ran past a limit: the tile makes another while it has attempts left. */
  private async afterFailedJob(outcome: AttemptOutcome): Promise<JobEnd> {
    const { record } = this;
    if (outcome.timedOutIn) {
      record.error = timeoutError(record.openeoJobId!, outcome.timedOutIn, this.input.timeouts, outcome.cancelled);
    } else {
      // Every attempt's logs are kept; the last one's reason is the tile's.
      const saved = await this.activities.quick.saveErrorLogs(this.output());
      record.error = saved.error;
      record.outputDir = saved.tileDir;
    }
    // A resubmitted job keeps the batch's slot, so parallelJobs stays exact meanwhile; a job
    // the backend still runs after our cancel keeps it too, so no second job joins it.
    const stillRunning = outcome.timedOutIn !== undefined && !cancelTook(outcome.cancelled);
    if (record.attempts < this.journal.lastAttempt && !stillRunning) return 'again';
    await this.tellJobEnded('error');
    record.status = 'error';
    return 'ended';
  }

  /**
   * The backend no longer knows the attempt's job (see `VANISHED_JOB_PATCH` in vanished-job.ts): the tile
   * finishes from the results an earlier download left complete, or makes a new job while it
   * has attempts left. A job that vanished after it finished has given its slot back; the new
   * job then runs beside the batch's `parallelJobs` (a backend's own limit still holds it back).
   */
  private async afterVanishedJob(err: unknown): Promise<JobEnd> {
    const { record, journal } = this;
    const backend = this.input.backend.name;
    this.attempt.lineUp = undefined;
    const jobId = record.openeoJobId;
    if (!jobVanished(err) || jobId === undefined || !tileTakes(this.input, 'vanished-job-retried')) throw err;
    const leftBehind = await this.activities.transfers.resultsLeftBehind({
      ...this.output(),
      tile: this.input.tile,
      stac: this.input.stac,
    });
    if (leftBehind) {
      journal.note(vanishedNote(jobId, backend, 'finished from its files'));
      if (!this.jobEndTold) await this.tellJobEnded('finished', this.input.postprocess !== undefined);
      await this.keepResults(leftBehind);
      return 'ended';
    }
    record.error = { code: 'JobNotFound', message: `job ${jobId} disappeared from backend "${backend}"` };
    if (record.attempts < journal.lastAttempt) {
      journal.note(vanishedNote(jobId, backend, 'new job'));
      return 'again';
    }
    journal.note(vanishedNote(jobId, backend, 'no attempts left'));
    if (!this.jobEndTold) await this.tellJobEnded('error');
    record.status = 'error';
    return 'ended';
  }

  /**
   * The tile was cancelled: its job is cancelled on the backend (an unstarted one withdrawn) and
   * the batch told, in a scope the tile's own cancellation cannot stop.
   */
  async endCancelled(): Promise<void> {
    const { record } = this;
    record.status = 'canceled';
    await CancellationScope.nonCancellable(async () => {
      if (record.openeoJobId) {
        const cancelled = await this.activities.quick.cancelJob({
          backend: this.input.backend,
          jobId: record.openeoJobId,
          withdrawUnstarted: true,
        });
        this.observe(cancelled);
        if (!cancelTook(cancelled))
          record.error = {
            code: 'CancelNotConfirmed',
            message: `job ${record.openeoJobId}: ${cancelNotTaken(cancelled)}`,
          };
      }
      await finish(this.journal, this.input);
    });
  }
}
