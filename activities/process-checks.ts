/**
 * The remote process (UDP) of a spec, checked before any job: its namespace URL answers with
 * the process definition, and the spec's parameters match it. Run by the client before a batch
 * starts, by `plan`, and by the worker's `prepareBatch`; no Temporal context needed.
 *
 * Only definite answers are problems (404, a page that is not JSON, parameters that do not
 * match). A URL this machine cannot reach is left unchecked: the backend fetches the
 * definition itself, over its own network.
 */
import type { SpecErrorDetails } from '../src/core/batch-spec/errors';
import { HttpError, httpJson } from '../src/core/http/request';
import { parameterProblems, processFromDocument, type ProcessDefinition } from '../src/core/batch-spec/remote-process';
import { processCallSchema, type BatchSpec } from '../src/core/batch-spec/schema';

/** How long the namespace URL may take to answer. */
export const NAMESPACE_TIMEOUT_MS = 10_000;

export interface RemoteProcessCheck {
  problems: SpecErrorDetails[];
  /** Why the definition could not be checked (host unreachable, busy), if it could not. */
  unchecked?: string;
  /** The definition, when it was read. */
  definition?: ProcessDefinition;
}

type SpecProcessPart = Pick<BatchSpec, 'process' | 'parameterDefaults' | 'parameterMapping'>;

/** The process part of a spec, also of one whose other parts are wrong; undefined when it is wrong itself. */
export function processPartOf(input: unknown): SpecProcessPart | undefined {
  const read = processCallSchema.safeParse(input);
  return read.success ? read.data : undefined;
}

function namespaceProblem(code: string, problem: string, fix: string): RemoteProcessCheck {
  return { problems: [{ field: 'process.namespace', code, problem, fix }] };
}

async function readDocument(url: string, timeoutMs: number): Promise<{ document: unknown } | RemoteProcessCheck> {
  try {
    return { document: await httpJson(url, { timeoutMs }) };
  } catch (err) {
    if (!(err instanceof HttpError)) throw err;
    return unreadDocument(url, err);
  }
}

/** What a namespace URL that gave no definition means for the spec: a problem, or a check left undone. */
function unreadDocument(url: string, err: HttpError): RemoteProcessCheck {
  if (err.problem === 'not-json') {
    return namespaceProblem(
      'namespace_not_json',
      `${url} does not answer JSON (${err.reason})`,
      'give the URL of the JSON document itself, not a web page about it (for a file on GitHub, the raw file URL)',
    );
  }
  if (err.status === undefined) return { problems: [], unchecked: `cannot reach ${url} from here (${err.reason})` };
  if (err.transient) return { problems: [], unchecked: `${url} answers HTTP ${err.status} for now` };
  const what = err.status === 404 || err.status === 410 ? 'not found' : 'refused';
  return namespaceProblem(
    'namespace_not_found',
    `${url} answers HTTP ${err.status} (${what}), so no backend can load the process from it`,
    'check the URL of the process definition: it must answer with its JSON (for a file on GitHub, the raw file URL)',
  );
}

/**
 * Reads the namespace of a spec's remote process and checks the spec against it. A spec with
 * a process graph, a process without a URL namespace, or no process (a job factory builds every
 * job), has nothing to check here.
 */
export async function checkRemoteProcess(
  spec: SpecProcessPart,
  options: { timeoutMs?: number } = {},
): Promise<RemoteProcessCheck> {
  const { process } = spec;
  if (!process || !('processId' in process) || !process.namespace || !/^https?:\/\//i.test(process.namespace))
    return { problems: [] };
  const read = await readDocument(process.namespace, options.timeoutMs ?? NAMESPACE_TIMEOUT_MS);
  if (!('document' in read)) return read;
  const found = processFromDocument(read.document, process.processId, process.namespace);
  if ('problem' in found) return { problems: [found.problem] };
  const call = {
    processId: process.processId,
    namespace: process.namespace,
    parameterDefaults: spec.parameterDefaults,
    parameterMapping: spec.parameterMapping,
  };
  return { problems: parameterProblems(call, found.definition), definition: found.definition };
}
