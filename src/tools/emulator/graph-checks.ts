/**
 * The checks a back-end makes on a process graph before spending anything
 * on it: collections and bands of `load_collection` exist in the catalogue,
 * the `save_result` format is one of `GET /file_formats`, and calls of remote
 * processes match the process's parameters. Values that are only known at run
 * time (`from_parameter`, `from_node`) are never rejected.
 */
import { outputFormatNames } from './catalog';
import { COLLECTION_BANDS, type CollectionBand } from './collections';
import type { GraphProblem } from './graph-problem';
import { isDeferredValue } from './parameter-schema';
import { walkNodes, type ProcessGraph, type ProcessNode } from './process-graph';
import { isUrlNamespace, udpCallProblems } from './udp-calls';
import type { UdpRegistry } from './udp-registry';
import { temporalExtentProblems } from './temporal-extent';

/** A predefined process of the back-end, as opposed to a remote or user-defined one. */
function isPredefined(node: ProcessNode, processId: string): boolean {
  return (
    node.process_id === processId &&
    (node.namespace === undefined || node.namespace === null || node.namespace === 'backend')
  );
}

function bandMatches(band: CollectionBand, name: unknown): boolean {
  return band.name === name || (band.common_name !== undefined && band.common_name === name);
}

function unknownBands(
  collectionId: string,
  bands: readonly CollectionBand[],
  requested: unknown[],
  nodeId: string,
): GraphProblem[] {
  const missing = requested.filter((name) => !isDeferredValue(name) && !bands.some((band) => bandMatches(band, name)));
  if (missing.length === 0) return [];
  const listed = missing.map((name) => `'${String(name)}'`).join(', ');
  return [
    {
      code: 'ProcessParameterInvalid',
      nodeId,
      message:
        `The value passed for parameter 'bands' in process 'load_collection' is invalid: collection '${collectionId}' ` +
        `has no band ${listed} (node '${nodeId}'); its bands are ${bands.map((band) => band.name).join(', ')}.`,
    },
  ];
}

function loadCollectionProblems(nodeId: string, args: Record<string, unknown>): GraphProblem[] {
  const id = args.id;
  if (typeof id !== 'string') return []; // deferred or malformed: the run decides
  const bands = COLLECTION_BANDS.get(id);
  if (!bands) {
    return [
      {
        code: 'CollectionNotFound',
        nodeId,
        message: `Collection '${id}' does not exist (load_collection in node '${nodeId}'); available: ${[...COLLECTION_BANDS.keys()].join(', ')}.`,
      },
    ];
  }
  const bandProblems = Array.isArray(args.bands) ? unknownBands(id, bands, args.bands, nodeId) : [];
  return [...bandProblems, ...temporalExtentProblems(nodeId, args.temporal_extent)];
}

function saveResultProblems(nodeId: string, args: Record<string, unknown>): GraphProblem[] {
  const format = args.format;
  if (typeof format !== 'string') return [];
  const formats = outputFormatNames();
  if (formats.some((name) => name.toLowerCase() === format.toLowerCase())) return [];
  return [
    {
      code: 'FormatUnsuitable',
      nodeId,
      message: `Invalid file format '${format}' in save_result (node '${nodeId}'). Allowed formats: ${formats.join(', ')} (see GET /file_formats).`,
    },
  ];
}

function nodeProblems(nodeId: string, node: ProcessNode, registry: UdpRegistry): GraphProblem[] {
  const args = node.arguments ?? {};
  if (isUrlNamespace(node.namespace)) return udpCallProblems(nodeId, node, registry);
  if (isPredefined(node, 'load_collection')) return loadCollectionProblems(nodeId, args);
  if (isPredefined(node, 'save_result')) return saveResultProblems(nodeId, args);
  return [];
}

/** Every problem found in a structurally valid graph (callbacks included), in node order. */
export function checkProcessGraph(graph: ProcessGraph, registry: UdpRegistry): GraphProblem[] {
  const problems: GraphProblem[] = [];
  for (const { nodeId, node } of walkNodes(graph)) problems.push(...nodeProblems(nodeId, node, registry));
  return problems;
}
