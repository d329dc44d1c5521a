import { CoordinatorError } from "./errors.js";

/**
 * A source of time. `now()` returns milliseconds (any epoch; only differences matter to the coordinator).
 * Every minikafka package that reads time takes this same structural shape (see `docs/ARCHITECTURE.md`).
 */
export interface Clock {
  /** The current time in milliseconds. */
  now(): number;
}

/**
 * Schedules callbacks, in the shape of the global `setTimeout`/`clearTimeout`: what packages that wait
 * (the client) take beside a {@link Clock}. The coordinator itself never schedules; {@link ManualClock}
 * implements it so that one fake clock drives every package in a test.
 */
export interface Scheduler {
  /** Calls `callback` once, `ms` milliseconds from now; returns a handle for `clearTimeout`. */
  setTimeout(callback: () => void, ms: number): unknown;
  /** Cancels a callback scheduled by `setTimeout` (a handle already fired or cancelled is ignored). */
  clearTimeout(handle: unknown): void;
}

/** The wall clock: `Date.now()`. */
export const systemClock: Clock = Object.freeze({ now: (): number => Date.now() });

interface ManualTimer {
  readonly id: number;
  readonly at: number;
  readonly callback: () => void;
}

/**
 * A clock that moves only when told to: for deterministic tests of code that uses the coordinator
 * (session timeouts become a matter of `clock.advance(45_000)`, never of sleeping), and of code that
 * schedules through it (the client's linger, backoffs, heartbeat intervals and long-poll pacing): timers
 * fire, in due order, only when `advance()` or `set()` reaches them, each with the clock set to its due time.
 * A callback that schedules a timer due within the same advance sees it fire in that advance; work that
 * continues after an `await` runs only once the caller yields, so await it between advances.
 */
export class ManualClock implements Clock, Scheduler {
  #now: number;
  #nextId = 1;
  #timers: ManualTimer[] = [];

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
   * Moves the clock forward by `ms` milliseconds, firing the timers due on the way, and returns the new time.
   * @throws CoordinatorError `INVALID_REQUEST` if `ms` is negative or not finite.
   */
  advance(ms: number): number {
    if (!Number.isFinite(ms) || ms < 0) {
      throw new CoordinatorError("INVALID_REQUEST", `cannot advance the clock by ${String(ms)} ms`);
    }
    this.#runUntil(this.#now + ms);
    return this.#now;
  }

  /**
   * Sets the clock to `ms`, which must not be earlier than the current time, firing the timers due on the way.
   * @throws CoordinatorError `INVALID_REQUEST` if `ms` is earlier than now or not finite.
   */
  set(ms: number): void {
    if (!Number.isFinite(ms) || ms < this.#now) {
      throw new CoordinatorError("INVALID_REQUEST", `cannot set the clock back from ${this.#now} to ${String(ms)}`);
    }
    this.#runUntil(ms);
  }

  /**
   * Schedules `callback` for `ms` from now (a negative or non-finite `ms` counts as 0, as in `setTimeout`);
   * it runs during the `advance()` or `set()` that reaches that time. Returns a handle for `clearTimeout`.
   */
  setTimeout(callback: () => void, ms: number): number {
    const delay = Number.isFinite(ms) && ms > 0 ? ms : 0;
    const timer: ManualTimer = { id: this.#nextId++, at: this.#now + delay, callback };
    // Kept sorted by due time, then by scheduling order (as timers of equal delay fire in Node).
    let i = this.#timers.length;
    while (i > 0 && this.#timers[i - 1]!.at > timer.at) i--;
    this.#timers.splice(i, 0, timer);
    return timer.id;
  }

  /** Cancels a timer scheduled by {@link ManualClock.setTimeout}; other values are ignored. */
  clearTimeout(handle: unknown): void {
    const i = this.#timers.findIndex((t) => t.id === handle);
    if (i >= 0) this.#timers.splice(i, 1);
  }

  /** How many timers are scheduled and not yet fired or cancelled. */
  pendingTimers(): number {
    return this.#timers.length;
  }

  #runUntil(target: number): void {
    while (this.#timers.length > 0 && this.#timers[0]!.at <= target) {
      const timer = this.#timers.shift()!;
      this.#now = Math.max(this.#now, timer.at);
      timer.callback();
    }
    this.#now = target;
  }
}
