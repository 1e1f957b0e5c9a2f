/**
 * What a backend says about a batch's process before any job exists: the collections it loads
 * (`GET /collections/{id}`), the output formats it saves to (`GET /file_formats`), and the
 * backend's own validation of the first tile's process graph (`POST /validation`, where the
 * backend offers it). Used by `plan`; no Temporal context needed.
 */
import type { Connection } from '@openeo/js-client';
import type { BackendRef, OpenEOConnections } from '../core/openeo/connections';
import { describeFailure } from '../core/openeo/errors';
import type { ProcessGraph } from '../core/spec/arguments';
import type { SpecErrorDetails } from '../core/spec/errors';

/** What the first tile's job would ask of the backend. */
export interface JobRequirements {
  /** The first tile's process graph; absent when no tile could be built (the spec says why). */
  processGraph?: ProcessGraph;
  collections: string[];
  formats: string[];
}

export interface BackendPreflight {
  problems: SpecErrorDetails[];
  /** Checks that could not be made, and why. */
  unchecked: string[];
  /** What was checked: `collections`, `file formats`, `validation`. */
  checked: string[];
}

interface Check {
  backend: BackendRef;
  field: string;
  connection: Connection;
  result: BackendPreflight;
}

async function checkCollections({ backend, field, connection, result }: Check, ids: string[]): Promise<void> {
  for (const id of ids) {
    try {
      await connection.describeCollection(id);
    } catch (err) {
      const failure = describeFailure(err);
      if (failure.status !== 404 && failure.code !== 'CollectionNotFound') {
        result.unchecked.push(`collection "${id}": ${failure.code}: ${failure.message}`);
        continue;
      }
      result.problems.push({
        field,
        code: 'collection_not_found',
        problem: `backend "${backend.name}" has no collection "${id}" (GET /collections/${id}: ${failure.code})`,
        fix: `use a collection the backend lists at ${backend.url} GET /collections, or run these tiles on another backend`,
      });
    }
  }
  if (ids.length > 0) result.checked.push('collections');
}

async function checkFormats({ backend, field, connection, result }: Check, formats: string[]): Promise<void> {
  if (formats.length === 0) return;
  const offered = Object.keys((await connection.listFileTypes()).getOutputTypes() as Record<string, unknown>);
  for (const format of formats.filter((f) => !offered.some((o) => o.toLowerCase() === f.toLowerCase()))) {
    result.problems.push({
      field,
      code: 'format_not_supported',
      problem: `backend "${backend.name}" cannot save results as "${format}" (GET /file_formats offers ${offered.join(', ') || 'none'})`,
      fix: 'use one of the formats the backend offers in save_result',
    });
  }
  result.checked.push('file formats');
}

async function validate({ backend, field, connection, result }: Check, processGraph: ProcessGraph | undefined): Promise<void> {
  if (!processGraph) {
    result.unchecked.push('validation: no tile to build a process graph from');
    return;
  }
  if (!connection.capabilities().hasFeature('validateProcess')) {
    result.unchecked.push('the backend offers no POST /validation');
    return;
  }
  const errors = (await connection.validateProcess({ process_graph: processGraph })) as Array<{ code?: string; message?: string }>;
  for (const error of errors) {
    result.problems.push({
      field,
      code: 'backend_validation',
      problem: `backend "${backend.name}" finds in the first tile's process graph: ${error.code ?? 'Error'}: ${error.message ?? 'no message'}`,
      fix: 'fix the process or its parameters; the backend checks every tile the same way when its job starts',
    });
  }
  result.checked.push('validation');
}

/**
 * Asks the backend about the job's collections, formats and graph. Call it once the login
 * works (see `backendAccessFailure`); a check the backend cannot answer is listed as unchecked.
 */
export async function preflightBackend(connections: OpenEOConnections, backend: BackendRef, i: number, job: JobRequirements): Promise<BackendPreflight> {
  const result: BackendPreflight = { problems: [], unchecked: [], checked: [] };
  const check: Check = { backend, field: `backends[${i}]`, connection: await connections.get(backend), result };
  const steps: Array<[string, () => Promise<void>]> = [
    ['collections', () => checkCollections(check, job.collections)],
    ['file formats', () => checkFormats(check, job.formats)],
    ['validation', () => validate(check, job.processGraph)],
  ];
  for (const [name, step] of steps) {
    try {
      await step();
    } catch (err) {
      const failure = describeFailure(err);
      result.unchecked.push(`${name}: ${failure.code}: ${failure.message}`);
    }
  }
  return result;
}
