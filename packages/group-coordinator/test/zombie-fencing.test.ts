import { describe, expect, it } from "vitest";
import { asg, setup } from "./helpers/setup.js";

/** m-1 owns t:0,1 and m-2 owns t:2,3, both at epoch 2; m-1 committed t:0 → 10. */
async function twoMembers() {
  const env = setup({ topics: { t: 4 } });
  const { gc } = env;
  gc.join("g", { topics: ["t"] });
  gc.join("g", { topics: ["t"] });
  gc.heartbeat("g", "m-1", { memberEpoch: 1, ownedPartitions: asg({ t: [0, 1] }) });
  gc.heartbeat("g", "m-2", { memberEpoch: 2, ownedPartitions: [] });
  await gc.commitOffsets("g", { memberId: "m-1", memberEpoch: 2, offsets: [{ topic: "t", partition: 0, offset: 10 }] });
  return env;
}

const committed = [{ topic: "t", partition: 0, offset: 10 }];

describe("offset commits are fenced", () => {
  it("stores a commit from the owner at its current epoch", async () => {
    const { gc } = await twoMembers();
    await gc.commitOffsets("g", {
      memberId: "m-2",
      memberEpoch: 2,
      offsets: [
        { topic: "t", partition: 3, offset: 7 },
        { topic: "t", partition: 2, offset: 0 },
      ],
    });
    expect(await gc.fetchOffsets("g")).toEqual([
      { topic: "t", partition: 0, offset: 10 },
      { topic: "t", partition: 2, offset: 0 },
      { topic: "t", partition: 3, offset: 7 },
    ]);
  });

  it.each([
    [
      "a partition owned by another member",
      { memberId: "m-1", memberEpoch: 2, partition: 2 },
      "UNASSIGNED_PARTITION",
      "partition t-2 is not owned by member m-1 of group g",
    ],
    [
      "a stale epoch",
      { memberId: "m-1", memberEpoch: 1, partition: 0 },
      "STALE_MEMBER_EPOCH",
      "member m-1 epoch 1 is stale, current is 2; heartbeat, then commit again",
    ],
    [
      "an epoch from the future",
      { memberId: "m-1", memberEpoch: 3, partition: 0 },
      "FENCED_MEMBER_EPOCH",
      "member m-1 epoch 3 is ahead of current 2",
    ],
    ["an unknown member", { memberId: "m-9", memberEpoch: 2, partition: 0 }, "UNKNOWN_MEMBER_ID", "member m-9 is not in group g"],
    [
      "a missing partition",
      { memberId: "m-1", memberEpoch: 2, partition: 4 },
      "UNKNOWN_TOPIC_OR_PARTITION",
      "partition t-4 does not exist (4 partitions)",
    ],
  ])("rejects %s and keeps the stored offset", async (_, { memberId, memberEpoch, partition }, code, message) => {
    const { gc } = await twoMembers();
    await expect(gc.commitOffsets("g", { memberId, memberEpoch, offsets: [{ topic: "t", partition, offset: 99 }] })).rejects.toMatchObject({
      code,
      message,
    });
    expect(await gc.fetchOffsets("g")).toEqual(committed);
  });

  it("marks a stale epoch retriable and fencing not", async () => {
    const { gc } = await twoMembers();
    await expect(gc.commitOffsets("g", { memberId: "m-1", memberEpoch: 1, offsets: [] })).rejects.toMatchObject({ retriable: true });
    await expect(gc.commitOffsets("g", { memberId: "m-1", memberEpoch: 3, offsets: [] })).rejects.toMatchObject({ retriable: false });
  });

  it("stores nothing when one partition of a commit is invalid", async () => {
    const { gc } = await twoMembers();
    const offsets = [
      { topic: "t", partition: 1, offset: 5 },
      { topic: "t", partition: 2, offset: 5 },
    ];
    await expect(gc.commitOffsets("g", { memberId: "m-1", memberEpoch: 2, offsets })).rejects.toMatchObject({ code: "UNASSIGNED_PARTITION" });
    expect(await gc.fetchOffsets("g")).toEqual(committed);
  });

  it.each([
    [-1, "offset -1 for t-0 is not a non-negative safe integer"],
    [1.5, "offset 1.5 for t-0 is not a non-negative safe integer"],
    [Number.NaN, "offset NaN for t-0 is not a non-negative safe integer"],
    [2 ** 53, "offset 9007199254740992 for t-0 is not a non-negative safe integer"],
  ])("rejects offset %s as INVALID_REQUEST", async (offset, message) => {
    const { gc } = await twoMembers();
    await expect(gc.commitOffsets("g", { memberId: "m-1", memberEpoch: 2, offsets: [{ topic: "t", partition: 0, offset }] })).rejects.toMatchObject({
      code: "INVALID_REQUEST",
      message,
    });
    expect(await gc.fetchOffsets("g")).toEqual(committed);
  });

  it("rejects a partition named twice, an unknown topic and an unknown group", async () => {
    const { gc } = await twoMembers();
    const twice = [
      { topic: "t", partition: 0, offset: 11 },
      { topic: "t", partition: 0, offset: 12 },
    ];
    await expect(gc.commitOffsets("g", { memberId: "m-1", memberEpoch: 2, offsets: twice })).rejects.toMatchObject({
      code: "INVALID_REQUEST",
      message: "partition t-0 appears twice in one commit",
    });
    await expect(
      gc.commitOffsets("g", { memberId: "m-1", memberEpoch: 2, offsets: [{ topic: "nope", partition: 0, offset: 1 }] }),
    ).rejects.toMatchObject({
      code: "UNKNOWN_TOPIC_OR_PARTITION",
      message: "topic nope does not exist",
    });
    await expect(gc.commitOffsets("h", { memberId: "m-1", memberEpoch: 2, offsets: [] })).rejects.toMatchObject({ code: "GROUP_ID_NOT_FOUND" });
    expect(await gc.fetchOffsets("g")).toEqual(committed);
  });

  it("accepts commits for a partition being revoked until the member releases it", async () => {
    const { gc } = await twoMembers();
    gc.join("g", { topics: ["t"] }); // m-3: m-1 must give one partition up
    const r = gc.heartbeat("g", "m-1", { memberEpoch: 2, ownedPartitions: asg({ t: [0, 1] }) });
    expect(r).toMatchObject({ memberEpoch: 2, revokingPartitions: asg({ t: [1] }) });
    // Finishing work on the revoked partition: the commit is the last thing a member does before letting go.
    await gc.commitOffsets("g", { memberId: "m-1", memberEpoch: 2, offsets: [{ topic: "t", partition: 1, offset: 4 }] });
    gc.heartbeat("g", "m-1", { memberEpoch: 2, ownedPartitions: asg({ t: [0] }) }); // released, epoch 3
    await expect(
      gc.commitOffsets("g", { memberId: "m-1", memberEpoch: 3, offsets: [{ topic: "t", partition: 1, offset: 9 }] }),
    ).rejects.toMatchObject({ code: "UNASSIGNED_PARTITION" });
    expect(await gc.fetchOffsets("g", ["t"])).toEqual([...committed, { topic: "t", partition: 1, offset: 4 }]);
  });

  it("fences a zombie that wakes up after its session expired and its partitions moved", async () => {
    const { gc, clock } = await twoMembers();
    clock.advance(20_000);
    gc.heartbeat("g", "m-2", { memberEpoch: 2, ownedPartitions: asg({ t: [2, 3] }) });
    clock.advance(15_000); // m-1 paused for 35 s (GC, network partition…)
    expect(gc.tick()).toEqual([{ groupId: "g", memberId: "m-1", instanceId: undefined }]);
    expect(gc.heartbeat("g", "m-2", { memberEpoch: 2, ownedPartitions: asg({ t: [2, 3] }) }).assignment).toEqual(asg({ t: [0, 1, 2, 3] }));
    await gc.commitOffsets("g", { memberId: "m-2", memberEpoch: 3, offsets: [{ topic: "t", partition: 0, offset: 15 }] });
    // The zombie finishes its batch and tries to commit: refused, m-2's offset stands.
    await expect(
      gc.commitOffsets("g", { memberId: "m-1", memberEpoch: 2, offsets: [{ topic: "t", partition: 0, offset: 12 }] }),
    ).rejects.toMatchObject({ code: "UNKNOWN_MEMBER_ID" });
    expect(() => gc.heartbeat("g", "m-1", { memberEpoch: 2, ownedPartitions: asg({ t: [0, 1] }) })).toThrow(
      expect.objectContaining({ code: "UNKNOWN_MEMBER_ID" }),
    );
    expect(await gc.fetchOffsets("g")).toEqual([{ topic: "t", partition: 0, offset: 15 }]);
  });
});

describe("groups are independent", () => {
  it("assigns, commits and fences each group on the same topic separately", async () => {
    const { gc } = setup({ topics: { t: 2 } });
    const a = gc.join("analytics", { topics: ["t"] });
    const b = gc.join("archive", { topics: ["t"] });
    expect(a).toMatchObject({ memberId: "m-1", memberEpoch: 1, assignment: asg({ t: [0, 1] }) });
    expect(b).toMatchObject({ memberId: "m-2", memberEpoch: 1, assignment: asg({ t: [0, 1] }) });
    await gc.commitOffsets("analytics", { memberId: "m-1", memberEpoch: 1, offsets: [{ topic: "t", partition: 0, offset: 3 }] });
    await gc.commitOffsets("archive", { memberId: "m-2", memberEpoch: 1, offsets: [{ topic: "t", partition: 0, offset: 8 }] });
    await expect(gc.commitOffsets("archive", { memberId: "m-1", memberEpoch: 1, offsets: [] })).rejects.toMatchObject({
      code: "UNKNOWN_MEMBER_ID",
      message: "member m-1 is not in group archive",
    });
    gc.join("analytics", { topics: ["t"] }); // rebalances analytics only
    expect(gc.describeGroup("archive")).toMatchObject({ groupEpoch: 1, state: "stable" });
    expect(gc.describeGroup("analytics")).toMatchObject({ groupEpoch: 2, state: "reconciling" });
    expect(await gc.fetchOffsets("analytics")).toEqual([{ topic: "t", partition: 0, offset: 3 }]);
    expect(await gc.fetchOffsets("archive")).toEqual([{ topic: "t", partition: 0, offset: 8 }]);
  });
});
