/**
 * One attempt of a tile: create its openEO job, start it, and follow it to its end, cancelling
 * it on the backend when it stays queued or runs past the batch's limits.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  CancelledFailure,
  condition,
  isCancellation,
  sleep,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { OpenEOActivities } from '../activities';
import type { HandOver } from '../activities/hand-over';
import type { CancelledJob, CreateJobInput, JobSnapshot, SubmittedJob } from '../activities/openeo-jobs';
import type { BackendRef } from '../src/core/openeo/connections';
import { TERMINAL_JOB_STATUSES, type OpenEOJobStatus } from '../src/core/records';
import { OPENEO_JOB_ID } from '../src/core/search-attributes';
import type { ProcessGraph } from '../src/core/batch-spec/arguments';
import { tileJobTitle } from '../src/core/job-title';
import type { BatchSpec } from '../src/core/batch-spec/schema';
import type { TileActivities } from './activity-options';
import type { TileJournal } from './tile-journal';
import { tileIsAtLeast, tileTakes, type TileVersioned } from './tile-version';

/**
 * How one attempt's job ended: its last snapshot, or a phase that ran past its limit, with the
 * backend's answer to our cancel (its status after the cancel, and whether the cancel took).
 */
export type AttemptOutcome =
  | { job: JobSnapshot; timedOutIn?: undefined }
  | { job: JobSnapshot; timedOutIn: 'queue' | 'run'; cancelled: CancelledJob };

/** What one attempt's job is made of. */
export interface JobDefinition {
  processGraph: ProcessGraph;
  jobOptions?: BatchSpec['jobOptions'];
  /** Shown before the attempt's key in the job's title. */
  title?: string;
  description?: string;
}

export interface AttemptContext {
  /** The tile's version, which decides how it records its jobs (see tile-version.ts). */
  tile: TileVersioned;
  batchId: string;
  backend: BackendRef;
  polling: BatchSpec['polling'];
  timeouts?: BatchSpec['timeouts'];
  activities: TileActivities;
  journal: TileJournal;
  /** Called with every snapshot of the job, after the journal noted it. */
  observe(job: JobSnapshot): void;
  /**
   * A lined-up tile's first attempt: the tile ahead (workflow id), how to wait for its slot, and
   * whether the window gave it one.
   */
  lineUp?: { aheadWorkflowId: string; awaitSlot(): Promise<void>; slotIsOurs(): boolean };
}

/** Waits for the job's next status, or `'timeout'` after `limitMs` (the activity is cancelled). */
async function waitForChange(
  waiting: TileActivities['waiting'],
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

/** Milliseconds left in the job's current phase (queued or running), if that phase has a limit. */
function phaseTimeLeft(ctx: AttemptContext, phase: 'queue' | 'run', createdAt: number): number | undefined {
  const { maxQueuedSeconds, cancelRunningJobAfterSeconds } = ctx.timeouts ?? {};
  const limitSeconds = phase === 'run' ? cancelRunningJobAfterSeconds : maxQueuedSeconds;
  if (limitSeconds === undefined) return undefined;
  const phaseStart = phase === 'run' ? (ctx.journal.runningSince ?? Date.now()) : createdAt;
  return limitSeconds * 1000 - (Date.now() - phaseStart);
}

/**
 * Patch id of 0.5.0's leaner tile: create and start are one activity (`submitJob`), and the tile
 * does not wait for its window to take its signals (see `tellParent`). One id for both, because
 * every patch costs a tile two history events (its marker and a search attribute update).
 */
export const LEAN_TILE_PATCH = 'lean-tile';

/**
 * Notes a job the tile made: in its record, and (tiles before version 1) as a search attribute at
 * once; later tiles make it searchable with their final status (see `finish`).
 */
function jobMade(ctx: Pick<AttemptContext, 'journal' | 'tile'>, jobId: string): void {
  ctx.journal.jobCreated(jobId);
  if (!tileIsAtLeast(ctx.tile, 1)) upsertSearchAttributes([{ key: OPENEO_JOB_ID, value: jobId }]);
}

/** The id of the job a failed `submitJob` made, from the failure's details. */
function jobIdOfFailure(err: unknown): string | undefined {
  const cause = err instanceof ActivityFailure ? err.cause : undefined;
  const details =
    cause instanceof ApplicationFailure ? (cause.details?.[0] as { jobId?: unknown } | undefined) : undefined;
  return typeof details?.jobId === 'string' ? details.jobId : undefined;
}

/** Creates and starts the job in one activity. */
async function submit(ctx: AttemptContext, create: CreateJobInput): Promise<SubmittedJob> {
  try {
    const submitted = await ctx.activities.quick.submitJob(create);
    jobMade(ctx, submitted.jobId);
    return submitted;
  } catch (err) {
    // The job was made but its start refused for good: the record still names it.
    const jobId = jobIdOfFailure(err);
    if (jobId !== undefined) jobMade(ctx, jobId);
    throw err;
  }
}

/** Creates, then starts the job: two activities, as tiles did before {@link LEAN_TILE_PATCH}. */
async function createThenStart(ctx: AttemptContext, create: CreateJobInput): Promise<SubmittedJob> {
  const { quick } = ctx.activities;
  const jobId = await quick.createJob(create);
  jobMade(ctx, jobId);
  return { jobId, job: await quick.startJob({ backend: create.backend, jobId }) };
}

/**
 * A lined-up tile's job: created at once and started by the worker that sees the job ahead
 * finish (one request, no workflow task in between), in one activity. When that job ends
 * otherwise, or the start fails, the tile waits until its window says the slot is its own, and
 * starts the job itself. A window that gives the tile a free slot before the job ahead ended
 * (nothing else was left to take it) calls the hand-over off: the tile starts its job at once.
 */
async function lineUp(
  ctx: AttemptContext & { lineUp: NonNullable<AttemptContext['lineUp']> },
  create: CreateJobInput,
): Promise<SubmittedJob> {
  const { quick } = ctx.activities;
  // Workflow time, so the same on replay: the hand-over's job (if any) was created after it.
  const linedUpAt = Date.now();
  const handOver = await handOverOrMove(ctx, create);
  if (handOver === 'moved') {
    // The hand-over ended before it started the job: the job it made (if any) is found by its title.
    const submitted = await quick.submitJob({ ...create, mayExist: true, linedUpAt });
    jobMade(ctx, submitted.jobId);
    return submitted;
  }
  const { jobId } = handOver;
  jobMade(ctx, jobId);
  if (handOver.started) return { jobId, job: handOver.job };
  await ctx.lineUp.awaitSlot();
  return { jobId, job: await quick.startJob({ backend: create.backend, jobId, onlyIfCreated: true }) };
}

/**
 * A lined-up tile's job, for tiles of version 1 on: the tile creates it, so its record names it
 * while it waits, and its hand-over starts it the moment the job ahead finishes. A tile moved to
 * a free slot, or told the slot is its own after the job ahead ended otherwise, starts the job
 * itself; it does not wait for a called-off hand-over to end, since its job is known and a start
 * the hand-over made meanwhile is ignored by the backend. A tile cancelled meanwhile withdraws
 * its job as any tile does (`endCancelled`).
 */
async function lineUpOwnJob(
  ctx: AttemptContext & { lineUp: NonNullable<AttemptContext['lineUp']> },
  create: CreateJobInput,
): Promise<SubmittedJob> {
  const { quick, followingHandOvers } = ctx.activities;
  const jobId = await quick.createJob(create);
  jobMade(ctx, jobId);
  const startHere = async () => ({
    jobId,
    job: await quick.startJob({ backend: create.backend, jobId, onlyIfCreated: true }),
  });
  const handOverScope = new CancellationScope();
  const handingOver = handOverScope.run(() =>
    followingHandOvers.startJobAfter({
      ...create,
      jobId,
      aheadWorkflowId: ctx.lineUp.aheadWorkflowId,
      initialIntervalMs: ctx.polling.initialIntervalSeconds * 1000,
      maxIntervalMs: ctx.polling.maxIntervalSeconds * 1000,
    }),
  );
  const first = await Promise.race([handingOver, condition(ctx.lineUp.slotIsOurs)]);
  if (first === undefined) {
    // Moved to a free slot: the hand-over is called off and not waited for.
    handOverScope.cancel();
    handingOver.catch(() => undefined);
    return startHere();
  }
  if (first.started) return { jobId, job: first.job };
  await ctx.lineUp.awaitSlot();
  return startHere();
}

/**
 * The hand-over's answer, or `moved` when the window gave the tile a free slot first and the
 * hand-over was called off before it started the job. The hand-over's cancellation waits for the
 * activity to end, so the job it was creating is on the backend by then: a tile cancelled meanwhile
 * withdraws it by its title, with no create still on its way.
 */
async function handOverOrMove(
  ctx: AttemptContext & { lineUp: NonNullable<AttemptContext['lineUp']> },
  create: CreateJobInput,
): Promise<HandOver | 'moved'> {
  const { quick, handOvers } = ctx.activities;
  const polling = {
    initialIntervalMs: ctx.polling.initialIntervalSeconds * 1000,
    maxIntervalMs: ctx.polling.maxIntervalSeconds * 1000,
  };
  const handOverScope = new CancellationScope();
  const handingOver = handOverScope.run(() =>
    handOvers.startJobAfter({ ...create, aheadWorkflowId: ctx.lineUp.aheadWorkflowId, ...polling }),
  );
  try {
    const first = await Promise.race([handingOver, condition(ctx.lineUp.slotIsOurs)]);
    if (first !== undefined) return first;
    handOverScope.cancel();
    // Once called off, however the hand-over ends it gave no answer: cancelled, or timed out
    // because its worker died (the server retries no activity whose cancel was asked). Either
    // way the job it may have made is found by its title.
    const ended = await handingOver.catch(() => 'moved' as const);
    // A tile cancelled meanwhile withdraws the job the hand-over may have made (below).
    if (CancellationScope.current().consideredCancelled)
      throw new CancelledFailure('the tile was cancelled while its hand-over was called off');
    return ended;
  } catch (err) {
    if (isCancellation(err)) {
      await CancellationScope.nonCancellable(async () => {
        await handingOver.catch(() => undefined);
        await quick.withdrawLinedUpJob({ backend: create.backend, jobTitle: create.jobTitle });
      });
    }
    throw err;
  }
}

/** One openEO job: create, start, and wait for its end within the phase limits. */
export async function runAttempt(ctx: AttemptContext, job: JobDefinition): Promise<AttemptOutcome> {
  const { backend, journal } = ctx;
  const { quick, waiting } = ctx.activities;
  const create = {
    backend,
    jobTitle: tileJobTitle(ctx.batchId, journal.record.tileId, journal.record.attempts, job.title),
    processGraph: job.processGraph,
    jobOptions: job.jobOptions,
    ...(job.description ? { description: job.description } : {}),
  };
  const { jobId, job: submitted } = ctx.lineUp
    ? tileIsAtLeast(ctx.tile, 1)
      ? await lineUpOwnJob({ ...ctx, lineUp: ctx.lineUp }, create)
      : await lineUp({ ...ctx, lineUp: ctx.lineUp }, create)
    : tileTakes(ctx.tile, 'lean-tile')
      ? await submit(ctx, create)
      : await createThenStart(ctx, create);
  const createdAt = Date.now();
  let snapshot = submitted;
  ctx.observe(snapshot);
  while (!TERMINAL_JOB_STATUSES.includes(snapshot.status)) {
    const phase = snapshot.status === 'running' ? 'run' : 'queue';
    const next = await waitForChange(
      waiting,
      {
        backend,
        jobId,
        knownStatus: snapshot.status as OpenEOJobStatus,
        initialIntervalMs: ctx.polling.initialIntervalSeconds * 1000,
        maxIntervalMs: ctx.polling.maxIntervalSeconds * 1000,
      },
      phaseTimeLeft(ctx, phase, createdAt),
    );
    if (next === 'timeout') {
      // Over its limit: stop it on the backend, so it costs nothing more.
      const cancelled = await quick.cancelJob({ backend, jobId });
      ctx.observe(cancelled);
      return { job: snapshot, timedOutIn: phase, cancelled };
    }
    snapshot = next;
    ctx.observe(snapshot);
  }
  return { job: snapshot };
}
