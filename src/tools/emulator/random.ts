/**
 * A small deterministic PRNG (xorshift32) whose whole state is one number,
 * so fault rules can be replayed from a seed and resumed from a state file.
 */

/** Golden-ratio constant used to spread seeds; also the replacement for the stuck state 0. */
const SPREAD = 0x9e3779b9;

/** Reproducible pseudo-random numbers in [0, 1). */
export class SeededRandom {
  private current: number;

  /**
   * @param seed any integer; `salt` derives independent streams from one seed
   * @param salt stream number, e.g. a rule's index
   * @default salt 0
   */
  constructor(seed: number, salt = 0) {
    const mixed = (Math.trunc(seed) + Math.imul(salt, SPREAD)) >>> 0;
    // xorshift32 is stuck at 0 forever when its state is 0, so map 0 to a fixed non-zero state.
    this.current = mixed || SPREAD;
  }

  /** The next number in [0, 1). */
  next(): number {
    let state = this.current;
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    this.current = state;
    return state / 0x1_0000_0000;
  }

  /** The internal state, to persist. */
  get state(): number {
    return this.current;
  }

  /** Restores a persisted state (0 is not a valid state and is ignored). */
  set state(value: number) {
    if (Number.isInteger(value) && value > 0 && value <= 0xffff_ffff) this.current = value;
  }
}
