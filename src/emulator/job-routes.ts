/**
 * Batch-job endpoints: create, list, describe, delete, start, stop, logs.
 */
import { findArea, findTemporalExtent } from './area';
import { API_PREFIX } from './constants';
import type { EmulatorCore } from './context';
import { ApiError } from './errors';
import { readJsonObject } from './http-util';
import type { JobRecord } from './jobs';
import { isLogLevel, JobLog, logsDocument, parseLimit, parseLogQuery } from './logs';
import { validateProcess } from './process-graph';
import type { Route, RouteContext } from './router';

const ENDED = new Set(['finished', 'error', 'canceled']);

function jobUrl(context: RouteContext, job: JobRecord, suffix = ''): string {
  return `${context.origin}${API_PREFIX}/jobs/${encodeURIComponent(job.id)}${suffix}`;
}

function optionalString(body: Record<string, unknown>, name: string): string | null {
  const value = body[name];
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') throw new ApiError('RequestBodyInvalid', `Property '${name}' must be a string or null.`);
  return value;
}

/** The job summary used in listings (no large nested values, as the spec recommends). */
function jobSummary(core: EmulatorCore, job: JobRecord): Record<string, unknown> {
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
function jobDocument(core: EmulatorCore, context: RouteContext, job: JobRecord): Record<string, unknown> {
  const document: Record<string, unknown> = {
    ...jobSummary(core, job),
    process: job.process,
    log_level: job.logLevel,
    links: [{ rel: 'monitor', href: jobUrl(context, job, '/logs'), type: 'application/json', title: 'Batch job logs' }],
  };
  if (ENDED.has(job.status) && job.usage) document.usage = job.usage;
  if (job.status === 'finished') {
    (document.links as unknown[]).push({
      rel: 'result',
      href: jobUrl(context, job, '/results'),
      type: 'application/geo+json',
      title: 'Batch job results',
    });
  }
  return document;
}

async function createJob(core: EmulatorCore, context: RouteContext): Promise<void> {
  const body = await readJsonObject(context.req);
  const graph = validateProcess(body.process);
  // Everything besides the standard properties is kept as back-end specific job options.
  const { process: _process, title: _t, description: _d, plan: _p, budget: _b, log_level: _l, ...options } = body;
  const logLevel = body.log_level ?? 'info';
  if (!isLogLevel(logLevel)) throw new ApiError('RequestBodyInvalid', `Unknown log_level '${String(logLevel)}'.`);
  if (body.budget !== undefined && body.budget !== null && typeof body.budget !== 'number') {
    throw new ApiError('RequestBodyInvalid', "Property 'budget' must be a number or null.");
  }
  const title = optionalString(body, 'title');
  const job = core.store.create({
    owner: context.user ?? '',
    title,
    description: optionalString(body, 'description'),
    process: body.process as Record<string, unknown>, // validateProcess proved it is an object
    graph,
    plan: optionalString(body, 'plan'),
    budget: typeof body.budget === 'number' ? body.budget : null,
    logLevel,
    options,
    area: findArea(graph),
    temporalExtent: findTemporalExtent(graph),
    log: new JobLog(logLevel, core.clock.now),
  });
  core.stats.recordJobCreated(title);
  job.log.append('info', 'Job created.');
  core.settings.log(`job ${job.id} (${title ?? 'untitled'}) created by ${job.owner}`);
  context.writer.empty(201, { Location: jobUrl(context, job), 'OpenEO-Identifier': job.id });
}

function listJobs(core: EmulatorCore, context: RouteContext): void {
  const limit = parseLimit(context.url.searchParams.get('limit') ?? '');
  const after = context.url.searchParams.get('after');
  if (after !== null && !/^\d+$/.test(after)) throw new ApiError('ParameterInvalid', `Invalid page cursor '${after}'.`);
  // The cursor is the creation number of the last job shown; stable when jobs are added or deleted.
  const all = core.store.list(context.user).filter((job) => after === null || job.seq < Number(after));
  const page = limit === undefined ? all : all.slice(0, limit);
  const self = `${context.origin}${context.url.pathname}${context.url.search}`;
  const links: Array<Record<string, string>> = [{ rel: 'self', href: self, type: 'application/json' }];
  if (limit !== undefined && all.length > limit) {
    const next = new URL(`${context.origin}${API_PREFIX}/jobs`);
    next.searchParams.set('limit', String(limit));
    next.searchParams.set('after', String(page[page.length - 1].seq));
    links.push({ rel: 'next', href: next.toString(), type: 'application/json' });
  }
  context.writer.json(200, { jobs: page.map((job) => jobSummary(core, job)), links });
}

function ownedJob(core: EmulatorCore, context: RouteContext): JobRecord {
  return core.store.getOwned(context.params.job_id, context.user ?? '');
}

/** Routes of this module. */
export function jobRoutes(core: EmulatorCore): Route[] {
  const route = (method: Route['method'], path: string, handler: Route['handler']): Route => ({
    method,
    path: `${API_PREFIX}${path}`,
    auth: true,
    listed: true,
    handler,
  });
  return [
    route('POST', '/jobs', (context) => createJob(core, context)),
    route('GET', '/jobs', (context) => listJobs(core, context)),
    route('GET', '/jobs/{job_id}', (context) => context.writer.json(200, jobDocument(core, context, ownedJob(core, context)))),
    route('DELETE', '/jobs/{job_id}', (context) => {
      core.scheduler.remove(ownedJob(core, context));
      context.writer.empty(204);
    }),
    route('POST', '/jobs/{job_id}/results', (context) => {
      core.scheduler.start(ownedJob(core, context));
      context.writer.empty(202);
    }),
    route('DELETE', '/jobs/{job_id}/results', (context) => {
      core.scheduler.cancel(ownedJob(core, context));
      context.writer.empty(204);
    }),
    route('GET', '/jobs/{job_id}/logs', (context) => {
      const job = ownedJob(core, context);
      const query = parseLogQuery(context.url);
      context.writer.json(200, logsDocument(job.log, query, jobUrl(context, job, '/logs')));
    }),
  ];
}
