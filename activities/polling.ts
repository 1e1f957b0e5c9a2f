/**
 * When to look at an openEO job again. Pure functions only (no clock, no I/O), so the policy is
 * unit-tested with a simulated clock and the activity merely applies it.
 *
 * The policy, in short:
 * - without a usable progress rate (created, queued, or a backend that reports none) the wait
 *   grows like ×1.5 per poll, from the initial interval to the maximum;
 * - while running with a progress rate we measured ourselves (two readings or more), it sleeps a
 *   fraction of the estimated remaining time, and aims just past the estimated end once that is
 *   near: then the wait may be shorter than the initial interval (once per estimated end:
 *   a job still running after it is overdue), since the look that sees the end is the one
 *   that matters;
 * - once successive estimates agree on the end, the next look is just past it even when that is
 *   further away than the maximum interval, but never further than ten times as long as the job
 *   has been seen running: a 10-minute job is looked at about four times;
 * - if the job outlives the estimate, or its progress stops moving, the wait grows again from
 *   the initial interval, so a stuck job is neither hammered nor forgotten.
 */
import type { OpenEOJobStatus } from '../src/core/records';

/** One look at a job, as the worker saw it. */
export interface PollObservation {
  /** Worker clock (ms since the epoch) halfway through the status request. */
  at: number;
  status: OpenEOJobStatus;
  /** 0–100 as the backend reported it; absent when it reported none. */
  progress?: number;
}

/** The spec's polling settings, in milliseconds, plus tuning knobs that have sane defaults. */
export interface PollSettings {
  initialIntervalMs: number;
  maxIntervalMs: number;
  /**
   * Share of the estimated remaining time to sleep while the end is still far: below 1, so a
   * job up to 1/safety times faster than estimated is still caught on time.
   * @default 0.5
   */
  safety?: number;
  /**
   * How much a wait grows per poll when nothing tells us more (×1.5 means each wait is the
   * initial interval plus half the time already waited).
   * @default 1.5
   */
  backoff?: number;
}

/** Observations a heartbeat carries at most; see {@link trimHistory}. */
export const MAX_KEPT_OBSERVATIONS = 40;

/** Progress samples a rate needs: two, so no single reading decides. */
const MIN_RATE_SAMPLES = 2;
/**
 * When aiming at the estimated end, land this much (relative) after it rather than before… A
 * wider margin keeps an early estimate (readings close together give a rate a little fast) from
 * making the look land before the end, which then counts as overdue and backs off; a narrower
 * one sees the end sooner. 3.5 % (5 % before 0.6.0) sees a 10 s job's end about 0.05 s sooner
 * and still lands after the end in the simulated runs of `test/unit/tracker-sharing.test.ts`.
 */
const AIM_MARGIN = 0.035;
/** …but never more than this many initial intervals after it. */
const AIM_MARGIN_MAX_INTERVALS = 2;
/** The shortest wait there is: an aim at an end estimated this close is not worth a sooner look. */
const MIN_WAIT_MS = 100;
/** Consecutive estimates that must agree before the end is aimed at from afar. */
const STABLE_ESTIMATES = 2;
/** How far apart (relative to the time left) agreeing estimates may be, at least the initial interval. */
const AGREEMENT = 0.1;
/** An aim past the maximum interval waits at most this many times as long as the job was seen running. */
const LEAP = 10;

interface Resolved {
  initial: number;
  max: number;
  safety: number;
  growth: number;
}

function resolve(settings: PollSettings): Resolved {
  const initial = Math.max(0, settings.initialIntervalMs);
  return {
    initial,
    max: Math.max(initial, settings.maxIntervalMs),
    safety: settings.safety ?? 0.5,
    growth: (settings.backoff ?? 1.5) - 1,
  };
}

/** A progress value we can compute with: a finite percentage. */
function progressOf(o: PollObservation): number | undefined {
  const p = o.progress;
  return typeof p === 'number' && Number.isFinite(p) && p >= 0 && p <= 100 ? p : undefined;
}

/** The trailing observations that share the last one's status: the current phase. */
function currentPhase(history: readonly PollObservation[]): readonly PollObservation[] {
  const last = history[history.length - 1];
  let start = history.length - 1;
  while (start > 0 && history[start - 1].status === last.status) start -= 1;
  return history.slice(start);
}

/** Progress points per millisecond between two samples, if progress went up. */
function rateBetween(a: { at: number; p: number }, b: { at: number; p: number }): number | undefined {
  return b.at > a.at && b.p > a.p ? (b.p - a.p) / (b.at - a.at) : undefined;
}

/**
 * Estimated milliseconds from the last observation until the job ends (negative once it is
 * overdue), from the progress we saw while it ran: the faster of the average rate since we first
 * saw it running and the rate over the last few samples, so a job that speeds up after a slow
 * start is not overslept. The end is extrapolated from when the job first showed its current
 * progress, so coarse progress (or a backend that holds 99 % until done) still converges.
 * Undefined when the job is not running or its progress gives no rate we can trust.
 */
export function estimateRemainingMs(history: readonly PollObservation[]): number | undefined {
  if (history.length === 0) return undefined;
  const phase = currentPhase(history);
  if (phase[0].status !== 'running') return undefined;
  const samples = phase.flatMap((o) => {
    const p = progressOf(o);
    return p === undefined ? [] : [{ at: o.at, p }];
  });
  if (samples.length < MIN_RATE_SAMPLES) return undefined;
  const last = samples[samples.length - 1];
  let reached = samples.length - 1;
  while (reached > 0 && samples[reached - 1].p === last.p) reached -= 1;
  // Rates run up to now, so a stall slows them down and pushes the estimated end back.
  const overall = rateBetween(samples[0], last);
  if (overall === undefined) return undefined;
  const recent = rateBetween(samples[Math.max(0, reached - (MIN_RATE_SAMPLES - 1))], last) ?? 0;
  const end = samples[reached].at + (100 - last.p) / Math.max(overall, recent);
  return end - phase[phase.length - 1].at;
}

/**
 * How long the trailing observations have been "close to the end" by their own estimates, once
 * the job has outlived an end one of the earlier ones predicted: it ran longer than expected.
 * 0 when the latest estimate is not close, or no predicted end has passed yet (a job read again
 * before its end, e.g. by a listing for other jobs, is not late).
 */
function overdueMs(history: readonly PollObservation[], s: Resolved): number {
  const remainingAt = (n: number) => estimateRemainingMs(history.slice(0, n));
  const isClose = (n: number) => {
    const remaining = remainingAt(n);
    return remaining !== undefined && remaining * s.safety < s.initial;
  };
  let first = history.length;
  while (first > 0 && history[first - 1].status === 'running' && isClose(first)) first -= 1;
  const last = history[history.length - 1];
  for (let n = first + 1; n < history.length; n++) {
    if (history[n - 1].at + remainingAt(n)! <= last.at) return last.at - history[first].at;
  }
  return 0;
}

/**
 * Whether the last few estimates agree on when the job ends: then the estimate has proven
 * itself and one look just after that end is enough. They may differ by `AGREEMENT` of the
 * time left, or by the initial interval (the precision the user asked for), whichever is more.
 */
function estimatesAgree(history: readonly PollObservation[], s: Resolved): boolean {
  const ends: number[] = [];
  for (let n = history.length; n > 0 && ends.length < STABLE_ESTIMATES; n--) {
    if (history[n - 1].status !== 'running') return false;
    const remaining = estimateRemainingMs(history.slice(0, n));
    if (remaining === undefined) return false;
    ends.push(history[n - 1].at + remaining);
  }
  if (ends.length < STABLE_ESTIMATES || !progressMoved(history)) return false;
  const left = ends[0] - history[history.length - 1].at;
  return Math.max(...ends) - Math.min(...ends) <= Math.max(s.initial, AGREEMENT * left);
}

/** Whether the last look saw more progress than the one before: a stalled job is not leapt over. */
function progressMoved(history: readonly PollObservation[]): boolean {
  if (history.length < 2) return false;
  const [before, last] = [progressOf(history[history.length - 2]), progressOf(history[history.length - 1])];
  return before !== undefined && last !== undefined && last > before;
}

/** How long the job has been seen in its current status, from the first look that saw it so. */
function phaseSpan(history: readonly PollObservation[]): number {
  const phase = currentPhase(history);
  return phase[phase.length - 1].at - phase[0].at;
}

/** The next look at a job: after how long, and whether it is aimed just past an estimated end. */
export interface NextLook {
  delayMs: number;
  /** The look is meant to see the end: a look at this job alone also reads what its download needs. */
  aimedAtEnd: boolean;
}

/**
 * Milliseconds to wait after the last observation before polling again; with no observation
 * yet, the initial interval (the caller has just seen the status it waits on).
 */
export function nextPollDelay(history: readonly PollObservation[], settings: PollSettings): number {
  return nextLook(history, settings).delayMs;
}

/** {@link nextPollDelay}, and whether that look is aimed just past the estimated end. */
export function nextLook(history: readonly PollObservation[], settings: PollSettings): NextLook {
  const s = resolve(settings);
  const guess = (ms: number): NextLook => ({
    delayMs: Math.round(Math.min(s.max, Math.max(s.initial, ms))),
    aimedAtEnd: false,
  });
  const atEnd = (ms: number): NextLook => ({ delayMs: Math.round(ms), aimedAtEnd: true });
  if (history.length === 0) return guess(s.initial);
  const phase = currentPhase(history);
  const last = phase[phase.length - 1];
  // Waiting with nothing to go on: each wait is the initial one plus a share of what we waited.
  const backoff = (waited: number) => s.initial + s.growth * waited;

  const remaining = estimateRemainingMs(history);
  if (remaining === undefined) return guess(backoff(last.at - phase[0].at));
  // A job that outlives its estimate (it slowed down, or its progress stopped) gets backoff.
  const overdue = overdueMs(history, s);
  const aimed = remaining + Math.min(remaining * AIM_MARGIN, s.initial * AIM_MARGIN_MAX_INTERVALS);
  if (overdue > 0) return guess(Math.max(aimed, backoff(overdue)));
  // The end is near: one look just after it, however soon that is.
  if (remaining * s.safety < s.initial) return atEnd(Math.min(s.max, Math.max(MIN_WAIT_MS, aimed)));
  // The estimates agree: one look just after the end, however far that is (within reason).
  if (estimatesAgree(history, s))
    return atEnd(Math.max(s.initial, Math.min(aimed, Math.max(s.max, LEAP * phaseSpan(history)))));
  // Otherwise close in on it.
  return guess(remaining * s.safety);
}

/**
 * Keeps a history small enough for heartbeat details: the first observation of the current
 * phase (the anchor of the average rate) and the latest ones. Older phases are dropped.
 */
export function trimHistory(history: readonly PollObservation[], keep = MAX_KEPT_OBSERVATIONS): PollObservation[] {
  if (history.length === 0) return [];
  const phase = currentPhase(history);
  if (phase.length <= keep) return [...phase];
  return [phase[0], ...phase.slice(phase.length - (keep - 1))];
}

const STATUSES: ReadonlySet<string> = new Set<OpenEOJobStatus>([
  'created',
  'queued',
  'running',
  'canceled',
  'finished',
  'error',
]);

/**
 * Observations read back from an earlier attempt's heartbeat details, or none when the details
 * are missing or not what this module wrote (details are data from outside this attempt).
 */
export function observationsFrom(details: unknown): PollObservation[] {
  const list = (details as { observations?: unknown } | null | undefined)?.observations;
  if (!Array.isArray(list)) return [];
  const valid: PollObservation[] = [];
  for (const item of list as unknown[]) {
    const o = item as Partial<PollObservation> | null;
    if (
      !o ||
      typeof o.at !== 'number' ||
      !Number.isFinite(o.at) ||
      typeof o.status !== 'string' ||
      !STATUSES.has(o.status)
    )
      return [];
    valid.push(
      typeof o.progress === 'number'
        ? { at: o.at, status: o.status, progress: o.progress }
        : { at: o.at, status: o.status },
    );
  }
  // Out-of-order times would make every rate meaningless.
  return valid.every((o, i) => i === 0 || o.at >= valid[i - 1].at) ? valid : [];
}
