/**
 * Puts every activity call under its backends' quota gates: the backend named in its input
 * (`backend`, or a spec's `backends`) with quotas gets its requests leased, every other call
 * runs as before, at no cost.
 */
import { runWithRequestGates } from '../src/core/openeo/request-gate';
import { gatedBackendsOf, type QuotaGateOptions } from './quota-gate';

/** Any activity: its arguments are whatever the workflow sends. */
type ActivityFunction = (...args: never[]) => Promise<unknown>;

/** Lease lengths from the worker's timeouts: a lease outlives the longest request it covers. */
export function quotaGateOptions(deps: { requestTimeoutMs?: number; downloadLeaseMs?: number }): QuotaGateOptions {
  return {
    requestLeaseMs: (deps.requestTimeoutMs ?? 30_000) + 5_000,
    transferLeaseMs: deps.downloadLeaseMs ?? 600_000,
  };
}

/** The same activities, each running with the request gates of the backends its input names. */
export function withBackendQuotas<T extends Record<string, ActivityFunction>>(
  activities: T,
  options: QuotaGateOptions,
): T {
  const gated: Record<string, ActivityFunction> = {};
  for (const [name, activity] of Object.entries(activities)) {
    gated[name] = (...args) => runWithRequestGates(gatedBackendsOf(args[0], options), () => activity(...args));
  }
  return gated as T;
}
