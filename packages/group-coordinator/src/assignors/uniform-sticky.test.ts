import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { Assignment, AssignorMember } from "./types.js";
import { uniformStickyAssignor } from "./uniform-sticky.js";

const member = (memberId: string, topics: string[], currentAssignment: Assignment = []): AssignorMember => ({
  memberId,
  instanceId: undefined,
  topics,
  currentAssignment,
});
const sizes = (result: ReadonlyMap<string, Assignment>): number[] =>
  [...result.values()].map((a) => a.reduce((s, { partitions }) => s + partitions.length, 0));

describe("uniformStickyAssignor", () => {
  it("spreads a fresh group evenly, interleaving partitions", () => {
    const result = uniformStickyAssignor({
      members: [member("b", ["t"]), member("a", ["t"]), member("c", ["t"])],
      partitionCounts: new Map([["t", 7]]),
    });
    expect(result).toEqual(
      new Map([
        ["a", [{ topic: "t", partitions: [0, 3, 6] }]],
        ["b", [{ topic: "t", partitions: [1, 4] }]],
        ["c", [{ topic: "t", partitions: [2, 5] }]],
      ]),
    );
  });

  it("keeps everything when nothing changed", () => {
    const current = new Map([
      ["a", [{ topic: "t", partitions: [0, 1, 5] }]],
      ["b", [{ topic: "t", partitions: [2, 3, 4] }]],
    ]);
    const result = uniformStickyAssignor({
      members: [...current].map(([id, a]) => member(id, ["t"], a)),
      partitionCounts: new Map([["t", 6]]),
    });
    expect(result).toEqual(current);
  });

  it("moves exactly the partitions a new member receives", () => {
    const result = uniformStickyAssignor({
      members: [
        member("a", ["t"], [{ topic: "t", partitions: [0, 1, 2, 3] }]),
        member("b", ["t"], [{ topic: "t", partitions: [4, 5, 6, 7] }]),
        member("c", ["t"], [{ topic: "t", partitions: [8, 9, 10, 11] }]),
        member("d", ["t"]),
      ],
      partitionCounts: new Map([["t", 12]]),
    });
    expect(result).toEqual(
      new Map([
        ["a", [{ topic: "t", partitions: [0, 1, 2] }]],
        ["b", [{ topic: "t", partitions: [4, 5, 6] }]],
        ["c", [{ topic: "t", partitions: [8, 9, 10] }]],
        ["d", [{ topic: "t", partitions: [3, 7, 11] }]],
      ]),
    );
  });

  it("drops partitions that no longer exist or are no longer subscribed, and claims twice-held ones once", () => {
    const result = uniformStickyAssignor({
      members: [
        member(
          "a",
          ["t"],
          [
            { topic: "t", partitions: [0, 1, 9] },
            { topic: "gone", partitions: [0] },
          ],
        ),
        member(
          "b",
          ["t", "u"],
          [
            { topic: "t", partitions: [1, 2] },
            { topic: "u", partitions: [0] },
          ],
        ),
      ],
      partitionCounts: new Map([
        ["t", 4],
        ["u", 1],
      ]),
    });
    expect(result).toEqual(
      new Map([
        ["a", [{ topic: "t", partitions: [0, 1, 3] }]],
        [
          "b",
          [
            { topic: "t", partitions: [2] },
            { topic: "u", partitions: [0] },
          ],
        ],
      ]),
    );
  });

  it("balances mixed subscriptions as far as they allow", () => {
    const result = uniformStickyAssignor({
      members: [member("a", ["t", "u"]), member("b", ["t"]), member("c", ["v"])],
      partitionCounts: new Map([
        ["t", 3],
        ["u", 3],
        ["v", 1],
      ]),
    });
    // u can only go to a; t then goes to b first.
    expect(result).toEqual(
      new Map([
        ["a", [{ topic: "u", partitions: [0, 1, 2] }]],
        ["b", [{ topic: "t", partitions: [0, 1, 2] }]],
        ["c", [{ topic: "v", partitions: [0] }]],
      ]),
    );
  });

  it("assigns nothing to members of missing topics and handles an empty group", () => {
    expect(uniformStickyAssignor({ members: [], partitionCounts: new Map([["t", 3]]) })).toEqual(new Map());
    expect(uniformStickyAssignor({ members: [member("a", ["missing"])], partitionCounts: new Map() })).toEqual(new Map([["a", []]]));
  });

  it("is balanced, complete, exclusive and minimal-moving for random identical subscriptions", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 0, max: 60 }),
        fc.array(fc.integer({ min: 0, max: 11 }), { maxLength: 60 }),
        (n, partitions, owners) => {
          const ids = Array.from({ length: n }, (_, i) => `m-${i}`);
          const current = ids.map(() => [] as number[]);
          owners.slice(0, partitions).forEach((o, p) => current[o % n]!.push(p));
          const result = uniformStickyAssignor({
            members: ids.map((id, i) => member(id, ["t"], [{ topic: "t", partitions: current[i]! }])),
            partitionCounts: new Map([["t", partitions]]),
          });
          const s = sizes(result);
          expect(Math.max(...s) - Math.min(...s)).toBeLessThanOrEqual(1);
          const all = [...result.values()].flatMap((a) => a.flatMap((x) => x.partitions)).sort((a, b) => a - b);
          expect(all).toEqual(Array.from({ length: partitions }, (_, p) => p));
          // Minimal moves: members keep min(current, final) partitions, with the largest current counts
          // ending on the larger quota.
          const kept = ids.reduce((sum, id, i) => {
            const mine = new Set(current[i]);
            return (
              sum +
              result
                .get(id)!
                .flatMap((x) => x.partitions)
                .filter((p) => mine.has(p)).length
            );
          }, 0);
          const base = Math.floor(partitions / n);
          const extra = partitions % n;
          const bestKept = current
            .map((c) => c.length)
            .sort((a, b) => b - a)
            .reduce((sum, c, rank) => sum + Math.min(c, base + (rank < extra ? 1 : 0)), 0);
          expect(kept).toBe(bestKept);
        },
      ),
      { numRuns: 300, seed: 7 },
    );
  });

  it("leaves no member two above another that could take one of its partitions (mixed subscriptions)", () => {
    const topics = ["a", "b", "c"];
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 8 }),
        fc.tuple(fc.nat({ max: 9 }), fc.nat({ max: 9 }), fc.nat({ max: 9 })),
        (masks, counts) => {
          const members = masks.map((mask, i) =>
            member(
              `m-${i}`,
              topics.filter((_, t) => (mask & (1 << t)) !== 0),
            ),
          );
          const result = uniformStickyAssignor({ members, partitionCounts: new Map(topics.map((t, i) => [t, counts[i]!])) });
          const size = (id: string): number => result.get(id)!.reduce((s, x) => s + x.partitions.length, 0);
          for (const a of members) {
            for (const b of members) {
              if (result.get(a.memberId)!.some(({ topic }) => b.topics.includes(topic))) {
                expect(size(a.memberId) - size(b.memberId)).toBeLessThanOrEqual(1);
              }
            }
          }
        },
      ),
      { numRuns: 300, seed: 11 },
    );
  });
});
