/**
 * The emulator's own admin surface, in-process ({@link EmulatorAdmin}) and
 * over HTTP under `/_emulator/` (no authentication, never in capabilities).
 */
import type { BBox } from './area';
import { ADMIN_PREFIX } from './constants';
import type { EmulatorCore } from './context';
import type { JobRecord, JobStatus } from './jobs';
import type { Route } from './router';
import type { EmulatorStats } from './stats';

/** What the admin API reveals about a job (across all users). */
export interface AdminJobView {
  id: string;
  owner: string;
  title: string | null;
  status: JobStatus;
  progress: number;
  /** How many times the job was started. */
  runs: number;
  created: string;
  updated: string;
  /** Extra top-level properties of the create request. */
  options: Record<string, unknown>;
  area: BBox | null;
  /** Code of the last error log entry, when the job is in `error`. */
  errorCode: string | undefined;
}

/** In-process access to counters and state. */
export interface EmulatorAdmin {
  /** A copy of all counters. */
  stats(): EmulatorStats;
  /** Zeroes the counters (gauges keep their current value). */
  resetStats(): void;
  /** All jobs of all users, newest first. */
  jobs(): AdminJobView[];
  /** One job by id, regardless of owner. */
  job(id: string): AdminJobView | undefined;
}

function view(core: EmulatorCore, job: JobRecord): AdminJobView {
  return {
    id: job.id,
    owner: job.owner,
    title: job.title,
    status: job.status,
    progress: core.scheduler.progress(job),
    runs: job.runs,
    created: new Date(job.created).toISOString(),
    updated: new Date(job.updated).toISOString(),
    options: structuredClone(job.options),
    area: job.area ? { ...job.area } : null,
    errorCode: job.status === 'error' ? job.log.lastError()?.code : undefined,
  };
}

/** Builds the in-process admin object. */
export function createAdmin(core: EmulatorCore): EmulatorAdmin {
  return {
    stats: () => core.stats.snapshot(),
    resetStats: () => core.stats.reset(core.store.runningTotal()),
    jobs: () => core.store.list().map((job) => view(core, job)),
    job: (id) => {
      const job = core.store.find(id);
      return job ? view(core, job) : undefined;
    },
  };
}

/** The HTTP admin routes, backed by the same admin object. */
export function adminRoutes(admin: EmulatorAdmin): Route[] {
  const route = (method: Route['method'], path: string, handler: Route['handler']): Route => ({
    method,
    path: `${ADMIN_PREFIX}${path}`,
    auth: false,
    listed: false,
    handler,
  });
  return [
    route('GET', '/stats', (context) => context.writer.json(200, admin.stats())),
    route('POST', '/reset-stats', (context) => {
      admin.resetStats();
      context.writer.empty(204);
    }),
    route('GET', '/jobs', (context) => context.writer.json(200, { jobs: admin.jobs() })),
  ];
}
