/**
 * Turns a tile into the process graph of its openEO job. Pure and deterministic: workflows use
 * it to build a tile's job, activities to validate a spec before any job is created.
 */
import type { ProcessSpec } from './schema';
import type { Tile } from './tile-types';

export type { Tile };

/**
 * An openEO process graph: its nodes by node id.
 *
 * @inline
 */
export type ProcessGraph = Record<string, ProcessNode>;
/**
 * One node of a process graph: a process call and its arguments.
 *
 * @inline
 */
export interface ProcessNode {
  /** The process the node calls. */
  process_id: string;
  /** Where the process comes from: absent or null for a predefined process, `user` or a URL for a user-defined one. */
  namespace?: string | null;
  /**
   * The process's arguments by parameter name; `{ from_node }` and `{ from_parameter }` refer to
   * other nodes and parameters.
   */
  arguments: Record<string, unknown>;
  /** Marks the node whose output is the graph's result (exactly one has it). */
  result?: boolean;
  /** What the node does, for people reading the graph. */
  description?: string;
}

/** Raised when a tile lacks a property that `parameterMapping` asks for. */
export class MissingTilePropertyError extends Error {
  readonly code = 'TilePropertyMissing';
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'MissingTilePropertyError';
  }
}

/** Mapping sources that come from the tile's period: its `[start, end]` and its id. */
export const PERIOD_SOURCES = ['temporal_extent', 'period'] as const;

/** The value of a period source, when the tile has a period. */
function periodValue(tile: Tile, source: string): unknown {
  const period = tile.properties.period;
  if (!period) return undefined;
  if (source === 'temporal_extent') return [period.start, period.end];
  if (source === 'period') return period.id;
  return undefined;
}

/** Why a mapped source is missing; a period source says where periods come from. */
function missingSource(tile: Tile, parameter: string, property: string): MissingTilePropertyError {
  const field = `parameterMapping.${parameter}`;
  if ((PERIOD_SOURCES as readonly string[]).includes(property)) {
    return new MissingTilePropertyError(
      field,
      `tile "${tile.id}" has no period, which ${field} ("${property}") asks for; add "periods" to the spec (or a "${property}" property to every tile), or remove the mapping`,
    );
  }
  return new MissingTilePropertyError(
    field,
    `tile "${tile.id}" has no property "${property}", which ${field} asks for; add it to every tile or remove the mapping`,
  );
}

/**
 * The process parameters for one tile: `parameterDefaults`, overridden by tile properties as
 * `parameterMapping` says. Special sources: `geometry` is the tile's geometry itself; with
 * periods, `temporal_extent` is the period's `[start, end]` and `period` its id (a tile without
 * a period falls back to a property of that name, as before periods existed).
 */
export function tileArguments(
  tile: Tile,
  parameterDefaults: Record<string, unknown>,
  parameterMapping: Record<string, string>,
): Record<string, unknown> {
  const args: Record<string, unknown> = { ...parameterDefaults };
  for (const [parameter, property] of Object.entries(parameterMapping)) {
    const fromPeriod = periodValue(tile, property);
    if (property === 'geometry') {
      args[parameter] = tile.geometry;
    } else if (fromPeriod !== undefined) {
      args[parameter] = fromPeriod;
    } else if (property in tile.properties) {
      args[parameter] = tile.properties[property];
    } else {
      throw missingSource(tile, parameter, property);
    }
  }
  return args;
}

/** Raised when a tile's job options property holds something other than an object. */
export class InvalidTileJobOptionsError extends Error {
  readonly code = 'InvalidTileJobOptions';
  constructor(message: string) {
    super(message);
    this.name = 'InvalidTileJobOptionsError';
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The job options of one tile: the batch's, with the object in the tile's `property` merged
 * over them (shallow: a key the tile gives replaces the batch's whole value). Without a
 * property name, or a tile without that property, the batch's options unchanged (the same
 * object, so a tile input without the field builds exactly the same job as before).
 */
export function tileJobOptions(
  tile: Tile,
  batchOptions: Record<string, unknown> | undefined,
  property: string | undefined,
): Record<string, unknown> | undefined {
  if (property === undefined) return batchOptions;
  const own = tile.properties[property];
  if (own === undefined || own === null) return batchOptions;
  if (!isPlainObject(own)) {
    throw new InvalidTileJobOptionsError(
      `tile "${tile.id}": its property "${property}" (jobOptionsProperty) is ${JSON.stringify(own)}, not an object of job options; give an object such as {"executor-memory": "4g"}, or leave the property out`,
    );
  }
  return { ...batchOptions, ...own };
}

/** A readable, valid node id for a process id: `bap_composite` → `bapcomposite1`. */
function nodeId(processId: string): string {
  return `${processId.replace(/[^A-Za-z0-9]/g, '').toLowerCase() || 'process'}1`;
}

/**
 * Replaces every `{from_parameter: name}` whose name has a value. Callbacks may refer to the
 * parameters of the graph that contains them, so nested graphs are substituted too; a callback
 * parameter (`x`, `data`, …) is left alone unless the spec gives it a value, so avoid such names.
 */
function substituteParameters(value: unknown, args: Record<string, unknown>): unknown {
  if (Array.isArray(value)) return value.map((v) => substituteParameters(v, args));
  if (typeof value !== 'object' || value === null) return value;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  if (keys.length === 1 && typeof record.from_parameter === 'string' && record.from_parameter in args) {
    return args[record.from_parameter];
  }
  return Object.fromEntries(keys.map((k) => [k, substituteParameters(record[k], args)]));
}

/** The process graph of one tile's job. */
export function tileProcessGraph(process: ProcessSpec, args: Record<string, unknown>): ProcessGraph {
  if ('processGraph' in process) {
    return substituteParameters(process.processGraph, args) as ProcessGraph;
  }
  const node: ProcessNode = { process_id: process.processId, arguments: args, result: true };
  if (process.namespace) node.namespace = process.namespace;
  return { [nodeId(process.processId)]: node };
}
