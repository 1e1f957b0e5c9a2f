/**
 * The gate every openEO HTTP request of a backend with quotas passes: a lease before the request
 * is sent, released when its answer is back. Which backends are gated, and by what, is set per
 * activity call (`runWithRequestGates`), so the js-client's requests (axios, shared by the whole
 * process) and our own `fetch` calls find their gate without passing it around. Requests outside
 * a gated scope, or to other origins (object storage), pass untouched.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { LeaseKind } from '../quota/ledger';
import { sameOrigin } from './credentials';

export interface GatedRequest {
  kind: LeaseKind;
  /** A result download: its lease must last as long as the transfer may. */
  transfer?: boolean;
}

export interface RequestLease {
  /** The request is over. Never throws: a lease that cannot be released expires by itself. */
  release(): Promise<void>;
}

/** Hands out leases for one backend; waits as long as its quotas require. */
export interface RequestGate {
  acquire(request: GatedRequest): Promise<RequestLease>;
}

/** A backend, by URL, and the gate its requests go through. */
export interface GatedBackend {
  url: string;
  gate: RequestGate;
}

const scope = new AsyncLocalStorage<readonly GatedBackend[]>();

/** Runs `work` with these backends' requests gated (nothing changes when there are none). */
export function runWithRequestGates<T>(gates: readonly GatedBackend[], work: () => Promise<T>): Promise<T> {
  return gates.length === 0 ? work() : scope.run(gates, work);
}

/** `POST …/jobs/{id}/results` starts a job: it counts against the job-start quota too. */
export function requestKind(method: string, url: string): LeaseKind {
  if (method.toUpperCase() !== 'POST') return 'request';
  return /\/jobs\/[^/]+\/results\/?$/.test(new URL(url).pathname) ? 'start' : 'request';
}

/** A lease for a request to `url`, or `undefined` when no gate applies to it here. */
export async function leaseForRequest(
  method: string,
  url: string,
  options: { transfer?: boolean } = {},
): Promise<RequestLease | undefined> {
  const gate = scope.getStore()?.find((g) => sameOrigin(g.url, url))?.gate;
  return gate?.acquire({ kind: requestKind(method, url), transfer: options.transfer });
}

interface RequestConfigLike {
  baseURL?: string;
  url?: string;
  method?: string;
}
/** The part of axios the gate uses. */
export interface GateableAxios {
  interceptors: {
    request: {
      use(
        fn: (config: RequestConfigLike) => Promise<RequestConfigLike>,
        onRejected: null,
        options: { runWhen: () => boolean },
      ): number;
    };
    response: {
      use(
        onFulfilled: (response: { config?: RequestConfigLike }) => Promise<unknown>,
        onRejected: (error: { config?: RequestConfigLike }) => Promise<never>,
      ): number;
    };
  };
}

function fullUrl(config: RequestConfigLike): string | undefined {
  const url = config.url ?? '';
  if (/^https?:\/\//i.test(url)) return url;
  if (!config.baseURL) return undefined;
  return `${config.baseURL.replace(/\/+$/, '')}/${url.replace(/^\/+/, '')}`;
}

/**
 * Where a request's lease rides along: a symbol-keyed property of its axios config. Other
 * interceptors may copy the config (`{...config}` copies symbol keys too), so a property
 * survives where a map keyed by the object would lose it.
 */
const LEASE = Symbol('openeo-temporal request lease');
type LeasedConfig = RequestConfigLike & { [LEASE]?: RequestLease };

async function releaseFor(config: LeasedConfig | undefined): Promise<void> {
  const lease = config?.[LEASE];
  if (!lease || !config) return;
  delete config[LEASE];
  await lease.release();
}

let installed = false;

/** Gates the js-client's requests (it uses the process-wide axios instance). Installed once. */
export function installRequestGating(axios: GateableAxios): void {
  if (installed) return;
  installed = true;
  axios.interceptors.request.use(
    async (config) => {
      const url = fullUrl(config);
      const lease = url ? await leaseForRequest(config.method ?? 'get', url) : undefined;
      return lease ? { ...config, [LEASE]: lease } : config;
    },
    null,
    // Outside a gated scope the interceptor is skipped altogether: ungated backends pay nothing.
    { runWhen: () => scope.getStore() !== undefined },
  );
  axios.interceptors.response.use(
    async (response) => {
      await releaseFor(response.config);
      return response;
    },
    async (error) => {
      await releaseFor(error?.config);
      throw error;
    },
  );
}
