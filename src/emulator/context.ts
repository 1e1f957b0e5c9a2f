/**
 * The services shared by all route modules of one emulator instance.
 */
import type { AuthService } from './auth';
import type { JobStore } from './jobs';
import type { ResolvedEmulatorOptions } from './options';
import type { Clock, JobScheduler } from './scheduler';
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
  /**
   * Origin that result asset links point to, given the origin of the API
   * request. Identity today; the seam for serving assets from a second origin.
   */
  assetOrigin(apiOrigin: string): string;
}
