/**
 * Configuration of the openEO API emulator: the public option types and
 * the resolution of defaults into a fully populated settings object.
 */
import { randomBytes } from 'node:crypto';
import type { RequestHook } from './hooks';
import type { UdpRegistry } from './udp-registry';
import { DEFAULT_UDP_REGISTRY } from './udp-registry';

/** An account that can log in through HTTP Basic authentication. */
export interface EmulatorUser {
  username: string;
  password: string;
}

/** Simulated wall-clock durations of the batch-job phases. */
export interface JobDurations {
  /**
   * Minimum time a started job spends in `queued` before it may run.
   * A job can stay queued longer when the user has no free running slot.
   * @default 2000
   */
  queuedMs?: number;
  /**
   * Time a job spends in `running` before it ends (`finished` or `error`).
   * @default 5000
   */
  runningMs?: number;
}

/** What the emulator knows about a job when deciding whether it fails. */
export interface JobFailureContext {
  readonly id: string;
  readonly owner: string;
  readonly title: string | null;
  readonly description: string | null;
  /** The `process` object exactly as submitted. */
  readonly process: Readonly<Record<string, unknown>>;
  /** Extra top-level properties of the create request (job options). */
  readonly options: Readonly<Record<string, unknown>>;
}

/** A failure verdict: a message (code `Internal`) or an explicit code and message. */
export type JobFailure = string | { code: string; message: string };

/** Ways to make jobs end in `error`; all configured rules are checked. */
export interface FailurePolicyOptions {
  /**
   * Custom decision per run; return `null` to let the job succeed.
   * Called once each time a job starts running.
   */
  failJob?: (job: JobFailureContext) => JobFailure | null;
  /**
   * Jobs whose title contains any of these substrings (case-sensitive) fail.
   * @default []
   */
  failTitlesContaining?: string[];
  /**
   * Probability in [0, 1] that a run fails at random.
   * @default 0
   */
  errorProbability?: number;
  /**
   * Seed for the random failures, so a sequence of runs is reproducible.
   * @default 1
   */
  seed?: number;
}

/** Options of {@link startEmulator}; every field is optional. */
export interface EmulatorOptions {
  /**
   * TCP port to listen on; `0` picks a free port.
   * @default 0
   */
  port?: number;
  /**
   * Interface to bind to.
   * @default "127.0.0.1"
   */
  host?: string;
  /**
   * Accounts accepted by `GET /credentials/basic`.
   * @default [{ username: "demo", password: "demo-password" }]
   */
  users?: EmulatorUser[];
  /**
   * Lifetime of access tokens; expired tokens are answered with 403 TokenInvalid.
   * @default 86_400_000 (24 hours)
   */
  tokenLifetimeMs?: number;
  /**
   * Simulated job durations; `0` makes a phase instantaneous.
   * @default { queuedMs: 2000, runningMs: 5000 }
   */
  jobDurations?: JobDurations;
  /**
   * Jobs of one user that may be `running` at the same time; further
   * started jobs wait in `queued`, first in first out.
   * @default 2
   */
  maxRunningJobsPerUser?: number;
  /**
   * Rules that make jobs end in `error`.
   * @default {} (no job fails unless its process graph is unresolvable)
   */
  failure?: FailurePolicyOptions;
  /**
   * Shortcut for `failure.failJob`; when both are set, both are consulted.
   * @default undefined
   */
  failJob?: (job: JobFailureContext) => JobFailure | null;
  /**
   * Remote user-defined processes, keyed by namespace URL.
   * @default DEFAULT_UDP_REGISTRY (the APEx bap_composite UDP)
   */
  udpRegistry?: UdpRegistry;
  /**
   * Validity of signed result asset URLs.
   * @default 3_600_000 (1 hour)
   */
  resultLinkTtlMs?: number;
  /**
   * Secret used to sign result asset URLs.
   * @default a random secret per emulator instance
   */
  signingSecret?: string;
  /**
   * Also require the owner's Bearer token when downloading assets,
   * in addition to the URL signature.
   * @default false
   */
  assetsRequireToken?: boolean;
  /**
   * Side length in pixels of the generated single-band GeoTIFF.
   * @default 64
   */
  rasterSize?: number;
  /**
   * Hook run before every route handler; the seam for fault injection.
   * @default a no-op hook
   */
  requestHook?: RequestHook;
  /**
   * Receives human-readable log lines (server URL, job transitions).
   * @default silent
   */
  log?: (line: string) => void;
}

/** {@link EmulatorOptions} with every default filled in. */
export interface ResolvedEmulatorOptions {
  port: number;
  host: string;
  users: EmulatorUser[];
  tokenLifetimeMs: number;
  queuedMs: number;
  runningMs: number;
  maxRunningJobsPerUser: number;
  failure: Required<Pick<FailurePolicyOptions, 'failTitlesContaining' | 'errorProbability' | 'seed'>> & {
    failJobHooks: Array<(job: JobFailureContext) => JobFailure | null>;
  };
  udpRegistry: UdpRegistry;
  resultLinkTtlMs: number;
  signingSecret: string;
  assetsRequireToken: boolean;
  rasterSize: number;
  requestHook: RequestHook | undefined;
  log: (line: string) => void;
}

function nonNegative(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < 0) {
    throw new RangeError(`Emulator option ${name} must be a non-negative number, got ${value}`);
  }
  return value;
}

/** Fills in defaults and rejects nonsensical values early (at start-up, not mid-test). */
export function resolveOptions(options: EmulatorOptions = {}): ResolvedEmulatorOptions {
  const failure = options.failure ?? {};
  const hooks = [failure.failJob, options.failJob].filter(
    (hook): hook is (job: JobFailureContext) => JobFailure | null => typeof hook === 'function',
  );
  const probability = failure.errorProbability ?? 0;
  if (!(probability >= 0 && probability <= 1)) {
    throw new RangeError(`Emulator option failure.errorProbability must be in [0, 1], got ${probability}`);
  }
  const maxRunning = options.maxRunningJobsPerUser ?? 2;
  if (!Number.isInteger(maxRunning) || maxRunning < 1) {
    throw new RangeError(`Emulator option maxRunningJobsPerUser must be a positive integer, got ${maxRunning}`);
  }
  const rasterSize = options.rasterSize ?? 64;
  if (!Number.isInteger(rasterSize) || rasterSize < 1 || rasterSize > 4096) {
    throw new RangeError(`Emulator option rasterSize must be an integer in [1, 4096], got ${rasterSize}`);
  }
  const users = options.users ?? [{ username: 'demo', password: 'demo-password' }];
  if (users.length === 0) throw new RangeError('Emulator option users must list at least one user');
  return {
    port: options.port ?? 0,
    host: options.host ?? '127.0.0.1',
    users: users.map((u) => ({ ...u })),
    tokenLifetimeMs: nonNegative('tokenLifetimeMs', options.tokenLifetimeMs, 86_400_000),
    queuedMs: nonNegative('jobDurations.queuedMs', options.jobDurations?.queuedMs, 2000),
    runningMs: nonNegative('jobDurations.runningMs', options.jobDurations?.runningMs, 5000),
    maxRunningJobsPerUser: maxRunning,
    failure: {
      failTitlesContaining: [...(failure.failTitlesContaining ?? [])],
      errorProbability: probability,
      seed: failure.seed ?? 1,
      failJobHooks: hooks,
    },
    udpRegistry: options.udpRegistry ?? DEFAULT_UDP_REGISTRY,
    resultLinkTtlMs: nonNegative('resultLinkTtlMs', options.resultLinkTtlMs, 3_600_000),
    signingSecret: options.signingSecret ?? randomBytes(32).toString('hex'),
    assetsRequireToken: options.assetsRequireToken ?? false,
    rasterSize,
    requestHook: options.requestHook,
    log: options.log ?? (() => undefined),
  };
}
