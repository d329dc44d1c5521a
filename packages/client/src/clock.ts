/**
 * A source of time in milliseconds (any epoch; only differences matter). The same structural shape as
 * `Clock` in `@minikafka/group-coordinator` and `@minikafka/log-store`, so one clock object fits them all.
 */
export interface Clock {
  /** The current time in milliseconds. */
  now(): number;
}

/**
 * Schedules callbacks, in the shape of the global `setTimeout`/`clearTimeout` (structurally the same as
 * `Scheduler` in `@minikafka/group-coordinator`, whose `ManualClock` implements both).
 */
export interface Scheduler {
  /** Calls `callback` once, `ms` milliseconds from now; returns a handle for `clearTimeout`. */
  setTimeout(callback: () => void, ms: number): unknown;
  /** Cancels a callback scheduled by `setTimeout` (a handle already fired or cancelled is ignored). */
  clearTimeout(handle: unknown): void;
}

/** What the client's `clock` option takes: time and timers. */
export type ClientClock = Clock & Scheduler;

/** The runtime's own: `Date.now()` and the global timers. */
export const systemClock: ClientClock = Object.freeze({
  now: (): number => Date.now(),
  setTimeout: (callback: () => void, ms: number): unknown => setTimeout(callback, ms),
  clearTimeout: (handle: unknown): void => clearTimeout(handle as ReturnType<typeof setTimeout>),
});
