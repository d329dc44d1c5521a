import { describe, expect, it } from "vitest";
import { assignReplicas } from "./assignment.js";
import { isClusterError } from "./errors.js";

describe("assignReplicas", () => {
  it("places replicas as Kafka's rack-unaware assignment does (start 0)", () => {
    // Kafka's AdminUtils example: 5 brokers, 10 partitions, RF 3, fixed start index 0.
    expect(
      assignReplicas(
        10,
        3,
        [0, 1, 2, 3, 4].map((b) => b + 1),
        0,
      ),
    ).toEqual(
      [
        [0, 1, 2],
        [1, 2, 3],
        [2, 3, 4],
        [3, 4, 0],
        [4, 0, 1],
        [0, 2, 3],
        [1, 3, 4],
        [2, 4, 0],
        [3, 0, 1],
        [4, 1, 2],
      ].map((r) => r.map((b) => b + 1)),
    );
  });

  it("spreads leaders and replicas evenly, never twice on one broker", () => {
    const brokers = [3, 1, 2, 1]; // unsorted, with a duplicate
    const replicas = assignReplicas(6, 3, brokers, 7);
    const leaders = new Map<number, number>();
    const all = new Map<number, number>();
    for (const r of replicas) {
      expect(new Set(r).size).toBe(3);
      leaders.set(r[0]!, (leaders.get(r[0]!) ?? 0) + 1);
      for (const b of r) all.set(b, (all.get(b) ?? 0) + 1);
    }
    expect([...leaders.values()]).toEqual([2, 2, 2]);
    expect([...all.values()]).toEqual([6, 6, 6]);
  });

  it("refuses a replication factor above the broker count or below 1, and bad partition counts", () => {
    for (const [partitions, rf, code] of [
      [3, 4, "INVALID_REPLICATION_FACTOR"],
      [3, 0, "INVALID_REPLICATION_FACTOR"],
      [0, 1, "INVALID_PARTITIONS"],
      [1.5, 1, "INVALID_PARTITIONS"],
    ] as const) {
      let caught: unknown;
      try {
        assignReplicas(partitions, rf, [1, 2, 3]);
      } catch (error) {
        caught = error;
      }
      expect(isClusterError(caught, code), `${partitions} partitions, rf ${rf}`).toBe(true);
    }
    expect(() => assignReplicas(1, 1, [])).toThrow(/between 1 and the number of live brokers \(0\)/);
  });
});
