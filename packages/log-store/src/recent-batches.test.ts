import { describe, expect, it } from "vitest";
import { RecentBatches } from "./recent-batches.js";

describe("RecentBatches", () => {
  const batch = (size: number) => Buffer.alloc(size, 7);

  it("answers for offsets inside the kept batch only", () => {
    const cache = new RecentBatches<object>(1 << 20, 100);
    const segment = {};
    cache.put(segment, 4096, 10, 19, batch(500), 0, 500);
    expect(cache.get(segment, 9)).toBeUndefined();
    expect(cache.get(segment, 10)?.position).toBe(4096);
    expect(cache.get(segment, 19)?.bytes.length).toBe(500);
    expect(cache.get(segment, 20)).toBeUndefined();
    expect(cache.get({}, 10)).toBeUndefined();
  });

  it("keeps one batch per segment, the newest", () => {
    const cache = new RecentBatches<object>(1 << 20, 100);
    const segment = {};
    cache.put(segment, 0, 0, 9, batch(500), 0, 500);
    cache.put(segment, 500, 10, 19, batch(600), 0, 600);
    expect(cache.get(segment, 5)).toBeUndefined();
    expect(cache.get(segment, 15)?.baseOffset).toBe(10);
    expect(cache.bytes).toBe(600);
    cache.delete(segment);
    expect(cache.bytes).toBe(0);
  });

  it("stays within its byte budget, dropping the least recently used first", () => {
    const cache = new RecentBatches<object>(2000, 100);
    const [a, b, c] = [{}, {}, {}];
    cache.put(a, 0, 0, 9, batch(800), 0, 800);
    cache.put(b, 0, 0, 9, batch(800), 0, 800);
    expect(cache.get(a, 0)).toBeDefined(); // a is now the most recently used
    cache.put(c, 0, 0, 9, batch(800), 0, 800);
    expect(cache.bytes).toBeLessThanOrEqual(2000);
    expect(cache.get(b, 0)).toBeUndefined();
    expect(cache.get(a, 0)).toBeDefined();
    expect(cache.get(c, 0)).toBeDefined();
  });

  it("skips small batches, and copies a batch out of a much larger read buffer", () => {
    const cache = new RecentBatches<object>(1 << 20, 100);
    const small = {};
    cache.put(small, 0, 0, 0, batch(50), 0, 50);
    expect(cache.get(small, 0)).toBeUndefined();
    const read = Buffer.alloc(10_000);
    read.fill(1, 1000, 1500);
    const big = {};
    cache.put(big, 1000, 5, 9, read, 1000, 500);
    const kept = cache.get(big, 5)!;
    expect(kept.bytes.buffer.byteLength).toBe(500); // its own memory, not the 10 kB read buffer
    expect([...kept.bytes].every((b) => b === 1)).toBe(true);
    expect(cache.bytes).toBe(500);
  });
});
