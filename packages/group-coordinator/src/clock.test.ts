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
