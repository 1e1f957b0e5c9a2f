/**
 * Configuration of the openEO API emulator: the public option types.
 * `settings.ts` fills in the defaults.
 */
import type { Clock } from './clock';
import type { FaultConfig } from './faults/config';
import type { RequestHook } from './hooks';
import type { UdpRegistry } from './udp-registry';
import type { OidcIssuerOptions } from './oidc-verify';

/** When process graph problems are reported: at creation, at start, or as a failed run. */
export type GraphCheckPhase = 'create' | 'start' | 'run';

/** An account that can log in through HTTP Basic authentication. */
export interface EmulatorUser {
  /** The user name. */
  username: string;
  /** The password. */
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
  /** The job's id. */
  readonly id: string;
  /** The user who created it. */
  readonly owner: string;
  /** Its title, as created. */
  readonly title: string | null;
  /** Its description, as created. */
  readonly description: string | null;
  /** The `process` object exactly as submitted. */
  readonly process: Readonly<Record<string, unknown>>;
  /** Extra top-level properties of the create request (job options). */
  readonly options: Readonly<Record<string, unknown>>;
}

/** A failure verdict: a message (code `Internal`) or an explicit code and message. */
export type JobFailure =
  | string
  | {
      /** The error code in the job's log, e.g. `Internal`. */
      code: string;
      /** The error message in the job's log. */
      message: string;
    };

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

/** An OpenID Connect provider as listed by `GET /credentials/oidc`. */
export interface OidcProviderInfo {
  /** Prefix of Bearer tokens: `oidc/<id>/<access token>`. */
  id: string;
  /** Issuer URL (no trailing slash). */
  issuer: string;
  /** A name to show users. */
  title: string;
  /** @default ["openid"] */
  scopes?: string[];
  /** Clients usable without a secret, as listed to openEO clients. @default none */
  default_clients?: Array<{
    /** The client id. */
    id: string;
    /** The OAuth grant types it may use, as openEO names them. */
    grant_types: string[];
    /** Where the provider may send the user back after a login in the browser. */
    redirect_urls?: string[];
  }>;
}

/** An access token the emulator accepts as `Bearer oidc/<provider>/<token>`. */
export interface OidcTokenGrant {
  /** Id of a configured provider (see `oidcProviders`). */
  provider: string;
  /** The access token itself (what follows `oidc/<provider>/` in the bearer token). */
  token: string;
  /** The openEO user the token belongs to (the owner of the jobs it creates). */
  user: string;
  /**
   * Validity from registration.
   * @default the emulator's `tokenLifetimeMs`
   */
  expiresInMs?: number;
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
   * Jobs of one user that may be `running` at the same time; see
   * `concurrencyMode` for what happens to further started jobs.
   * @default 2
   */
  maxRunningJobsPerUser?: number;
  /**
   * `queue`: further started jobs wait in `queued`, first in first out.
   * `reject`: as CDSE, starting a job while `maxRunningJobsPerUser` jobs are
   * queued or running fails with 400 `ConcurrentJobLimit`.
   * @default "queue"
   */
  concurrencyMode?: 'queue' | 'reject';
  /**
   * The order of `GET /jobs`, which the openEO API leaves open: newest first, as most backends
   * list, or oldest first. Pages follow with `limit` and the `next` link either way.
   * @default "newest-first"
   */
  listingOrder?: 'newest-first' | 'oldest-first';
  /**
   * Requests carrying one user's token that may be in flight at once; more are answered 429
   * `TooManyRequests` with `Retry-After: 1`, as CDSE does (its general users get 2).
   * @default no limit (the peak is counted in the stats all the same)
   */
  maxConcurrentRequestsPerUser?: number;
  /**
   * Job starts (`POST /jobs/{id}/results`) one user may make in any 60 s; more are answered 429
   * `TooManyRequests` with `Retry-After` until the oldest start leaves the window (CDSE: 12).
   * @default no limit (the peak is counted in the stats all the same)
   */
  maxJobStartsPerMinutePerUser?: number;
  /**
   * The window `maxJobStartsPerMinutePerUser` (and its peak in the stats) counts starts in, in
   * milliseconds: a test can scale a minute down and keep the quota's proportions.
   * @default 60_000
   */
  jobStartWindowMs?: number;
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
   * When process graphs are checked against the catalogue, the file formats
   * and the parameters of remote processes: `create` rejects `POST /jobs`
   * (and a `PATCH` of the process); `start` accepts the job and rejects
   * `POST /jobs/{job_id}/results`, as the openeo-geopyspark-driver (CDSE)
   * does with its dry run at start; `run` starts the job and ends it in
   * `error` with the problem in its log. `POST /validation` reports the
   * problems in every mode.
   * @default "create"
   */
  graphChecks?: GraphCheckPhase;
  /**
   * Validity of signed result asset URLs.
   * @default 3_600_000 (1 hour)
   */
  resultLinkTtlMs?: number;
  /**
   * Secret used to sign result asset URLs.
   * @default a random secret (persisted in the state file, so links survive a restart)
   */
  signingSecret?: string;
  /**
   * Also require the owner's Bearer token when downloading assets from the
   * API's own origin, in addition to the URL signature.
   * @default false
   */
  assetsRequireToken?: boolean;
  /**
   * `same`: signed asset links point at the API's origin. `separate`: a second
   * HTTP server on another port serves only the signed links, like object
   * storage (it never checks a token).
   * @default "same"
   */
  assetOrigin?: 'same' | 'separate';
  /**
   * Port of the separate asset origin; `0` picks a free port.
   * @default 0
   */
  assetPort?: number;
  /**
   * Shape of `GET /jobs/{job_id}/results`: a STAC `item` or a STAC
   * `collection` with collection-level assets (what CDSE answers).
   * @default "item"
   */
  resultsMode?: 'item' | 'collection';
  /**
   * What `GET /jobs/{job_id}/results` answers for a job in `error`: `spec`
   * is 424 with the error log entry, `cdse` is 400 `JobNotFinished`.
   * @default "spec"
   */
  failedJobResults?: 'spec' | 'cdse';
  /**
   * OpenID Connect providers listed by `GET /credentials/oidc`; the endpoint
   * is advertised in the capabilities only when there is one.
   * @default []
   */
  oidcProviders?: OidcProviderInfo[];
  /**
   * OIDC access tokens accepted from the start (more can be registered
   * through the admin API).
   * @default []
   */
  oidcTokens?: OidcTokenGrant[];
  /**
   * Real OpenID providers (e.g. the local one of `openeo-temporal/oidc-provider`, or any
   * issuer): listed at `GET /credentials/oidc`, and their access tokens checked as a real
   * backend does (JWKS for JWTs, else userinfo); a bad or expired token is 403 `TokenInvalid`.
   * @default []
   */
  oidcIssuers?: OidcIssuerOptions[];
  /**
   * Fault injection: request faults, job faults, an outage window.
   * @default no faults
   */
  faults?: FaultConfig;
  /**
   * JSON file that keeps jobs, tokens and fault counters across restarts;
   * read at start, written (atomically) after changes and at close.
   * @default none: state lives in memory only
   */
  stateFile?: string;
  /**
   * How long after a change the state file is written; changes meanwhile join that write. Each
   * write serialises every job, so an emulator holding many thousands of jobs (a long benchmark)
   * writes less often; `close()` writes in any case.
   * @default 50
   */
  stateSaveDelayMs?: number;
  /**
   * Time source of job phases, expiry and outage windows.
   * @default SYSTEM_CLOCK
   */
  clock?: Clock;
  /**
   * Side length in pixels of the generated GeoTIFF (one band per band of the result).
   * @default 64
   */
  rasterSize?: number;
  /**
   * The multihash each result's `file:checksum` is: `sha2-256` (`1220…`), `md5` (`d50110…`), or
   * `malformed`: `d510` and the hex of the MD5 digest's ASCII text, a form published STAC
   * catalogues have, which no client can check.
   * @default "sha2-256"
   */
  resultChecksum?: 'sha2-256' | 'md5' | 'malformed';
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
