import { describe, expect, it } from "vitest";
import type { AssignorInput, Assignment, CoordinatorError } from "@minikafka/group-coordinator";
import { asg, count, setup } from "./helpers/setup.js";

/** Partitions of a member in the group description (what the coordinator lets it process). */
function described(gc: ReturnType<typeof setup>["gc"], memberId: string) {
  return gc.describeMember("g", memberId);
}

describe("join → heartbeat → revoke → assign", () => {
  it("gives the first member every partition at join", () => {
    const { gc } = setup();
    expect(gc.join("g", { topics: ["t"] })).toEqual({
      memberId: "m-1",
      memberEpoch: 1,
      assignment: asg({ t: [0, 1, 2, 3] }),
      heartbeatIntervalMs: 3_000,
      revokingPartitions: [],
      pendingPartitions: [],
    });
  });

  it("hands a partition to a new member only after its previous owner stops listing it", () => {
    const { gc } = setup();
    gc.join("g", { topics: ["t"] });
    const m2 = gc.join("g", { topics: ["t"] });
    // m-2 is at the new epoch, but everything is still m-1's.
    expect(m2).toMatchObject({ memberId: "m-2", memberEpoch: 2, assignment: [], pendingPartitions: asg({ t: [2, 3] }) });

    // m-1 learns it must give 2 and 3 up; its epoch stays behind until it does.
    const r1 = gc.heartbeat("g", "m-1", { memberEpoch: 1, ownedPartitions: asg({ t: [0, 1, 2, 3] }) });
    expect(r1).toMatchObject({ memberEpoch: 1, assignment: asg({ t: [0, 1] }), revokingPartitions: asg({ t: [2, 3] }) });
    expect(gc.heartbeat("g", "m-2", { memberEpoch: 2, ownedPartitions: [] }).assignment).toEqual([]);

    // A slow m-1 still lists them: nothing moves.
    expect(gc.heartbeat("g", "m-1", { memberEpoch: 1, ownedPartitions: asg({ t: [0, 1, 2, 3] }) }).memberEpoch).toBe(1);
    expect(gc.heartbeat("g", "m-2", { memberEpoch: 2, ownedPartitions: [] })).toMatchObject({
      assignment: [],
      pendingPartitions: asg({ t: [2, 3] }),
    });
    expect(gc.describeGroup("g").state).toBe("reconciling");

    // m-1 lets go: it advances, and 2 and 3 are handed to m-2 at once, delivered with its next response.
    expect(gc.heartbeat("g", "m-1", { memberEpoch: 1, ownedPartitions: asg({ t: [0, 1] }) })).toMatchObject({
      memberEpoch: 2,
      assignment: asg({ t: [0, 1] }),
      revokingPartitions: [],
    });
    expect(described(gc, "m-2").assignment).toEqual(asg({ t: [2, 3] }));
    expect(gc.describeGroup("g").state).toBe("stable");
    expect(gc.heartbeat("g", "m-2", { memberEpoch: 2, ownedPartitions: [] })).toMatchObject({
      memberEpoch: 2,
      assignment: asg({ t: [2, 3] }),
      pendingPartitions: [],
    });
  });

  it("releases at once a partition the member does not report owning", () => {
    const { gc } = setup();
    gc.join("g", { topics: ["t"] });
    gc.join("g", { topics: ["t"] });
    // m-1 never started on 2 and 3 (e.g. it lost the response that gave them): no handshake needed.
    expect(gc.heartbeat("g", "m-1", { memberEpoch: 1, ownedPartitions: asg({ t: [0, 1] }) })).toMatchObject({
      memberEpoch: 2,
      assignment: asg({ t: [0, 1] }),
      revokingPartitions: [],
    });
    expect(gc.heartbeat("g", "m-2", { memberEpoch: 2, ownedPartitions: [] }).assignment).toEqual(asg({ t: [2, 3] }));
  });

  it("lets a member keep a partition whose revocation is cancelled before it let go", () => {
    const { gc } = setup();
    gc.join("g", { topics: ["t"] });
    gc.join("g", { topics: ["t"] });
    gc.heartbeat("g", "m-1", { memberEpoch: 1, ownedPartitions: asg({ t: [0, 1, 2, 3] }) }); // revoking 2, 3
    gc.leave("g", "m-2");
    expect(gc.heartbeat("g", "m-1", { memberEpoch: 1, ownedPartitions: asg({ t: [0, 1, 2, 3] }) })).toMatchObject({
      memberEpoch: 3,
      assignment: asg({ t: [0, 1, 2, 3] }),
      revokingPartitions: [],
    });
  });

  it("gives a member still revoking nothing new, even partitions released to it", () => {
    // A table-driven assignor: swap partitions 1 and 2 between two members.
    let table = new Map<string, Assignment>([
      ["m-1", asg({ t: [0, 1] })],
      ["m-2", asg({ t: [2, 3] })],
    ]);
    const { gc } = setup({ assignor: (input) => new Map(input.members.map((m) => [m.memberId, table.get(m.memberId) ?? []])) });
    gc.join("g", { topics: ["t"] });
    gc.join("g", { topics: ["t"] });
    expect(gc.heartbeat("g", "m-1", { memberEpoch: 1, ownedPartitions: asg({ t: [0, 1] }) }).memberEpoch).toBe(2);
    expect(gc.heartbeat("g", "m-2", { memberEpoch: 2, ownedPartitions: [] }).assignment).toEqual(asg({ t: [2, 3] }));
    expect(gc.describeGroup("g")).toMatchObject({ groupEpoch: 2, state: "stable" });

    table = new Map([
      ["m-1", asg({ t: [0, 2] })],
      ["m-2", asg({ t: [1, 3] })],
    ]);
    gc.onTopicChanged("t"); // same count: no change, no new epoch
    expect(gc.describeGroup("g").groupEpoch).toBe(2);
    gc.join("g", { topics: ["u"] }); // epoch 3; m-3 subscribes to a missing topic and gets nothing
    expect(gc.heartbeat("g", "m-1", { memberEpoch: 2, ownedPartitions: asg({ t: [0, 1] }) })).toMatchObject({
      memberEpoch: 2,
      assignment: asg({ t: [0] }),
      revokingPartitions: asg({ t: [1] }),
    });
    expect(gc.heartbeat("g", "m-2", { memberEpoch: 2, ownedPartitions: asg({ t: [2, 3] }) })).toMatchObject({
      memberEpoch: 2,
      assignment: asg({ t: [3] }),
      revokingPartitions: asg({ t: [2] }),
    });
    // m-2 lets 2 go while m-1 still holds 1: m-1 must not receive 2 before it has released 1.
    expect(gc.heartbeat("g", "m-2", { memberEpoch: 2, ownedPartitions: asg({ t: [3] }) })).toMatchObject({
      memberEpoch: 3,
      assignment: asg({ t: [3] }),
      pendingPartitions: asg({ t: [1] }),
    });
    expect(described(gc, "m-1")).toMatchObject({ memberEpoch: 2, assignment: asg({ t: [0] }), state: "unrevoked-partitions" });
    // m-1 lets 1 go: it takes the free 2 and advances; 1 goes straight to m-2.
    expect(gc.heartbeat("g", "m-1", { memberEpoch: 2, ownedPartitions: asg({ t: [0] }) })).toMatchObject({
      memberEpoch: 3,
      assignment: asg({ t: [0, 2] }),
    });
    expect(described(gc, "m-2")).toMatchObject({ memberEpoch: 3, assignment: asg({ t: [1, 3] }), state: "stable" });
  });

  it("settles within two heartbeat rounds after several joins, whatever the order", () => {
    for (const reverse of [false, true]) {
      const { gc } = setup({ topics: { t: 10 } });
      const epochs = new Map<string, number>();
      const owned = new Map<string, Assignment>();
      for (let i = 0; i < 4; i++) {
        const r = gc.join("g", { topics: ["t"] });
        epochs.set(r.memberId, r.memberEpoch);
        owned.set(r.memberId, r.assignment);
      }
      const round = (): void => {
        const ids = [...epochs.keys()];
        for (const id of reverse ? ids.reverse() : ids) {
          const r = gc.heartbeat("g", id, { memberEpoch: epochs.get(id)!, ownedPartitions: owned.get(id)! });
          epochs.set(id, r.memberEpoch);
          owned.set(id, r.assignment);
        }
      };
      round();
      expect(gc.describeGroup("g").state).toBe("reconciling");
      round();
      const d = gc.describeGroup("g");
      expect(d.state).toBe("stable");
      expect(d.members.map((m) => count(m.assignment)).sort()).toEqual([2, 2, 3, 3]);
      round(); // and every member has been told
      for (const m of d.members) expect(owned.get(m.memberId)).toEqual(m.assignment);
    }
  });

  it("accepts the previous epoch once when the response that advanced it was lost", () => {
    const { gc } = setup();
    gc.join("g", { topics: ["t"] });
    gc.join("g", { topics: ["t"] });
    gc.heartbeat("g", "m-1", { memberEpoch: 1, ownedPartitions: asg({ t: [0, 1, 2, 3] }) });
    gc.heartbeat("g", "m-1", { memberEpoch: 1, ownedPartitions: asg({ t: [0, 1] }) }); // → epoch 2, response lost
    expect(gc.heartbeat("g", "m-1", { memberEpoch: 1, ownedPartitions: asg({ t: [0, 1] }) })).toMatchObject({
      memberEpoch: 2,
      assignment: asg({ t: [0, 1] }),
    });
  });

  it("fences (and removes) a member whose epoch is neither current nor a consistent previous one", () => {
    const { gc } = setup();
    gc.join("g", { topics: ["t"] });
    gc.join("g", { topics: ["t"] });
    gc.heartbeat("g", "m-1", { memberEpoch: 1, ownedPartitions: asg({ t: [0, 1] }) }); // epoch 2
    gc.heartbeat("g", "m-2", { memberEpoch: 2, ownedPartitions: [] }); // m-2 gets 2, 3
    // Previous epoch, but claiming a partition it does not own: its view cannot be trusted.
    const claim = () => gc.heartbeat("g", "m-1", { memberEpoch: 1, ownedPartitions: asg({ t: [0, 1, 2] }) });
    expect(claim).toThrow(
      expect.objectContaining({
        code: "FENCED_MEMBER_EPOCH",
        message: "member m-1 epoch 1 is stale, current is 2; it was removed from group g and must rejoin",
      }),
    );
    expect(gc.describeGroup("g").members.map((m) => m.memberId)).toEqual(["m-2"]);
    expect(() => gc.heartbeat("g", "m-1", { memberEpoch: 2, ownedPartitions: [] })).toThrow(expect.objectContaining({ code: "UNKNOWN_MEMBER_ID" }));
    // Its partitions were free at once.
    expect(gc.heartbeat("g", "m-2", { memberEpoch: 2, ownedPartitions: asg({ t: [2, 3] }) })).toMatchObject({
      memberEpoch: 3,
      assignment: asg({ t: [0, 1, 2, 3] }),
    });
    // An epoch from the future is fenced too.
    expect(() => gc.heartbeat("g", "m-2", { memberEpoch: 9, ownedPartitions: [] })).toThrow(
      expect.objectContaining({
        code: "FENCED_MEMBER_EPOCH",
        message: "member m-2 epoch 9 is ahead of current 3; it was removed from group g and must rejoin",
      }),
    );
  });

  it("fences a member two epochs behind", () => {
    const { gc } = setup();
    gc.join("g", { topics: ["t"] }); // m-1 epoch 1
    gc.join("g", { topics: ["t"] }); // epoch 2
    gc.heartbeat("g", "m-1", { memberEpoch: 1, ownedPartitions: asg({ t: [0, 1] }) }); // m-1 → 2
    gc.leave("g", "m-2"); // epoch 3
    gc.heartbeat("g", "m-1", { memberEpoch: 2, ownedPartitions: asg({ t: [0, 1] }) }); // m-1 → 3 (previous 2)
    let error: CoordinatorError | undefined;
    try {
      gc.heartbeat("g", "m-1", { memberEpoch: 1, ownedPartitions: [] });
    } catch (e) {
      error = e as CoordinatorError;
    }
    expect(error).toMatchObject({ code: "FENCED_MEMBER_EPOCH", retriable: false });
    // It was the last member and the group never committed: the group is forgotten with it.
    expect(gc.listGroups()).toEqual([]);
  });
});

describe("stickiness", () => {
  /** Joins `n` members and heartbeats until stable; returns the members' partitions. */
  function stableGroup(n: number, partitions: number) {
    const env = setup({ topics: { t: partitions } });
    for (let i = 0; i < n; i++) env.gc.join("g", { topics: ["t"] });
    settle(env.gc);
    return env;
  }

  function settle(gc: ReturnType<typeof setup>["gc"]): void {
    for (let round = 0; round < 3; round++) {
      for (const m of gc.describeGroup("g").members) {
        gc.heartbeat("g", m.memberId, { memberEpoch: m.memberEpoch, ownedPartitions: m.assignment });
      }
    }
    expect(gc.describeGroup("g").state).toBe("stable");
  }

  function snapshot(gc: ReturnType<typeof setup>["gc"]): Map<string, Set<number>> {
    return new Map(gc.describeGroup("g").members.map((m) => [m.memberId, new Set(m.assignment.flatMap((a) => a.partitions))]));
  }

  it("moves only the partitions the new member receives on a join", () => {
    const { gc } = stableGroup(3, 12);
    const before = snapshot(gc);
    expect([...before.values()].map((s) => s.size)).toEqual([4, 4, 4]);
    gc.join("g", { topics: ["t"] });
    settle(gc);
    const after = snapshot(gc);
    expect([...after.values()].map((s) => s.size)).toEqual([3, 3, 3, 3]);
    for (const [id, old] of before) {
      // Each old member kept 3 of its 4 and gained nothing.
      expect([...after.get(id)!].every((p) => old.has(p))).toBe(true);
    }
  });

  it("moves only the leaver's partitions on a leave", () => {
    const { gc } = stableGroup(4, 12);
    const before = snapshot(gc);
    gc.leave("g", "m-2");
    settle(gc);
    const after = snapshot(gc);
    expect([...after.values()].map((s) => s.size)).toEqual([4, 4, 4]);
    for (const [id, partitions] of after) {
      const kept = [...partitions].filter((p) => before.get(id)!.has(p));
      expect(kept.length).toBe(3);
      for (const p of partitions) if (!before.get(id)!.has(p)) expect(before.get("m-2")!.has(p)).toBe(true);
    }
  });
});

describe("assignors are plain functions", () => {
  it("passes members, subscriptions, previous targets and partition counts to a custom assignor", () => {
    const inputs: AssignorInput[] = [];
    const { gc } = setup({
      topics: { t: 2, u: 1 },
      assignor: (input) => {
        inputs.push(input);
        return new Map(input.members.map((m, i) => [m.memberId, i === 0 ? asg({ t: [0, 1] }) : []]));
      },
    });
    gc.join("g", { topics: ["u", "t", "t"], instanceId: "host-a" });
    gc.join("g", { topics: ["missing"] });
    expect(inputs).toHaveLength(2);
    expect(inputs[1]).toEqual({
      members: [
        { memberId: "m-1", instanceId: "host-a", topics: ["t", "u"], currentAssignment: asg({ t: [0, 1] }) },
        { memberId: "m-2", instanceId: undefined, topics: ["missing"], currentAssignment: [] },
      ],
      partitionCounts: new Map([
        ["t", 2],
        ["u", 1],
      ]),
    });
  });
});
