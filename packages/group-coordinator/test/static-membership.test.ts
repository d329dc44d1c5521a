import { describe, expect, it } from "vitest";
import { asg, setup } from "./helpers/setup.js";

/** Two static members, `host-a` (m-1) and `host-b` (m-2), stable on t:0..3 at group epoch 2. */
function stableStaticGroup() {
  const env = setup({ topics: { t: 4 }, sessionTimeoutMs: 30_000 });
  const { gc } = env;
  gc.join("g", { topics: ["t"], instanceId: "host-a" });
  gc.join("g", { topics: ["t"], instanceId: "host-b" });
  gc.heartbeat("g", "m-1", { memberEpoch: 1, ownedPartitions: asg({ t: [0, 1] }) });
  gc.heartbeat("g", "m-2", { memberEpoch: 2, ownedPartitions: [] });
  expect(gc.describeGroup("g")).toMatchObject({ groupEpoch: 2, state: "stable" });
  expect(gc.describeMember("g", "m-1").assignment).toEqual(asg({ t: [0, 1] }));
  expect(gc.describeMember("g", "m-2").assignment).toEqual(asg({ t: [2, 3] }));
  return env;
}

describe("static membership", () => {
  it("gives a restarted instance its partitions back at once, with no rebalance", () => {
    const { gc, clock } = stableStaticGroup();
    clock.advance(20_000); // host-a crashed and restarts within the session timeout
    gc.heartbeat("g", "m-2", { memberEpoch: 2, ownedPartitions: asg({ t: [2, 3] }) });
    expect(gc.join("g", { topics: ["t"], instanceId: "host-a" })).toEqual({
      memberId: "m-3",
      memberEpoch: 2,
      assignment: asg({ t: [0, 1] }),
      heartbeatIntervalMs: 3_000,
      revokingPartitions: [],
      pendingPartitions: [],
    });
    const d = gc.describeGroup("g");
    expect(d).toMatchObject({ groupEpoch: 2, state: "stable" });
    expect(d.members.map((m) => [m.memberId, m.instanceId])).toEqual([
      ["m-2", "host-b"],
      ["m-3", "host-a"],
    ]);
    // The other member does not notice.
    expect(gc.heartbeat("g", "m-2", { memberEpoch: 2, ownedPartitions: asg({ t: [2, 3] }) })).toMatchObject({
      memberEpoch: 2,
      assignment: asg({ t: [2, 3] }),
    });
  });

  it("fences the replaced member id with FENCED_INSTANCE_ID", async () => {
    const { gc } = stableStaticGroup();
    gc.join("g", { topics: ["t"], instanceId: "host-a" });
    const fenced = { code: "FENCED_INSTANCE_ID", message: "member m-1 of group g was replaced by member m-3 with instance id host-a" };
    expect(() => gc.heartbeat("g", "m-1", { memberEpoch: 2, ownedPartitions: asg({ t: [0, 1] }) })).toThrow(expect.objectContaining(fenced));
    await expect(
      gc.commitOffsets("g", { memberId: "m-1", memberEpoch: 2, offsets: [{ topic: "t", partition: 0, offset: 5 }] }),
    ).rejects.toMatchObject(fenced);
    expect(() => gc.leave("g", "m-1")).toThrow(expect.objectContaining(fenced));
    expect(await gc.fetchOffsets("g")).toEqual([]);
    // Restarted again: the older id becomes simply unknown, the newer one fenced.
    gc.join("g", { topics: ["t"], instanceId: "host-a" });
    expect(() => gc.heartbeat("g", "m-1", { memberEpoch: 2, ownedPartitions: [] })).toThrow(expect.objectContaining({ code: "UNKNOWN_MEMBER_ID" }));
    expect(() => gc.heartbeat("g", "m-3", { memberEpoch: 2, ownedPartitions: [] })).toThrow(expect.objectContaining({ code: "FENCED_INSTANCE_ID" }));
  });

  it("keeps a silent static member's partitions reserved until its session times out, then reassigns them", () => {
    const { gc, clock } = stableStaticGroup();
    clock.advance(30_000);
    gc.heartbeat("g", "m-2", { memberEpoch: 2, ownedPartitions: asg({ t: [2, 3] }) });
    expect(gc.tick()).toEqual([]); // exactly 30 s of silence: still within the session
    expect(gc.describeMember("g", "m-1").assignment).toEqual(asg({ t: [0, 1] }));
    clock.advance(1);
    expect(gc.tick()).toEqual([{ groupId: "g", memberId: "m-1", instanceId: "host-a" }]);
    expect(gc.heartbeat("g", "m-2", { memberEpoch: 2, ownedPartitions: asg({ t: [2, 3] }) })).toMatchObject({
      memberEpoch: 3,
      assignment: asg({ t: [0, 1, 2, 3] }),
    });
    // Coming back later is an ordinary join: a rebalance, through revocation.
    expect(gc.join("g", { topics: ["t"], instanceId: "host-a" })).toMatchObject({ memberId: "m-3", memberEpoch: 4, assignment: [] });
    expect(gc.heartbeat("g", "m-2", { memberEpoch: 3, ownedPartitions: asg({ t: [0, 1, 2, 3] }) }).revokingPartitions).toHaveLength(1);
  });

  it("releases at once when a static member leaves", () => {
    const { gc } = stableStaticGroup();
    gc.leave("g", "m-1");
    expect(gc.heartbeat("g", "m-2", { memberEpoch: 2, ownedPartitions: asg({ t: [2, 3] }) })).toMatchObject({
      memberEpoch: 3,
      assignment: asg({ t: [0, 1, 2, 3] }),
    });
    expect(gc.join("g", { topics: ["t"], instanceId: "host-a" })).toMatchObject({ memberId: "m-3", memberEpoch: 4, assignment: [] });
  });

  it("rebalances when a restarted instance changes its subscription", () => {
    const { gc, counts } = stableStaticGroup();
    counts.set("u", 2);
    expect(gc.join("g", { topics: ["t", "u"], instanceId: "host-a" })).toMatchObject({
      memberId: "m-3",
      memberEpoch: 3,
      assignment: asg({ t: [0], u: [0, 1] }),
    });
    // Balance across the new subscription: t-1 goes to host-b (3 partitions each).
    expect(gc.heartbeat("g", "m-2", { memberEpoch: 2, ownedPartitions: asg({ t: [2, 3] }) })).toMatchObject({
      memberEpoch: 3,
      assignment: asg({ t: [1, 2, 3] }),
    });
    expect(gc.describeGroup("g")).toMatchObject({ groupEpoch: 3, state: "stable" });
  });

  it("does not hand a restarted instance partitions its previous incarnation was giving up", () => {
    const { gc } = stableStaticGroup();
    gc.join("g", { topics: ["t"] }); // m-3, epoch 3: m-1 and m-2 each give one up
    expect(gc.heartbeat("g", "m-1", { memberEpoch: 2, ownedPartitions: asg({ t: [0, 1] }) })).toMatchObject({
      memberEpoch: 2,
      assignment: asg({ t: [0] }),
      revokingPartitions: asg({ t: [1] }),
    });
    // host-a restarts mid-revocation: the old process is gone, so partition 1 is free for m-3.
    expect(gc.join("g", { topics: ["t"], instanceId: "host-a" })).toMatchObject({ memberId: "m-4", memberEpoch: 3, assignment: asg({ t: [0] }) });
    expect(gc.heartbeat("g", "m-3", { memberEpoch: 3, ownedPartitions: [] }).assignment).toEqual(asg({ t: [1] }));
  });
});
