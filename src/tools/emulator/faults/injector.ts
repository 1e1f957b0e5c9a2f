/**
 * The fault injector of one emulator: holds the current {@link FaultConfig},
 * acts as the request hook (outage window first, then route rules), decides
 * job faults, counts what it injected, and can be reconfigured at run time.
 */
import type { Clock } from '../clock';
import { ADMIN_PREFIX } from '../constants';
import type { FailureVerdict } from '../failure';
import type { RequestHook, RequestHookContext, RequestHookOutcome } from '../hooks';
import type { JobFate } from '../jobs';
import type { StatsRecorder } from '../stats';
import { applyFault } from './actions';
import type { FaultAction, FaultConfig } from './config';
import { JobFaultPlan, type JobFaultState } from './job-faults';
import { RouteFaultSelector, type RouteRuleState } from './route-rules';

/** Everything needed to continue the same fault sequence after a restart. */
export interface FaultRuntimeState {
  config: FaultConfig;
  routes: RouteRuleState[];
  jobs: JobFaultState;
}

/** The resolved outage window, in epoch milliseconds. */
export interface OutageWindow {
  start: number;
  end: number;
  fault: FaultAction;
}

/** Collaborators of the injector. */
export interface FaultInjectorDeps {
  clock: Clock;
  stats: StatsRecorder;
  /** Emulator start time; outage `startMs`/`endMs` count from it. */
  startedAt: number;
}

const OUTAGE_FAULT: FaultAction = {
  type: 'status',
  status: 503,
  code: 'InfrastructureBusy',
  message: 'The back-end is temporarily unavailable (simulated outage).',
};

/** Stats label of job faults, next to the route keys of request faults. */
const JOB_FAULT_LABEL = 'jobs';

/** See the module comment. */
export class FaultInjector implements RequestHook {
  private config: FaultConfig = {};
  private routes = new RouteFaultSelector([], 1);
  private jobs = new JobFaultPlan({}, 1);
  private outage: OutageWindow | null = null;
  private readonly listeners: Array<() => void> = [];

  constructor(
    private readonly deps: FaultInjectorDeps,
    config: FaultConfig = {},
  ) {
    this.configure(config);
  }

  /** Replaces the configuration; counters and random streams start afresh. */
  configure(config: FaultConfig): void {
    this.config = structuredClone(config);
    const seed = config.seed ?? 1;
    this.routes = new RouteFaultSelector(config.routes ?? [], seed);
    this.jobs = new JobFaultPlan(config.jobs ?? {}, seed);
    this.outage = this.resolveOutage(config);
    this.changed();
  }

  /** A copy of the current configuration. */
  current(): FaultConfig {
    return structuredClone(this.config);
  }

  /** The outage window in absolute time, if one is configured. */
  outageWindow(): OutageWindow | null {
    return this.outage ? { ...this.outage } : null;
  }

  /** Notifies `listener` whenever the runtime state changes (for the state file). */
  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  async beforeRoute(context: RequestHookContext): Promise<RequestHookOutcome | void> {
    // The admin API stays reachable, so a test can always inspect or lift the faults.
    if ((context.req.url ?? '').startsWith(ADMIN_PREFIX)) return undefined;
    const record = (bytes: number) => this.deps.stats.recordBytes(bytes, false);
    const now = this.deps.clock.now();
    if (this.outage && now >= this.outage.start && now < this.outage.end) {
      this.deps.stats.recordFault(context.route, 'outage');
      return applyFault(this.outage.fault, context, record);
    }
    const action = this.routes.pick(context.route);
    if (this.config.routes?.length) this.changed();
    if (!action) return undefined;
    this.deps.stats.recordFault(context.route, action.type);
    return applyFault(action, context, record);
  }

  /** Decides, at creation, whether a job fails on every run or gets stuck. */
  fateOf(title: string | null): JobFate {
    if (!this.config.jobs?.rules?.length) return {};
    const fate = this.jobs.fateOf(title);
    if (fate.failure) this.deps.stats.recordFault(JOB_FAULT_LABEL, 'job-fail-first');
    if (fate.stuckIn) this.deps.stats.recordFault(JOB_FAULT_LABEL, `job-stuck-${fate.stuckIn}`);
    this.changed();
    return fate;
  }

  /** Decides, when a run starts, whether it ends in `error` at random. */
  runFailure(): FailureVerdict | null {
    if (!this.config.jobs?.errorProbability) return null;
    const verdict = this.jobs.runFailure();
    if (verdict) this.deps.stats.recordFault(JOB_FAULT_LABEL, 'job-error');
    this.changed();
    return verdict;
  }

  exportState(): FaultRuntimeState {
    return { config: this.current(), routes: this.routes.exportState(), jobs: this.jobs.exportState() };
  }

  /**
   * Continues a persisted sequence when it belongs to the current
   * configuration; returns whether it did.
   */
  importState(state: FaultRuntimeState): boolean {
    if (JSON.stringify(state.config) !== JSON.stringify(this.config)) return false;
    this.routes.importState(state.routes);
    this.jobs.importState(state.jobs);
    return true;
  }

  private resolveOutage(config: FaultConfig): OutageWindow | null {
    const outage = config.outage;
    if (!outage) return null;
    const fault = outage.fault ?? OUTAGE_FAULT;
    if ('startMs' in outage) {
      return { start: this.deps.startedAt + outage.startMs, end: this.deps.startedAt + outage.endMs, fault };
    }
    const start = this.deps.clock.now() + (outage.fromNowMs ?? 0);
    return { start, end: start + outage.durationMs, fault };
  }

  private changed(): void {
    for (const listener of this.listeners) listener();
  }
}
