/**
 * Calls of remote user-defined processes (a node whose `namespace` is a URL):
 * the process must exist in the registry, and the arguments must match its
 * declared parameters by name and by schema, as a back-end checks them when
 * it loads the process definition.
 */
import type { GraphProblem } from './graph-problem';
import { isDeferredValue, schemaMismatch } from './parameter-schema';
import type { ProcessNode } from './graph-types';
import type { UdpDefinition, UdpRegistry } from './udp-registry';

/** True when a node's namespace points at a process definition on the web. */
export function isUrlNamespace(namespace: unknown): namespace is string {
  return typeof namespace === 'string' && /^https?:\/\//i.test(namespace);
}

function argumentProblems(definition: UdpDefinition, args: Record<string, unknown>, nodeId: string): GraphProblem[] {
  const problems: GraphProblem[] = [];
  const where = `(node '${nodeId}')`;
  for (const parameter of definition.parameters) {
    if (!parameter.optional && args[parameter.name] === undefined) {
      problems.push({
        code: 'ProcessParameterRequired',
        nodeId,
        message: `Process '${definition.id}' parameter '${parameter.name}' is required ${where}.`,
      });
    }
  }
  const known = new Map(definition.parameters.map((p) => [p.name, p]));
  const names = definition.parameters.map((p) => p.name).join(', ');
  for (const name of Object.keys(args).filter((arg) => !known.has(arg))) {
    problems.push({
      code: 'ProcessParameterUnsupported',
      nodeId,
      message: `Process '${definition.id}' does not support parameter '${name}' ${where}; its parameters are: ${names}.`,
    });
  }
  for (const parameter of definition.parameters) {
    const value = args[parameter.name];
    if (parameter.schema === undefined || value === undefined || isDeferredValue(value)) continue;
    const reason = schemaMismatch(parameter.schema, value);
    if (reason !== null) {
      problems.push({
        code: 'ProcessParameterInvalid',
        nodeId,
        message: `The value passed for parameter '${parameter.name}' in process '${definition.id}' is invalid: ${reason} ${where}.`,
      });
    }
  }
  return problems;
}

/**
 * Every problem of one remote process call. An unknown namespace or process
 * id is reported alone: without a definition there is nothing to compare to.
 */
export function udpCallProblems(nodeId: string, node: ProcessNode, registry: UdpRegistry): GraphProblem[] {
  if (!isUrlNamespace(node.namespace)) return [];
  const definition = registry[node.namespace];
  if (!definition) {
    return [
      {
        code: 'ProcessNamespaceInvalid',
        nodeId,
        message: `Could not load a process definition from namespace '${node.namespace}' (node '${nodeId}').`,
      },
    ];
  }
  if (definition.id !== node.process_id) {
    return [
      {
        code: 'ProcessUnsupported',
        nodeId,
        message: `Namespace '${node.namespace}' defines process '${definition.id}', not '${node.process_id}' (node '${nodeId}').`,
      },
    ];
  }
  return argumentProblems(definition, node.arguments ?? {}, nodeId);
}
