/**
 * Hooks on another task queue, from the workflows' side: the batch asks each queue's workers
 * which hooks they have before any openEO job, and a tile calls its job factory and
 * post-processor there with the contract's one JSON argument, checking what comes back (the
 * other side may be any language). See src/core/hooks/contract.ts and docs/hooks.md.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  isCancellation,
  patched,
  type ActivityOptions,
} from '@temporalio/workflow';
import { tileArguments, tileProcessGraph } from '../src/core/batch-spec/arguments';
import { InvalidSpecError, type SpecErrorDetails } from '../src/core/batch-spec/errors';
import type { BatchSpec } from '../src/core/batch-spec/schema';
import {
  InvalidJobPlanError,
  JOB_FACTORY_FAILED,
  normalizeJobPlan,
  type TileJobPlan,
} from '../src/core/hooks/job-factory';
import { POSTPROCESS_FAILED, type PostprocessOutcome } from '../src/core/hooks/postprocess';
import {
  checkPostprocessAnswer,
  DESCRIBE_HOOKS_ACTIVITY,
  HOOK_CONTRACT_VERSION,
  hookLabel,
  InvalidPostprocessAnswerError,
  isRemoteHook,
  tileFileLocation,
  type DescribeHooksAnswer,
  type RemoteHook,
} from '../src/core/hooks/remote';
import type { TileRecord } from '../src/core/records';
import { timeoutsOrDefaults } from '../src/core/batch-spec/timeout-defaults';
import { hookActivityOptions, remoteHookActivity } from './activity-options';
import type { TileWorkflowInput } from './tile-input';

/**
 * Patch id: a batch whose spec names a hook on another task queue asks that queue's workers for
 * it before any job. Histories of batches started before hooks could live elsewhere replay
 * without the question.
 */
export const REMOTE_HOOKS_PATCH = 'hooks-on-other-task-queues';

type HookField = 'jobFactory' | 'postprocess';

/** The spec's hooks on other task queues, by field. */
function remoteHooksOf(spec: Pick<BatchSpec, HookField>): { field: HookField; hook: RemoteHook }[] {
  return (['jobFactory', 'postprocess'] as const).flatMap((field) => {
    const hook = spec[field];
    return isRemoteHook(hook) ? [{ field, hook }] : [];
  });
}

/**
 * One queue's workers, asked which hooks they registered; the reason when none answers within
 * `waitSeconds` (then no worker polls the queue, and the batch is refused before any job).
 */
async function describeHooks(taskQueue: string, waitSeconds: number): Promise<DescribeHooksAnswer | string> {
  const describe = remoteHookActivity(
    { activity: DESCRIBE_HOOKS_ACTIVITY, taskQueue },
    { scheduleToStartTimeout: waitSeconds * 1000, startToCloseTimeout: '10s', retry: { maximumAttempts: 2 } },
  );
  try {
    return (await describe({ contractVersion: HOOK_CONTRACT_VERSION })) as DescribeHooksAnswer;
  } catch (err) {
    if (isCancellation(err) || !(err instanceof ActivityFailure)) throw err;
    return `no worker of task queue "${taskQueue}" answered within ${waitSeconds} s (${err.cause?.message ?? err.message})`;
  }
}

/** What is wrong with one hook, given its queue's answer (or silence); undefined when its worker has it. */
function hookProblem(
  field: HookField,
  hook: RemoteHook,
  answer: DescribeHooksAnswer | string,
): SpecErrorDetails | undefined {
  const kind = field === 'jobFactory' ? 'job factory' : 'post-processor';
  if (typeof answer === 'string') {
    return {
      field,
      code: 'hook_worker_missing',
      problem: answer,
      fix: `start one that registers the ${kind} "${hook.activity}", e.g. \`python -m openeo_temporal worker --hooks my_hooks.py --task-queue ${hook.taskQueue}\`, then start the batch again`,
    };
  }
  const registered = (field === 'jobFactory' ? answer.jobFactories : answer.postprocessors) ?? [];
  if (registered.includes(hook.activity)) return undefined;
  const names = registered.length > 0 ? registered.map((n) => `"${n}"`).join(', ') : 'none';
  return {
    field,
    code: 'unknown_hook',
    problem: `the workers of task queue "${hook.taskQueue}"${answer.worker ? ` (${answer.worker})` : ''} have no ${kind} "${hook.activity}" (registered: ${names})`,
    fix: `register it on those workers (@${field === 'jobFactory' ? 'job_factory' : 'postprocessor'} in the hooks module), or name a registered one`,
  };
}

/**
 * Refuses a batch, before any job, whose spec names a hook on a task queue that no worker polls
 * or whose workers lack it. Only a first run asks: a continued batch was asked when it began.
 */
export async function checkRemoteHooks(spec: Pick<BatchSpec, HookField | 'timeouts'>): Promise<void> {
  const wanted = remoteHooksOf(spec);
  if (wanted.length === 0 || !patched(REMOTE_HOOKS_PATCH)) return;
  const answers = new Map<string, DescribeHooksAnswer | string>();
  for (const { hook } of wanted)
    if (!answers.has(hook.taskQueue))
      answers.set(
        hook.taskQueue,
        await describeHooks(hook.taskQueue, timeoutsOrDefaults(spec.timeouts).hookWorkerSeconds),
      );
  const problems = wanted.flatMap(({ field, hook }) => hookProblem(field, hook, answers.get(hook.taskQueue)!) ?? []);
  if (problems.length === 0) return;
  const err = new InvalidSpecError(problems);
  throw ApplicationFailure.nonRetryable(err.message, err.code, { issues: err.issues });
}

/** Calls a hook on its queue; its failure (after its attempts) as the tile's error of `failureType`. */
async function callHook(
  hook: RemoteHook,
  options: ActivityOptions,
  request: unknown,
  where: string,
  failureType: string,
): Promise<unknown> {
  try {
    return await remoteHookActivity(hook, options)(request);
  } catch (err) {
    if (isCancellation(err) || !(err instanceof ActivityFailure)) throw err;
    throw ApplicationFailure.nonRetryable(`${where} failed: ${err.cause?.message ?? err.message}`, failureType);
  }
}

/** Asks a job factory on another task queue for this attempt's job, and checks the answer. */
export async function planJobRemotely(
  input: TileWorkflowInput & { jobFactory: RemoteHook },
  attempt: number,
): Promise<TileJobPlan> {
  const hook = input.jobFactory;
  const where = `job factory ${hookLabel(hook)} for tile "${input.tile.id}"`;
  const request = {
    contractVersion: HOOK_CONTRACT_VERSION,
    batchId: input.batchId,
    tile: input.tile,
    backend: { name: input.backend.name, url: input.backend.url },
    attempt,
    parameterDefaults: input.parameterDefaults,
    ...(input.process
      ? {
          specProcessGraph: tileProcessGraph(
            input.process,
            tileArguments(input.tile, input.parameterDefaults, input.parameterMapping),
          ),
        }
      : {}),
  };
  const answer = await callHook(hook, hookActivityOptions(input.timeouts).planning, request, where, JOB_FACTORY_FAILED);
  try {
    return normalizeJobPlan(answer, { processGraphFor: tileProcessGraph });
  } catch (err) {
    if (!(err instanceof InvalidJobPlanError)) throw err;
    throw ApplicationFailure.nonRetryable(`${where} returned no usable plan: ${err.message}`, JOB_FACTORY_FAILED);
  }
}

/** Runs a post-processor on another task queue over the tile's downloaded files, and checks its answer. */
export async function postprocessRemotely(
  input: TileWorkflowInput & { postprocess: RemoteHook },
  record: TileRecord,
): Promise<PostprocessOutcome> {
  const hook = input.postprocess;
  const where = `post-processor ${hookLabel(hook)} for tile "${input.tile.id}"`;
  const tileDir = record.outputDir;
  if (!tileDir) throw ApplicationFailure.nonRetryable(`${where}: the tile has no results folder`, POSTPROCESS_FAILED);
  const request = {
    contractVersion: HOOK_CONTRACT_VERSION,
    batchId: input.batchId,
    tile: input.tile,
    record: { ...record },
    tileDir,
    files: (record.files ?? []).map((name) => ({ name, location: tileFileLocation(tileDir, name) })),
  };
  const options = hookActivityOptions(input.timeouts).postprocessing;
  const answer = await callHook(hook, options, request, where, POSTPROCESS_FAILED);
  try {
    return checkPostprocessAnswer(answer);
  } catch (err) {
    if (!(err instanceof InvalidPostprocessAnswerError)) throw err;
    throw ApplicationFailure.nonRetryable(
      `${where} answered what a record cannot keep: ${err.message}`,
      POSTPROCESS_FAILED,
    );
  }
}
