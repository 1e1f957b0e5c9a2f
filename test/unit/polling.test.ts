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
  trimHistory,
  type PollObservation,
  type PollSettings,
} from '../../activities/polling';
import type { OpenEOJobStatus } from '../../src/core/records';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
/** The spec's defaults: what users get. */
const DEFAULTS: PollSettings = { initialIntervalMs: 5 * SECOND, maxIntervalMs: 60 * SECOND };

/** What the backend says at a time (ms since the job started running). */
type Job = (t: number) => { status: OpenEOJobStatus; progress?: number };

/** A job that runs `durationMs` with linear progress, reported like the emulator does it. */
function linearJob(durationMs: number): Job {
  return (t) =>
    t >= durationMs
      ? { status: 'finished', progress: 100 }
      : { status: 'running', progress: Math.min(99, Math.round((t / durationMs) * 1000) / 10) };
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
    history.push({ at: t, ...job(t) });
    if (history[history.length - 1].status !== from) return { history, delays, seenAt: t };
  }
  throw new Error(`no status change within ${maxPolls} polls`);
}

/**
 * The bounds every schedule keeps: no wait under 100 ms; a wait under the initial interval only
 * right after one that was not (an aim at a near end, never two in a row); a wait over the
 * maximum only as a leap to an agreed end, at most ten times as long as the job was seen running.
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
      const seen = history[i - 1].at - history[first].at;
      assert.ok(d <= 10 * seen, `wait ${i}: ${d} ms, a leap over ten times the ${seen} ms the job was seen running`);
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
      assert.ok(late <= 15 * SECOND, `${duration} ms job seen ${late} ms late`);
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
    // Two to learn the rate, one to confirm it, one just after the end.
    assert.deepEqual(
      played.delays.slice(0, 3),
      [5000, 5000, 60_000],
      'the rate, then its confirmation a maximum interval later',
    );
    assert.ok(played.delays[3] > 8 * MINUTE, `then one leap (${played.delays[3]} ms)`);
    assert.ok(
      played.seenAt - 10 * MINUTE <= 2 * DEFAULTS.initialIntervalMs,
      `seen ${played.seenAt - 10 * MINUTE} ms late`,
    );
    // Whenever the job started before the first look.
    for (let before = 0; before < 60 * SECOND; before += 7 * SECOND) {
      const job = linearJob(10 * MINUTE);
      const late = play((t) => job(t + before), DEFAULTS);
      assert.ok(late.history.length <= 4, `started ${before} ms before the first look: ${late.history.length} polls`);
      assert.ok(
        late.seenAt + before - 10 * MINUTE <= 15 * SECOND,
        `started ${before} ms before: seen ${late.seenAt + before - 10 * MINUTE} ms late`,
      );
    }
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
    assert.ok(played.history.length <= 8, `${played.history.length} polls`);
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

  it('looks once just after a near end, sooner than the initial interval', () => {
    // An 8 s job first seen 1 s into its run: 2 readings 5 s apart give the rate, the end is 2 s away.
    const job = linearJob(8 * SECOND);
    const played = play((t) => job(t - 4 * SECOND), DEFAULTS);
    assert.deepEqual(
      played.history.map((o) => o.status),
      ['running', 'running', 'finished'],
    );
    assert.ok(
      played.delays[2] < DEFAULTS.initialIntervalMs,
      `the last wait (${played.delays[2]} ms) is shorter than the initial interval`,
    );
    assert.ok(played.seenAt - 12 * SECOND <= 500, `seen ${played.seenAt - 12 * SECOND} ms late`);
    assertWithinBounds(played, DEFAULTS);
  });

  it('sees the end within 25 s when progress only moves in 10 % steps', () => {
    const job: Job = (t) =>
      t >= 10 * MINUTE ? { status: 'finished' } : { status: 'running', progress: Math.floor(t / MINUTE) * 10 };
    const played = play(job, DEFAULTS);
    assert.ok(played.seenAt - 10 * MINUTE <= 25 * SECOND, `seen ${played.seenAt - 10 * MINUTE} ms late`);
    assertWithinBounds(played, DEFAULTS);
  });

  it('catches a 5 s job within about one initial interval with fast settings', () => {
    const settings = { initialIntervalMs: 500, maxIntervalMs: 5 * SECOND };
    const played = play(linearJob(5 * SECOND), settings);
    assert.ok(played.seenAt - 5 * SECOND <= 500, `seen ${played.seenAt - 5 * SECOND} ms late`);
    assert.ok(played.history.length <= 10, `${played.history.length} polls`);
  });

  it('backs off ×1.5 from the initial to the maximum interval when there is no progress', () => {
    for (const progress of [undefined, 0]) {
      const played = play(
        (t) => (t < 30 * MINUTE ? { status: 'queued', progress } : { status: 'running' }),
        DEFAULTS,
        'queued',
      );
      const [first, second, third] = played.delays;
      assert.deepEqual([first, second, third], [5000, 5000, 7500]);
      for (let i = 1; i < played.delays.length; i++)
        assert.ok(played.delays[i] >= played.delays[i - 1], 'never shrinks');
      assert.equal(played.delays[played.delays.length - 1], DEFAULTS.maxIntervalMs);
      assertWithinBounds(played, DEFAULTS);
      // 30 minutes at one poll a minute, plus the ramp up.
      assert.ok(played.history.length <= 30 + 10, `${played.history.length} polls`);
    }
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
    // At one poll a minute that is 20; the ramp-up after the missed estimate costs a few more.
    assert.ok(overdue.length <= 20 + 10, `${overdue.length} polls while overdue`);
    assert.ok(played.seenAt - 30 * MINUTE <= DEFAULTS.maxIntervalMs);
    assertWithinBounds(played, DEFAULTS);
  });

  it('catches a job that speeds up after a slow start within ten times the time it was seen before', () => {
    // 10 % in the first 9 minutes, the remaining 90 % in one more minute.
    const job: Job = (t) =>
      t >= 10 * MINUTE
        ? { status: 'finished' }
        : {
            status: 'running',
            progress: t < 9 * MINUTE ? (t / (9 * MINUTE)) * 10 : 10 + ((t - 9 * MINUTE) / MINUTE) * 90,
          };
    const played = play(job, DEFAULTS);
    // The slow start agrees with itself, so it is leapt over: the leap from the look at 70 s is
    // at most ten times the 65 s the job was seen running by then.
    assert.ok(played.seenAt <= 70 * SECOND + 10 * 65 * SECOND, `seen at ${played.seenAt} ms`);
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

  it('only uses observations of the current status', () => {
    const history: PollObservation[] = [
      { at: 0, status: 'queued', progress: 0 },
      { at: 1000, status: 'queued', progress: 0 },
      { at: 2000, status: 'running', progress: 10 },
    ];
    assert.equal(estimateRemainingMs(history), undefined);
    assert.equal(nextPollDelay(history, DEFAULTS), DEFAULTS.initialIntervalMs);
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

  it('reads back what it wrote, and nothing it did not', () => {
    const observations: PollObservation[] = [
      { at: 1, status: 'running', progress: 3 },
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
