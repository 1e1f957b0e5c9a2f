/**
 * The backend side of a plan: for each backend, the worker's own login check, then what the
 * backend says about the first tile's job (collections, formats, `POST /validation`). The
 * same credentials as the worker's (`OPENEO_BACKEND_*` variables, or the ones given).
 */
import { backendAccessFailure } from '../activities/backend-checks';
import { preflightBackend, type JobRequirements } from '../activities/backend-preflight';
import type { OpenEOConnections } from '../core/openeo/connections';
import { tileArguments, tileProcessGraph, type ProcessGraph } from '../core/spec/arguments';
import type { SpecErrorDetails } from '../core/spec/errors';
import { collectionIdsOf, outputFormatsOf } from '../core/spec/graph-contents';
import type { ProcessDefinition } from '../core/spec/remote-process';
import type { BackendSpec, BatchSpec } from '../core/spec/schema';
import type { Tile } from '../core/spec/tile-types';

/** What was checked on one backend, and what could not be. */
export interface BackendChecks {
  checked: string[];
  unchecked: string[];
}

/** The defaults a process definition declares for its parameters. */
function declaredDefaults(definition: ProcessDefinition | undefined): Record<string, unknown> {
  const defaults = (definition?.parameters ?? []).filter((p) => p.default !== undefined).map((p) => [p.name, p.default]);
  return Object.fromEntries(defaults);
}

/** What the job of `tile` asks of a backend: its graph, and the collections and formats in it (or in its UDP). */
export function jobRequirements(spec: BatchSpec, tile: Tile | undefined, definition: ProcessDefinition | undefined): JobRequirements {
  const { process } = spec;
  // Without a process a job factory builds every job: there is nothing to check before it runs.
  if (!process) return { processGraph: undefined, collections: [], formats: [] };
  let args: Record<string, unknown> = { ...spec.parameterDefaults };
  let processGraph: ProcessGraph | undefined;
  if (tile) {
    try {
      args = tileArguments(tile, spec.parameterDefaults, spec.parameterMapping);
      processGraph = tileProcessGraph(process, args);
    } catch {
      // A tile without a mapped property: the spec's problems already say so.
    }
  }
  const inline = 'processGraph' in process;
  const graph = inline ? (processGraph ?? process.processGraph) : (definition?.process_graph ?? {});
  const parameters = inline ? args : { ...declaredDefaults(definition), ...args };
  return { processGraph, collections: collectionIdsOf(graph, parameters), formats: outputFormatsOf(graph, parameters) };
}

async function checkOne(connections: OpenEOConnections, backend: BackendSpec, i: number, job: JobRequirements, problems: SpecErrorDetails[]): Promise<BackendChecks> {
  const failure = await backendAccessFailure(connections, backend, i);
  if (failure?.transient && !failure.unreachable) return { checked: [], unchecked: [`login: ${failure.problem}`] };
  if (failure) {
    problems.push(...(failure.issues ?? [{ field: failure.field, problem: failure.problem, fix: '', code: failure.type }]));
    return { checked: [], unchecked: ['everything else: no login'] };
  }
  const preflight = await preflightBackend(connections, backend, i, job);
  problems.push(...preflight.problems);
  return { checked: ['login', ...preflight.checked], unchecked: preflight.unchecked };
}

/**
 * Checks every backend of the spec; their problems join `problems`. `firstTileOn` gives the
 * first tile the batch would send to a backend, whose job is the one validated there.
 */
export async function checkBackends(
  connections: OpenEOConnections,
  spec: BatchSpec,
  firstTileOn: (backend: string) => Tile | undefined,
  definition: ProcessDefinition | undefined,
  problems: SpecErrorDetails[],
): Promise<BackendChecks[]> {
  const checks: BackendChecks[] = [];
  for (const [i, backend] of spec.backends.entries()) {
    checks.push(await checkOne(connections, backend, i, jobRequirements(spec, firstTileOn(backend.name), definition), problems));
  }
  return checks;
}
