/**
 * A tile's calls to the users' hooks: the job factory (before each job) and the post-processor
 * (after the download). Only tiles whose spec names a hook take these paths, so histories of
 * batches without hooks are unchanged.
 */
import { ActivityFailure, ApplicationFailure, isCancellation, log } from '@temporalio/workflow';
import type { TileJobPlan } from '../src/core/hooks/job-factory';
import { isRemoteHook, type HookName } from '../src/core/hooks/remote';
import type { TileRecord } from '../src/core/records';
import type { BatchSpec } from '../src/core/batch-spec/schema';
import { hookActivities, tileActivities } from './activity-options';
import type { JobDefinition } from './tile-attempt';
import { planJobRemotely, postprocessRemotely } from './remote-hooks';
import type { TileWorkflowInput } from './tile-input';
import { tileTakes } from './tile-version';

/** The factory's plan as a job definition: its job options over the batch's. */
export function definitionFrom(
  plan: Exclude<TileJobPlan, { skip: string }>,
  batchJobOptions: BatchSpec['jobOptions'],
): JobDefinition {
  const jobOptions = plan.jobOptions || batchJobOptions ? { ...batchJobOptions, ...plan.jobOptions } : undefined;
  return {
    processGraph: plan.processGraph,
    ...(jobOptions ? { jobOptions } : {}),
    ...(plan.title ? { title: plan.title } : {}),
    ...(plan.description ? { description: plan.description } : {}),
  };
}

/** Asks the spec's job factory for this attempt's job (or a skip). Its failure fails the tile. */
export async function planJob(
  input: TileWorkflowInput & { jobFactory: HookName },
  attempt: number,
): Promise<TileJobPlan> {
  const { jobFactory } = input;
  if (isRemoteHook(jobFactory)) return planJobRemotely({ ...input, jobFactory }, attempt);
  const { planning } = hookActivities(input.timeouts);
  return planning.planTileJob({
    batchId: input.batchId,
    jobFactory,
    tile: input.tile,
    backend: { name: input.backend.name, url: input.backend.url },
    attempt,
    process: input.process,
    parameterDefaults: input.parameterDefaults,
    parameterMapping: input.parameterMapping,
  });
}

/** The post-processor's failure as the tile's error: always `PostprocessFailed`, with its message. */
function postprocessError(err: unknown): TileRecord['error'] {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  const message = cause instanceof Error ? cause.message : String(cause);
  return {
    code: 'PostprocessFailed',
    message: `${message}; the downloaded files are kept: run \`openeo-temporal postprocess <batchId>\` to try again`,
  };
}

/**
 * Runs the spec's post-processor on a tile whose files are downloaded. The record ends
 * `postprocessed` with the result, or `error` (`PostprocessFailed`) with its files kept.
 */
export async function postprocessTile(
  input: TileWorkflowInput & { postprocess: HookName },
  record: TileRecord,
): Promise<void> {
  let written: string[];
  try {
    const outcome = await runPostprocessor(input, record);
    ({ written } = outcome);
    record.files = [...(record.files ?? []).filter((f) => !written.includes(f)), ...written];
    if (outcome.result !== undefined) record.postprocessResult = outcome.result;
    record.status = 'postprocessed';
    record.error = undefined;
  } catch (err) {
    if (isCancellation(err)) throw err;
    if (!(err instanceof ActivityFailure) && !(err instanceof ApplicationFailure)) throw err;
    record.status = 'error';
    record.error = postprocessError(err);
    return;
  }
  if (written.length > 0 && tileTakes(input, 'stac-postprocess-assets')) await addToStacItem(input, record, written);
}

/** The spec's post-processor, in this worker or on another task queue. */
function runPostprocessor(input: TileWorkflowInput & { postprocess: HookName }, record: TileRecord) {
  const { postprocess } = input;
  if (isRemoteHook(postprocess)) return postprocessRemotely({ ...input, postprocess }, record);
  return hookActivities(input.timeouts).postprocessing.postprocessTile({
    batchId: input.batchId,
    postprocess,
    tile: input.tile,
    record: { ...record },
  });
}

/**
 * Patch id: files a post-processor wrote are added to the tile's STAC item after it ran (tiles
 * post-processed by 0.3.0 ended right after the post-processor).
 */
export const STAC_EXTRAS_PATCH = 'stac-postprocess-assets';

/**
 * Adds a post-processor's files to the tile's STAC item, waiting out outages of the store or
 * the STAC API as downloads do. A refusal (the API rejects the item) is logged: the tile's
 * files and record are complete without it.
 */
async function addToStacItem(input: TileWorkflowInput, record: TileRecord, files: string[]): Promise<void> {
  const { transfers } = tileActivities(input.timeouts);
  try {
    await transfers.addTileFilesToStac({
      batchId: input.batchId,
      outputDir: input.outputDir,
      tileId: input.tile.id,
      tileDir: record.outputDir!,
      files,
      stac: input.stac,
    });
  } catch (err) {
    if (isCancellation(err) || !(err instanceof ActivityFailure)) throw err;
    log.warn("the post-processor's files were not added to the STAC item", {
      tileId: input.tile.id,
      files,
      error: err.cause?.message ?? err.message,
    });
  }
}
