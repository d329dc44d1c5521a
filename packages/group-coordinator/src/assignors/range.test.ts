import { describe, expect, it } from "vitest";
import { rangeAssignor } from "./range.js";
import type { AssignorMember } from "./types.js";

const member = (memberId: string, topics: string[], instanceId?: string): AssignorMember => ({ memberId, instanceId, topics, currentAssignment: [] });

describe("rangeAssignor", () => {
  it("gives each subscriber a contiguous range, the first ones one extra", () => {
    const result = rangeAssignor({
      members: [member("c", ["t"]), member("a", ["t"]), member("b", ["t"])],
      partitionCounts: new Map([["t", 7]]),
    });
    expect(result).toEqual(
      new Map([
        ["a", [{ topic: "t", partitions: [0, 1, 2] }]],
        ["b", [{ topic: "t", partitions: [3, 4] }]],
        ["c", [{ topic: "t", partitions: [5, 6] }]],
      ]),
    );
  });

  it("ranges each topic over its own subscribers and orders static members by instance id", () => {
    const result = rangeAssignor({
      members: [member("m-1", ["t", "u"], "host-b"), member("m-2", ["t", "u"], "host-a"), member("m-3", ["u"])],
      partitionCounts: new Map([
        ["t", 4],
        ["u", 3],
        ["unsubscribed", 5],
      ]),
    });
    expect(result).toEqual(
      new Map([
        [
          "m-2",
          [
            { topic: "t", partitions: [0, 1] },
            { topic: "u", partitions: [0] },
          ],
        ],
        [
          "m-1",
          [
            { topic: "t", partitions: [2, 3] },
            { topic: "u", partitions: [1] },
          ],
        ],
        ["m-3", [{ topic: "u", partitions: [2] }]],
      ]),
    );
  });

  it("leaves members beyond the partition count empty, and ignores current assignments", () => {
    const result = rangeAssignor({
      members: [member("a", ["t"]), member("b", ["t"]), { ...member("c", ["t"]), currentAssignment: [{ topic: "t", partitions: [0] }] }],
      partitionCounts: new Map([["t", 2]]),
    });
    expect(result).toEqual(
      new Map([
        ["a", [{ topic: "t", partitions: [0] }]],
        ["b", [{ topic: "t", partitions: [1] }]],
        ["c", []],
      ]),
    );
  });
});
