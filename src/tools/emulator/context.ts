/**
 * The services shared by all route modules of one emulator instance.
 */
import type { AuthService } from './auth';
import type { Clock } from './clock';
import type { FaultInjector } from './faults/injector';
import type { JobStore } from './jobs';
import type { JobScheduler } from './scheduler';
import type { ResolvedEmulatorOptions } from './settings';
import type { AssetUrlSigner } from './signing';
import type { StatsRecorder } from './stats';

/** One emulator instance's state and services. */
export interface EmulatorCore {
  readonly settings: ResolvedEmulatorOptions;
  readonly auth: AuthService;
  readonly store: JobStore;
  readonly scheduler: JobScheduler;
  readonly stats: StatsRecorder;
  readonly signer: AssetUrlSigner;
  readonly clock: Clock;
  readonly faults: FaultInjector;
  /**
   * Origin that result asset links point to, given the origin of the API
   * request: the same origin, or the separate asset server's.
   */
  assetOrigin(apiOrigin: string): string;
}
