/**
 * The JSON documents of batch jobs: list entries, full metadata, estimates,
 * and the parsing of job properties in create and update requests.
 */
import { findArea, findProjectedExtent, findTemporalExtent } from './area';
import { API_PREFIX } from './constants';
import type { EmulatorCore } from './context';
import { ApiError } from './errors';
import type { JobRecord } from './jobs';
import { isLogLevel, type LogLevel } from './logs';
import { validateProcess } from './process-graph';
import { expectedResultSize } from './results';
import type { RouteContext } from './router';
import { costsFor, isoDuration } from './usage';

const ENDED = new Set(['finished', 'error', 'canceled']);

/** How long an estimate is valid. */
const ESTIMATE_VALIDITY_MS = 3_600_000;

/** Absolute URL of a job (plus `suffix`) as seen by the requesting client. */
export function jobUrl(context: RouteContext, job: JobRecord, suffix = ''): string {
  return `${context.origin}${API_PREFIX}/jobs/${encodeURIComponent(job.id)}${suffix}`;
}

/** The job summary used in listings (no large nested values, as the spec recommends). */
export function jobSummary(core: EmulatorCore, job: JobRecord): Record<string, unknown> {
  const summary: Record<string, unknown> = {
    id: job.id,
    title: job.title,
    description: job.description,
    status: job.status,
    progress: core.scheduler.progress(job),
    created: new Date(job.created).toISOString(),
    updated: new Date(job.updated).toISOString(),
    plan: job.plan,
    budget: job.budget,
  };
  if (ENDED.has(job.status) && job.costs !== undefined) summary.costs = job.costs;
  return summary;
}

/** The full job metadata of `GET /jobs/{job_id}`. */
export function jobDocument(core: EmulatorCore, context: RouteContext, job: JobRecord): Record<string, unknown> {
  const links: Array<Record<string, string>> = [
    { rel: 'monitor', href: jobUrl(context, job, '/logs'), type: 'application/json', title: 'Batch job logs' },
  ];
  if (job.status === 'finished') {
    const type = core.settings.resultsMode === 'collection' ? 'application/json' : 'application/geo+json';
    links.push({ rel: 'result', href: jobUrl(context, job, '/results'), type, title: 'Batch job results' });
  }
  const document: Record<string, unknown> = {
    ...jobSummary(core, job),
    process: job.process,
    log_level: job.logLevel,
    links,
  };
  if (ENDED.has(job.status) && job.usage) document.usage = job.usage;
  return document;
}

/** `GET /jobs/{job_id}/estimate`: the same simulated tariff the runs are charged with. */
export function estimateDocument(core: EmulatorCore, job: JobRecord): Record<string, unknown> {
  const { queuedMs, runningMs, rasterSize } = core.settings;
  return {
    costs: costsFor(runningMs / 1000),
    duration: isoDuration(queuedMs + runningMs),
    size: expectedResultSize(job, rasterSize, core.settings.udpRegistry),
    downloads_included: null, // unlimited, so OpenEO-Costs of results is 0 for the owner
    expires: new Date(core.clock.now() + ESTIMATE_VALIDITY_MS).toISOString(),
  };
}

function optionalString(body: Record<string, unknown>, name: string): string | null {
  const value = body[name];
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string')
    throw new ApiError('RequestBodyInvalid', `Property '${name}' must be a string or null.`);
  return value;
}

/** The job properties of a create or update request, validated. */
export interface JobFields {
  title?: string | null;
  description?: string | null;
  plan?: string | null;
  budget?: number | null;
  logLevel?: LogLevel;
  process?: Pick<JobRecord, 'process' | 'graph' | 'area' | 'projected' | 'temporalExtent'>;
  /** Every other top-level property: back-end specific job options. */
  options: Record<string, unknown>;
}

/**
 * Reads the standard job properties (null is accepted for all of them, as
 * the js-client sends it) and keeps the rest as job options. Properties
 * absent from the body stay `undefined`, so an update leaves them alone.
 */
export function parseJobFields(body: Record<string, unknown>): JobFields {
  const { process, title, description, plan, budget, log_level: logLevel, ...options } = body;
  const fields: JobFields = { options };
  if (title !== undefined) fields.title = optionalString(body, 'title');
  if (description !== undefined) fields.description = optionalString(body, 'description');
  if (plan !== undefined) fields.plan = optionalString(body, 'plan');
  if (budget !== undefined) {
    if (budget !== null && typeof budget !== 'number') {
      throw new ApiError('RequestBodyInvalid', "Property 'budget' must be a number or null.");
    }
    fields.budget = budget;
  }
  if (logLevel !== undefined && logLevel !== null) {
    if (!isLogLevel(logLevel)) throw new ApiError('RequestBodyInvalid', `Unknown log_level '${String(logLevel)}'.`);
    fields.logLevel = logLevel;
  }
  if (process !== undefined) {
    const graph = validateProcess(process);
    fields.process = {
      process: process as Record<string, unknown>, // validateProcess proved it is an object
      graph,
      area: findArea(graph),
      projected: findProjectedExtent(graph),
      temporalExtent: findTemporalExtent(graph),
    };
  }
  return fields;
}
