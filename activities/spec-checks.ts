/**
 * Checking a batch before anything is created: the spec, its tile file or URL, its remote
 * process (the namespace answers, the parameters match), that this worker can reach and
 * log in to every backend, what every backend says about the first tile's job (the checks
 * `plan` reports, see backend-preflight.ts), and that the STAC API, if any, takes transactions.
 * Spec problems are reported together, in one failure.
 */
import { ApplicationFailure } from '@temporalio/common';
import { Context } from '@temporalio/activity';
import type { OpenEOConnections } from '../src/core/openeo/connections';
import type { SpecErrorDetails } from '../src/core/batch-spec/errors';
import type { ProcessDefinition } from '../src/core/batch-spec/remote-process';
import type { TilePlan } from '../src/core/batch-spec/tile-types';
import { checkTilesOffline, inspectSpecOffline, type PreparedBatch } from '../src/core/batch-spec/prepare';
import { InvalidSpecError } from '../src/core/batch-spec/validate';
import { isTileFile, loadTiles } from './tile-source';
import { checkBackendLogin } from './backend-checks';
import { preflightBatchJob, tilesOfSource } from './backend-preflight';
import { checkRemoteProcess, processPartOf } from './process-checks';
import { registeredNames } from './job-factory';
import type { HookName } from '../src/core/hooks/remote';
import { checkStacApi } from './stac/preflight';
import { resultStore } from './store';

export type { PreparedBatch };

function invalid(issues: SpecErrorDetails[]): ApplicationFailure {
  const err = new InvalidSpecError(issues);
  return ApplicationFailure.nonRetryable(err.message, err.code, { issues: err.issues });
}

/** A batch as checked so far, and its tiles (for the backends' checks of the first tile's job). */
interface CheckedBatch {
  prepared: PreparedBatch;
  tiles?: TilePlan;
}

/** Reads file or URL tiles and checks them; their problems join `problems`. */
async function withTileFile(checked: CheckedBatch, problems: SpecErrorDetails[]): Promise<CheckedBatch> {
  const { prepared } = checked;
  const { tiles } = prepared.spec;
  if (!isTileFile(tiles)) return checked;
  const loaded = await loadTiles(tiles);
  try {
    const totalTiles = checkTilesOffline(prepared.spec, loaded.collection);
    return {
      prepared: { ...prepared, totalTiles, tileFingerprint: loaded.fingerprint },
      tiles: tilesOfSource(prepared.spec, loaded.collection),
    };
  } catch (err) {
    if (!(err instanceof InvalidSpecError)) throw err;
    problems.push(...err.issues);
    return checked;
  }
}

/**
 * What each backend says about the first tile's job (collections, formats, `POST /validation`):
 * the checks `plan` reports, so a batch `plan` says `start` would refuse is refused here, before
 * any job. A check a backend cannot answer is a warning, not a refusal.
 */
async function checkBackendJobs(
  connections: OpenEOConnections,
  { prepared, tiles }: CheckedBatch,
  definition: ProcessDefinition | undefined,
): Promise<void> {
  const problems: SpecErrorDetails[] = [];
  for (const i of prepared.spec.backends.keys()) {
    const preflight = await preflightBatchJob(connections, prepared.spec, i, tiles, definition);
    problems.push(...preflight.problems);
    for (const what of preflight.unchecked)
      Context.current().log.warn(`backends[${i}] (${prepared.spec.backends[i].name}) not checked: ${what}`);
  }
  if (problems.length > 0) throw invalid(problems);
}

/** The hooks this worker registered, by name: a spec may only name these. */
export interface HookNames {
  jobFactories: Record<string, unknown>;
  postprocessors: Record<string, unknown>;
}

/**
 * A spec naming a TypeScript hook this worker did not register, found before any openEO job.
 * Hooks on another task queue are asked for by the batch itself (workflows/remote-hooks.ts).
 */
function unknownHooks(spec: { jobFactory?: HookName; postprocess?: HookName }, hooks: HookNames): SpecErrorDetails[] {
  const problems: SpecErrorDetails[] = [];
  const check = (
    field: 'jobFactory' | 'postprocess',
    name: HookName | undefined,
    registry: Record<string, unknown>,
    option: string,
  ) => {
    if (typeof name !== 'string' || Object.hasOwn(registry, name)) return;
    problems.push({
      field,
      code: 'unknown_hook',
      problem: `no ${field === 'jobFactory' ? 'job factory' : 'post-processor'} "${name}" is registered on the worker (registered: ${registeredNames(registry)})`,
      fix: `register it in the worker with createOpenEOPlugin({ ${option}: { ${JSON.stringify(name)}: … } }), or name a registered one`,
    });
  };
  check('jobFactory', spec.jobFactory, hooks.jobFactories, 'jobFactories');
  check('postprocess', spec.postprocess, hooks.postprocessors, 'postprocessors');
  return problems;
}

/**
 * Object storage must take this worker's writes before any job is created: a wrong bucket, a
 * missing credential or an unreachable endpoint is a spec problem named `outputDir`. (A local
 * folder is made by the first download, as always.)
 */
async function checkOutputStore(outputDir: string): Promise<void> {
  const store = resultStore(outputDir);
  if (!store.remote) return;
  try {
    await store.check();
  } catch (err) {
    throw invalid([
      {
        field: 'outputDir',
        code: 'output_unreachable',
        problem: err instanceof Error ? err.message : String(err),
        fix: 'check the bucket name, and AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, AWS_REGION and AWS_ENDPOINT_URL_S3 in the environment of every worker',
      },
    ]);
  }
}

export function createSpecCheckActivities(
  connections: OpenEOConnections,
  hooks: HookNames = { jobFactories: {}, postprocessors: {} },
) {
  return {
    /**
     * Validates the spec, reads and checks file or URL tiles, checks the remote process's
     * namespace and parameters, checks that this worker can reach and log in to every
     * backend (`GET /me`), and asks each backend about the first tile's job (collections,
     * formats, validation). Fails without retry on anything the user must fix.
     */
    async prepareBatch(input: unknown): Promise<PreparedBatch> {
      const inspection = inspectSpecOffline(input);
      const problems = [...inspection.problems];
      const checked =
        inspection.spec &&
        (await withTileFile(
          { prepared: { spec: inspection.spec, totalTiles: inspection.tiles?.count ?? 0 }, tiles: inspection.tiles },
          problems,
        ));
      const processPart = inspection.spec ?? processPartOf(input);
      const remote = processPart ? await checkRemoteProcess(processPart) : { problems: [] };
      problems.push(...remote.problems);
      if (inspection.spec) problems.push(...unknownHooks(inspection.spec, hooks));
      // The backend fetches the definition over its own network: what this worker cannot reach, it may.
      if (remote.unchecked) Context.current().log.warn(`process.namespace not checked: ${remote.unchecked}`);
      if (problems.length > 0 || !checked) throw invalid(problems);
      const { prepared } = checked;
      await checkOutputStore(prepared.spec.outputDir);
      for (const [i, backend] of prepared.spec.backends.entries()) await checkBackendLogin(connections, backend, i);
      await checkBackendJobs(connections, checked, remote.definition);
      // Results of a batch whose STAC API cannot take them would pile up unpushed: refuse it now.
      if (prepared.spec.stac?.api) await checkStacApi(prepared.spec.stac.api.url);
      return prepared;
    },
  };
}
