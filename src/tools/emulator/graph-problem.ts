/**
 * A problem found in a process graph before it runs, reported the same way
 * wherever it surfaces: as an error response, in a `POST /validation`
 * answer, or in a job's error log.
 */
import type { ErrorCode } from './errors';

/** One problem of a process graph, with the node it was found in. */
export interface GraphProblem {
  /** An openEO error code, e.g. `CollectionNotFound` or `ProcessParameterInvalid`. */
  code: ErrorCode;
  /** Names the node, the parameter and the fix. */
  message: string;
  /** The id of the process graph node the problem is in. */
  nodeId: string;
}
