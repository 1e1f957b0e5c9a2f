/**
 * The emulator's own admin surface, in-process ({@link EmulatorAdmin}) and
 * over HTTP under `/_emulator/` (no authentication, never in capabilities,
 * never affected by injected faults).
 */
import type { BBox } from './area';
import { ADMIN_PREFIX } from './constants';
import type { EmulatorCore } from './context';
import { ApiError } from './errors';
import { FaultConfigError, parseFaultConfig, type FaultConfig } from './faults/config';
import { readJsonObject } from './http-util';
import type { JobRecord, JobStatus } from './jobs';
import type { OidcTokenGrant } from './options';
import type { Route } from './router';
import type { EmulatorStats } from './stats';

/** What the admin API reveals about a job (across all users). */
export interface AdminJobView {
  /** The job's id. */
  id: string;
  /** The user who created it. */
  owner: string;
  /** Its title, as created. */
  title: string | null;
  /** Its status now. */
  status: JobStatus;
  /** Its progress, 0–100. */
  progress: number;
  /** How many times the job was started. */
  runs: number;
  /** When it was created (RFC 3339). */
  created: string;
  /** When it last changed (RFC 3339). */
  updated: string;
  /** Extra top-level properties of the create request. */
  options: Record<string, unknown>;
  /** The job's footprint in EPSG:4326, when its process graph gave one. */
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
  /** The current fault configuration. */
  faults(): FaultConfig;
  /**
   * Replaces the fault configuration; counters and random streams restart.
   * @throws FaultConfigError for an invalid configuration
   */
  setFaults(config: FaultConfig): void;
  /** Accepts `Bearer oidc/<provider>/<token>` for `grant.user` from now on. */
  registerOidcToken(grant: OidcTokenGrant): void;
  /** Makes every issued token expire now (clients must re-authenticate). */
  expireTokens(): void;
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
    faults: () => core.faults.current(),
    setFaults: (config) => core.faults.configure(parseFaultConfig(config)),
    registerOidcToken: (grant) => core.auth.registerOidcToken(grant),
    expireTokens: () => core.auth.expireAll(),
  };
}

/** Reads an OIDC grant from an admin request body. */
function parseGrant(body: Record<string, unknown>): OidcTokenGrant {
  const { provider, token, user, expiresInMs } = body;
  if (typeof provider !== 'string' || typeof token !== 'string' || typeof user !== 'string') {
    throw new ApiError(
      'RequestBodyInvalid',
      'Expected {"provider", "token", "user"} strings and an optional expiresInMs.',
    );
  }
  if (expiresInMs !== undefined && (typeof expiresInMs !== 'number' || !(expiresInMs >= 0))) {
    throw new ApiError('RequestBodyInvalid', 'expiresInMs must be a non-negative number.');
  }
  return { provider, token, user, expiresInMs };
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
    route('GET', '/faults', (context) => context.writer.json(200, admin.faults())),
    route('PUT', '/faults', async (context) => {
      const body = await readJsonObject(context.req);
      try {
        admin.setFaults(body as FaultConfig); // setFaults validates
      } catch (error) {
        if (error instanceof FaultConfigError) throw new ApiError('RequestBodyInvalid', error.message);
        throw error;
      }
      context.writer.json(200, admin.faults());
    }),
    route('POST', '/oidc-tokens', async (context) => {
      const body = await readJsonObject(context.req);
      try {
        admin.registerOidcToken(parseGrant(body));
      } catch (error) {
        if (error instanceof RangeError) throw new ApiError('RequestBodyInvalid', error.message);
        throw error;
      }
      context.writer.empty(204);
    }),
    route('POST', '/expire-tokens', (context) => {
      admin.expireTokens();
      context.writer.empty(204);
    }),
  ];
}
