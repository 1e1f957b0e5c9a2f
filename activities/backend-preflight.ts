/**
 * What a backend says about a batch's process before any job exists: the collections it loads
 * (`GET /collections/{id}`), the output formats it saves to (`GET /file_formats`), and the
 * backend's own validation of the first tile's process graph (`POST /validation`, where the
 * backend offers it). The one implementation of these checks: `plan` reports what they find, and
 * the batch's `prepareBatch` refuses on the same problems before any job. No Temporal context needed.
 */
import type { Connection } from '@openeo/js-client';
import type { BackendRef, OpenEOConnections } from '../src/core/openeo/connections';
import { describeFailure, type OpenEOFailure } from '../src/core/openeo/errors';
import { tileArguments, tileProcessGraph, type ProcessGraph } from '../src/core/batch-spec/arguments';
import type { SpecErrorDetails } from '../src/core/batch-spec/errors';
import { collectionIdsOf, outputFormatsOf } from '../src/core/batch-spec/graph-contents';
import type { ProcessDefinition } from '../src/core/batch-spec/remote-process';
import type { BatchSpec } from '../src/core/batch-spec/schema';
import { expandPeriods, planTiles, withPeriods } from '../src/core/batch-spec/tiling';
import { allowedBackends, type Tile, type TilePlan, type TileSource } from '../src/core/batch-spec/tile-types';

/** What the first tile's job would ask of the backend. */
export interface JobRequirements {
  /** The first tile's process graph; absent when no tile could be built (the spec says why). */
  processGraph?: ProcessGraph;
  collections: string[];
  formats: string[];
}

/** The defaults a process definition declares for its parameters. */
function declaredDefaults(definition: ProcessDefinition | undefined): Record<string, unknown> {
  const defaults = (definition?.parameters ?? [])
    .filter((p) => p.default !== undefined)
    .map((p) => [p.name, p.default]);
  return Object.fromEntries(defaults);
}

/** What the job of `tile` asks of a backend: its graph, and the collections and formats in it (or in its UDP). */
export function jobRequirements(
  spec: BatchSpec,
  tile: Tile | undefined,
  definition: ProcessDefinition | undefined,
): JobRequirements {
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

/** The tiles of a source read from a file or URL, with the spec's periods; undefined when they cannot be planned (the spec's problems say why). */
export function tilesOfSource(spec: BatchSpec, source: TileSource): TilePlan | undefined {
  try {
    return withPeriods(planTiles(source), spec.periods && expandPeriods(spec.periods));
  } catch {
    return undefined;
  }
}

/**
 * The first tile (in the batch's order) that may run on the backend: tiles that name backends go
 * only there. `plan` and the batch's check take the same one, so they ask the same questions.
 */
export function firstTileFor(tiles: TilePlan | undefined, backend: string): Tile | undefined {
  if (!tiles) return undefined;
  for (let i = 0; i < tiles.count; i++) {
    const tile = tiles.tileAt(i);
    const allowed = allowedBackends(tile);
    if (!allowed || allowed.includes(backend)) return tile;
  }
  return undefined;
}

export interface BackendPreflight {
  problems: SpecErrorDetails[];
  /** Checks that could not be made, and why. */
  unchecked: string[];
  /** What was checked: `collections`, `file formats`, `validation`. */
  checked: string[];
}

interface Check {
  backend: BackendRef;
  field: string;
  connection: Connection;
  result: BackendPreflight;
}

/** A collection lookup's answer: only a 404 `CollectionNotFound` says the backend has no such collection. */
function collectionMissing(failure: OpenEOFailure): boolean {
  return failure.status === 404 && failure.code === 'CollectionNotFound';
}

async function checkCollections({ backend, field, connection, result }: Check, ids: string[]): Promise<void> {
  let checked = 0;
  for (const id of ids) {
    try {
      await connection.describeCollection(id);
      checked += 1;
    } catch (err) {
      const failure = describeFailure(err);
      const answer = `GET /collections/${id} answered ${failure.status === undefined ? '' : `HTTP ${failure.status} `}${failure.code}: ${failure.message}`;
      // Another answer (a 404 of another kind, a 5xx, a 501 of a backend without the endpoint) does not tell.
      if (!collectionMissing(failure)) {
        result.unchecked.push(`collection "${id}" could not be checked (${answer})`);
        continue;
      }
      result.problems.push({
        field,
        code: 'collection_not_found',
        problem: `backend "${backend.name}" has no collection "${id}", which the process loads (load_collection id; ${answer})`,
        fix: `use a collection the backend lists at ${backend.url} GET /collections, or run these tiles on another backend`,
      });
      checked += 1;
    }
  }
  if (checked > 0) result.checked.push('collections');
}

async function checkFormats({ backend, field, connection, result }: Check, formats: string[]): Promise<void> {
  if (formats.length === 0) return;
  const offered = Object.keys((await connection.listFileTypes()).getOutputTypes() as Record<string, unknown>);
  for (const format of formats.filter((f) => !offered.some((o) => o.toLowerCase() === f.toLowerCase()))) {
    result.problems.push({
      field,
      code: 'format_not_supported',
      problem: `backend "${backend.name}" cannot save results as "${format}" (GET /file_formats offers ${offered.join(', ') || 'none'})`,
      fix: 'use one of the formats the backend offers in save_result',
    });
  }
  result.checked.push('file formats');
}

async function validate(
  { backend, field, connection, result }: Check,
  processGraph: ProcessGraph | undefined,
): Promise<void> {
  if (!processGraph) {
    result.unchecked.push('validation: no tile to build a process graph from');
    return;
  }
  if (!connection.capabilities().hasFeature('validateProcess')) {
    result.unchecked.push('the backend offers no POST /validation');
    return;
  }
  const errors = (await connection.validateProcess({ process_graph: processGraph })) as Array<{
    code?: string;
    message?: string;
  }>;
  for (const error of errors) {
    result.problems.push({
      field,
      code: 'backend_validation',
      problem: `backend "${backend.name}" finds in the first tile's process graph: ${error.code ?? 'Error'}: ${error.message ?? 'no message'}`,
      fix: 'fix the process or its parameters; the backend checks every tile the same way when its job starts',
    });
  }
  result.checked.push('validation');
}

/**
 * Asks the backend about the job's collections, formats and graph. Call it once the login
 * works (see `backendAccessFailure`); a check the backend cannot answer is listed as unchecked.
 */
export async function preflightBackend(
  connections: OpenEOConnections,
  backend: BackendRef,
  i: number,
  job: JobRequirements,
): Promise<BackendPreflight> {
  const result: BackendPreflight = { problems: [], unchecked: [], checked: [] };
  const check: Check = { backend, field: `backends[${i}]`, connection: await connections.get(backend), result };
  const steps: Array<[string, () => Promise<void>]> = [
    ['collections', () => checkCollections(check, job.collections)],
    ['file formats', () => checkFormats(check, job.formats)],
    ['validation', () => validate(check, job.processGraph)],
  ];
  for (const [name, step] of steps) {
    try {
      await step();
    } catch (err) {
      const failure = describeFailure(err);
      result.unchecked.push(`${name}: ${failure.code}: ${failure.message}`);
    }
  }
  return result;
}

/**
 * The backend checks of a batch's job on `spec.backends[i]`: the job of the first tile that may
 * run there (see `firstTileFor`). Call it once the login works.
 */
export function preflightBatchJob(
  connections: OpenEOConnections,
  spec: BatchSpec,
  i: number,
  tiles: TilePlan | undefined,
  definition: ProcessDefinition | undefined,
): Promise<BackendPreflight> {
  const backend = spec.backends[i];
  return preflightBackend(
    connections,
    backend,
    i,
    jobRequirements(spec, firstTileFor(tiles, backend.name), definition),
  );
}
