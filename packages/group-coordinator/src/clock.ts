import { CoordinatorError } from "./errors.js";

/** A source of time. `now()` returns milliseconds (any epoch; only differences matter to the coordinator). */
export interface Clock {
  /** The current time in milliseconds. */
  now(): number;
}

/** The wall clock: `Date.now()`. */
export const systemClock: Clock = Object.freeze({ now: (): number => Date.now() });

/**
 * A clock that moves only when told to: for deterministic tests of code that uses the coordinator
 * (session timeouts become a matter of `clock.advance(45_000)`, never of sleeping).
 */
export class ManualClock implements Clock {
  #now: number;

  /**
   * @param startMs - the initial time in milliseconds (default 0).
   * @throws CoordinatorError `INVALID_REQUEST` if `startMs` is not a finite number.
   */
  constructor(startMs = 0) {
    if (!Number.isFinite(startMs)) {
      throw new CoordinatorError("INVALID_REQUEST", `clock start ${String(startMs)} is not a finite number`);
    }
    this.#now = startMs;
  }

  /** The current time in milliseconds. */
  now(): number {
    return this.#now;
  }

  /**
   * Moves the clock forward by `ms` milliseconds and returns the new time.
   * @throws CoordinatorError `INVALID_REQUEST` if `ms` is negative or not finite.
   */
  advance(ms: number): number {
    if (!Number.isFinite(ms) || ms < 0) {
      throw new CoordinatorError("INVALID_REQUEST", `cannot advance the clock by ${String(ms)} ms`);
    }
    this.#now += ms;
    return this.#now;
  }

  /**
   * Sets the clock to `ms`, which must not be earlier than the current time.
   * @throws CoordinatorError `INVALID_REQUEST` if `ms` is earlier than now or not finite.
   */
  set(ms: number): void {
    if (!Number.isFinite(ms) || ms < this.#now) {
      throw new CoordinatorError("INVALID_REQUEST", `cannot set the clock back from ${this.#now} to ${String(ms)}`);
    }
    this.#now = ms;
  }
}
