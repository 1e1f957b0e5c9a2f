/**
 * Resolution of {@link EmulatorOptions} into a fully populated settings
 * object, rejecting nonsensical values at start-up rather than mid-test.
 */
import { randomBytes } from 'node:crypto';
import { SYSTEM_CLOCK, type Clock } from './clock';
import { parseFaultConfig, type FaultConfig } from './faults/config';
import type { RequestHook } from './hooks';
import type {
  EmulatorOptions,
  EmulatorUser,
  FailurePolicyOptions,
  GraphCheckPhase,
  JobFailure,
  JobFailureContext,
  OidcProviderInfo,
  OidcTokenGrant,
} from './options';
import { DEFAULT_UDP_REGISTRY, type UdpRegistry } from './udp-registry';
import type { OidcIssuerOptions } from './oidc-verify';

/** {@link EmulatorOptions} with every default filled in. */
export interface ResolvedEmulatorOptions {
  port: number;
  host: string;
  users: EmulatorUser[];
  tokenLifetimeMs: number;
  queuedMs: number;
  runningMs: number;
  maxRunningJobsPerUser: number;
  concurrencyMode: 'queue' | 'reject';
  listingOrder: 'newest-first' | 'oldest-first';
  maxConcurrentRequestsPerUser: number | undefined;
  maxJobStartsPerMinutePerUser: number | undefined;
  jobStartWindowMs: number;
  failure: Required<Pick<FailurePolicyOptions, 'failTitlesContaining' | 'errorProbability' | 'seed'>> & {
    failJobHooks: Array<(job: JobFailureContext) => JobFailure | null>;
  };
  udpRegistry: UdpRegistry;
  graphChecks: GraphCheckPhase;
  resultLinkTtlMs: number;
  /** `undefined` when not given: a persisted secret or a random one is used. */
  signingSecret: string | undefined;
  assetsRequireToken: boolean;
  assetOrigin: 'same' | 'separate';
  assetPort: number;
  resultsMode: 'item' | 'collection';
  failedJobResults: 'spec' | 'cdse';
  oidcProviders: OidcProviderInfo[];
  oidcTokens: OidcTokenGrant[];
  oidcIssuers: OidcIssuerOptions[];
  /** `undefined` when not given: a persisted configuration (or none) applies. */
  faults: FaultConfig | undefined;
  stateFile: string | undefined;
  stateSaveDelayMs: number;
  clock: Clock;
  rasterSize: number;
  resultChecksum: 'sha2-256' | 'md5' | 'malformed';
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

function optionalPositiveInteger(name: string, value: number | undefined): number | undefined {
  if (value !== undefined && !(Number.isInteger(value) && value >= 1)) {
    throw new RangeError(
      `Emulator option ${name} must be a whole number of at least 1 (leave it out for no limit), got ${value}`,
    );
  }
  return value;
}

function oneOf<T extends string>(name: string, value: T | undefined, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!allowed.includes(value)) {
    throw new RangeError(`Emulator option ${name} must be one of ${allowed.join(', ')}, got ${String(value)}`);
  }
  return value;
}

function port(name: string, value: number | undefined): number {
  const resolved = value ?? 0;
  if (!Number.isInteger(resolved) || resolved < 0 || resolved > 65535) {
    throw new RangeError(`Emulator option ${name} must be a port number (0 picks a free one), got ${resolved}`);
  }
  return resolved;
}

function checkOidc(providers: OidcProviderInfo[], tokens: OidcTokenGrant[], issuers: OidcIssuerOptions[]): void {
  const ids = [...providers, ...issuers].map((p) => p.id);
  const twice = ids.find((id, i) => ids.indexOf(id) !== i);
  if (twice) throw new RangeError(`Emulator option oidcProviders/oidcIssuers: provider id '${twice}' is used twice`);
  for (const issuer of issuers) {
    if (!/^https?:\/\//.test(issuer.issuer))
      throw new RangeError(`Emulator option oidcIssuers: issuer '${issuer.issuer}' must be an http(s) URL`);
  }
  for (const provider of [...providers, ...issuers]) {
    if (!/^[\w]{1,20}$/.test(provider.id)) {
      throw new RangeError(`Emulator option oidcProviders: id '${provider.id}' must be 1-20 letters, digits or _`);
    }
  }
  for (const grant of tokens) {
    if (!providers.some((p) => p.id === grant.provider)) {
      throw new RangeError(`Emulator option oidcTokens: provider '${grant.provider}' is not in oidcProviders`);
    }
  }
}

/** Fills in defaults and rejects nonsensical values early. */
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
  const oidcProviders = structuredClone(options.oidcProviders ?? []);
  const oidcTokens = structuredClone(options.oidcTokens ?? []);
  const oidcIssuers = structuredClone(options.oidcIssuers ?? []);
  checkOidc(oidcProviders, oidcTokens, oidcIssuers);
  return {
    port: port('port', options.port),
    host: options.host ?? '127.0.0.1',
    users: users.map((u) => ({ ...u })),
    tokenLifetimeMs: nonNegative('tokenLifetimeMs', options.tokenLifetimeMs, 86_400_000),
    queuedMs: nonNegative('jobDurations.queuedMs', options.jobDurations?.queuedMs, 2000),
    runningMs: nonNegative('jobDurations.runningMs', options.jobDurations?.runningMs, 5000),
    maxRunningJobsPerUser: maxRunning,
    concurrencyMode: oneOf('concurrencyMode', options.concurrencyMode, ['queue', 'reject'], 'queue'),
    listingOrder: oneOf('listingOrder', options.listingOrder, ['newest-first', 'oldest-first'], 'newest-first'),
    maxConcurrentRequestsPerUser: optionalPositiveInteger(
      'maxConcurrentRequestsPerUser',
      options.maxConcurrentRequestsPerUser,
    ),
    maxJobStartsPerMinutePerUser: optionalPositiveInteger(
      'maxJobStartsPerMinutePerUser',
      options.maxJobStartsPerMinutePerUser,
    ),
    jobStartWindowMs: optionalPositiveInteger('jobStartWindowMs', options.jobStartWindowMs) ?? 60_000,
    failure: {
      failTitlesContaining: [...(failure.failTitlesContaining ?? [])],
      errorProbability: probability,
      seed: failure.seed ?? 1,
      failJobHooks: hooks,
    },
    udpRegistry: options.udpRegistry ?? DEFAULT_UDP_REGISTRY,
    graphChecks: oneOf('graphChecks', options.graphChecks, ['create', 'start', 'run'], 'create'),
    resultLinkTtlMs: nonNegative('resultLinkTtlMs', options.resultLinkTtlMs, 3_600_000),
    signingSecret: options.signingSecret,
    assetsRequireToken: options.assetsRequireToken ?? false,
    assetOrigin: oneOf('assetOrigin', options.assetOrigin, ['same', 'separate'], 'same'),
    assetPort: port('assetPort', options.assetPort),
    resultsMode: oneOf('resultsMode', options.resultsMode, ['item', 'collection'], 'item'),
    failedJobResults: oneOf('failedJobResults', options.failedJobResults, ['spec', 'cdse'], 'spec'),
    oidcProviders,
    oidcTokens,
    oidcIssuers,
    // Validated here too: a typed caller can still build an inconsistent config.
    faults: options.faults === undefined ? undefined : parseFaultConfig(options.faults),
    stateFile: options.stateFile,
    stateSaveDelayMs: nonNegative('stateSaveDelayMs', options.stateSaveDelayMs, 50),
    clock: options.clock ?? SYSTEM_CLOCK,
    rasterSize,
    resultChecksum: oneOf('resultChecksum', options.resultChecksum, ['sha2-256', 'md5', 'malformed'], 'sha2-256'),
    requestHook: options.requestHook,
    log: options.log ?? (() => undefined),
  };
}

/** A fresh random secret for signing asset links. */
export function randomSecret(): string {
  return randomBytes(32).toString('hex');
}
