import { describe, expect, it } from "vitest";
import { catchError } from "../test/helpers/catch-error.js";
import { scripted } from "../test/helpers/random.js";
import { createStickyPartitioner, DEFAULT_STICKY_BATCH_SIZE } from "./sticky.js";
import type { Partitioner } from "./types.js";

const run = (partition: Partitioner, topic: string, partitionCount: number, times: number) =>
  Array.from({ length: times }, () => partition({ topic, key: null, partitionCount }));

describe("createStickyPartitioner", () => {
  it("keeps a partition for batchSize records, then moves to another one", () => {
    // First pick: floor(0 * 4) = 0. Moves pick among the 3 others: floor(r * 3), skipping the current one.
    // 0.5 -> index 1 -> partition 2 (0 skipped); 0.9 -> index 2 -> partition 3; 0 -> index 0 -> partition 0.
    const partition = createStickyPartitioner({ batchSize: 3, random: scripted(0, 0.5, 0.9, 0) });
    expect(run(partition, "t", 4, 12)).toEqual([0, 0, 0, 2, 2, 2, 3, 3, 3, 0, 0, 0]);
  });

  it("never moves to the partition it is leaving", () => {
    // With random() always 0 the choice is the lowest other partition: 0 -> 1 -> 0 -> 1 …
    expect(run(createStickyPartitioner({ batchSize: 2, random: () => 0 }), "t", 4, 8)).toEqual([0, 0, 1, 1, 0, 0, 1, 1]);
    // With random() near 1 it is the highest other partition: 3 -> 2 -> 3 …
    expect(run(createStickyPartitioner({ batchSize: 2, random: () => 0.999 }), "t", 4, 6)).toEqual([3, 3, 2, 2, 3, 3]);
  });

  it(`defaults to batches of ${DEFAULT_STICKY_BATCH_SIZE} records`, () => {
    expect(DEFAULT_STICKY_BATCH_SIZE).toBe(100);
    const partition = createStickyPartitioner({ random: scripted(0.1, 0.1) });
    const seen = run(partition, "t", 4, 101);
    expect(seen.slice(0, 100)).toEqual(new Array(100).fill(0));
    expect(seen[100]).toBe(1);
  });

  it("keeps separate sticky partitions and counts per topic", () => {
    const partition = createStickyPartitioner({ batchSize: 2, random: scripted(0, 0.75, 0.5, 0) });
    const seen = ["a", "b", "a", "b", "a", "b"].map((topic) => partition({ topic, key: null, partitionCount: 4 }));
    // a: first 0 (r=0); b: first 3 (r=0.75); a moves after 2 records: floor(0.5 * 3) = 1 -> 2; b moves: index 0 -> 0.
    expect(seen).toEqual([0, 3, 0, 3, 2, 0]);
  });

  it("with one partition returns 0 and asks random() only once", () => {
    const partition = createStickyPartitioner({ batchSize: 2, random: scripted(0.7) });
    expect(run(partition, "t", 1, 7)).toEqual([0, 0, 0, 0, 0, 0, 0]);
  });

  it("keeps the current partition through a growth mid-batch, then chooses among all partitions", () => {
    const partition = createStickyPartitioner({ batchSize: 3, random: scripted(0.6, 0.99) });
    expect(run(partition, "t", 2, 1)).toEqual([1]);
    expect(run(partition, "t", 6, 2)).toEqual([1, 1]);
    // floor(0.99 * 5) = 4, at or after current 1 -> partition 5, one of the new ones.
    expect(run(partition, "t", 6, 3)).toEqual([5, 5, 5]);
  });

  it("chooses again at once if the count drops to or below the current partition", () => {
    const partition = createStickyPartitioner({ batchSize: 3, random: scripted(0.9, 0.5) });
    expect(run(partition, "t", 4, 1)).toEqual([3]);
    expect(run(partition, "t", 2, 3)).toEqual([1, 1, 1]);
  });

  it("clamps random() values outside [0, 1)", () => {
    expect(run(createStickyPartitioner({ batchSize: 1, random: scripted(1, -0.5, Number.NaN) }), "t", 4, 3)).toEqual([3, 0, 1]);
  });

  it("ignores keys and explicit partitions", () => {
    const partition = createStickyPartitioner({ batchSize: 2, random: scripted(0.5, 0) });
    const key = new TextEncoder().encode("k");
    expect([
      partition({ topic: "t", key, partitionCount: 4, partition: 0 }),
      partition({ topic: "t", key: null, partitionCount: 4, partition: 3 }),
      partition({ topic: "t", key, partitionCount: 4 }),
    ]).toEqual([2, 2, 0]);
  });

  it("with Math.random: every run is exactly batchSize long and differs from the one before", () => {
    const batchSize = 7;
    const seen = run(createStickyPartitioner({ batchSize }), "t", 5, 7 * 500);
    for (let start = 0; start < seen.length; start += batchSize) {
      const batch = seen.slice(start, start + batchSize);
      expect(new Set(batch).size).toBe(1);
      if (start > 0) expect(batch[0]).not.toBe(seen[start - 1]);
      expect(batch[0]).toBeGreaterThanOrEqual(0);
      expect(batch[0]).toBeLessThan(5);
    }
    expect(new Set(seen).size).toBe(5);
  });

  it.each([0, -1, 2.5, Number.NaN])("rejects batchSize %s with INVALID_CONFIG", (batchSize) => {
    const error = catchError(() => createStickyPartitioner({ batchSize }));
    expect(error.code).toBe("INVALID_CONFIG");
    expect(error.message).toBe(`batchSize must be a positive integer, got ${String(batchSize)}`);
  });

  it("rejects a random option that is not a function with INVALID_CONFIG", () => {
    const error = catchError(() => createStickyPartitioner({ random: 0.5 as unknown as () => number }));
    expect(error.code).toBe("INVALID_CONFIG");
    expect(error.message).toBe("random must be a function, got number");
  });

  it("throws INVALID_PARTITIONS for a bad partition count", () => {
    const partition = createStickyPartitioner({ random: scripted() });
    expect(catchError(() => partition({ topic: "t", key: null, partitionCount: -3 })).code).toBe("INVALID_PARTITIONS");
  });
});
