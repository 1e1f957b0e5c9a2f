/**
 * The polling policy on a simulated clock: no timers, no server. Each scenario plays a job
 * against `nextPollDelay` the way the activity does (wait first, then look) and checks what a
 * user pays (requests) and gets (how soon the end is noticed).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  estimateRemainingMs,
  MAX_KEPT_OBSERVATIONS,
  nextPollDelay,
  observationsFrom,
  phaseStart,
  trimHistory,
  type PollObservation,
  type PollSettings,
} from '../../activities/polling';
import type { OpenEOJobStatus } from '../../src/core/records';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
/** The spec's defaults: what users get. */
const DEFAULTS: PollSettings = { initialIntervalMs: 1 * SECOND, maxIntervalMs: 60 * SECOND };

/**
 * What the backend says at a time (ms on the poller's clock): the status, its progress, and when
 * the job entered that status (`updated`, as the openEO API defines it), if the backend says.
 */
type Job = (t: number) => { status: OpenEOJobStatus; progress?: number; since?: number };

/**
 * A job that runs `durationMs` from `startedAt` with linear progress, reported like the emulator
 * does it: tenths of a percent, and the time of each status change.
 */
function linearJob(durationMs: number, startedAt = 0): Job {
  return (t) =>
    t >= startedAt + durationMs
      ? { status: 'finished', progress: 100, since: startedAt + durationMs }
      : {
          status: 'running',
          progress: Math.min(99, Math.round(((t - startedAt) / durationMs) * 1000) / 10),
          since: startedAt,
        };
}

/** The same job from a backend that does not say when its status changed. */
function withoutSince(job: Job): Job {
  return (t) => {
    const { since: _since, ...said } = job(t);
    return said;
  };
}

interface Played {
  history: PollObservation[];
  delays: number[];
  /** When the status change was seen. */
  seenAt: number;
}

/** Polls `job` from t = 0 until its status leaves `from`, with the activity's wait-first rhythm. */
function play(job: Job, settings: PollSettings, from: OpenEOJobStatus = 'running', maxPolls = 5000): Played {
  const history: PollObservation[] = [];
  const delays: number[] = [];
  let t = 0;
  for (let i = 0; i < maxPolls; i++) {
    const delay = nextPollDelay(trimHistory(history), settings);
    delays.push(delay);
    t += delay;
    const { since, ...said } = job(t);
    const changed = history[history.length - 1]?.status !== said.status;
    // As the tracker keeps it: the time of a status change on the first look that sees it.
    history.push({ at: t, ...said, ...(changed && since !== undefined ? { since } : {}) });
    if (history[history.length - 1].status !== from) return { history, delays, seenAt: t };
  }
  throw new Error(`no status change within ${maxPolls} polls`);
}

/**
 * The bounds every schedule keeps: no wait under 100 ms; a wait under the initial interval only
 * right after one that was not (an aim at a near end, never two in a row); a wait over the
 * maximum only as a leap to an agreed end, at most ten times as long as the job has run (since it
 * started, when the backend says, else since it was first seen running).
 */
function assertWithinBounds(played: Pick<Played, 'history' | 'delays'>, settings: PollSettings): void {
  const { history, delays } = played;
  delays.forEach((d, i) => {
    assert.ok(d >= 100, `${d} ms is below 100 ms`);
    if (d < settings.initialIntervalMs)
      assert.ok(
        i > 0 && delays[i - 1] >= settings.initialIntervalMs,
        `wait ${i}: ${d} ms, the second short wait in a row`,
      );
    if (d > settings.maxIntervalMs) {
      let first = i - 1;
      while (first > 0 && history[first - 1].status === history[i - 1].status) first -= 1;
      const ran = history[i - 1].at - (phaseStart(history.slice(0, i)) ?? history[first].at);
      assert.ok(d <= 10 * ran, `wait ${i}: ${d} ms, a leap over ten times the ${ran} ms the job ran`);
    }
  });
}

/** A small deterministic PRNG, so "random" tests fail the same way every time. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

describe('nextPollDelay', () => {
  it('polls a linear 10-minute job at most 4 times and sees the end within 15 s', () => {
    const played = play(linearJob(10 * MINUTE), DEFAULTS);
    assert.ok(played.history.length <= 4, `${played.history.length} status polls`);
    assert.ok(played.seenAt - 10 * MINUTE <= 15 * SECOND, `seen ${played.seenAt - 10 * MINUTE} ms late`);
    assertWithinBounds(played, DEFAULTS);
  });

  it('sees the end of linear jobs of any length soon, with polls bounded by the maximum interval', () => {
    for (const duration of [20 * SECOND, 2 * MINUTE, 10 * MINUTE, 60 * MINUTE, 6 * 60 * MINUTE]) {
      const played = play(linearJob(duration), DEFAULTS);
      const late = played.seenAt - duration;
      // The look lands past the end by what the rounding of progress leaves open, plus 0.5 % of
      // the time left: on a 6-hour job, about 3 minutes.
      assert.ok(late <= Math.max(15 * SECOND, duration / 100), `${duration} ms job seen ${late} ms late`);
      // Never more than one poll per maximum interval, plus a handful to find the end.
      assert.ok(
        played.history.length <= duration / DEFAULTS.maxIntervalMs + 12,
        `${duration} ms job: ${played.history.length} polls`,
      );
      assertWithinBounds(played, DEFAULTS);
    }
  });

  it('leaps to the end once successive estimates agree, past the maximum interval', () => {
    const played = play(linearJob(10 * MINUTE), DEFAULTS);
    // A first look soon after the start (0.2 %: an end good to a quarter), one a maximum interval
    // later that falls within it, one just after the end.
    assert.deepEqual(played.delays.slice(0, 2), [1000, 60_000], 'a first look, then the rate a maximum interval later');
    assert.ok(played.delays[2] > 8 * MINUTE, `then one leap (${played.delays[2]} ms)`);
    assert.equal(played.history.length, 3);
    assert.ok(played.seenAt - 10 * MINUTE <= 5 * SECOND, `seen ${played.seenAt - 10 * MINUTE} ms late`);
    // Whenever the job started before the first look (on a backend known to report tenths).
    for (let before = 0; before < 60 * SECOND; before += 7 * SECOND) {
      const late = play(linearJob(10 * MINUTE, -before), { ...DEFAULTS, fractionalProgress: true });
      assert.ok(late.history.length <= 4, `started ${before} ms before the first look: ${late.history.length} polls`);
      assert.ok(
        late.seenAt + before - 10 * MINUTE <= 15 * SECOND,
        `started ${before} ms before: seen ${late.seenAt + before - 10 * MINUTE} ms late`,
      );
    }
  });

  it('needs at most two looks more when the backend does not say when the job started', () => {
    const told = play(linearJob(10 * MINUTE), DEFAULTS);
    const untold = play(withoutSince(linearJob(10 * MINUTE)), DEFAULTS);
    assert.ok(untold.history.length <= told.history.length + 2, `${untold.history.length} polls`);
    assert.ok(untold.seenAt - 10 * MINUTE <= 15 * SECOND, `seen ${untold.seenAt - 10 * MINUTE} ms late`);
    assertWithinBounds(untold, DEFAULTS);
  });

  it('takes one estimate as enough when the job would run as long as its siblings did', () => {
    const siblings = { shortestMs: 10 * MINUTE - 3 * SECOND, longestMs: 10 * MINUTE + 2 * SECOND };
    const played = play(linearJob(10 * MINUTE), { ...DEFAULTS, siblings, fractionalProgress: true });
    // First look a tenth of the shortest sibling after the start, then one just after the end,
    // which the siblings' running times pin down closer than the job's progress could.
    assert.equal(played.delays[0], Math.round(siblings.shortestMs / 10));
    assert.equal(played.history.length, 2, `${played.history.length} polls`);
    assert.ok(played.seenAt - 10 * MINUTE <= 500, `seen ${played.seenAt - 10 * MINUTE} ms late`);
    // A job that runs twice as long as its siblings proves its estimate like any other.
    const longer = play(linearJob(20 * MINUTE), { ...DEFAULTS, siblings, fractionalProgress: true });
    assert.ok(longer.history.length >= 3, `${longer.history.length} polls`);
    assert.ok(longer.seenAt - 20 * MINUTE <= 10 * SECOND, `seen ${longer.seenAt - 20 * MINUTE} ms late`);
    assertWithinBounds(longer, DEFAULTS);
  });

  it('does not leap while the estimates disagree or progress stalls', () => {
    // The rate halves after 30 s: the estimates after the first minute disagree.
    const end = 1170 * SECOND;
    const slowing: Job = (t) =>
      t >= end
        ? { status: 'finished' }
        : { status: 'running', progress: t < 30 * SECOND ? t / 6000 : 5 + (t - 30 * SECOND) / 12_000 };
    const played = play(slowing, DEFAULTS);
    assert.ok(
      played.delays.slice(0, 4).every((d) => d <= DEFAULTS.maxIntervalMs),
      `no leap before the estimates agree: ${played.delays.slice(0, 4).join(', ')}`,
    );
    assert.ok(played.history.length <= 9, `${played.history.length} polls`);
    assert.ok(played.seenAt - end <= 15 * SECOND, `seen ${played.seenAt - end} ms late`);
    // Progress that stops: no leap from the look that saw it stop.
    const stalls: Job = (t) =>
      t >= end ? { status: 'finished' } : { status: 'running', progress: Math.min(20, t / 6000) };
    const stalled = play(stalls, DEFAULTS);
    stalled.history.forEach((o, i) => {
      if (i > 0 && o.progress === stalled.history[i - 1].progress && i + 1 < stalled.delays.length)
        assert.ok(stalled.delays[i + 1] <= DEFAULTS.maxIntervalMs, `a leap after poll ${i}, which saw no progress`);
    });
    assertWithinBounds(played, DEFAULTS);
  });

  it('looks once more, just before the end, when a lined-up job waits for the slot and the end is open by seconds', () => {
    const settings = { ...DEFAULTS, fractionalProgress: true };
    const alone = play(linearJob(10 * MINUTE), settings);
    const awaited = play(linearJob(10 * MINUTE), { ...settings, slotAwaited: true });
    assert.equal(alone.history.length, 3);
    assert.equal(awaited.history.length, 4);
    const [beforeEnd] = awaited.history.slice(-2);
    assert.equal(beforeEnd.status, 'running');
    assert.ok((beforeEnd.progress ?? 0) >= 98, `the look before the end saw ${beforeEnd.progress} %`);
    // Tenths of a percent read after a minute leave a 10-minute job's end open by ±3 s.
    assert.ok(alone.seenAt - 10 * MINUTE <= 6 * SECOND, `alone: seen ${alone.seenAt - 10 * MINUTE} ms late`);
    assert.ok(awaited.seenAt - 10 * MINUTE <= 500, `awaited: seen ${awaited.seenAt - 10 * MINUTE} ms late`);
    assertWithinBounds(awaited, settings);
    // A short job's end is pinned down without it.
    assert.equal(
      play(linearJob(10 * SECOND), { ...settings, slotAwaited: true }).history.length,
      play(linearJob(10 * SECOND), settings).history.length,
    );
  });

  it('looks once just after a near end, sooner than the initial interval', () => {
    // A 10 s job that started 8.5 s before the first look: it is at 95 %, half a second from its end.
    const played = play(linearJob(10 * SECOND, -8.5 * SECOND), DEFAULTS);
    assert.deepEqual(
      played.history.map((o) => o.status),
      ['running', 'finished'],
    );
    assert.ok(
      played.delays[1] < DEFAULTS.initialIntervalMs,
      `the last wait (${played.delays[1]} ms) is shorter than the initial interval`,
    );
    assert.ok(played.seenAt - 1.5 * SECOND <= 200, `seen ${played.seenAt - 1.5 * SECOND} ms late`);
    assertWithinBounds(played, DEFAULTS);
  });

  it('sees a 5 s job end within 0.2 s at the default settings, in three looks', () => {
    const played = play(linearJob(5 * SECOND), DEFAULTS);
    assert.ok(played.seenAt - 5 * SECOND <= 200, `seen ${played.seenAt - 5 * SECOND} ms late`);
    assert.ok(played.history.length <= 3, `${played.history.length} polls`);
    assertWithinBounds(played, DEFAULTS);
  });

  it('sees the end within 25 s when progress only moves in 10 % steps', () => {
    const job: Job = (t) =>
      t >= 10 * MINUTE ? { status: 'finished' } : { status: 'running', progress: Math.floor(t / MINUTE) * 10 };
    const played = play(job, DEFAULTS);
    assert.ok(played.seenAt - 10 * MINUTE <= 25 * SECOND, `seen ${played.seenAt - 10 * MINUTE} ms late`);
    // Steps of 10 leave each estimate open by minutes: no leap, a look a maximum interval apart.
    assert.ok(played.history.filter((o) => (o.progress ?? 0) > 0).length <= 11, `${played.history.length} polls`);
    assertWithinBounds(played, DEFAULTS);
  });

  it('catches a 5 s job within about one initial interval with fast settings', () => {
    const settings = { initialIntervalMs: 500, maxIntervalMs: 5 * SECOND };
    const played = play(linearJob(5 * SECOND), settings);
    assert.ok(played.seenAt - 5 * SECOND <= 500, `seen ${played.seenAt - 5 * SECOND} ms late`);
    assert.ok(played.history.length <= 10, `${played.history.length} polls`);
  });

  it('waits half the time the job has been queued, from the initial to the maximum interval', () => {
    for (const progress of [undefined, 0]) {
      const played = play(
        (t) => (t < 30 * MINUTE ? { status: 'queued', progress, since: 0 } : { status: 'running' }),
        DEFAULTS,
        'queued',
      );
      assert.deepEqual(played.delays.slice(0, 6), [1000, 1000, 1000, 1500, 2250, 3375]);
      for (let i = 1; i < played.delays.length; i++)
        assert.ok(played.delays[i] >= played.delays[i - 1], 'never shrinks');
      assert.equal(played.delays[played.delays.length - 1], DEFAULTS.maxIntervalMs);
      assertWithinBounds(played, DEFAULTS);
      // 30 minutes at one poll a minute, plus the ramp up.
      assert.ok(played.history.length <= 30 + 12, `${played.history.length} polls`);
    }
  });

  it('looks at a queued job no sooner than a tenth of its siblings ran', () => {
    const siblings = { shortestMs: 10 * MINUTE, longestMs: 12 * MINUTE };
    const played = play(
      (t) => (t < 5 * MINUTE ? { status: 'queued', since: 0 } : { status: 'running' }),
      { ...DEFAULTS, siblings },
      'queued',
    );
    assert.ok(
      played.delays.every((d) => d === MINUTE),
      `a minute apart: ${played.delays.join(', ')}`,
    );
  });

  it('treats a running job without progress like one without information', () => {
    const played = play((t) => (t < 10 * MINUTE ? { status: 'running' } : { status: 'finished' }), DEFAULTS);
    assert.equal(played.delays[played.delays.length - 1], DEFAULTS.maxIntervalMs);
    assertWithinBounds(played, DEFAULTS);
  });

  it('keeps its bounds, whatever the progress does', () => {
    const random = prng(42);
    for (const settings of [
      DEFAULTS,
      { initialIntervalMs: 500, maxIntervalMs: 5000 },
      { initialIntervalMs: 7000, maxIntervalMs: 7000 },
    ]) {
      for (let run = 0; run < 200; run++) {
        const history: PollObservation[] = [];
        const delays: number[] = [];
        let t = 0;
        let p = random() * 50;
        for (let i = 0; i < 60; i++) {
          const delay = nextPollDelay(history, settings);
          delays.push(delay);
          assertWithinBounds({ history, delays }, settings);
          t += delay;
          // Jumps, stalls, regressions, missing values and out-of-range values.
          const roll = random();
          p = roll < 0.1 ? p - 5 : roll < 0.4 ? p : p + random() * 20;
          const progress = roll > 0.95 ? undefined : roll > 0.93 ? 150 : Math.max(0, Math.min(100, p));
          history.push({ at: t, status: random() < 0.02 ? 'queued' : 'running', progress });
        }
      }
    }
  });

  it('waits longer and longer while progress is stuck mid-way, up to the maximum', () => {
    // 40 % after 4 minutes, then stuck for 20 minutes, then done.
    const job: Job = (t) =>
      t >= 24 * MINUTE ? { status: 'finished' } : { status: 'running', progress: Math.min(40, Math.round(t / 6000)) };
    const played = play(job, DEFAULTS);
    // A leap to the end the first 4 minutes predicted (10 minutes) may pass over the start of
    // the stall; from there on, about one poll a minute.
    const stuck = played.history.filter((o) => o.at > 11 * MINUTE);
    assert.ok(stuck.length <= 13 + 6, `${stuck.length} polls in 13 minutes of no progress`);
    assert.ok(stuck.length >= 13 - 1, `${stuck.length} polls in 13 minutes: too rare`);
    assertWithinBounds(played, DEFAULTS);
  });

  it('does not hammer a job stuck at 99 % long after its estimated end', () => {
    // Linear to 99 % in 10 minutes, then 99 % for another 20 minutes.
    const job: Job = (t) =>
      t >= 30 * MINUTE ? { status: 'finished' } : { status: 'running', progress: Math.min(99, Math.round(t / 6000)) };
    const played = play(job, DEFAULTS);
    const overdue = played.history.filter((o) => o.at > 10 * MINUTE);
    // At one poll a minute that is 20; the ramp-up from the initial interval after the missed
    // estimate costs about a dozen more.
    assert.ok(overdue.length <= 20 + 15, `${overdue.length} polls while overdue`);
    assert.ok(played.seenAt - 30 * MINUTE <= DEFAULTS.maxIntervalMs);
    assertWithinBounds(played, DEFAULTS);
  });

  it('catches a job that speeds up after a slow start within ten times the time it had run before', () => {
    // 10 % in the first 9 minutes, the remaining 90 % in one more minute.
    const job: Job = (t) =>
      t >= 10 * MINUTE
        ? { status: 'finished' }
        : {
            status: 'running',
            progress: t < 9 * MINUTE ? (t / (9 * MINUTE)) * 10 : 10 + ((t - 9 * MINUTE) / MINUTE) * 90,
          };
    const played = play(job, DEFAULTS);
    // The slow start agrees with itself, so it is leapt over: the leap is at most ten times as long
    // as the job had run by the look it leaps from.
    const leap = played.delays.indexOf(Math.max(...played.delays));
    const from = played.history[leap - 1].at;
    assert.ok(played.seenAt <= from + 10 * from, `seen at ${played.seenAt} ms, leapt from ${from} ms`);
    assertWithinBounds(played, DEFAULTS);
  });

  it('does not trust a single progress reading', () => {
    const one: PollObservation[] = [{ at: 0, status: 'running', progress: 50 }];
    assert.equal(estimateRemainingMs(one), undefined);
    const two: PollObservation[] = [...one, { at: 5000, status: 'running', progress: 90 }];
    assert.equal(estimateRemainingMs(two), 1250, 'two readings: 40 points in 5 s, 10 points left');
    const stalled: PollObservation[] = [...one, { at: 5000, status: 'running', progress: 50 }];
    assert.equal(estimateRemainingMs(stalled), undefined, 'no rate without progress');
  });

  it('takes the last look at another status as the earliest start, and no progress from it', () => {
    const history: PollObservation[] = [
      { at: 0, status: 'queued', progress: 5 },
      { at: 1000, status: 'queued', progress: 5 },
      { at: 2000, status: 'running', progress: 10 },
    ];
    assert.equal(phaseStart(history), 1000);
    // 10 points in at most a second: 9 seconds to go at the latest.
    assert.equal(estimateRemainingMs(history), 9000);
    // The backend's own time wins, held between the two looks.
    assert.equal(phaseStart([history[1], { ...history[2], since: 1500 }]), 1500);
    assert.equal(phaseStart([history[1], { ...history[2], since: 500 }]), 1000);
    assert.equal(phaseStart([history[1], { ...history[2], since: 2500 }]), 2000);
    assert.equal(phaseStart([history[2]]), undefined);
  });
});

describe('observation history for heartbeats', () => {
  it('keeps a bounded history that gives the same decisions', () => {
    // A job that never reports progress is looked at once a minute for hours.
    const played = play((t) => (t >= 3 * 60 * MINUTE ? { status: 'finished' } : { status: 'running' }), DEFAULTS);
    const running = played.history.slice(0, -1);
    const trimmed = trimHistory(running);
    assert.equal(trimmed.length, MAX_KEPT_OBSERVATIONS);
    assert.deepEqual(trimmed[0], running[0]);
    assert.deepEqual(trimmed[trimmed.length - 1], running[running.length - 1]);
    assert.equal(nextPollDelay(trimmed, DEFAULTS), nextPollDelay(running, DEFAULTS));
  });

  it('keeps the last look at the status before, the earliest the current one can have begun', () => {
    const history: PollObservation[] = [
      { at: 0, status: 'queued' },
      { at: 1000, status: 'queued' },
      ...Array.from({ length: 60 }, (_, i): PollObservation => ({ at: 2000 + i, status: 'running', progress: i })),
    ];
    const trimmed = trimHistory(history);
    assert.deepEqual(trimmed[0], history[1]);
    assert.deepEqual(trimmed[1], history[2], "the current status's first look");
    assert.equal(trimmed.length, MAX_KEPT_OBSERVATIONS + 1);
    assert.equal(phaseStart(trimmed), 1000);
    assert.equal(estimateRemainingMs(trimmed), estimateRemainingMs(history));
  });

  it('reads back what it wrote, and nothing it did not', () => {
    const observations: PollObservation[] = [
      { at: 1, status: 'running', progress: 3, since: 0 },
      { at: 2, status: 'running' },
    ];
    assert.deepEqual(observationsFrom(JSON.parse(JSON.stringify({ status: 'running', observations }))), observations);
    assert.deepEqual(observationsFrom(undefined), []);
    assert.deepEqual(observationsFrom({ status: 'running', progress: 5 }), []);
    assert.deepEqual(observationsFrom({ observations: [{ at: 'x', status: 'running' }] }), []);
    assert.deepEqual(observationsFrom({ observations: [{ at: 1, status: 'sleeping' }] }), []);
    assert.deepEqual(
      observationsFrom({
        observations: [
          { at: 2, status: 'running' },
          { at: 1, status: 'running' },
        ],
      }),
      [],
    );
  });
});
