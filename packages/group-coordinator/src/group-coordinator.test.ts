import { describe, expect, it } from "vitest";
import { asg, setup } from "../test/helpers/setup.js";
import { ManualClock } from "./clock.js";
import { GroupCoordinator, type GroupCoordinatorOptions } from "./group-coordinator.js";
import { InMemoryOffsetStore, type OffsetStore } from "./offset-store.js";

const base = (): GroupCoordinatorOptions => ({
  clock: new ManualClock(),
  offsetStore: new InMemoryOffsetStore(),
  partitionCount: () => 1,
});

describe("GroupCoordinator options", () => {
  it("defaults to Kafka's session timeout and heartbeat interval", () => {
    const gc = new GroupCoordinator(base());
    expect([gc.sessionTimeoutMs, gc.heartbeatIntervalMs]).toEqual([45_000, 5_000]);
    expect(gc.join("g", { topics: ["t"] }).heartbeatIntervalMs).toBe(5_000);
  });

  it.each([
    [{ sessionTimeoutMs: 0 }, "sessionTimeoutMs must be a positive integer (ms), got 0"],
    [{ sessionTimeoutMs: 1.5 }, "sessionTimeoutMs must be a positive integer (ms), got 1.5"],
    [{ heartbeatIntervalMs: -5 }, "heartbeatIntervalMs must be a positive integer (ms), got -5"],
    [{ sessionTimeoutMs: 5_000 }, "heartbeatIntervalMs 5000 must be below sessionTimeoutMs 5000"],
    [{ clock: undefined }, "clock must have a now() method"],
    [{ offsetStore: {} as OffsetStore }, "offsetStore must have commitOffsets() and committedOffsets() methods"],
    [{ partitionCount: 3 as never }, "partitionCount must be a function"],
    [{ assignor: "range" as never }, "assignor must be a function"],
  ])("rejects %o with INVALID_CONFIG", (override, message) => {
    expect(() => new GroupCoordinator({ ...base(), ...override } as GroupCoordinatorOptions)).toThrow(
      expect.objectContaining({ code: "INVALID_CONFIG", message }),
    );
  });

  it("generates UUID member ids by default", () => {
    const gc = new GroupCoordinator(base());
    const a = gc.join("g", { topics: ["t"] }).memberId;
    const b = gc.join("g", { topics: ["t"] }).memberId;
    expect(a).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(b).not.toBe(a);
  });

  it("retries an id generator that repeats itself, and gives up with UNKNOWN_SERVER_ERROR", () => {
    const ids = ["x", "x", "y", "y", "y", "y"];
    const gc = new GroupCoordinator({ ...base(), generateMemberId: () => ids.shift()! });
    expect(gc.join("g", { topics: ["t"] }).memberId).toBe("x");
    expect(gc.join("g", { topics: ["t"] }).memberId).toBe("y");
    expect(() => gc.join("g", { topics: ["t"] })).toThrow(
      expect.objectContaining({ code: "UNKNOWN_SERVER_ERROR", message: "member id generator gave no fresh id for group g" }),
    );
    expect(gc.describeGroup("g").members).toHaveLength(2);
  });
});

describe("argument validation", () => {
  it.each([
    ["", "group id must not be empty"],
    ["x".repeat(250), "group id is 250 characters long, at most 249 allowed"],
    ["a\nb", 'group id "a\\nb" contains control characters'],
    [42, "group id must be a string, got number"],
  ])("rejects group id %j with INVALID_GROUP_ID", (groupId, message) => {
    const { gc } = setup();
    expect(() => gc.join(groupId as string, { topics: ["t"] })).toThrow(expect.objectContaining({ code: "INVALID_GROUP_ID", message }));
    expect(() => gc.describeGroup(groupId as string)).toThrow(expect.objectContaining({ code: "INVALID_GROUP_ID" }));
  });

  it("accepts any printable group id up to 249 characters, including path-like ones", () => {
    const { gc } = setup();
    for (const id of ["../etc", "g".repeat(249), "ünï cødé/😀"]) expect(gc.join(id, { topics: ["t"] }).memberEpoch).toBe(1);
  });

  it("rejects bad subscriptions and instance ids with INVALID_REQUEST", () => {
    const { gc } = setup();
    const bad = (options: unknown, message: string) =>
      expect(() => gc.join("g", options as never)).toThrow(expect.objectContaining({ code: "INVALID_REQUEST", message }));
    bad({ topics: [] }, "topics must be a non-empty array of topic names");
    bad({ topics: "t" }, "topics must be a non-empty array of topic names");
    bad(undefined, "topics must be a non-empty array of topic names");
    bad({ topics: ["t", ""] }, "topic must not be empty");
    bad({ topics: ["t"], instanceId: "" }, "instance id must not be empty");
    expect(gc.listGroups()).toEqual([]);
  });

  it("rejects malformed heartbeats with INVALID_REQUEST and unknown groups with GROUP_ID_NOT_FOUND", () => {
    const { gc } = setup();
    gc.join("g", { topics: ["t"] });
    const bad = (memberId: unknown, options: unknown, message: string) =>
      expect(() => gc.heartbeat("g", memberId as string, options as never)).toThrow(expect.objectContaining({ code: "INVALID_REQUEST", message }));
    bad("m-1", { memberEpoch: 0, ownedPartitions: [] }, "member epoch must be an integer >= 1, got 0");
    bad("m-1", { memberEpoch: "1", ownedPartitions: [] }, "member epoch must be an integer >= 1, got 1");
    bad("m-1", { memberEpoch: 1 }, "ownedPartitions must be an array");
    bad("m-1", { memberEpoch: 1, ownedPartitions: [{ topic: "t" }] }, "ownedPartitions entries must be { topic: string, partitions: number[] }");
    bad("m-1", { memberEpoch: 1, ownedPartitions: [{ topic: "t", partitions: [-1] }] }, "owned partition t--1 is not a partition number");
    bad("", { memberEpoch: 1, ownedPartitions: [] }, 'member id must be a non-empty string, got ""');
    expect(() => gc.heartbeat("nope", "m-1", { memberEpoch: 1, ownedPartitions: [] })).toThrow(
      expect.objectContaining({ code: "GROUP_ID_NOT_FOUND", message: "group nope does not exist" }),
    );
    // Nothing of that touched the member.
    expect(gc.describeMember("g", "m-1")).toMatchObject({ memberEpoch: 1, assignment: asg({ t: [0, 1, 2, 3] }) });
  });

  it("ignores owned partitions the member does not hold (they are not its to release)", () => {
    const { gc } = setup();
    gc.join("g", { topics: ["t"] });
    expect(gc.heartbeat("g", "m-1", { memberEpoch: 1, ownedPartitions: asg({ t: [0, 7], other: [1] }) })).toMatchObject({
      memberEpoch: 1,
      assignment: asg({ t: [0, 1, 2, 3] }),
    });
  });
});

describe("sessions", () => {
  it("expires a member silent for longer than the session timeout, not one exactly at it", () => {
    const { gc, clock } = setup({ sessionTimeoutMs: 30_000 });
    gc.join("g", { topics: ["t"] });
    clock.advance(10_000);
    gc.join("g", { topics: ["t"] });
    clock.advance(20_000);
    expect(gc.tick()).toEqual([]);
    clock.advance(1);
    expect(gc.tick()).toEqual([{ groupId: "g", memberId: "m-1", instanceId: undefined }]);
    expect(gc.describeGroup("g").members.map((m) => m.memberId)).toEqual(["m-2"]);
    // Its partitions are free: m-2 takes them all at its next heartbeat.
    expect(gc.heartbeat("g", "m-2", { memberEpoch: 2, ownedPartitions: [] })).toMatchObject({ memberEpoch: 3, assignment: asg({ t: [0, 1, 2, 3] }) });
    clock.advance(30_000);
    expect(gc.tick()).toEqual([]);
    clock.advance(1);
    expect(gc.tick()).toEqual([{ groupId: "g", memberId: "m-2", instanceId: undefined }]);
    // Empty and never committed: forgotten at once (retention).
    expect(gc.listGroups()).toEqual([]);
  });

  it("counts every heartbeat, even one that changes nothing", () => {
    const { gc, clock } = setup({ sessionTimeoutMs: 30_000 });
    gc.join("g", { topics: ["t"] });
    for (let i = 0; i < 5; i++) {
      clock.advance(25_000);
      gc.heartbeat("g", "m-1", { memberEpoch: 1, ownedPartitions: asg({ t: [0, 1, 2, 3] }) });
      expect(gc.tick()).toEqual([]);
    }
    expect(gc.describeMember("g", "m-1").lastHeartbeatMs).toBe(125_000);
  });

  it("a member's own session timeout applies within the bounds (Kafka's group.min/max.session.timeout.ms)", () => {
    const { gc, clock } = setup({ sessionTimeoutMs: 30_000, heartbeatIntervalMs: 5_000, minSessionTimeoutMs: 6_000, maxSessionTimeoutMs: 120_000 });
    expect([gc.minSessionTimeoutMs, gc.maxSessionTimeoutMs]).toEqual([6_000, 120_000]);
    // m-1 asks for 6 s: told to heartbeat every 2 s (a third), evicted after 6 s of silence.
    expect(gc.join("g", { topics: ["t"], sessionTimeoutMs: 6_000 }).heartbeatIntervalMs).toBe(2_000);
    // m-2 asks for 100 s: the broker's heartbeat interval, kept past the broker's 30 s.
    expect(gc.join("g", { topics: ["t"], sessionTimeoutMs: 100_000 }).heartbeatIntervalMs).toBe(5_000);
    // m-3 asks for nothing: the broker's 30 s.
    gc.join("g", { topics: ["t"] });
    clock.advance(6_000);
    expect(gc.tick()).toEqual([]);
    clock.advance(1);
    expect(gc.tick().map((m) => m.memberId)).toEqual(["m-1"]);
    clock.advance(30_000 - 6_001);
    expect(gc.tick()).toEqual([]);
    clock.advance(1);
    expect(gc.tick().map((m) => m.memberId)).toEqual(["m-3"]);
    clock.advance(100_000 - 30_001);
    expect(gc.tick()).toEqual([]);
    clock.advance(1);
    expect(gc.tick().map((m) => m.memberId)).toEqual(["m-2"]);
  });

  it("refuses a session timeout outside the bounds with INVALID_SESSION_TIMEOUT, and bad bounds with INVALID_CONFIG", () => {
    const { gc } = setup({ sessionTimeoutMs: 30_000 });
    expect([gc.minSessionTimeoutMs, gc.maxSessionTimeoutMs]).toEqual([6_000, 1_800_000]);
    for (const sessionTimeoutMs of [5_999, 1_800_001]) {
      expect(() => gc.join("g", { topics: ["t"], sessionTimeoutMs })).toThrow(
        expect.objectContaining({
          code: "INVALID_SESSION_TIMEOUT",
          message: `session timeout ${sessionTimeoutMs} ms is outside the broker's bounds, 6000 to 1800000 ms`,
        }),
      );
    }
    expect(() => gc.join("g", { topics: ["t"], sessionTimeoutMs: 1.5 })).toThrow(expect.objectContaining({ code: "INVALID_REQUEST" }));
    expect(gc.listGroups()).toEqual([]);
    // The bounds widen to include a configured session timeout outside the defaults.
    expect(setup({ sessionTimeoutMs: 1_000, heartbeatIntervalMs: 100 }).gc.minSessionTimeoutMs).toBe(1_000);
    expect(() => setup({ sessionTimeoutMs: 30_000, minSessionTimeoutMs: 40_000 })).toThrow(
      expect.objectContaining({
        code: "INVALID_CONFIG",
        message: "sessionTimeoutMs 30000 must be within minSessionTimeoutMs 40000 and maxSessionTimeoutMs 1800000",
      }),
    );
  });
});

describe("topic changes", () => {
  it("lets members subscribe to a topic that does not exist yet, and assigns it once it appears", () => {
    const { gc, counts } = setup({ topics: {} });
    expect(gc.join("g", { topics: ["later"] })).toMatchObject({ memberEpoch: 1, assignment: [] });
    counts.set("later", 2);
    gc.onTopicChanged("later");
    expect(gc.describeGroup("g")).toMatchObject({ groupEpoch: 2, state: "assigning" });
    expect(gc.heartbeat("g", "m-1", { memberEpoch: 1, ownedPartitions: [] })).toMatchObject({ memberEpoch: 2, assignment: asg({ later: [0, 1] }) });
  });

  it("notices a topic that appeared when another member subscribes to it", () => {
    const { gc, counts } = setup({ topics: {} });
    gc.join("g1", { topics: ["x"] });
    counts.set("x", 1);
    gc.join("g2", { topics: ["x"] }); // reads the count afresh, and tells g1 too
    expect(gc.heartbeat("g1", "m-1", { memberEpoch: 1, ownedPartitions: [] })).toMatchObject({ memberEpoch: 2, assignment: asg({ x: [0] }) });
  });

  it("assigns partitions added to a topic, keeping the existing ones where they are", () => {
    const { gc, counts } = setup({ topics: { t: 2 } });
    gc.join("g", { topics: ["t"] });
    gc.join("g", { topics: ["t"] });
    gc.heartbeat("g", "m-1", { memberEpoch: 1, ownedPartitions: asg({ t: [0] }) });
    gc.heartbeat("g", "m-2", { memberEpoch: 2, ownedPartitions: [] });
    counts.set("t", 5);
    gc.onTopicChanged("t");
    expect(gc.heartbeat("g", "m-1", { memberEpoch: 2, ownedPartitions: asg({ t: [0] }) })).toMatchObject({
      memberEpoch: 3,
      assignment: asg({ t: [0, 2, 4] }),
    });
    expect(gc.heartbeat("g", "m-2", { memberEpoch: 2, ownedPartitions: asg({ t: [1] }) })).toMatchObject({
      memberEpoch: 3,
      assignment: asg({ t: [1, 3] }),
    });
  });

  it("drops a deleted topic's partitions from every member at once, and offsets stay in the store", async () => {
    const { gc, counts } = setup({ topics: { t: 2, u: 2 } });
    gc.join("g", { topics: ["t", "u"] });
    await gc.commitOffsets("g", { memberId: "m-1", memberEpoch: 1, offsets: [{ topic: "u", partition: 1, offset: 3 }] });
    counts.delete("u");
    gc.onTopicChanged("u");
    expect(gc.describeMember("g", "m-1")).toMatchObject({ assignment: asg({ t: [0, 1] }), revokingPartitions: [] });
    expect(gc.heartbeat("g", "m-1", { memberEpoch: 1, ownedPartitions: asg({ t: [0, 1], u: [0, 1] }) })).toMatchObject({
      memberEpoch: 2,
      assignment: asg({ t: [0, 1] }),
      revokingPartitions: [],
    });
    expect(await gc.fetchOffsets("g")).toEqual([{ topic: "u", partition: 1, offset: 3 }]);
    // Recreated: the subscription still stands.
    counts.set("u", 1);
    gc.onTopicChanged("u");
    expect(gc.heartbeat("g", "m-1", { memberEpoch: 2, ownedPartitions: asg({ t: [0, 1] }) }).assignment).toEqual(asg({ t: [0, 1], u: [0] }));
  });

  it("treats a shrunk topic like a deletion of the missing partitions", () => {
    const { gc, counts } = setup({ topics: { t: 4 } });
    gc.join("g", { topics: ["t"] });
    counts.set("t", 2);
    gc.onTopicChanged("t");
    expect(gc.describeMember("g", "m-1").assignment).toEqual(asg({ t: [0, 1] }));
  });

  it("ignores a notification that changes nothing, and topics no group subscribes to", () => {
    const { gc, counts } = setup({ topics: { t: 4 } });
    gc.join("g", { topics: ["t"] });
    gc.onTopicChanged("t");
    counts.set("other", 3);
    gc.onTopicChanged("other");
    expect(gc.describeGroup("g")).toMatchObject({ groupEpoch: 1, state: "stable" });
  });

  it("reports a misbehaving partitionCount as UNKNOWN_SERVER_ERROR", () => {
    const gc = new GroupCoordinator({
      ...base(),
      partitionCount: (t) =>
        t === "neg"
          ? -1
          : t === "throw"
            ? (() => {
                throw new Error("x");
              })()
            : 1,
    });
    expect(() => gc.join("g", { topics: ["neg"] })).toThrow(
      expect.objectContaining({ code: "UNKNOWN_SERVER_ERROR", message: "partitionCount returned -1 for topic neg" }),
    );
    expect(() => gc.onTopicChanged("throw")).toThrow(
      expect.objectContaining({ code: "UNKNOWN_SERVER_ERROR", message: "partitionCount failed for topic throw" }),
    );
  });
});

describe("assignor failures", () => {
  it.each([
    [
      "throws",
      () => {
        throw new Error("nope");
      },
      "assignor failed for group g: nope",
    ],
    ["names an unknown member", () => new Map([["ghost", []]]), "assignor returned an invalid assignment for group g: unknown member ghost"],
    [
      "gives a missing partition",
      (i: { members: ReadonlyArray<{ memberId: string }> }) => new Map([[i.members[0]!.memberId, asg({ t: [4] })]]),
      "assignor returned an invalid assignment for group g: partition t-4 does not exist (4 partitions)",
    ],
    [
      "gives an unsubscribed topic",
      (i: { members: ReadonlyArray<{ memberId: string }> }) => new Map([[i.members[0]!.memberId, asg({ u: [0] })]]),
      "assignor returned an invalid assignment for group g: member m-1 got topic u, which it does not subscribe to",
    ],
  ])("rejects an assignor that %s, and undoes the join", (_, assignor, message) => {
    const { gc } = setup({ topics: { t: 4, u: 1 }, assignor: assignor as never });
    expect(() => gc.join("g", { topics: ["t"] })).toThrow(expect.objectContaining({ code: "UNKNOWN_SERVER_ERROR", message }));
    // The group the join created is gone with it.
    expect(gc.listGroups()).toEqual([]);
  });

  it("rejects a partition given to two members", () => {
    const { gc } = setup({ assignor: (i) => new Map(i.members.map((m) => [m.memberId, asg({ t: [0] })])) });
    gc.join("g", { topics: ["t"] });
    expect(() => gc.join("g", { topics: ["t"] })).toThrow(
      expect.objectContaining({
        code: "UNKNOWN_SERVER_ERROR",
        message: "assignor returned an invalid assignment for group g: partition t-0 went to both m-1 and m-2",
      }),
    );
    expect(gc.describeGroup("g").members.map((m) => m.memberId)).toEqual(["m-1"]);
  });
});

describe("describe and list", () => {
  it("describes members with their assignment, revocations, pending partitions and target", () => {
    const { gc, clock } = setup();
    gc.join("g", { topics: ["t"] });
    clock.advance(7);
    gc.join("g", { topics: ["t"], instanceId: "host-b" });
    gc.heartbeat("g", "m-1", { memberEpoch: 1, ownedPartitions: asg({ t: [0, 1, 2, 3] }) });
    expect(gc.describeGroup("g")).toEqual({
      groupId: "g",
      groupEpoch: 2,
      assignmentEpoch: 2,
      state: "reconciling",
      members: [
        {
          memberId: "m-1",
          instanceId: undefined,
          memberEpoch: 1,
          topics: ["t"],
          assignment: asg({ t: [0, 1] }),
          revokingPartitions: asg({ t: [2, 3] }),
          pendingPartitions: [],
          targetAssignment: asg({ t: [0, 1] }),
          lastHeartbeatMs: 7,
          state: "unrevoked-partitions",
        },
        {
          memberId: "m-2",
          instanceId: "host-b",
          memberEpoch: 2,
          topics: ["t"],
          assignment: [],
          revokingPartitions: [],
          pendingPartitions: asg({ t: [2, 3] }),
          targetAssignment: asg({ t: [2, 3] }),
          lastHeartbeatMs: 7,
          state: "unreleased-partitions",
        },
      ],
    });
    expect(() => gc.describeMember("g", "m-9")).toThrow(expect.objectContaining({ code: "UNKNOWN_MEMBER_ID" }));
    expect(() => gc.describeGroup("nope")).toThrow(expect.objectContaining({ code: "GROUP_ID_NOT_FOUND" }));
  });

  it("lists groups sorted by id, without running any assignor", () => {
    let runs = 0;
    const { gc } = setup({ assignor: (i) => (runs++, new Map(i.members.map((m) => [m.memberId, []]))) });
    gc.join("zeta", { topics: ["t"] });
    gc.join("alpha", { topics: ["t"] });
    gc.join("beta", { topics: ["t"] });
    gc.leave("beta", "m-3"); // never committed: forgotten at once
    gc.join("alpha", { topics: ["t"] });
    gc.leave("alpha", "m-4");
    const before = runs;
    expect(gc.listGroups()).toEqual([
      { groupId: "alpha", state: "assigning", groupEpoch: 3, memberCount: 1 },
      { groupId: "zeta", state: "stable", groupEpoch: 1, memberCount: 1 },
    ]);
    gc.join("zeta", { topics: ["t"] });
    gc.leave("zeta", "m-5");
    expect(gc.describeGroup("zeta").state).toBe("assigning");
    expect(runs).toBe(before + 1);
  });

  it("returns frozen assignments", () => {
    const { gc } = setup();
    const r = gc.join("g", { topics: ["t"] });
    expect(Object.isFrozen(r.assignment)).toBe(true);
    expect(Object.isFrozen(r.assignment[0]!.partitions)).toBe(true);
  });
});

describe("offsets", () => {
  it("fetches committed offsets for any valid group, optionally by topic, sorted", async () => {
    const store = new InMemoryOffsetStore();
    await store.commitOffsets("old-group", [
      { topic: "b", partition: 1, offset: 4 },
      { topic: "a", partition: 0, offset: 9 },
    ]);
    const gc = new GroupCoordinator({ ...base(), offsetStore: store });
    expect(await gc.fetchOffsets("old-group")).toEqual([
      { topic: "a", partition: 0, offset: 9 },
      { topic: "b", partition: 1, offset: 4 },
    ]);
    expect(await gc.fetchOffsets("old-group", ["b"])).toEqual([{ topic: "b", partition: 1, offset: 4 }]);
    expect(await gc.fetchOffsets("old-group", [])).toEqual([]);
    expect(await gc.fetchOffsets("never")).toEqual([]);
    await expect(gc.fetchOffsets("")).rejects.toMatchObject({ code: "INVALID_GROUP_ID" });
  });

  it("propagates offset store failures and stores nothing", async () => {
    const failing: OffsetStore = {
      commitOffsets: () => Promise.reject(new Error("disk full")),
      committedOffsets: () => Promise.resolve([]),
    };
    const gc = new GroupCoordinator({ ...base(), offsetStore: failing });
    gc.join("g", { topics: ["t"] });
    const memberId = gc.describeGroup("g").members[0]!.memberId;
    await expect(gc.commitOffsets("g", { memberId, memberEpoch: 1, offsets: [{ topic: "t", partition: 0, offset: 1 }] })).rejects.toThrow(
      "disk full",
    );
  });
});

describe("close", () => {
  it("waits for commits in flight, then refuses every call with COORDINATOR_NOT_AVAILABLE", async () => {
    let release!: () => void;
    const stored: unknown[] = [];
    const slow: OffsetStore = {
      commitOffsets: (_, offsets) =>
        new Promise<void>((resolve) => {
          release = () => {
            stored.push(...offsets);
            resolve();
          };
        }),
      committedOffsets: () => Promise.resolve([]),
    };
    const gc = new GroupCoordinator({ ...base(), offsetStore: slow, generateMemberId: () => "m-1" });
    gc.join("g", { topics: ["t"] });
    const commit = gc.commitOffsets("g", { memberId: "m-1", memberEpoch: 1, offsets: [{ topic: "t", partition: 0, offset: 1 }] });
    let closed = false;
    const closing = gc.close().then(() => {
      closed = true;
    });
    await Promise.resolve();
    expect(closed).toBe(false);
    release();
    await commit;
    await closing;
    expect(stored).toEqual([{ topic: "t", partition: 0, offset: 1 }]);
    const unavailable = expect.objectContaining({ code: "COORDINATOR_NOT_AVAILABLE", retriable: true, message: "group coordinator is closed" });
    expect(() => gc.join("g", { topics: ["t"] })).toThrow(unavailable);
    expect(() => gc.heartbeat("g", "m-1", { memberEpoch: 1, ownedPartitions: [] })).toThrow(unavailable);
    expect(() => gc.tick()).toThrow(unavailable);
    await expect(gc.fetchOffsets("g")).rejects.toMatchObject({ code: "COORDINATOR_NOT_AVAILABLE" });
    await expect(gc.commitOffsets("g", { memberId: "m-1", memberEpoch: 1, offsets: [] })).rejects.toMatchObject({
      code: "COORDINATOR_NOT_AVAILABLE",
    });
    await gc.close(); // idempotent
  });

  it("supports await using", async () => {
    const gc = new GroupCoordinator(base());
    await gc[Symbol.asyncDispose]();
    expect(() => gc.listGroups()).toThrow(expect.objectContaining({ code: "COORDINATOR_NOT_AVAILABLE" }));
  });
});
