/**
 * Where process graph problems stop a job: at creation, at start, or when
 * it runs (the `graphChecks` option). One function per phase so the routes
 * stay one line each.
 */
import type { EmulatorCore } from './context';
import { ApiError } from './errors';
import type { FailureVerdict } from './failure';
import { checkProcessGraph } from './graph-checks';
import type { GraphCheckPhase } from './options';
import type { ProcessGraph } from './process-graph';

/** Answers the first problem of `graph` as an error response when checks happen in `phase`. */
export function rejectGraphProblems(
  core: EmulatorCore,
  graph: ProcessGraph,
  phase: Exclude<GraphCheckPhase, 'run'>,
): void {
  if (core.settings.graphChecks !== phase) return;
  const [first, ...more] = checkProcessGraph(graph, core.settings.udpRegistry);
  if (!first) return;
  const others = more.length === 0 ? '' : ` ${more.length} more problem(s): POST /validation lists them all.`;
  throw new ApiError(first.code, `${first.message}${others}`);
}

/**
 * The failure of a run whose graph has a problem (whatever the phase: a job
 * restored from an older state file may not have been checked before).
 */
export function graphRunFailure(core: Pick<EmulatorCore, 'settings'>, graph: ProcessGraph): FailureVerdict | null {
  const [first] = checkProcessGraph(graph, core.settings.udpRegistry);
  return first ? { code: first.code, message: first.message } : null;
}
