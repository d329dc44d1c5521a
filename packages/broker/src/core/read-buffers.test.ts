import { describe, expect, it } from "vitest";
import { ReadBufferPool } from "./read-buffers.js";

describe("ReadBufferPool", () => {
  it("lends buffers for reads within its sizes, takes them back on release, and keeps at most maxIdle", () => {
    const pool = new ReadBufferPool({ bufferBytes: 1000, minReadBytes: 100, maxIdle: 2, idleMs: 1_000 });
    const a = pool.lease();
    expect([a.take(99), a.take(1001)]).toEqual([undefined, undefined]); // out of range: allocate
    const [x, y, z] = [a.take(100)!, a.take(1000)!, a.take(500)!];
    expect([x.length, new Set([x, y, z]).size, a.buffers, pool.allocated, pool.idle]).toEqual([1000, 3, 3, 3, 0]);
    // Not given back yet: another lease gets a buffer of its own.
    const b = pool.lease();
    const w = b.take(200)!;
    expect([x, y, z].includes(w)).toBe(false);
    a.release();
    a.release(); // idempotent
    expect(pool.idle).toBe(2); // the third is left to the garbage collector
    expect(a.take(200)).toBeUndefined(); // a released lease takes nothing more
    const c = pool.lease();
    const reused = [c.take(300)!, c.take(300)!];
    expect(reused.every((r) => [x, y, z].includes(r))).toBe(true);
    expect([pool.allocated, pool.idle]).toEqual([4, 0]);
    c.release();
    b.release();
    expect(pool.idle).toBe(2);
  });

  it("lets go of buffers idle for longer than idleMs", () => {
    let t = 0;
    const pool = new ReadBufferPool({ bufferBytes: 1000, minReadBytes: 1, maxIdle: 4, idleMs: 1_000, now: () => t });
    const a = pool.lease();
    a.take(10);
    a.take(10);
    a.release(); // both idle since 0
    t = 600;
    const b = pool.lease();
    b.take(10);
    b.release(); // idle since 600 (the most recently given back)
    expect(pool.idle).toBe(2);
    t = 1_500;
    pool.trim();
    expect(pool.idle).toBe(1); // the one idle since 0 goes; the one given back at 600 stays
    t = 1_700;
    pool.trim();
    expect(pool.idle).toBe(0);
  });
});
