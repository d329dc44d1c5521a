import { describe, expect, it } from "vitest";
import { isPartitionerError } from "./errors.js";
import { createRoundRobinPartitioner } from "./round-robin.js";
import type { Partitioner } from "./types.js";

const run = (partition: Partitioner, topic: string, partitionCount: number, times: number) =>
  Array.from({ length: times }, () => partition({ topic, key: null, partitionCount }));

describe("createRoundRobinPartitioner", () => {
  it("rotates 0, 1, 2, 0, … starting at partition 0", () => {
    expect(run(createRoundRobinPartitioner(), "t", 3, 7)).toEqual([0, 1, 2, 0, 1, 2, 0]);
  });

  it("keeps one rotation per topic", () => {
    const partition = createRoundRobinPartitioner();
    const seen = ["a", "a", "b", "a", "b", "b", "b", "a"].map((topic) => partition({ topic, key: null, partitionCount: 3 }));
    expect(seen).toEqual([0, 1, 0, 2, 1, 2, 0, 0]);
  });

  it("keeps separate state per partitioner instance", () => {
    const one = createRoundRobinPartitioner();
    const two = createRoundRobinPartitioner();
    expect(run(one, "t", 4, 2)).toEqual([0, 1]);
    expect(run(two, "t", 4, 2)).toEqual([0, 1]);
  });

  it("carries on into new partitions when the count grows", () => {
    const partition = createRoundRobinPartitioner();
    expect(run(partition, "t", 3, 4)).toEqual([0, 1, 2, 0]);
    expect(run(partition, "t", 5, 6)).toEqual([1, 2, 3, 4, 0, 1]);
  });

  it("stays in range if a caller passes a smaller count", () => {
    const partition = createRoundRobinPartitioner();
    expect(run(partition, "t", 5, 5)).toEqual([0, 1, 2, 3, 4]);
    expect(run(partition, "t", 3, 4)).toEqual([2, 0, 1, 2]);
  });

  it("always returns 0 for a single partition", () => {
    expect(run(createRoundRobinPartitioner(), "t", 1, 4)).toEqual([0, 0, 0, 0]);
  });

  it("ignores keys and explicit partitions", () => {
    const partition = createRoundRobinPartitioner();
    const key = new TextEncoder().encode("k");
    expect([
      partition({ topic: "t", key, partitionCount: 4 }),
      partition({ topic: "t", key, partitionCount: 4, partition: 3 }),
      partition({ topic: "t", key: null, partitionCount: 4 }),
    ]).toEqual([0, 1, 2]);
  });

  it("throws INVALID_PARTITIONS for a bad count and does not advance", () => {
    const partition = createRoundRobinPartitioner();
    expect(run(partition, "t", 3, 1)).toEqual([0]);
    let caught: unknown;
    try {
      partition({ topic: "t", key: null, partitionCount: 0 });
    } catch (e) {
      caught = e;
    }
    expect(isPartitionerError(caught) && caught.code).toBe("INVALID_PARTITIONS");
    expect(run(partition, "t", 3, 1)).toEqual([1]);
  });
});
