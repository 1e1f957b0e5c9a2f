/**
 * `POST /validation`: checks a process graph without creating a job and
 * answers 200 with the list of problems (empty when valid), as the openEO API
 * requires. The problems are the ones job creation would reject, and what a
 * dry run finds besides: processes the back-end does not offer, required
 * parameters left out, unknown ones passed (see process-calls.ts).
 */
import { API_PREFIX } from './constants';
import type { EmulatorCore } from './context';
import { ApiError } from './errors';
import { checkProcessGraph } from './graph-checks';
import { readJsonObject } from './http-util';
import { predefinedCallProblems } from './process-calls';
import { validateProcess } from './process-graph';
import type { Route, RouteContext } from './router';

/** One entry of the `errors` list: the openEO error object. */
interface ValidationError {
  code: string;
  message: string;
  links: never[];
}

function problemsOf(core: EmulatorCore, body: Record<string, unknown>): ValidationError[] {
  try {
    const graph = validateProcess(body);
    const problems = [...checkProcessGraph(graph, core.settings.udpRegistry), ...predefinedCallProblems(graph)];
    return problems.map(({ code, message }) => ({ code, message, links: [] }));
  } catch (error) {
    // A malformed graph is a validation result, not a failed request: only a missing graph is.
    if (error instanceof ApiError && error.code === 'ProcessGraphInvalid') {
      return [{ code: error.code, message: error.message, links: [] }];
    }
    throw error;
  }
}

async function validate(core: EmulatorCore, context: RouteContext): Promise<void> {
  const body = await readJsonObject(context.req);
  if (body.process_graph === undefined || body.process_graph === null) {
    throw new ApiError(
      'ProcessGraphMissing',
      'The request body needs a process_graph (a process with its graph, as in POST /jobs under "process").',
    );
  }
  context.writer.json(200, { errors: problemsOf(core, body) });
}

/** Routes of this module. Authentication is optional for validation, so none is required. */
export function validationRoutes(core: EmulatorCore): Route[] {
  return [
    {
      method: 'POST',
      path: `${API_PREFIX}/validation`,
      auth: false,
      listed: true,
      handler: (context) => validate(core, context),
    },
  ];
}
