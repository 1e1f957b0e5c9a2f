/**
 * A remote process (UDP) as its namespace URL describes it, and whether a spec calls it right:
 * the document holds the process (or lists it), and the spec's parameter names are ones the
 * process declares, with every required parameter given. Pure: the fetching is done elsewhere.
 */
import type { SpecErrorDetails } from './errors';

/** One declared parameter of a process definition. */
export interface ProcessParameter {
  name: string;
  optional?: boolean;
  default?: unknown;
}

/** The parts of a process definition (openEO's process JSON) that the checks read. */
export interface ProcessDefinition {
  id: string;
  parameters: ProcessParameter[];
  process_graph?: Record<string, unknown>;
}

/** The spec's parts a call of the process depends on. */
export interface ProcessCall {
  processId: string;
  namespace: string;
  parameterDefaults: Record<string, unknown>;
  parameterMapping: Record<string, string>;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function readParameters(value: unknown): ProcessParameter[] {
  if (!Array.isArray(value)) return [];
  return value.filter((p): p is ProcessParameter => isRecord(p) && typeof p.name === 'string');
}

function notAProcess(url: string, what: string): SpecErrorDetails {
  return {
    field: 'process.namespace',
    code: 'namespace_not_a_process',
    problem: `${url} answers JSON, but ${what}`,
    fix: 'give the URL of the process definition itself (JSON with "id", "parameters" and "process_graph"), e.g. the raw file of a UDP on GitHub',
  };
}

/**
 * The process `processId` from a namespace document: a single process definition, or a list of
 * them (`{"processes": [...]}`, as the remote-process-definition extension allows).
 */
export function processFromDocument(
  document: unknown,
  processId: string,
  url: string,
): { definition: ProcessDefinition } | { problem: SpecErrorDetails } {
  if (!isRecord(document)) return { problem: notAProcess(url, 'not a JSON object') };
  const candidates = Array.isArray(document.processes) ? document.processes.filter(isRecord) : [document];
  const withIds = candidates.filter((p) => typeof p.id === 'string');
  if (withIds.length === 0) return { problem: notAProcess(url, 'without a process "id"') };
  const found = withIds.find((p) => p.id === processId);
  if (!found) {
    return {
      problem: {
        field: 'process.processId',
        code: 'process_not_in_namespace',
        problem: `the namespace ${url} defines ${withIds.map((p) => `"${String(p.id)}"`).join(', ')}, not "${processId}"`,
        fix: `use the process id the namespace defines, or the namespace of "${processId}"`,
      },
    };
  }
  const graph = isRecord(found.process_graph) ? { process_graph: found.process_graph } : {};
  return { definition: { id: processId, parameters: readParameters(found.parameters), ...graph } };
}

/**
 * Parameters the spec gives that the process does not declare, and required ones (not
 * optional, no default) that it gives neither in `parameterDefaults` nor `parameterMapping`.
 */
export function parameterProblems(call: ProcessCall, definition: ProcessDefinition): SpecErrorDetails[] {
  const declared = new Set(definition.parameters.map((p) => p.name));
  const names = [...declared].join(', ') || 'none';
  const problems: SpecErrorDetails[] = [];
  for (const [section, given] of [
    ['parameterDefaults', call.parameterDefaults],
    ['parameterMapping', call.parameterMapping],
  ] as const) {
    for (const name of Object.keys(given).filter((n) => !declared.has(n))) {
      problems.push({
        field: `${section}.${name}`,
        code: 'unknown_parameter',
        problem: `the process "${call.processId}" has no parameter "${name}"`,
        fix: `remove it or check its spelling; the process's parameters are: ${names}`,
      });
    }
  }
  for (const parameter of definition.parameters) {
    const required = parameter.optional !== true && parameter.default === undefined;
    if (required && !(parameter.name in call.parameterDefaults) && !(parameter.name in call.parameterMapping)) {
      problems.push({
        field: 'parameterDefaults',
        code: 'missing_parameter',
        problem: `the process "${call.processId}" requires the parameter "${parameter.name}", which the spec does not give`,
        fix: `give "${parameter.name}" in parameterDefaults (the same for every tile) or in parameterMapping (from a tile property)`,
      });
    }
  }
  return problems;
}
