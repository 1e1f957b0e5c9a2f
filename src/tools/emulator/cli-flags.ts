/**
 * The flags of `openeo-temporal emulator`, turned into {@link EmulatorOptions}.
 * Kept here rather than in the CLI so the translation is testable and the
 * command stays a thin layer.
 */
import { readFile } from 'node:fs/promises';
import { parseFaultConfig, type FaultConfig } from './faults/config';
import type { EmulatorOptions } from './options';

/** Parsed command-line flags (commander's camel-cased names). */
export interface EmulatorCliFlags {
  /** `--port`: the port to listen on (0: a free one); see {@link EmulatorOptions.port}. */
  port: number;
  /** `--host`: the address to listen on; see {@link EmulatorOptions.host}. */
  host?: string;
  /** `--queued-seconds`: least time a started job spends queued; see {@link JobDurations.queuedMs}. */
  queuedSeconds: number;
  /** `--running-seconds`: time a job runs before it ends; see {@link JobDurations.runningMs}. */
  runningSeconds: number;
  /** `--max-running`: jobs one user may have running at once; see {@link EmulatorOptions.maxRunningJobsPerUser}. */
  maxRunning: number;
  /** Requests one user may have in flight at once (429 beyond). */
  maxConcurrentRequests?: number;
  /** Job starts one user may make in any 60 s (429 beyond). */
  maxJobStartsPerMinute?: number;
  /** Path of a JSON {@link FaultConfig}. */
  faults?: string;
  /** Probability that any request (but the admin API) fails with 503 InfrastructureBusy. */
  failRate?: number;
  /** Probability that a job run ends in `error`. */
  errorRate?: number;
  /** Seed of the fault injection (overrides the file's). */
  seed?: number;
  /** `--concurrency-mode`: `queue` or `reject`; see {@link EmulatorOptions.concurrencyMode}. */
  concurrencyMode?: string;
  /** `--results`: `item` or `collection`; see {@link EmulatorOptions.resultsMode}. */
  results?: string;
  /** `--failed-job-results`: `spec` or `cdse`; see {@link EmulatorOptions.failedJobResults}. */
  failedJobResults?: string;
  /** `--result-checksum`: `sha2-256`, `md5` or `malformed`; see {@link EmulatorOptions.resultChecksum}. */
  resultChecksum?: string;
  /** `--graph-checks`: `create`, `start` or `run`; see {@link EmulatorOptions.graphChecks}. */
  graphChecks?: string;
  /** `--asset-origin`: `same` or `separate`; see {@link EmulatorOptions.assetOrigin}. */
  assetOrigin?: string;
  /** `--asset-port`: the separate asset origin's port; see {@link EmulatorOptions.assetPort}. */
  assetPort?: number;
  /** `--assets-require-token`; see {@link EmulatorOptions.assetsRequireToken}. */
  assetsRequireToken?: boolean;
  /** `--state-file`: where jobs and tokens outlive a restart; see {@link EmulatorOptions.stateFile}. */
  stateFile?: string;
  /** `--token-lifetime-seconds`; see {@link EmulatorOptions.tokenLifetimeMs}. */
  tokenLifetimeSeconds?: number;
  /** `--link-ttl-seconds`: how long signed result links work; see {@link EmulatorOptions.resultLinkTtlMs}. */
  linkTtlSeconds?: number;
  /** Issuer URL of an OpenID provider whose tokens the emulator accepts (checked against it). */
  oidcIssuer?: string;
  /** Its provider id at `/credentials/oidc` and in bearer tokens. @default "oidc" */
  oidcProviderId?: string;
  /** A default client listed for the device flow (public, no secret). */
  oidcClientId?: string;
  /** Expected `aud` of its access tokens. @default not checked */
  oidcAudience?: string;
  /** Scopes clients should ask for, space-separated. @default "openid" */
  oidcScopes?: string;
}

/** The device-flow and refresh grants, as openEO names them in `default_clients`. */
const DEVICE_CLIENT_GRANTS = [
  'urn:ietf:params:oauth:grant-type:device_code+pkce',
  'urn:ietf:params:oauth:grant-type:device_code',
  'refresh_token',
];

function oidcIssuersFrom(flags: EmulatorCliFlags): EmulatorOptions['oidcIssuers'] {
  if (flags.oidcIssuer === undefined) {
    if (flags.oidcClientId !== undefined || flags.oidcAudience !== undefined)
      throw new Error('--oidc-client-id and --oidc-audience need --oidc-issuer (or --oidc-provider local)');
    return undefined;
  }
  return [
    {
      id: flags.oidcProviderId ?? 'oidc',
      issuer: flags.oidcIssuer.replace(/\/+$/, ''),
      title: 'OpenID provider',
      scopes: flags.oidcScopes?.split(/\s+/).filter(Boolean) ?? ['openid'],
      ...(flags.oidcClientId
        ? { default_clients: [{ id: flags.oidcClientId, grant_types: DEVICE_CLIENT_GRANTS }] }
        : {}),
      ...(flags.oidcAudience ? { audience: flags.oidcAudience } : {}),
    },
  ];
}

function choice<T extends string>(flag: string, value: string | undefined, allowed: readonly T[]): T | undefined {
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) {
    throw new Error(`--${flag} must be one of ${allowed.join(', ')}, got '${value}'`);
  }
  return value as T;
}

function probability(flag: string, value: number | undefined): number | undefined {
  if (value !== undefined && !(value >= 0 && value <= 1))
    throw new Error(`--${flag} must be between 0 and 1, got ${value}`);
  return value;
}

async function faultsFrom(
  flags: EmulatorCliFlags,
  readText: (path: string) => Promise<string>,
): Promise<FaultConfig | undefined> {
  let config: FaultConfig | undefined;
  if (flags.faults !== undefined) {
    let raw: unknown;
    try {
      raw = JSON.parse(await readText(flags.faults));
    } catch (error) {
      throw new Error(`cannot read the fault configuration ${flags.faults}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    config = parseFaultConfig(raw);
  }
  const failRate = probability('fail-rate', flags.failRate);
  const errorRate = probability('error-rate', flags.errorRate);
  if (failRate === undefined && errorRate === undefined && flags.seed === undefined) return config;
  const merged: FaultConfig = structuredClone(config ?? {});
  if (flags.seed !== undefined) merged.seed = flags.seed;
  if (failRate !== undefined && failRate > 0) {
    merged.routes = [
      ...(merged.routes ?? []),
      { route: '*', probability: failRate, fault: { type: 'status', status: 503 } },
    ];
  }
  if (errorRate !== undefined) merged.jobs = { ...merged.jobs, errorProbability: errorRate };
  return merged;
}

/**
 * Builds the emulator options of the command.
 * @param readText reads the fault file
 * @default readText reads from the file system as UTF-8
 */
export async function emulatorOptionsFromFlags(
  flags: EmulatorCliFlags,
  readText: (path: string) => Promise<string> = (path) => readFile(path, 'utf8'),
): Promise<EmulatorOptions> {
  return {
    port: flags.port,
    host: flags.host,
    jobDurations: { queuedMs: flags.queuedSeconds * 1000, runningMs: flags.runningSeconds * 1000 },
    maxRunningJobsPerUser: flags.maxRunning,
    maxConcurrentRequestsPerUser: flags.maxConcurrentRequests,
    maxJobStartsPerMinutePerUser: flags.maxJobStartsPerMinute,
    concurrencyMode: choice('concurrency-mode', flags.concurrencyMode, ['queue', 'reject'] as const),
    resultsMode: choice('results', flags.results, ['item', 'collection'] as const),
    failedJobResults: choice('failed-job-results', flags.failedJobResults, ['spec', 'cdse'] as const),
    resultChecksum: choice('result-checksum', flags.resultChecksum, ['sha2-256', 'md5', 'malformed'] as const),
    graphChecks: choice('graph-checks', flags.graphChecks, ['create', 'start', 'run'] as const),
    assetOrigin: choice('asset-origin', flags.assetOrigin, ['same', 'separate'] as const),
    assetPort: flags.assetPort,
    assetsRequireToken: flags.assetsRequireToken,
    stateFile: flags.stateFile,
    tokenLifetimeMs: flags.tokenLifetimeSeconds === undefined ? undefined : flags.tokenLifetimeSeconds * 1000,
    resultLinkTtlMs: flags.linkTtlSeconds === undefined ? undefined : flags.linkTtlSeconds * 1000,
    faults: await faultsFrom(flags, readText),
    oidcIssuers: oidcIssuersFrom(flags),
  };
}
