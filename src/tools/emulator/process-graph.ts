/**
 * Structural checks of submitted process graphs (at job creation) and the
 * run-time resolution of remote processes referenced by namespace URL.
 */
import { ApiError } from './errors';
import type { GraphProblem } from './graph-problem';
import type { ProcessGraph, ProcessNode } from './graph-types';
import { isPlainObject } from './http-util';
import { udpCallProblems } from './udp-calls';
import type { UdpRegistry } from './udp-registry';

export type { ProcessGraph, ProcessNode } from './graph-types';

/** A node found while walking a graph, with the ids of its enclosing nodes. */
export interface VisitedNode {
  nodeId: string;
  node: ProcessNode;
  /** Node ids from the outermost graph down to this node. */
  path: string[];
}

/** Finds the process graphs of callbacks (`{process_graph: {...}}`) inside an argument value. */
function* nestedGraphs(value: unknown): Generator<Record<string, unknown>> {
  if (Array.isArray(value)) {
    for (const item of value) yield* nestedGraphs(item);
  } else if (isPlainObject(value)) {
    if (isPlainObject(value.process_graph)) {
      yield value.process_graph;
      return;
    }
    for (const item of Object.values(value)) yield* nestedGraphs(item);
  }
}

/** Collects `from_node` references inside an argument value, not descending into callbacks. */
function* fromNodeRefs(value: unknown): Generator<string> {
  if (Array.isArray(value)) {
    for (const item of value) yield* fromNodeRefs(item);
  } else if (isPlainObject(value)) {
    if (typeof value.from_node === 'string') {
      yield value.from_node;
      return;
    }
    if (isPlainObject(value.process_graph)) return; // refs inside a callback point into the callback
    for (const item of Object.values(value)) yield* fromNodeRefs(item);
  }
}

function validateGraph(graph: Record<string, unknown>, where: string): void {
  const nodeIds = Object.keys(graph);
  if (nodeIds.length === 0) {
    throw new ApiError('ProcessGraphInvalid', `The process graph${where} has no nodes.`);
  }
  let resultNodes = 0;
  for (const nodeId of nodeIds) {
    const node = graph[nodeId];
    if (!isPlainObject(node) || typeof node.process_id !== 'string' || node.process_id === '') {
      throw new ApiError('ProcessGraphInvalid', `Node '${nodeId}'${where} needs a string process_id.`);
    }
    if (node.arguments !== undefined && !isPlainObject(node.arguments)) {
      throw new ApiError('ProcessGraphInvalid', `Node '${nodeId}'${where} has arguments that are not an object.`);
    }
    if (node.result === true) resultNodes += 1;
    const args = node.arguments ?? {};
    for (const ref of fromNodeRefs(args)) {
      if (!(ref in graph)) {
        throw new ApiError('ProcessGraphInvalid', `Node '${nodeId}'${where} refers to missing node '${ref}'.`);
      }
    }
    for (const nested of nestedGraphs(args)) validateGraph(nested, ` (callback of node '${nodeId}')`);
  }
  if (resultNodes !== 1) {
    throw new ApiError(
      'ProcessGraphInvalid',
      `The process graph${where} must have exactly one node with "result": true, found ${resultNodes}.`,
    );
  }
}

/**
 * Checks the `process` of a create-job request; returns its graph.
 * @throws ApiError ProcessGraphMissing or ProcessGraphInvalid
 */
export function validateProcess(process: unknown): ProcessGraph {
  if (!isPlainObject(process) || process.process_graph === undefined || process.process_graph === null) {
    throw new ApiError('ProcessGraphMissing', 'The request has no process.process_graph.');
  }
  if (!isPlainObject(process.process_graph)) {
    throw new ApiError('ProcessGraphInvalid', 'process.process_graph must be an object of nodes.');
  }
  validateGraph(process.process_graph, '');
  // validateGraph checked every node's shape, so the cast only adds the names.
  return process.process_graph as unknown as ProcessGraph;
}

/** Visits every node, including the nodes of callbacks nested in arguments. */
export function* walkNodes(graph: ProcessGraph, path: string[] = []): Generator<VisitedNode> {
  for (const [nodeId, node] of Object.entries(graph)) {
    yield { nodeId, node, path: [...path, nodeId] };
    for (const nested of nestedGraphs(node.arguments ?? {})) {
      // Callback graphs were validated together with the outer graph (validateGraph recurses).
      yield* walkNodes(nested as unknown as ProcessGraph, [...path, nodeId]);
    }
  }
}

/** Why a job cannot run, as it would surface in the job's error log. */
export type ResolutionFailure = GraphProblem;

/**
 * Resolves nodes whose `namespace` is a URL against the registry, the way a
 * back-end does when the job starts. Returns the first problem, or `null`.
 */
export function resolveRemoteProcesses(graph: ProcessGraph, registry: UdpRegistry): ResolutionFailure | null {
  for (const { nodeId, node } of walkNodes(graph)) {
    const [first] = udpCallProblems(nodeId, node, registry);
    if (first) return first;
  }
  return null;
}
