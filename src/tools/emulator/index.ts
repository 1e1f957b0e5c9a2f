/**
 * openEO API 1.2 emulator for the batch-job lifecycle, with fault injection.
 *
 * ```ts
 * const emulator = await startEmulator({ jobDurations: { queuedMs: 50, runningMs: 100 } });
 * const connection = await OpenEO.connect(emulator.url);
 * // …
 * await emulator.close();
 * ```
 *
 * @module openeo-temporal/emulator
 */
export { startEmulator, type RunningEmulator } from './emulator';
export type {
  EmulatorOptions,
  EmulatorUser,
  FailurePolicyOptions,
  GraphCheckPhase,
  JobDurations,
  JobFailure,
  JobFailureContext,
  OidcProviderInfo,
  OidcTokenGrant,
} from './options';
export type { AdminJobView, EmulatorAdmin } from './admin';
export type { OidcIssuerOptions } from './oidc-verify';
export type { EmulatorStats, Gauge } from './stats';
export type { OutgoingResponse, RequestHook, RequestHookContext, RequestHookOutcome } from './hooks';
export { NOOP_REQUEST_HOOK, composeHooks } from './hooks';
export { ManualClock, SYSTEM_CLOCK, type Clock } from './clock';
export {
  FaultConfigError,
  parseFaultConfig,
  type FaultAction,
  type FaultConfig,
  type FaultType,
  type JobFaultConfig,
  type JobFaultRule,
  type OutageConfig,
  type RouteFaultRule,
} from './faults/config';
export { emulatorOptionsFromFlags, type EmulatorCliFlags } from './cli-flags';
export {
  BAP_COMPOSITE_NAMESPACE,
  BAP_COMPOSITE_UDP,
  DEFAULT_UDP_REGISTRY,
  type UdpDefinition,
  type UdpParameter,
  type UdpRegistry,
} from './udp-registry';
export { API_PREFIX, API_VERSION, CONFORMS_TO } from './constants';
export { encodeGeoTiff, type GeoTiffRaster } from './geotiff';
export type { BBox } from './area';
export { CORS_ALLOWED_HEADERS, CORS_EXPOSED_HEADERS } from './cors';
export type { GraphProblem } from './graph-problem';
