/**
 * The create-job hook: a user's function, registered on the worker under a name, that decides
 * each tile's openEO job (or that a tile needs none). Types and pure checks only; the hook runs
 * in an activity (`activities/job-factory.ts`), and its normalized answer, a {@link TileJobPlan},
 * is what the tile's history records.
 */
import type { ProcessGraph } from '../batch-spec/arguments';
import type { Tile } from '../batch-spec/tile-types';

/** A remote (UDP) or predefined process, called with arguments. */
export interface ProcessRef {
  /** The process's id, e.g. `ndvi` or the UDP's name. */
  processId: string;
  /** A UDP's URL, or a backend namespace such as "user"; leave it out for a predefined process. */
  namespace?: string;
}

/**
 * What a factory returns for a tile that gets a job: either a whole `processGraph`, or a
 * `process` to call with `arguments`; optionally a title, a description and job options.
 *
 * @inlineType ProcessGraph
 */
export type JobPlan = (
  | {
      /** The job's whole process graph. */
      processGraph: ProcessGraph;
      /** Not with `processGraph`. */
      process?: undefined;
    }
  | {
      /** The process the job calls, with `arguments`. */
      process: ProcessRef;
      /** Not with `process`. */
      processGraph?: undefined;
    }
) & {
  /** With `process`: its arguments (the tile's own parameters, as the factory computed them). */
  arguments?: Record<string, unknown>;
  /** Shown as the job's title on the backend, before the key that identifies the tile's attempt. */
  title?: string;
  /** Shown as the job's description on the backend. */
  description?: string;
  /** openEO job options for this tile, merged over the spec's `jobOptions` (top-level keys). */
  jobOptions?: Record<string, unknown>;
};

/**
 * What a factory returns for a tile that needs no job; the tile ends `skipped` with the reason.
 *
 * @inline
 */
export interface SkipTile {
  /** Why the tile needs no job: kept as the tile's `skipReason`. */
  skip: string;
}

/**
 * Small builders a factory may use; all pure.
 *
 * @inlineType ProcessGraph
 */
export interface JobFactoryHelpers {
  /** A one-node process graph calling `process` with `args` (as the spec's `process` would). */
  processGraphFor(process: ProcessRef, args: Record<string, unknown>): ProcessGraph;
  /** The graph the spec's own `process`, `parameterDefaults` and `parameterMapping` give this tile (throws when the spec has no `process`). */
  specProcessGraph(): ProcessGraph;
  /** `load_collection` → optional steps → `save_result`, as a graph (see {@link LoadCollectionOptions}). */
  loadCollection(options: LoadCollectionOptions): ProcessGraph;
  /** The answer that skips this tile. */
  skip(reason: string): SkipTile;
}

/** Options of {@link JobFactoryHelpers.loadCollection} and {@link loadCollectionGraph}. */
export interface LoadCollectionOptions {
  /** The collection's id on the backend, e.g. `SENTINEL2_L2A`. */
  collection: string;
  /** GeoJSON (EPSG:4326) or a bounding box; the tile's geometry by default. */
  spatialExtent?: unknown;
  /** `[start, end)` as ISO dates; the tile's period when it has one. */
  temporalExtent?: [string, string] | null;
  /** The bands to load; all of them when left out. */
  bands?: string[];
  /**
   * Processes applied in order between loading and saving, each `{ process_id, arguments }`
   * with its input cube under `data` (filled in), e.g. `{ process_id: 'sar_backscatter', arguments: { coefficient: 'sigma0-ellipsoid' } }`.
   */
  steps?: {
    /** The process to apply. */
    process_id: string;
    /** Its arguments besides `data`. */
    arguments?: Record<string, unknown>;
  }[];
  /** @default "GTiff" */
  format?: string;
}

/**
 * What a job factory is told besides the tile: its batch, its backend, which attempt this is,
 * and helpers to build a graph.
 */
export interface JobFactoryContext {
  /** The batch the tile belongs to. */
  batchId: string;
  /** The backend the tile runs on. */
  backend: {
    /** Its name in the spec. */
    name: string;
    /** Its openEO API URL. */
    url: string;
  };
  /** Number of the job this call is for (1 for the tile's first; resubmissions call the factory again). */
  attempt: number;
  /** The spec's `parameterDefaults`. */
  parameterDefaults: Record<string, unknown>;
  /** Builders of common graphs, and of the answer that skips the tile. */
  helpers: JobFactoryHelpers;
}

/**
 * A create-job hook. It runs in an activity, so it may do I/O; it is called once per job of a
 * tile. Throwing fails the tile (code `JobFactoryFailed`, with the message), never the batch.
 */
export type JobFactory = (tile: Tile, context: JobFactoryContext) => Promise<JobPlan | SkipTile> | JobPlan | SkipTile;

/**
 * The factory's answer as the tile workflow receives it (and its history records it).
 *
 * @inlineType ProcessGraph
 */
export type TileJobPlan =
  | {
      /** Why the tile needs no job. */
      skip: string;
    }
  | {
      /** The job's process graph. */
      processGraph: ProcessGraph;
      /** The job's title on the backend. */
      title?: string;
      /** The job's description on the backend. */
      description?: string;
      /** openEO job options, merged over the spec's `jobOptions`. */
      jobOptions?: Record<string, unknown>;
    };

/** A tile period, as helper A's `periods` put it on tiles: `{ id, start, end }` (end exclusive). */
function periodOf(tile: Tile): [string, string] | undefined {
  const period = tile.properties.period as { start?: unknown; end?: unknown } | undefined;
  return typeof period?.start === 'string' && typeof period.end === 'string' ? [period.start, period.end] : undefined;
}

/**
 * A `load_collection` → steps → `save_result` graph over the tile.
 *
 * @inlineType ProcessGraph
 */
export function loadCollectionGraph(tile: Tile, options: LoadCollectionOptions): ProcessGraph {
  const graph: ProcessGraph = {
    load1: {
      process_id: 'load_collection',
      arguments: {
        id: options.collection,
        spatial_extent: options.spatialExtent ?? tile.geometry,
        temporal_extent: options.temporalExtent === undefined ? (periodOf(tile) ?? null) : options.temporalExtent,
        ...(options.bands ? { bands: options.bands } : {}),
      },
    },
  };
  let previous = 'load1';
  (options.steps ?? []).forEach((step, i) => {
    const id = `step${i + 1}`;
    graph[id] = { process_id: step.process_id, arguments: { ...step.arguments, data: { from_node: previous } } };
    previous = id;
  });
  graph.save1 = {
    process_id: 'save_result',
    arguments: { data: { from_node: previous }, format: options.format ?? 'GTiff' },
    result: true,
  };
  return graph;
}

/** The failure type of a factory that threw, or answered something that is not a plan. */
export const JOB_FACTORY_FAILED = 'JobFactoryFailed';

/** Thrown for an answer that is neither a plan nor a skip; the message says what is wrong. */
export class InvalidJobPlanError extends Error {
  override name = 'InvalidJobPlanError';
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function optionalString(plan: Record<string, unknown>, key: string): string | undefined {
  const value = plan[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new InvalidJobPlanError(`"${key}" must be a string`);
  return value;
}

/** A graph whose every node names its process and has its arguments, as openEO requires. */
function checkedGraph(graph: Record<string, unknown>): ProcessGraph {
  for (const [id, node] of Object.entries(graph)) {
    if (!isRecord(node) || typeof node.process_id !== 'string' || !isRecord(node.arguments))
      throw new InvalidJobPlanError(`node "${id}" of "processGraph" needs a "process_id" and an "arguments" object`);
  }
  return graph as ProcessGraph;
}

/**
 * The factory's answer, checked and normalized to a {@link TileJobPlan}: `process` + `arguments`
 * become a one-node graph, so the workflow only ever sees a graph (or a skip).
 */
export function normalizeJobPlan(answer: unknown, helpers: Pick<JobFactoryHelpers, 'processGraphFor'>): TileJobPlan {
  if (!isRecord(answer))
    throw new InvalidJobPlanError(
      'return a job plan ({ processGraph } or { process, arguments }) or { skip: "<reason>" }',
    );
  if ('skip' in answer) {
    if (typeof answer.skip !== 'string' || answer.skip.trim() === '')
      throw new InvalidJobPlanError('"skip" must be a non-empty reason');
    return { skip: answer.skip };
  }
  const jobOptions = answer.jobOptions;
  if (jobOptions !== undefined && !isRecord(jobOptions))
    throw new InvalidJobPlanError('"jobOptions" must be an object');
  const args = answer.arguments ?? {};
  if (!isRecord(args)) throw new InvalidJobPlanError('"arguments" must be an object');
  let processGraph: ProcessGraph;
  if (isRecord(answer.processGraph) && Object.keys(answer.processGraph).length > 0) {
    processGraph = checkedGraph(answer.processGraph);
  } else if (
    isRecord(answer.process) &&
    typeof answer.process.processId === 'string' &&
    answer.process.processId !== ''
  ) {
    processGraph = helpers.processGraphFor(answer.process as unknown as ProcessRef, args);
  } else {
    throw new InvalidJobPlanError('give a non-empty "processGraph", or "process": { processId, namespace? }');
  }
  const title = optionalString(answer, 'title');
  const description = optionalString(answer, 'description');
  return {
    processGraph,
    ...(title ? { title } : {}),
    ...(description ? { description } : {}),
    ...(jobOptions ? { jobOptions } : {}),
  };
}
