// The restart hold: after a broker restart, no partition of a topic that existed at start is handed to
// anyone until a session timeout has passed, so that members of the coordinator before the restart (which
// this one knows nothing about) have stopped by then.
import { describe, expect, it } from "vitest";
import { GroupCoordinator, InMemoryOffsetStore, ManualClock, type GroupCoordinatorOptions } from "@minikafka/group-coordinator";
import { asg } from "./helpers/setup.js";

const SESSION_MS = 10_000;
const START_MS = 1_000_000;

function restarted(options: Partial<GroupCoordinatorOptions> = {}, counts = new Map([["t", 2]])) {
  const clock = new ManualClock(START_MS);
  let next = 0;
  const gc = new GroupCoordinator({
    clock,
    offsetStore: new InMemoryOffsetStore(),
    partitionCount: (topic) => counts.get(topic),
    sessionTimeoutMs: SESSION_MS,
    heartbeatIntervalMs: 1_000,
    generateMemberId: () => `m-${++next}`,
    restartHold: { topics: ["t"] },
    ...options,
  });
  return { gc, clock, counts };
}

describe("restart hold", () => {
  it("hands no partition of a held topic out until more than a session timeout after start", () => {
    const { gc, clock } = restarted();
    expect(gc.restartHoldUntilMs).toBe(START_MS + SESSION_MS);
    const joined = gc.join("g", { topics: ["t"] });
    expect(joined).toMatchObject({ memberEpoch: 1, assignment: [], pendingPartitions: asg({ t: [0, 1] }) });
    expect(gc.describeMember("g", "m-1").state).toBe("unreleased-partitions");
    clock.set(START_MS + SESSION_MS); // exactly a session timeout: a member that heartbeated at start may still be processing
    expect(gc.heartbeat("g", "m-1", { memberEpoch: 1, ownedPartitions: [] })).toMatchObject({
      assignment: [],
      pendingPartitions: asg({ t: [0, 1] }),
    });
    clock.advance(1);
    expect(gc.heartbeat("g", "m-1", { memberEpoch: 1, ownedPartitions: [] })).toMatchObject({
      memberEpoch: 1,
      assignment: asg({ t: [0, 1] }),
      pendingPartitions: [],
    });
    expect(gc.describeGroup("g").state).toBe("stable");
  });

  it("holds every group, including static members coming back, and splits the partitions once the hold ends", () => {
    const { gc, clock } = restarted();
    gc.join("a", { topics: ["t"], instanceId: "host-1" });
    gc.join("a", { topics: ["t"], instanceId: "host-2" });
    const b = gc.join("b", { topics: ["t"] });
    expect(b.assignment).toEqual([]);
    clock.advance(SESSION_MS + 1);
    expect(gc.heartbeat("a", "m-1", { memberEpoch: 1, ownedPartitions: [] }).assignment).toEqual(asg({ t: [0] }));
    expect(gc.heartbeat("a", "m-2", { memberEpoch: 2, ownedPartitions: [] }).assignment).toEqual(asg({ t: [1] }));
    // A join after the hold gets its partitions at once.
    expect(gc.join("c", { topics: ["t"] }).assignment).toEqual(asg({ t: [0, 1] }));
  });

  it("does not hold topics that did not exist at start, nor a held topic deleted and created again", () => {
    const counts = new Map([
      ["t", 2],
      ["fresh", 1],
    ]);
    const { gc } = restarted({}, counts);
    expect(gc.join("g", { topics: ["fresh", "t"] })).toMatchObject({ assignment: asg({ fresh: [0] }), pendingPartitions: asg({ t: [0, 1] }) });
    counts.delete("t");
    gc.onTopicChanged("t");
    counts.set("t", 3);
    gc.onTopicChanged("t");
    expect(gc.heartbeat("g", "m-1", { memberEpoch: 1, ownedPartitions: asg({ fresh: [0] }) }).assignment).toEqual(asg({ fresh: [0], t: [0, 1, 2] }));
  });

  it("holds partitions a held topic gains during the hold too", () => {
    const { gc, counts } = restarted();
    gc.join("g", { topics: ["t"] });
    counts.set("t", 4);
    gc.onTopicChanged("t");
    expect(gc.heartbeat("g", "m-1", { memberEpoch: 1, ownedPartitions: [] })).toMatchObject({
      assignment: [],
      pendingPartitions: asg({ t: [0, 1, 2, 3] }),
    });
  });

  it("tells a member from before the restart to rejoin (its group or member id is unknown here)", () => {
    const { gc } = restarted();
    expect(() => gc.heartbeat("g", "old-member", { memberEpoch: 4, ownedPartitions: asg({ t: [0, 1] }) })).toThrow(
      expect.objectContaining({ code: "GROUP_ID_NOT_FOUND" }),
    );
    gc.join("g", { topics: ["t"] });
    expect(() => gc.heartbeat("g", "old-member", { memberEpoch: 4, ownedPartitions: asg({ t: [0, 1] }) })).toThrow(
      expect.objectContaining({ code: "UNKNOWN_MEMBER_ID" }),
    );
  });

  it("takes the previous coordinator's session timeout as durationMs, and 0 or no topics as no hold", () => {
    const longer = restarted({ restartHold: { topics: ["t"], durationMs: 45_000 } });
    expect(longer.gc.restartHoldUntilMs).toBe(START_MS + 45_000);
    longer.gc.join("g", { topics: ["t"] });
    longer.clock.advance(SESSION_MS + 1);
    expect(longer.gc.heartbeat("g", "m-1", { memberEpoch: 1, ownedPartitions: [] }).assignment).toEqual([]);
    longer.clock.set(START_MS + 45_001);
    expect(longer.gc.heartbeat("g", "m-1", { memberEpoch: 1, ownedPartitions: [] }).assignment).toEqual(asg({ t: [0, 1] }));

    for (const restartHold of [{ topics: ["t"], durationMs: 0 }, { topics: [] }, undefined]) {
      const { gc } = restarted({ restartHold });
      expect(gc.restartHoldUntilMs).toBeUndefined();
      expect(gc.join("g", { topics: ["t"] }).assignment).toEqual(asg({ t: [0, 1] }));
    }
  });

  it.each([
    [{ topics: 3 }, "restartHold.topics must be an iterable of topic names"],
    [{ topics: ["ok", ""] }, "held topic must not be empty"],
    [{ topics: ["t"], durationMs: -1 }, "restartHold.durationMs must be a non-negative integer (ms), got -1"],
  ])("rejects restartHold %o with INVALID_CONFIG", (restartHold, message) => {
    expect(() => restarted({ restartHold: restartHold as never })).toThrow(expect.objectContaining({ code: "INVALID_CONFIG", message }));
  });

  it("never lets a new member overlap an old one that keeps processing until it stops by itself", () => {
    // The old coordinator: x owns both partitions and heartbeats last at `lastHeartbeat`.
    const clock = new ManualClock(0);
    const store = new InMemoryOffsetStore();
    const options = { clock, offsetStore: store, partitionCount: () => 2, sessionTimeoutMs: SESSION_MS, heartbeatIntervalMs: 1_000 };
    const before = new GroupCoordinator(options);
    const x = before.join("g", { topics: ["t"] });
    clock.advance(700);
    before.heartbeat("g", x.memberId, { memberEpoch: x.memberEpoch, ownedPartitions: x.assignment });
    const lastHeartbeat = clock.now();
    // The broker dies right away and comes back: x cannot reach it (or has not heartbeated yet).
    clock.advance(1);
    const after = new GroupCoordinator({ ...options, restartHold: { topics: ["t"] } });
    const y = after.join("g", { topics: ["t"] });
    // x stops by itself once a session timeout has passed without a successful heartbeat. Until then y has nothing.
    for (let t = clock.now(); t <= lastHeartbeat + SESSION_MS; t += 250) {
      clock.set(t);
      after.tick();
      expect(after.heartbeat("g", y.memberId, { memberEpoch: 1, ownedPartitions: [] }).assignment).toEqual([]);
    }
    clock.set(after.restartHoldUntilMs! + 1);
    expect(after.heartbeat("g", y.memberId, { memberEpoch: 1, ownedPartitions: [] }).assignment).toEqual(asg({ t: [0, 1] }));
  });
});
