import { getEventListeners } from "node:events";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { systemClock } from "./clock.js";
import { abortWhen, backoffMs, sleep } from "./sleep.js";

describe("sleep", () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  it("resolves after its time, or as soon as any of its signals aborts, and leaves no listener behind", async () => {
    const wake = new AbortController();
    const stop = new AbortController();
    let slept = false;
    const timed = sleep(systemClock, 100, wake.signal, stop.signal).then(() => (slept = true));
    await vi.advanceTimersByTimeAsync(99);
    expect(slept).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await timed;
    expect(slept).toBe(true);
    expect(getEventListeners(wake.signal, "abort")).toHaveLength(0);
    expect(getEventListeners(stop.signal, "abort")).toHaveLength(0);

    const cut = sleep(systemClock, 60_000, wake.signal, stop.signal);
    stop.abort();
    await cut; // resolves with no time passing
    expect(getEventListeners(wake.signal, "abort")).toHaveLength(0);
    expect(vi.getTimerCount()).toBe(0);
    await sleep(systemClock, 60_000, stop.signal); // already aborted
    let plain = false;
    const unsignalled = sleep(systemClock, 5).then(() => (plain = true));
    await vi.advanceTimersByTimeAsync(5);
    await unsignalled;
    expect(plain).toBe(true);
  });
});

describe("abortWhen", () => {
  it("aborts the controller with the signal's reason, at once if already aborted, and unlinks without a trace", () => {
    const source = new AbortController();
    const linked = new AbortController();
    abortWhen(linked, source.signal);
    const reason = new Error("stop");
    source.abort(reason);
    expect(linked.signal.reason).toBe(reason);

    const late = new AbortController();
    abortWhen(late, source.signal);
    expect(late.signal.reason).toBe(reason);

    const lifetime = new AbortController();
    const request = new AbortController();
    const unlink = abortWhen(request, lifetime.signal);
    expect(getEventListeners(lifetime.signal, "abort")).toHaveLength(1);
    unlink();
    expect(getEventListeners(lifetime.signal, "abort")).toHaveLength(0);
    lifetime.abort();
    expect(request.signal.aborted).toBe(false);
  });
});

describe("backoffMs", () => {
  it("doubles from the initial wait, stays within ±20%, and is capped", () => {
    for (let attempt = 1; attempt <= 40; attempt++) {
      const base = Math.min(1_000, 10 * 2 ** (attempt - 1));
      const ms = backoffMs(attempt, 10, 1_000);
      expect(ms).toBeGreaterThanOrEqual(Math.floor(base * 0.8));
      expect(ms).toBeLessThanOrEqual(Math.ceil(base * 1.2));
    }
  });
});
