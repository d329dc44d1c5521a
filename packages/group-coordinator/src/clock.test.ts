import { describe, expect, it } from "vitest";
import { ManualClock, systemClock } from "./clock.js";

describe("ManualClock", () => {
  it("starts where told and moves only when advanced or set", () => {
    const clock = new ManualClock(1_000);
    expect(clock.now()).toBe(1_000);
    expect(clock.advance(250)).toBe(1_250);
    expect(clock.now()).toBe(1_250);
    clock.set(5_000);
    expect(clock.now()).toBe(5_000);
    expect(new ManualClock().now()).toBe(0);
  });

  it("refuses to go backwards or to non-finite times", () => {
    const clock = new ManualClock(100);
    expect(() => clock.advance(-1)).toThrow(expect.objectContaining({ code: "INVALID_REQUEST", message: "cannot advance the clock by -1 ms" }));
    expect(() => clock.set(99)).toThrow(expect.objectContaining({ code: "INVALID_REQUEST", message: "cannot set the clock back from 100 to 99" }));
    expect(() => clock.advance(Number.POSITIVE_INFINITY)).toThrow(expect.objectContaining({ code: "INVALID_REQUEST" }));
    expect(() => new ManualClock(Number.NaN)).toThrow(expect.objectContaining({ code: "INVALID_REQUEST" }));
    expect(clock.now()).toBe(100);
  });
});

describe("systemClock", () => {
  it("reads Date.now()", () => {
    const before = Date.now();
    const now = systemClock.now();
    expect(now).toBeGreaterThanOrEqual(before);
    expect(now).toBeLessThanOrEqual(Date.now());
  });
});

describe("ManualClock timers", () => {
  it("fire in due order, then scheduling order, when advance() or set() reaches them, each at its due time", () => {
    const clock = new ManualClock(100);
    const fired: Array<[string, number]> = [];
    const log = (name: string) => () => void fired.push([name, clock.now()]);
    clock.setTimeout(log("b"), 20);
    clock.setTimeout(log("a"), 10);
    clock.setTimeout(log("b2"), 20);
    const cancelled = clock.setTimeout(log("never"), 5);
    clock.clearTimeout(cancelled);
    clock.clearTimeout("not a handle");
    expect(clock.pendingTimers()).toBe(3);
    clock.advance(9);
    expect(fired).toEqual([]);
    clock.advance(1);
    expect(fired).toEqual([["a", 110]]);
    clock.set(150);
    expect(fired).toEqual([
      ["a", 110],
      ["b", 120],
      ["b2", 120],
    ]);
    expect(clock.now()).toBe(150);
    expect(clock.pendingTimers()).toBe(0);
  });

  it("fires, in the same advance, a timer scheduled by a callback when it falls due within it", () => {
    const clock = new ManualClock();
    const fired: number[] = [];
    clock.setTimeout(() => {
      fired.push(clock.now());
      clock.setTimeout(() => fired.push(clock.now()), 30);
      clock.setTimeout(() => fired.push(clock.now()), 0);
    }, 10);
    clock.advance(50);
    expect(fired).toEqual([10, 10, 40]);
    clock.setTimeout(() => fired.push(clock.now()), Number.NaN); // counts as 0: fires on the next advance
    clock.advance(0);
    expect(fired).toEqual([10, 10, 40, 50]);
  });
});
