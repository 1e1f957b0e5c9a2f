/**
 * Which bands a job's result has, read from its process graph the way the
 * data flows into `save_result`: a remote process that declares its result
 * bands (the BAP composite: its `bands` argument), `load_collection` (its
 * `bands`, or every band of the collection), `filter_bands`, and processes
 * that pass their `data` through, a reduction over time among them (a
 * temporal median keeps every band, as on a real backend). Anything else (a
 * reduced band dimension, an unknown process) gives a single unnamed band.
 */
import { COLLECTION_BANDS } from './collections';
import { isPlainObject } from './http-util';
import type { ProcessGraph, ProcessNode } from './process-graph';
import { isUrlNamespace } from './udp-calls';
import type { UdpRegistry } from './udp-registry';

/** Processes whose result has no band dimension any more, or a computed one. */
const BAND_COLLAPSING = new Set(['reduce_dimension', 'ndvi', 'aggregate_spatial']);
/** The temporal dimension's name in every collection's `cube:dimensions` (collections.ts). */
const TEMPORAL_DIMENSION = 't';

/** Whether the node leaves the bands of its `data` as they were (a reduction over time does). */
function keepsBands(node: ProcessNode): boolean {
  if (node.process_id === 'reduce_dimension') return node.arguments?.dimension === TEMPORAL_DIMENSION;
  return !BAND_COLLAPSING.has(node.process_id);
}

function stringList(value: unknown): string[] | null {
  return Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'string') ? value : null;
}

function remoteProcessBands(node: ProcessNode, registry: UdpRegistry): string[] | null {
  const definition = isUrlNamespace(node.namespace) ? registry[node.namespace] : undefined;
  const parameterName = definition?.resultBandsParameter;
  if (!definition || parameterName === undefined) return null;
  const given = node.arguments?.[parameterName];
  const fallback = definition.parameters.find((p) => p.name === parameterName)?.default;
  return stringList(given === undefined ? fallback : given);
}

function loadCollectionBands(args: Record<string, unknown>): string[] | null {
  if (args.bands !== undefined && args.bands !== null) return stringList(args.bands);
  const bands = typeof args.id === 'string' ? COLLECTION_BANDS.get(args.id) : undefined;
  return bands ? bands.map((band) => band.name) : null;
}

function upstreamNode(args: Record<string, unknown>): string | null {
  return isPlainObject(args.data) && typeof args.data.from_node === 'string' ? args.data.from_node : null;
}

function bandsOf(graph: ProcessGraph, nodeId: string, registry: UdpRegistry, seen: Set<string>): string[] | null {
  const node = graph[nodeId];
  if (!node || seen.has(nodeId)) return null;
  seen.add(nodeId);
  const args = node.arguments ?? {};
  if (isUrlNamespace(node.namespace)) return remoteProcessBands(node, registry);
  if (node.process_id === 'load_collection') return loadCollectionBands(args);
  if (node.process_id === 'filter_bands') return stringList(args.bands);
  if (!keepsBands(node)) return null;
  const upstream = upstreamNode(args);
  return upstream === null ? null : bandsOf(graph, upstream, registry, seen);
}

/**
 * Band names of the result of `graph`, in order; `null` for a single band
 * without a name.
 */
export function resultBandNames(graph: ProcessGraph, registry: UdpRegistry): string[] | null {
  const resultId = Object.keys(graph).find((id) => graph[id].result === true);
  return resultId === undefined ? null : bandsOf(graph, resultId, registry, new Set());
}
