/**
 * `plan`: what `start` would check and decide, without starting anything (no workflow, no
 * openEO job): every problem of the spec, its tiles (as GeoJSON, each with the backend it would
 * go to), how many per backend, their area, how many jobs and rounds of jobs, and what the
 * backends say about the first tile's job. Runs in the caller's process, with the worker's
 * credential sources.
 */
import { ApplicationFailure } from '@temporalio/common';
import { tilesOfSource } from '../../../activities/backend-preflight';
import { checkRemoteProcess, processPartOf } from '../../../activities/process-checks';
import { isTileFile, loadTiles } from '../../../activities/tile-source';
import { stacApiIssue } from '../../../activities/stac/preflight';
import { OpenEOConnections, type ConnectionOptions } from '../../core/openeo/connections';
import { credentialsFromEnv, type CredentialStore } from '../../core/openeo/credentials';
import type { SpecErrorDetails } from '../../core/batch-spec/errors';
import { DEFAULT_MAX_TILES } from '../../core/batch-spec/limits';
import { checkTilesOffline, inspectSpecOffline } from '../../core/batch-spec/prepare';
import type { ProcessDefinition } from '../../core/batch-spec/remote-process';
import type { BatchSpec, BatchSpecInput, TileFileSpec } from '../../core/batch-spec/schema';
import { periodsOrProblem } from '../../core/batch-spec/periods';
import type { TileFeatureCollection, TilePlan, TileSource } from '../../core/batch-spec/tile-types';
import { InvalidSpecError } from '../../core/batch-spec/validate';
import { isRemoteHook, type HookName } from '../../core/hooks/remote';
import { checkBackends, type BackendChecks } from './backends';
import { noTilePinned, placeBatch, type Placement } from './placement';
import { plannedTiles, tilesAreaKm2, type PlannedTiles } from './tiles';

export type { PlannedTiles, PlannedTileFeature } from './tiles';

/** Options of {@link planBatch}. */
export interface PlanOptions {
  /** Backend credentials; default: the worker's `OPENEO_BACKEND_*` variables. */
  credentials?: CredentialStore;
  /** Request timeout and token store, as for the worker. */
  connectionOptions?: ConnectionOptions;
  /** Only the checks that need no network: no namespace, no backend. */
  offline?: boolean;
  /** How long a typical job of this process takes: gives the plan a duration. */
  typicalJobMinutes?: number;
  /** Carry the tiles as GeoJSON (default true; never for more tiles than `maxTiles`). */
  includeTiles?: boolean;
}

/** One backend in the plan: its share of the tiles and what was checked there. */
export interface BackendPlan extends BackendChecks {
  /** The backend's name in the spec. */
  name: string;
  /** Its openEO API URL. */
  url: string;
  /** Jobs it may have at once, as the spec sets it. */
  parallelJobs: number;
  /** Tiles the batch would send there. */
  tiles: number;
  /** Rounds in which this backend runs jobs, up to `parallelJobs` at once. */
  rounds: number;
}

/** How long the batch would take, roughly. */
export interface PlanEstimate {
  /** Rounds of jobs of the whole batch: in a round every backend runs up to `parallelJobs` jobs. */
  rounds: number;
  /** Minutes the batch would take, when a typical job duration is given. */
  minutes?: number;
  /** How the estimate is made, in words. */
  how: string;
}

/**
 * What the batch would cost, as far as a plan can know it, and its budget.
 *
 * @inline
 */
export interface PlanCosts {
  /** Credits the whole batch is projected to cost, when known. */
  projected?: number;
  /** How the projection was made, or why there is none. */
  how: string;
  /** The spec's budget, when it has one. */
  budget?: BatchSpec['budget'];
}

/**
 * What `start` would check and decide for a spec, worked out without starting anything:
 * see {@link planBatch}.
 */
export interface BatchPlan {
  /** The spec's batch id, when it has one. */
  batchId?: string;
  /** Nothing stands in the way: `start` would start this batch as it is. */
  ok: boolean;
  /** Absent when the tiles cannot be derived (the problems say why). */
  totalTiles?: number;
  /** With periods: the places and the periods each runs in (tiles = places × periods). */
  periods?: {
    /** Places: the tiles before pairing with periods. */
    places: number;
    /** Periods each place runs in. */
    periods: number;
    /** The first period's id. */
    first: string;
    /** The last period's id. */
    last: string;
  };
  /** Area the tiles cover, km² (overlaps counted twice). */
  areaKm2?: number;
  /** The spec's limit on its tiles: more, and `start` refuses the batch unless confirmed. */
  maxTiles: number;
  /** One openEO job per tile, up to `maxAttempts` per tile when jobs fail. */
  jobs?: {
    /** Jobs when none fails: one per tile. */
    expected: number;
    /** Jobs when every tile uses all its `maxAttempts`. */
    atMost: number;
  };
  /** Every backend of the spec: its share of the tiles and what was checked there. */
  backends: BackendPlan[];
  /** How long the batch would take; absent when its tiles are not known. */
  estimate?: PlanEstimate;
  /** Absent when the spec cannot be read. */
  costs?: PlanCosts;
  /** Everything `start` would refuse, each with its field and fix. */
  problems: SpecErrorDetails[];
  /** Checks that could not be made, and why (a host this machine cannot reach, a busy backend). */
  unchecked: string[];
  /** The tiles in EPSG:4326, `properties.backend` where they would go; absent above `maxTiles`. */
  tiles?: PlannedTiles;
}

/** A hook's own name: a TypeScript hook's, or the activity's. */
function hookName(hook: HookName): string {
  return isRemoteHook(hook) ? hook.activity : hook;
}

/** Where a hook runs, for the plan's notes. */
function hookHome(hook: HookName): string {
  return isRemoteHook(hook) ? `the workers of task queue ${hook.taskQueue}` : 'the worker';
}

/** File or URL tiles, read here (on this machine) as a worker would read them; their problems join `problems`. */
async function readTileFile(
  spec: BatchSpec,
  file: TileFileSpec,
  problems: SpecErrorDetails[],
): Promise<{ source?: TileSource; tiles?: TilePlan }> {
  let collection: TileFeatureCollection;
  try {
    ({ collection } = await loadTiles(file));
  } catch (err) {
    if (!(err instanceof ApplicationFailure)) throw err;
    // The message names its field (`tiles.file: …`); keep it as the field.
    const [, field = 'tiles', problem = err.message] = /^(tiles[\w.]*): ([\s\S]*)$/.exec(err.message) ?? [];
    problems.push({ field, problem, fix: '', code: err.type ?? 'TileSourceUnavailable' });
    return {};
  }
  try {
    checkTilesOffline(spec, collection);
  } catch (err) {
    if (!(err instanceof InvalidSpecError)) throw err;
    problems.push(...err.issues);
  }
  return { source: collection, tiles: tilesOfSource(spec, collection) };
}

/** How the tiles split into places and periods, for a batch with periods. */
function periodsOf(spec: BatchSpec | undefined, tiles: TilePlan | undefined): BatchPlan['periods'] {
  if (!spec?.periods || !tiles?.places) return undefined;
  const periods = periodsOrProblem(spec.periods).periods;
  if (!periods) return undefined;
  return {
    places: tiles.places.count,
    periods: periods.length,
    first: periods[0].id,
    last: periods[periods.length - 1].id,
  };
}

function estimateOf(spec: BatchSpec, placement: Placement, typicalJobMinutes?: number): PlanEstimate {
  const { rounds } = placement;
  const how = `${rounds} rounds of jobs: every backend runs up to parallelJobs jobs at once, each tile going where the batch would send it if all jobs took equally long`;
  if (typicalJobMinutes === undefined) return { rounds, how: `${how}; give a typical job duration for a time` };
  const startLimited = spec.backends.map((b) =>
    b.maxJobStartsPerMinute ? (placement.tiles[b.name] ?? 0) / b.maxJobStartsPerMinute : 0,
  );
  const minutes = Math.max(rounds * typicalJobMinutes, ...startLimited);
  const quota =
    minutes > rounds * typicalJobMinutes ? '; maxJobStartsPerMinute makes the starts take longer than the jobs' : '';
  return {
    rounds,
    minutes,
    how: `${how}, ${typicalJobMinutes} min each${quota}; waiting in backend queues, failed jobs run again and downloads come on top`,
  };
}

/**
 * A plan creates no job, and openEO estimates only a job that exists (`GET /jobs/{id}/estimate`),
 * so the projected cost is unknown; the budget, if any, is what bounds it.
 */
function costsOf(spec: BatchSpec): PlanCosts {
  const how =
    'projected cost unknown: a backend estimates only a job that exists (GET /jobs/{job_id}/estimate), and a plan creates none; ' +
    'run a few tiles as a small batch and multiply their mean costs by the tiles';
  return { how, ...(spec.budget ? { budget: spec.budget } : {}) };
}

/** The batch id, also of a spec the schema refuses. */
function batchIdOf(input: unknown): { batchId?: string } {
  const batchId = (input as { batchId?: unknown } | null)?.batchId;
  return typeof batchId === 'string' ? { batchId } : {};
}

/**
 * Checks that need the network: the remote process's namespace (also of a spec that is wrong
 * elsewhere), then every backend (of a spec the schema accepts).
 */
async function onlineChecks(
  input: unknown,
  spec: BatchSpec | undefined,
  tiles: TilePlan | undefined,
  options: PlanOptions,
  problems: SpecErrorDetails[],
  unchecked: string[],
): Promise<BackendChecks[]> {
  const processPart = spec ?? processPartOf(input);
  const remote = processPart ? await checkRemoteProcess(processPart) : { problems: [] };
  problems.push(...remote.problems);
  if (remote.unchecked)
    unchecked.push(`process.namespace: ${remote.unchecked}; the backend fetches it over its own network`);
  if (!spec) return [];
  const definition: ProcessDefinition | undefined = remote.definition;
  const connections = new OpenEOConnections(options.credentials ?? credentialsFromEnv(), options.connectionOptions);
  const checks = await checkBackends(connections, spec, tiles, definition, problems);
  checks.forEach((check, i) =>
    unchecked.push(...check.unchecked.map((what) => `backends[${i}] (${spec.backends[i].name}): ${what}`)),
  );
  return checks;
}

/**
 * Plans a batch: checks the spec as `start` and the worker would (every problem at once),
 * derives its tiles and where they would go, and asks each backend about the first tile's job
 * there, by the checks the batch itself makes before any job (so what `plan` finds, `start` refuses).
 * Never creates a job or starts a workflow.
 */
export async function planBatch(input: BatchSpecInput | unknown, options: PlanOptions = {}): Promise<BatchPlan> {
  const inspection = inspectSpecOffline(input);
  const problems = [...inspection.problems];
  const unchecked: string[] = [];
  const { spec } = inspection;
  let tiles = inspection.tiles;
  let source = inspection.source;
  if (spec && isTileFile(spec.tiles)) ({ source, tiles } = await readTileFile(spec, spec.tiles, problems));
  const maxTiles = spec?.maxTiles ?? DEFAULT_MAX_TILES;
  const placement =
    spec && tiles
      ? placeBatch(spec, tiles, (source !== undefined && 'aoi' in source) || noTilePinned(tiles))
      : undefined;
  const checks = !options.offline ? await onlineChecks(input, spec, tiles, options, problems, unchecked) : [];
  if (options.offline) unchecked.push('offline plan: the remote process and the backends were not asked');
  // Hooks live on the workers: the batch's own check looks them up there, before any job.
  if (spec?.jobFactory) {
    const checked = spec.process
      ? "the checks above are of the spec's own process"
      : 'the spec has no process of its own, so no collection or format was checked';
    unchecked.push(
      `jobFactory: "${hookName(spec.jobFactory)}" builds each tile's job on ${hookHome(spec.jobFactory)}; ${checked}, and the batch checks the hook is there before any job`,
    );
  }
  if (spec?.postprocess)
    unchecked.push(
      `postprocess: "${hookName(spec.postprocess)}" runs on ${hookHome(spec.postprocess)}, and the batch checks it is there before any job`,
    );
  const carryTiles = options.includeTiles !== false && tiles !== undefined && tiles.count <= maxTiles;
  return {
    ...batchIdOf(input),
    ok: problems.length === 0,
    ...(tiles ? { totalTiles: tiles.count } : {}),
    ...(periodsOf(spec, tiles) ? { periods: periodsOf(spec, tiles) } : {}),
    ...(tiles && source ? { areaKm2: tilesAreaKm2(source, tiles) } : {}),
    maxTiles,
    ...(tiles && spec ? { jobs: { expected: tiles.count, atMost: tiles.count * spec.maxAttempts } } : {}),
    backends: (spec?.backends ?? []).map((b, i) => ({
      name: b.name,
      url: b.url,
      parallelJobs: b.parallelJobs,
      tiles: placement?.tiles[b.name] ?? 0,
      rounds: placement?.roundsPerBackend[b.name] ?? 0,
      checked: checks[i]?.checked ?? [],
      unchecked: checks[i]?.unchecked ?? [],
    })),
    ...(spec && placement ? { estimate: estimateOf(spec, placement, options.typicalJobMinutes) } : {}),
    ...(spec ? { costs: costsOf(spec) } : {}),
    problems,
    unchecked,
    ...(carryTiles && tiles ? { tiles: plannedTiles(tiles, placement?.backendOf ?? (() => undefined)) } : {}),
  };
}

/**
 * What `start` checks before it starts a workflow: every offline problem and the remote
 * process's namespace and parameters, all at once. Throws {@link InvalidSpecError}.
 */
export async function checkBeforeStart(input: BatchSpecInput): Promise<void> {
  const { spec, problems } = inspectSpecOffline(input);
  const processPart = spec ?? processPartOf(input);
  const remote = processPart ? await checkRemoteProcess(processPart) : undefined;
  const stacApi = spec?.stac?.api ? await stacApiIssue(spec.stac.api.url) : undefined;
  const all = [...problems, ...(remote?.problems ?? []), ...(stacApi ? [stacApi] : [])];
  if (all.length > 0) throw new InvalidSpecError(all);
}
