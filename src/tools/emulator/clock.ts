/**
 * The emulator's time source. Job phases, token and link expiry, outage
 * windows and log timestamps all read this clock, so a test can run them on
 * a {@link ManualClock} instead of sleeping.
 */

/** Time source and timers. */
export interface Clock {
  /** Current time in epoch milliseconds. */
  now(): number;
  /** Calls `callback` once, `ms` milliseconds from now; returns a handle for `clearTimeout`. */
  setTimeout(callback: () => void, ms: number): unknown;
  /** Cancels a timer that has not fired yet. */
  clearTimeout(handle: unknown): void;
}

/** The real clock. */
export const SYSTEM_CLOCK: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

interface PendingTimer {
  id: number;
  at: number;
  callback: () => void;
}

/**
 * A clock that only moves when told to. Timers fire during {@link advance},
 * in due-time order, each seeing `now()` equal to its due time.
 */
export class ManualClock implements Clock {
  private current: number;
  private nextId = 1;
  private timers: PendingTimer[] = [];

  /**
   * @param start initial time in epoch milliseconds
   * @default start 2024-01-01T00:00:00Z (a fixed date keeps test output stable)
   */
  constructor(start = Date.UTC(2024, 0, 1)) {
    this.current = start;
  }

  // Arrow properties: the emulator passes `clock.now` around as a plain function.
  readonly now = (): number => this.current;

  readonly setTimeout = (callback: () => void, ms: number): unknown => {
    const timer = { id: this.nextId++, at: this.current + Math.max(0, ms), callback };
    this.timers.push(timer);
    return timer.id;
  };

  readonly clearTimeout = (handle: unknown): void => {
    this.timers = this.timers.filter((timer) => timer.id !== handle);
  };

  /** Number of timers not yet fired. */
  get pending(): number {
    return this.timers.length;
  }

  /** Moves time forward by `ms`, firing every timer that falls due (including ones set meanwhile). */
  advance(ms: number): void {
    const target = this.current + Math.max(0, ms);
    for (;;) {
      // Stable order for equal due times: first set, first fired.
      const due = this.timers.filter((t) => t.at <= target).sort((a, b) => a.at - b.at || a.id - b.id)[0];
      if (!due) break;
      this.timers = this.timers.filter((t) => t !== due);
      this.current = Math.max(this.current, due.at);
      due.callback();
    }
    this.current = target;
  }
}
