/**
 * Per-user quotas like CDSE's: openEO requests in flight at once, and job starts in any 60 s
 * (`jobStartWindowMs`, shorter for tests on a scaled clock).
 * A request over a quota is answered 429 `TooManyRequests` with `Retry-After`, before its
 * handler runs. Whether limited or not, the peaks are counted in the stats, so a test can prove
 * that a client kept to a quota it was given.
 *
 * A request counts for the user whose access token it carries; requests without a valid token
 * (discovery, login, signed result links) and the admin API are not counted.
 */
import type { IncomingMessage } from 'node:http';
import type { AuthService } from './auth';
import { ADMIN_PREFIX, API_PREFIX } from './constants';
import { ApiError } from './errors';
import type { RequestHook, RequestHookContext, RequestHookOutcome } from './hooks';
import { ResponseWriter } from './http-util';
import type { StatsRecorder } from './stats';

/** The route key of a job start. */
const START_ROUTE = `POST ${API_PREFIX}/jobs/{job_id}/results`;

export interface QuotaLimitsPerUser {
  maxConcurrentRequestsPerUser: number | undefined;
  maxJobStartsPerMinutePerUser: number | undefined;
  /** The window job starts are counted in: 60 s, as CDSE's, unless a test scales it down. */
  jobStartWindowMs: number;
}

interface QuotaDeps {
  auth: AuthService;
  stats: StatsRecorder;
  now: () => number;
}

export class QuotaGuard implements RequestHook {
  private readonly inFlight = new Map<string, number>();
  /** Per user: when each admitted job start arrived, within the last window. */
  private readonly starts = new Map<string, number[]>();

  constructor(
    private readonly limits: QuotaLimitsPerUser,
    private readonly deps: QuotaDeps,
  ) {}

  async beforeRoute(context: RequestHookContext): Promise<RequestHookOutcome | void> {
    if ((context.req.url ?? '').startsWith(ADMIN_PREFIX)) return undefined;
    // From here on nothing awaits: the check and the count happen together.
    const user = await this.userOf(context.req);
    if (user === undefined) return undefined;
    const isStart = context.route === START_ROUTE;
    const refusal = this.refusal(user, isStart);
    if (refusal) {
      this.deps.stats.recordQuotaRefusal(refusal.quota);
      const writer = new ResponseWriter(context.res, context.req.method === 'HEAD', (n) =>
        this.deps.stats.recordBytes(n, false),
      );
      writer.error(
        new ApiError('TooManyRequests', refusal.message, { 'Retry-After': String(refusal.retryAfterSeconds) }),
        context.requestId,
      );
      return { handled: true };
    }
    this.admit(user, context);
    if (isStart) this.recordStart(user);
    return undefined;
  }

  /** The user behind the request's token; never throws (the route itself answers bad tokens). */
  private async userOf(req: IncomingMessage): Promise<string | undefined> {
    if (!/^Bearer\s/i.test(req.headers.authorization ?? '')) return undefined;
    try {
      return await this.deps.auth.authenticate(req.headers.authorization);
    } catch {
      return undefined;
    }
  }

  private refusal(
    user: string,
    isStart: boolean,
  ): { quota: 'concurrentRequests' | 'jobStarts'; message: string; retryAfterSeconds: number } | undefined {
    const { maxConcurrentRequestsPerUser: maxRequests, maxJobStartsPerMinutePerUser: maxStarts } = this.limits;
    if (maxRequests !== undefined && (this.inFlight.get(user) ?? 0) >= maxRequests) {
      return {
        quota: 'concurrentRequests',
        message: `At most ${maxRequests} concurrent requests per user are allowed.`,
        retryAfterSeconds: 1,
      };
    }
    if (!isStart || maxStarts === undefined) return undefined;
    const recent = this.recentStarts(user);
    if (recent.length < maxStarts) return undefined;
    const waitMs = recent[recent.length - maxStarts] + this.limits.jobStartWindowMs - this.deps.now();
    return {
      quota: 'jobStarts',
      message: `At most ${maxStarts} job starts per ${this.windowWords()} per user are allowed.`,
      retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)),
    };
  }

  /** Counts the request in flight until its response is finished or its connection dropped. */
  private admit(user: string, context: RequestHookContext): void {
    const now = (this.inFlight.get(user) ?? 0) + 1;
    this.inFlight.set(user, now);
    this.deps.stats.observeConcurrentRequests(user, now);
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      const left = (this.inFlight.get(user) ?? 1) - 1;
      this.inFlight.set(user, left);
      this.deps.stats.observeConcurrentRequests(user, left);
    };
    context.res.once('finish', finish);
    context.res.once('close', finish);
  }

  private recordStart(user: string): void {
    const recent = this.recentStarts(user);
    recent.push(this.deps.now());
    this.deps.stats.observeJobStartsPerMinute(user, recent.length);
  }

  /** "minute", or the scaled window's length. */
  private windowWords(): string {
    const ms = this.limits.jobStartWindowMs;
    return ms === 60_000 ? 'minute' : `${ms / 1000} s`;
  }

  /** The user's starts in the last window, oldest first (older ones are dropped). */
  private recentStarts(user: string): number[] {
    const since = this.deps.now() - this.limits.jobStartWindowMs;
    const recent = (this.starts.get(user) ?? []).filter((at) => at > since);
    this.starts.set(user, recent);
    return recent;
  }
}
