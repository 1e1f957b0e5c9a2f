/**
 * What the state file holds, and turning an emulator's state into it and
 * back: jobs (with logs, timestamps and pending failures), valid tokens,
 * the signing secret and the fault injector's counters. Result files are not
 * stored; they are regenerated, byte for byte, from the job.
 */
import type { IssuedToken } from './auth';
import type { EmulatorCore } from './context';
import type { FailureVerdict } from './failure';
import type { FaultRuntimeState } from './faults/injector';
import { isPlainObject } from './http-util';
import { parseJobFields } from './job-documents';
import type { JobFate, JobRecord, JobStatus, Usage } from './jobs';
import { JobLog, type LogLevel, type LogSnapshot } from './logs';
import { produceResult } from './results';

/** Marks a file as ours, so a wrong `--state-file` path is refused instead of overwritten. */
export const STATE_FORMAT = 'openeo-emulator-state';
const STATE_VERSION = 1;

/** One job in the state file. */
export interface PersistedJob {
  id: string;
  seq: number;
  owner: string;
  title: string | null;
  description: string | null;
  process: Record<string, unknown>;
  plan: string | null;
  budget: number | null;
  logLevel: LogLevel;
  options: Record<string, unknown>;
  fate: JobFate;
  created: number;
  status: JobStatus;
  updated: number;
  runs: number;
  queuedAt?: number;
  runningSince?: number;
  pendingFailure?: FailureVerdict | null;
  endedAt?: number;
  stoppedProgress?: number;
  usage?: Usage;
  costs?: number;
  /** When the result was generated; the file itself is regenerated. */
  resultGeneratedAt?: number;
  log: LogSnapshot;
}

/** The whole state file. */
export interface PersistedState {
  format: typeof STATE_FORMAT;
  version: number;
  savedAt: string;
  signingSecret: string;
  jobs: PersistedJob[];
  tokens: IssuedToken[];
  faults: FaultRuntimeState;
}

function persistJob(job: JobRecord): PersistedJob {
  // JSON.stringify drops the undefined optionals.
  return {
    id: job.id,
    seq: job.seq,
    owner: job.owner,
    title: job.title,
    description: job.description,
    process: job.process,
    plan: job.plan,
    budget: job.budget,
    logLevel: job.logLevel,
    options: job.options,
    fate: job.fate,
    created: job.created,
    status: job.status,
    updated: job.updated,
    runs: job.runs,
    queuedAt: job.queuedAt,
    runningSince: job.runningSince,
    pendingFailure: job.pendingFailure,
    endedAt: job.endedAt,
    stoppedProgress: job.stoppedProgress,
    usage: job.usage,
    costs: job.costs,
    resultGeneratedAt: job.result?.generatedAt,
    log: job.log.snapshot(),
  };
}

/** The current state of `core`, ready for JSON. */
export function snapshotState(core: EmulatorCore, signingSecret: string, now: number): PersistedState {
  return {
    format: STATE_FORMAT,
    version: STATE_VERSION,
    savedAt: new Date(now).toISOString(),
    signingSecret,
    jobs: core.store.list().map(persistJob),
    tokens: core.auth.exportTokens(),
    faults: core.faults.exportState(),
  };
}

/**
 * Checks that `raw` is a state file of this version (deeper checks would
 * only repeat what this code wrote itself).
 * @throws Error naming the file when it is something else
 */
export function parseState(raw: unknown, path: string): PersistedState {
  if (!isPlainObject(raw) || raw.format !== STATE_FORMAT) {
    throw new Error(`${path} is not an openEO emulator state file; refusing to overwrite it`);
  }
  if (raw.version !== STATE_VERSION || !Array.isArray(raw.jobs) || !Array.isArray(raw.tokens)) {
    throw new Error(`${path} has an unsupported state format version ${String(raw.version)}`);
  }
  return raw as unknown as PersistedState; // the format marker and version vouch for the shape
}

function restoreJob(core: EmulatorCore, saved: PersistedJob): JobRecord {
  // The graph, area and extents are derived from the process, exactly as at creation.
  const derived = parseJobFields({ process: saved.process }).process;
  if (!derived) throw new Error(`job ${saved.id} in the state file has no process`);
  const log = new JobLog(saved.logLevel, core.clock.now);
  log.restore(saved.log);
  const job: JobRecord = {
    id: saved.id,
    seq: saved.seq,
    owner: saved.owner,
    title: saved.title,
    description: saved.description,
    ...derived,
    plan: saved.plan,
    budget: saved.budget,
    logLevel: saved.logLevel,
    options: saved.options,
    fate: saved.fate ?? {},
    created: saved.created,
    log,
    status: saved.status,
    updated: saved.updated,
    runs: saved.runs,
    queuedAt: saved.queuedAt,
    runningSince: saved.runningSince,
    pendingFailure: saved.pendingFailure,
    endedAt: saved.endedAt,
    stoppedProgress: saved.stoppedProgress,
    usage: saved.usage,
    costs: saved.costs,
    result: undefined,
  };
  if (job.status === 'finished') {
    job.result = produceResult(
      job,
      core.settings.rasterSize,
      saved.resultGeneratedAt ?? saved.updated,
      core.settings.udpRegistry,
    );
  }
  return job;
}

/** Loads jobs, tokens and fault counters into a freshly built core (before the scheduler resumes). */
export function restoreState(core: EmulatorCore, state: PersistedState): void {
  for (const saved of state.jobs) core.store.restore(restoreJob(core, saved));
  core.auth.importTokens(state.tokens);
  if (state.faults) core.faults.importState(state.faults);
}
