/**
 * Batch-job endpoints: create, list, describe, update, delete, estimate,
 * start, stop, logs.
 */
import { API_PREFIX } from './constants';
import type { EmulatorCore } from './context';
import { ApiError } from './errors';
import { rejectGraphProblems } from './graph-gate';
import { readJsonObject } from './http-util';
import { estimateDocument, jobDocument, jobSummary, jobUrl, parseJobFields } from './job-documents';
import type { JobRecord } from './jobs';
import { JobLog, logsDocument, parseLimit, parseLogQuery } from './logs';
import type { Route, RouteContext } from './router';

async function createJob(core: EmulatorCore, context: RouteContext): Promise<void> {
  const fields = parseJobFields(await readJsonObject(context.req));
  if (!fields.process) throw new ApiError('ProcessGraphMissing', 'The request has no process.process_graph.');
  rejectGraphProblems(core, fields.process.graph, 'create');
  const title = fields.title ?? null;
  const logLevel = fields.logLevel ?? 'info';
  const job = core.store.create({
    owner: context.user ?? '',
    title,
    description: fields.description ?? null,
    ...fields.process,
    plan: fields.plan ?? null,
    budget: fields.budget ?? null,
    logLevel,
    options: fields.options,
    log: new JobLog(logLevel, core.clock.now),
    fate: core.faults.fateOf(title),
  });
  core.stats.recordJobCreated(title);
  job.log.append('info', 'Job created.');
  core.settings.log(`job ${job.id} (${title ?? 'untitled'}) created by ${job.owner}`);
  context.writer.empty(201, { Location: jobUrl(context, job), 'OpenEO-Identifier': job.id });
}

/** `PATCH /jobs/{job_id}`: changes the given properties; refused while the job is queued or running. */
async function updateJob(core: EmulatorCore, context: RouteContext, job: JobRecord): Promise<void> {
  const fields = parseJobFields(await readJsonObject(context.req));
  if (job.status === 'queued' || job.status === 'running') {
    throw new ApiError('JobLocked', `Batch job '${job.id}' is ${job.status} and can't be modified meanwhile.`);
  }
  if (fields.process) rejectGraphProblems(core, fields.process.graph, 'create');
  if (fields.title !== undefined) job.title = fields.title;
  if (fields.description !== undefined) job.description = fields.description;
  if (fields.plan !== undefined) job.plan = fields.plan;
  if (fields.budget !== undefined) job.budget = fields.budget;
  if (fields.logLevel !== undefined) {
    job.logLevel = fields.logLevel;
    job.log.level = fields.logLevel;
  }
  if (fields.process) Object.assign(job, fields.process);
  Object.assign(job.options, fields.options);
  job.log.append('info', 'Job metadata updated.');
  core.store.modified(job);
  context.writer.empty(204);
}

function listJobs(core: EmulatorCore, context: RouteContext): void {
  const limit = parseLimit(context.url.searchParams.get('limit') ?? '');
  const after = context.url.searchParams.get('after');
  if (after !== null && !/^\d+$/.test(after)) throw new ApiError('ParameterInvalid', `Invalid page cursor '${after}'.`);
  // The cursor is the creation number of the last job shown; stable when jobs are added or deleted.
  const { jobs: page, more } = core.store.page(
    context.user ?? '',
    core.settings.listingOrder,
    after === null ? undefined : Number(after),
    limit,
  );
  const self = `${context.origin}${context.url.pathname}${context.url.search}`;
  const links: Array<Record<string, string>> = [{ rel: 'self', href: self, type: 'application/json' }];
  if (more && page.length > 0) {
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
    route('GET', '/jobs/{job_id}', (context) =>
      context.writer.json(200, jobDocument(core, context, ownedJob(core, context))),
    ),
    route('PATCH', '/jobs/{job_id}', (context) => updateJob(core, context, ownedJob(core, context))),
    route('DELETE', '/jobs/{job_id}', (context) => {
      core.scheduler.remove(ownedJob(core, context));
      context.writer.empty(204);
    }),
    route('GET', '/jobs/{job_id}/estimate', (context) =>
      context.writer.json(200, estimateDocument(core, ownedJob(core, context))),
    ),
    route('POST', '/jobs/{job_id}/results', (context) => {
      const job = ownedJob(core, context);
      rejectGraphProblems(core, job.graph, 'start');
      core.scheduler.start(job);
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
