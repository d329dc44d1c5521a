import type { Scheduler } from "./clock.js";

/**
 * Resolves after `ms` on `scheduler`'s timers (the client's clock), or as soon as one of `signals` aborts (it never rejects): waits that a wake-up or a
 * shutdown must be able to cut short. Takes several signals itself, rather than one from `AbortSignal.any`,
 * which on Node 20 leaves an entry behind on each long-lived signal it is given for every call; this
 * removes its listeners when it resolves.
 */
export function sleep(scheduler: Scheduler, ms: number, ...signals: AbortSignal[]): Promise<void> {
  for (const signal of signals) if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      scheduler.clearTimeout(timer);
      for (const signal of signals) signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = scheduler.setTimeout(done, ms);
    for (const signal of signals) signal.addEventListener("abort", done, { once: true });
  });
}

/**
 * Makes `controller` abort, with `signal`'s reason, when `signal` does (at once if it already has); returns
 * the function that undoes the link. For a signal that outlives many requests, instead of
 * `AbortSignal.any`, which on Node 20 leaves an entry behind on it for every call.
 */
export function abortWhen(controller: AbortController, signal: AbortSignal): () => void {
  const abort = () => controller.abort(signal.reason);
  if (signal.aborted) {
    abort();
    return () => {};
  }
  signal.addEventListener("abort", abort, { once: true });
  return () => signal.removeEventListener("abort", abort);
}

/** Exponential backoff with ±20% jitter: `initialMs · 2^(attempt-1)`, at most `maxMs`. `attempt` starts at 1. */
export function backoffMs(attempt: number, initialMs: number, maxMs: number): number {
  const base = Math.min(maxMs, initialMs * 2 ** Math.min(30, Math.max(0, attempt - 1)));
  return Math.round(base * (0.8 + Math.random() * 0.4));
}
