/**
 * When to look at an openEO job again. Pure functions only (no clock, no I/O), so the policy is
 * unit-tested with a simulated clock and the activity merely applies it.
 *
 * The policy, in short:
 * - without a usable progress rate (created, queued, or a backend that reports none) a job seen
 *   in its status for t seconds is looked at again after half of t, never sooner than the initial
 *   interval (1 s by default) nor later than the maximum: looks start soon, so a short job's end
 *   is not missed, and space out as the job ages, so a long one costs few;
 * - while running with a progress rate, it sleeps a fraction of the estimated remaining time, and
 *   aims just past the estimated end once that is near: then the wait may be shorter than the
 *   initial interval (once per estimated end: a job still running after it is overdue), since the
 *   look that sees the end is the one that matters. One reading gives a rate when the tracker
 *   knows when the job started running (the backend's `updated`, the status change the spec says
 *   it is, or a look just before that saw it queued); otherwise two readings do;
 * - once two precise estimates agree on the end (or one agrees with how long the backend's other
 *   jobs ran, see {@link Siblings}), the next look is just past it even when that is further away
 *   than the maximum interval, but never further than ten times as long as the job has run: a
 *   10-minute job is looked at four times, twice once its siblings are known;
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
  /**
   * Worker clock (ms) when the job entered this status, by the backend's `updated` (its last
   * status change): kept on the first observation of a status only, where it anchors the job's
   * age. Backends whose `updated` means something else are caught by the bounds of
   * {@link phaseStart}.
   */
  since?: number;
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
   * Share of a job's age in its status to wait when nothing tells us more: 0.5 looks at a job
   * queued for a minute again after 30 s (within the initial and maximum intervals).
   * @default 0.5
   */
  ageShare?: number;
  /** How long jobs of the same backend ran lately, as the tracker saw them end; see {@link Siblings}. */
  siblings?: Siblings;
  /**
   * Whether the backend was seen to report progress in fractions of a percent (the emulator gives
   * tenths): then a reading of 10 means 10.0, not anything from 9.5 to 10.5.
   */
  fractionalProgress?: boolean;
  /**
   * Whether another job waits to start when this one ends (a tile lined up behind it): then an
   * end left open by seconds is worth a look more to see it at once.
   */
  slotAwaited?: boolean;
}

/**
 * The running times of jobs of the same backend that the tracker saw finish lately. A batch's
 * jobs are alike (one process, tiles of one size), so they say what to expect of the next one:
 * its first look comes no sooner than a tenth of the shortest of them (a job a tenth as long as
 * its siblings is seen at most that late), and an estimate of its end that agrees with them
 * needs no second estimate before the look just after that end.
 */
export interface Siblings {
  shortestMs: number;
  longestMs: number;
}

/** Share of the shortest sibling's running time before a job's first look. */
const SIBLING_FIRST_LOOK = 0.1;

/** Observations a heartbeat carries at most; see {@link trimHistory}. */
export const MAX_KEPT_OBSERVATIONS = 40;

/** Progress samples a rate needs: two (the job's start, at 0 %, counts as one when it is known). */
const MIN_RATE_SAMPLES = 2;
/**
 * When aiming at the estimated end, land this much after it rather than before: a look that
 * lands early counts the job as overdue and waits at least the initial interval for the next.
 * The margin is what the estimate may be off by at most (its readings' rounding, an uncertain
 * start), plus 0.5 % of the time left (a job's progress is never quite linear) but at least
 * 75 ms (a backend's job ends a moment after its progress says, and the look's own request
 * takes time)…
 */
const AIM_MARGIN_SHARE = 0.005;
const AIM_MARGIN_MIN_MS = 75;
/** …where the share of the time left counts for at most this many initial intervals. */
const AIM_MARGIN_MAX_INTERVALS = 2;
/** The shortest wait there is: an aim at an end estimated this close is not worth a sooner look. */
const MIN_WAIT_MS = 100;
/** Estimates compared before the end is aimed at from afar: the latest and the one before it. */
const STABLE_ESTIMATES = 2;
/** How precise (relative to the time left) an estimate must be to leap to its end, at least the initial interval. */
const AGREEMENT = 0.1;
/** How rough (relative to the time it had left) the estimate before it may be and still confirm it. */
const ROUGH_AGREEMENT = 0.3;
/** An aim past the maximum interval waits at most this many times as long as the job has run. */
const LEAP = 10;

interface Resolved {
  initial: number;
  max: number;
  safety: number;
  growth: number;
  fractional: boolean;
}

function resolve(settings: PollSettings): Resolved {
  const initial = Math.max(0, settings.initialIntervalMs);
  return {
    initial,
    max: Math.max(initial, settings.maxIntervalMs),
    safety: settings.safety ?? 0.5,
    growth: settings.ageShare ?? 0.5,
    fractional: settings.fractionalProgress ?? false,
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

/** The last look that saw the job in another status than its current one, if any is kept. */
function lookBefore(
  history: readonly PollObservation[],
  phase: readonly PollObservation[],
): PollObservation | undefined {
  return history.length > phase.length ? history[history.length - phase.length - 1] : undefined;
}

/**
 * When the job entered its current status, as well as the looks tell: the backend's own time
 * (`since`) held between the last look that saw another status and the first that saw this
 * one, else that last other look (the job cannot have changed before it). Undefined when no
 * look saw another status and the backend gave no time.
 */
export function phaseStart(history: readonly PollObservation[]): number | undefined {
  if (history.length === 0) return undefined;
  const phase = currentPhase(history);
  const first = phase[0];
  const before = lookBefore(history, phase);
  if (first.since !== undefined && Number.isFinite(first.since))
    return Math.min(first.at, Math.max(before?.at ?? -Infinity, first.since));
  return before?.at;
}

/** Progress points per millisecond between two samples, if progress went up. */
function rateBetween(a: { at: number; p: number }, b: { at: number; p: number }): number | undefined {
  return b.at > a.at && b.p > a.p ? (b.p - a.p) / (b.at - a.at) : undefined;
}

/** An estimate of the job's end: ms from the last observation (negative once overdue), and how sure. */
interface EndEstimate {
  remaining: number;
  /** ± ms the end may be off by from the progress values' rounding and an uncertain start alone. */
  uncertainty: number;
}

/**
 * Half the step a backend rounds progress to: 0.05 once it reported a fraction (the emulator
 * gives tenths); 5 or 2.5 when three readings or more were all multiples of 10 or 5 (a backend
 * that counts stages); else 0.5 (whole percents).
 */
function roundingOf(samples: readonly { p: number }[], fractional = false): number {
  if (fractional || samples.some((x) => !Number.isInteger(x.p))) return 0.05;
  const moved = samples.filter((x) => x.p > 0);
  for (const step of [10, 5]) if (moved.length >= 3 && moved.every((x) => x.p % step === 0)) return step / 2;
  return 0.5;
}

/**
 * The job's end from the progress we saw while it ran: the average rate since it started running
 * (0 % then, when {@link phaseStart} knows when that was; else since we first saw it running), or
 * the rate over the last few samples when that is faster by more than the rounding of progress
 * explains, so a job that speeds up after a slow start is not overslept. The end is extrapolated
 * from when the job first showed its current progress, so coarse progress (or a backend that
 * holds 99 % until done) still converges.
 * Undefined when the job is not running or its progress gives no rate we can trust.
 */
function estimateEnd(history: readonly PollObservation[], fractional = false): EndEstimate | undefined {
  if (history.length === 0) return undefined;
  const phase = currentPhase(history);
  if (phase[0].status !== 'running') return undefined;
  const samples: { at: number; p: number; start?: true }[] = phase.flatMap((o) => {
    const p = progressOf(o);
    return p === undefined ? [] : [{ at: o.at, p }];
  });
  const rounding = roundingOf(samples, fractional);
  const start = phaseStart(history);
  const startKnown = phase[0].since !== undefined;
  if (start !== undefined && samples.length > 0 && start < samples[0].at)
    samples.unshift({ at: start, p: 0, start: true });
  if (samples.length < MIN_RATE_SAMPLES) return undefined;
  const last = samples[samples.length - 1];
  let reached = samples.length - 1;
  while (reached > 0 && samples[reached - 1].p === last.p) reached -= 1;
  // Rates run up to now, so a stall slows them down and pushes the estimated end back.
  const overall = rateBetween(samples[0], last);
  if (overall === undefined) return undefined;
  // How far off a rate since `from` may be: each rounded reading, and a start only known to lie between two looks.
  const shareOf = (from: (typeof samples)[number]) =>
    ((from.start ? 1 : 2) * rounding) / (last.p - from.p) +
    (from.start && !startKnown ? (phase[0].at - from.at) / (last.at - from.at) : 0);
  const recentFrom = samples[Math.max(0, reached - (MIN_RATE_SAMPLES - 1))];
  const recent = rateBetween(recentFrom, last) ?? 0;
  // The recent rate, when it is faster beyond what rounding explains: the job sped up.
  const spedUp = recent * (1 - shareOf(recentFrom)) > overall;
  const from = spedUp ? recentFrom : samples[0];
  const end = samples[reached].at + (100 - last.p) / (spedUp ? recent : overall);
  // A rate off by a share puts the end off by that share of the whole span it is drawn over.
  return { remaining: end - phase[phase.length - 1].at, uncertainty: (end - from.at) * shareOf(from) };
}

/**
 * Estimated milliseconds from the last observation until the job ends (negative once it is
 * overdue); see {@link estimateEnd}.
 */
export function estimateRemainingMs(history: readonly PollObservation[]): number | undefined {
  return estimateEnd(history)?.remaining;
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
 * Whether the last estimates agree on when the job ends: then the estimate has proven itself and
 * one look just after that end is enough. The latest must be precise to `AGREEMENT` of the time
 * left, or to the initial interval (the precision the user asked for), whichever is more. It
 * agrees with the job's siblings if the job would run about as long as they did, or with the
 * estimate before it if the two differ by no more than that plus what each leaves open: a first
 * reading moments after the start (0.2 % of a 10-minute job, good to a quarter) that a reading a
 * minute later falls within shows the job kept its pace.
 */
function estimatesAgree(history: readonly PollObservation[], s: Resolved, siblings?: Siblings): boolean {
  const ends: { at: number; uncertainty: number; left: number }[] = [];
  for (let n = history.length; n > 0 && ends.length < STABLE_ESTIMATES; n--) {
    if (history[n - 1].status !== 'running') break;
    const estimate = estimateEnd(history.slice(0, n), s.fractional);
    if (estimate === undefined) break;
    const { remaining, uncertainty } = estimate;
    ends.push({ at: history[n - 1].at + remaining, uncertainty, left: remaining });
  }
  const [latest, earlier] = ends;
  if (latest === undefined) return false;
  const tolerance = Math.max(s.initial, AGREEMENT * latest.left);
  if (latest.uncertainty > tolerance) return false;
  if (agreesWithSiblings(history, latest.at, tolerance, siblings)) return true;
  // An earlier estimate, however rough (but not wider than 30 % of the time it had left), that the
  // latest falls within: the job kept the pace it had then.
  if (earlier === undefined || earlier.uncertainty > ROUGH_AGREEMENT * earlier.left || !progressMoved(history))
    return false;
  return Math.abs(latest.at - earlier.at) <= tolerance + latest.uncertainty + earlier.uncertainty;
}

/** Whether a job that started running when `phaseStart` says would, ending at `end`, run as long as its siblings. */
function agreesWithSiblings(
  history: readonly PollObservation[],
  end: number,
  tolerance: number,
  siblings: Siblings | undefined,
): boolean {
  const start = phaseStart(history);
  if (siblings === undefined || start === undefined) return false;
  const runs = end - start;
  return runs >= siblings.shortestMs - tolerance && runs <= siblings.longestMs + tolerance;
}

/** Whether the last look saw more progress than the one before: a stalled job is not leapt over. */
function progressMoved(history: readonly PollObservation[]): boolean {
  if (history.length < 2) return false;
  const [before, last] = [progressOf(history[history.length - 2]), progressOf(history[history.length - 1])];
  return before !== undefined && last !== undefined && last > before;
}

/** How long the job has been in its current status: since it began, if known, else since the first look saw it. */
function phaseSpan(history: readonly PollObservation[]): number {
  const phase = currentPhase(history);
  return phase[phase.length - 1].at - (phaseStart(history) ?? phase[0].at);
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
  // A job like its siblings cannot end much sooner than they did.
  const notBefore = SIBLING_FIRST_LOOK * (settings.siblings?.shortestMs ?? 0);
  if (history.length === 0) return guess(Math.max(s.initial, notBefore));
  const phase = currentPhase(history);
  const last = phase[phase.length - 1];
  // Waiting with nothing to go on: a share of how long the job has been in its status.
  const backoff = (age: number) => s.growth * age;

  const estimate = estimateEnd(history, s.fractional);
  if (estimate === undefined) {
    const age = last.at - (phaseStart(history) ?? phase[0].at);
    return guess(Math.max(backoff(age), last.status === 'running' ? 0 : notBefore));
  }
  const { remaining } = estimate;
  // A job that outlives its estimate (it slowed down, or its progress stopped) gets backoff.
  const overdue = overdueMs(history, s);
  const window = endWindow(history, estimate, settings.siblings);
  // Siblings' running times are measured, not extrapolated: no allowance for uneven progress there.
  const slack = window.fromSiblings
    ? AIM_MARGIN_MIN_MS
    : Math.max(AIM_MARGIN_MIN_MS, Math.min(AIM_MARGIN_SHARE * remaining, s.initial * AIM_MARGIN_MAX_INTERVALS));
  const aimed = window.latest + slack;
  if (overdue > 0) return guess(Math.max(aimed, backoff(overdue)));
  // Another job waits for this one's slot, and the end is open by more than the initial interval:
  // one look just before the earliest end reads progress near 100 %, which pins the end down.
  const aim =
    settings.slotAwaited && window.latest - window.earliest > s.initial && window.earliest - slack > MIN_WAIT_MS
      ? window.earliest - slack
      : aimed;
  // The end is near: one look just after it, however soon that is.
  if (remaining * s.safety < s.initial) return atEnd(Math.min(s.max, Math.max(MIN_WAIT_MS, aim)));
  // The estimates agree: one look just after the end, however far that is (within reason).
  if (estimatesAgree(history, s, settings.siblings))
    return atEnd(Math.max(s.initial, Math.min(aim, Math.max(s.max, LEAP * phaseSpan(history)))));
  // Otherwise close in on it.
  return guess(remaining * s.safety);
}

/** When the job ends at the earliest and the latest, in ms from the last observation. */
interface EndWindow {
  earliest: number;
  latest: number;
  /** Narrowed by the running times of the job's siblings. */
  fromSiblings: boolean;
}

/**
 * The end as the estimate leaves it open, narrowed to the running times of the job's siblings
 * where the two overlap: a batch of 10-minute jobs whose progress gives each end to within 3 s
 * (tenths of a percent read after a minute) ended within a few milliseconds of each other.
 */
function endWindow(history: readonly PollObservation[], estimate: EndEstimate, siblings?: Siblings): EndWindow {
  const own = {
    earliest: estimate.remaining - estimate.uncertainty,
    latest: estimate.remaining + estimate.uncertainty,
    fromSiblings: false,
  };
  // Only a start the backend gave is exact enough to measure against them.
  const start = currentPhase(history)[0].since === undefined ? undefined : phaseStart(history);
  if (siblings === undefined || start === undefined) return own;
  const now = history[history.length - 1].at;
  const earliest = Math.max(own.earliest, start + siblings.shortestMs - now);
  const latest = Math.min(own.latest, start + siblings.longestMs - now);
  return earliest <= latest ? { earliest, latest, fromSiblings: true } : own;
}

/**
 * Keeps a history small enough for heartbeat details: the last look at the status before (the
 * earliest the current one can have begun), the first observation of the current phase (the
 * anchor of the average rate) and the latest ones. Older phases are dropped.
 */
export function trimHistory(history: readonly PollObservation[], keep = MAX_KEPT_OBSERVATIONS): PollObservation[] {
  if (history.length === 0) return [];
  const phase = currentPhase(history);
  const before = lookBefore(history, phase);
  const kept = before ? [before] : [];
  if (phase.length <= keep) return [...kept, ...phase];
  return [...kept, phase[0], ...phase.slice(phase.length - (keep - 1))];
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
    const kept: PollObservation = { at: o.at, status: o.status };
    if (typeof o.progress === 'number') kept.progress = o.progress;
    if (typeof o.since === 'number' && Number.isFinite(o.since)) kept.since = o.since;
    valid.push(kept);
  }
  // Out-of-order times would make every rate meaningless.
  return valid.every((o, i) => i === 0 || o.at >= valid[i - 1].at) ? valid : [];
}
