/**
 * What a process graph needs from a backend: the collections it loads and the file formats it
 * saves to, where the graph names them (directly, or through a parameter with a known value).
 * Values only known when the job runs are left out.
 */

type Node = { process_id?: unknown; namespace?: unknown; arguments?: unknown };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The graphs of callbacks (`{process_graph: {...}}`) inside an argument value. */
function nestedGraphs(value: unknown): Record<string, unknown>[] {
  if (Array.isArray(value)) return value.flatMap(nestedGraphs);
  if (!isRecord(value)) return [];
  if (isRecord(value.process_graph)) return [value.process_graph];
  return Object.values(value).flatMap(nestedGraphs);
}

/** Every node of a graph and of its callbacks. */
function allNodes(graph: Record<string, unknown>): Node[] {
  return Object.values(graph)
    .filter(isRecord)
    .flatMap((node) => [node as Node, ...nestedGraphs(node.arguments).flatMap(allNodes)]);
}

/** A predefined process of the backend (not a UDP from a namespace). */
function isPredefined(node: Node, processId: string): boolean {
  return (
    node.process_id === processId &&
    (node.namespace === undefined || node.namespace === null || node.namespace === 'backend')
  );
}

/** A string argument, given directly or as `{from_parameter}` with a known string value. */
function stringArgument(node: Node, name: string, parameters: Record<string, unknown>): string | undefined {
  const value = isRecord(node.arguments) ? node.arguments[name] : undefined;
  if (typeof value === 'string') return value;
  const parameter =
    isRecord(value) && typeof value.from_parameter === 'string' ? parameters[value.from_parameter] : undefined;
  return typeof parameter === 'string' ? parameter : undefined;
}

function distinctArguments(
  graph: Record<string, unknown>,
  processId: string,
  argument: string,
  parameters: Record<string, unknown>,
): string[] {
  const values = allNodes(graph)
    .filter((node) => isPredefined(node, processId))
    .map((node) => stringArgument(node, argument, parameters))
    .filter((v): v is string => v !== undefined);
  return [...new Set(values)];
}

/** Collection ids of the graph's `load_collection` calls. */
export function collectionIdsOf(graph: Record<string, unknown>, parameters: Record<string, unknown> = {}): string[] {
  return distinctArguments(graph, 'load_collection', 'id', parameters);
}

/** Output formats of the graph's `save_result` calls. */
export function outputFormatsOf(graph: Record<string, unknown>, parameters: Record<string, unknown> = {}): string[] {
  return distinctArguments(graph, 'save_result', 'format', parameters);
}
