/**
 * What a dry run of a process graph finds beyond the checks at job creation: calls of
 * predefined processes the back-end does not offer (`GET /processes`), and calls that leave out
 * a required parameter or pass one the process does not have. Reported by `POST /validation`
 * only, as on back-ends whose validation runs the graph dry while job creation takes it as is.
 */
import { PROCESSES } from './catalog';
import type { GraphProblem } from './graph-problem';
import { walkNodes, type ProcessGraph, type ProcessNode } from './process-graph';

interface DeclaredParameter {
  name: string;
  optional?: boolean;
}

/** Parameters of each predefined process, by id. */
const DECLARED = new Map(PROCESSES.map((p) => [p.id as string, p.parameters as DeclaredParameter[]]));

function isPredefined(node: ProcessNode): boolean {
  return node.namespace === undefined || node.namespace === null || node.namespace === 'backend';
}

function callProblems(nodeId: string, node: ProcessNode): GraphProblem[] {
  const declared = DECLARED.get(node.process_id);
  if (!declared) {
    return [
      {
        code: 'ProcessUnsupported',
        nodeId,
        message: `Process with identifier '${node.process_id}' is not available in namespace 'backend' (node '${nodeId}'); see GET /processes.`,
      },
    ];
  }
  const args = node.arguments ?? {};
  const problems: GraphProblem[] = declared
    .filter((p) => !p.optional && !(p.name in args))
    .map((p) => ({
      code: 'ProcessParameterRequired',
      nodeId,
      message: `Process '${node.process_id}' parameter '${p.name}' is required (node '${nodeId}').`,
    }));
  for (const name of Object.keys(args).filter((arg) => !declared.some((p) => p.name === arg))) {
    problems.push({
      code: 'ProcessParameterUnsupported',
      nodeId,
      message: `Process '${node.process_id}' does not support parameter '${name}' (node '${nodeId}').`,
    });
  }
  return problems;
}

/** Every problem of calls to predefined processes, callbacks included, in node order. */
export function predefinedCallProblems(graph: ProcessGraph): GraphProblem[] {
  const problems: GraphProblem[] = [];
  for (const { nodeId, node } of walkNodes(graph)) if (isPredefined(node)) problems.push(...callProblems(nodeId, node));
  return problems;
}
