import { describe, expect, it } from "vitest";
import { ManualClock } from "./clock.js";
import { GroupCoordinator, type GroupEvent } from "./group-coordinator.js";
import { InMemoryOffsetStore } from "./offset-store.js";

function coordinator() {
  const clock = new ManualClock();
  const events: GroupEvent[] = [];
  const counts = new Map([["t", 2]]);
  let n = 0;
  const gc = new GroupCoordinator({
    clock,
    offsetStore: new InMemoryOffsetStore(),
    partitionCount: (topic) => counts.get(topic),
    sessionTimeoutMs: 10_000,
    heartbeatIntervalMs: 1_000,
    generateMemberId: () => `m${++n}`,
    onEvent: (event) => events.push(event),
  });
  return { gc, clock, events, counts };
}

describe("GroupCoordinator onEvent", () => {
  it("tells joins, leaves and each rebalance", () => {
    const { gc, events } = coordinator();
    gc.join("g", { topics: ["t"] });
    gc.join("g", { topics: ["t"] });
    gc.leave("g", "m1");
    expect(events).toEqual([
      { type: "member-joined", groupId: "g", memberId: "m1", memberEpoch: 1, instanceId: undefined, topics: ["t"], replacedMemberId: undefined },
      { type: "rebalance", groupId: "g", groupEpoch: 1, memberCount: 1 },
      { type: "member-joined", groupId: "g", memberId: "m2", memberEpoch: 2, instanceId: undefined, topics: ["t"], replacedMemberId: undefined },
      { type: "rebalance", groupId: "g", groupEpoch: 2, memberCount: 2 },
      { type: "member-left", groupId: "g", memberId: "m1" },
      { type: "rebalance", groupId: "g", groupEpoch: 3, memberCount: 1 },
    ]);
  });

  it("tells evictions after the session timeout, and a rebalance when a topic grows", () => {
    const { gc, clock, events, counts } = coordinator();
    gc.join("g", { topics: ["t"] });
    gc.join("g", { topics: ["t"] });
    events.length = 0;
    clock.advance(5_000);
    gc.heartbeat("g", "m2", { memberEpoch: 2, ownedPartitions: gc.describeMember("g", "m2").assignment });
    clock.advance(6_000);
    expect(gc.tick()).toEqual([{ groupId: "g", memberId: "m1", instanceId: undefined }]);
    counts.set("t", 3);
    gc.onTopicChanged("t");
    expect(events).toEqual([
      { type: "member-expired", groupId: "g", memberId: "m1", instanceId: undefined },
      { type: "rebalance", groupId: "g", groupEpoch: 3, memberCount: 1 },
      { type: "rebalance", groupId: "g", groupEpoch: 4, memberCount: 1 },
    ]);
  });

  it("tells fencings: an epoch ahead of the member's, and a static member replaced", () => {
    const { gc, events } = coordinator();
    gc.join("g", { topics: ["t"] });
    gc.join("g", { topics: ["t"], instanceId: "i" });
    gc.join("g", { topics: ["t"], instanceId: "i" });
    expect(events.filter((e) => e.type === "member-joined").map((e) => [e.memberId, e.replacedMemberId])).toEqual([
      ["m1", undefined],
      ["m2", undefined],
      ["m3", "m2"],
    ]);
    events.length = 0;
    expect(() => gc.heartbeat("g", "m2", { memberEpoch: 2, ownedPartitions: [] })).toThrow(expect.objectContaining({ code: "FENCED_INSTANCE_ID" }));
    expect(() => gc.heartbeat("g", "m1", { memberEpoch: 99, ownedPartitions: [] })).toThrow(expect.objectContaining({ code: "FENCED_MEMBER_EPOCH" }));
    expect(events).toEqual([
      { type: "member-fenced", groupId: "g", memberId: "m2", code: "FENCED_INSTANCE_ID", memberEpoch: 2 },
      { type: "member-fenced", groupId: "g", memberId: "m1", code: "FENCED_MEMBER_EPOCH", memberEpoch: 99 },
      { type: "rebalance", groupId: "g", groupEpoch: 3, memberCount: 1 },
    ]);
  });

  it("ignores a throwing listener", () => {
    const gc = new GroupCoordinator({
      clock: new ManualClock(),
      offsetStore: new InMemoryOffsetStore(),
      partitionCount: () => 1,
      onEvent: () => {
        throw new Error("boom");
      },
    });
    expect(gc.join("g", { topics: ["t"] }).memberEpoch).toBe(1);
  });
});
