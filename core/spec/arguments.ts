/**
 * Turns a tile into the process graph of its openEO job. Pure and deterministic: workflows use
 * it to build a tile's job, activities to validate a spec before any job is created.
 */
import type { ProcessSpec } from './schema';
import type { Tile } from './tile-types';

export type { Tile };

export type ProcessGraph = Record<string, ProcessNode>;
export interface ProcessNode {
  process_id: string;
  namespace?: string | null;
  arguments: Record<string, unknown>;
  result?: boolean;
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

/**
 * The process parameters for one tile: `parameterDefaults`, overridden by tile properties as
 * `parameterMapping` says. The tile property `geometry` is the tile's geometry itself.
 */
export function tileArguments(
  tile: Tile,
  parameterDefaults: Record<string, unknown>,
  parameterMapping: Record<string, string>,
): Record<string, unknown> {
  const args: Record<string, unknown> = { ...parameterDefaults };
  for (const [parameter, property] of Object.entries(parameterMapping)) {
    if (property === 'geometry') {
      args[parameter] = tile.geometry;
    } else if (property in tile.properties) {
      args[parameter] = tile.properties[property];
    } else {
      throw new MissingTilePropertyError(
        `parameterMapping.${parameter}`,
        `tile "${tile.id}" has no property "${property}", which parameterMapping.${parameter} asks for; add it to every tile or remove the mapping`,
      );
    }
  }
  return args;
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
