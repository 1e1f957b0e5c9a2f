/**
 * The backend side of a plan: for each backend, the worker's own login check, then what the
 * backend says about the first tile's job (collections, formats, `POST /validation`), by the
 * same checks the batch makes before any job (activities/backend-preflight.ts). The same
 * credentials as the worker's (`OPENEO_BACKEND_*` variables, or the ones given).
 */
import { backendAccessFailure } from '../../../activities/backend-checks';
import { preflightBatchJob } from '../../../activities/backend-preflight';
import type { OpenEOConnections } from '../../core/openeo/connections';
import type { SpecErrorDetails } from '../../core/batch-spec/errors';
import type { ProcessDefinition } from '../../core/batch-spec/remote-process';
import type { BatchSpec } from '../../core/batch-spec/schema';
import type { TilePlan } from '../../core/batch-spec/tile-types';

/** What a plan checked on one backend, and what it could not. */
export interface BackendChecks {
  /** The checks the backend passed (its login, then what it said about the first tile's job). */
  checked: string[];
  /** Checks that could not be made there, each with why. */
  unchecked: string[];
}

async function checkOne(
  connections: OpenEOConnections,
  spec: BatchSpec,
  i: number,
  tiles: TilePlan | undefined,
  definition: ProcessDefinition | undefined,
  problems: SpecErrorDetails[],
): Promise<BackendChecks> {
  const failure = await backendAccessFailure(connections, spec.backends[i], i);
  if (failure?.transient && !failure.unreachable) return { checked: [], unchecked: [`login: ${failure.problem}`] };
  if (failure) {
    problems.push(
      ...(failure.issues ?? [{ field: failure.field, problem: failure.problem, fix: '', code: failure.type }]),
    );
    return { checked: [], unchecked: ['everything else: no login'] };
  }
  const preflight = await preflightBatchJob(connections, spec, i, tiles, definition);
  problems.push(...preflight.problems);
  return { checked: ['login', ...preflight.checked], unchecked: preflight.unchecked };
}

/** Checks every backend of the spec with the batch's tiles; their problems join `problems`. */
export async function checkBackends(
  connections: OpenEOConnections,
  spec: BatchSpec,
  tiles: TilePlan | undefined,
  definition: ProcessDefinition | undefined,
  problems: SpecErrorDetails[],
): Promise<BackendChecks[]> {
  const checks: BackendChecks[] = [];
  for (const i of spec.backends.keys()) checks.push(await checkOne(connections, spec, i, tiles, definition, problems));
  return checks;
}
