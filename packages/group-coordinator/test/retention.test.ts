// Group retention (Kafka's offsets.retention.minutes): an empty group is forgotten once its committed
// offsets expire, at once if it never committed, and an admin can delete an empty group.
import { describe, expect, it } from "vitest";
import {
  DEFAULT_OFFSETS_RETENTION_MS,
  GroupCoordinator,
  InMemoryOffsetStore,
  ManualClock,
  type GroupCoordinatorOptions,
  type OffsetStore,
  type TopicPartitionOffset,
} from "@minikafka/group-coordinator";

const RETENTION_MS = 60_000;
const SESSION_MS = 10_000;

function setup(options: Partial<GroupCoordinatorOptions> = {}) {
  const clock = new ManualClock(0);
  const store = new InMemoryOffsetStore();
  let next = 0;
  const gc = new GroupCoordinator({
    clock,
    offsetStore: store,
    partitionCount: (topic) => (topic === "t" ? 2 : undefined),
    sessionTimeoutMs: SESSION_MS,
    heartbeatIntervalMs: 1_000,
    offsetsRetentionMs: RETENTION_MS,
    generateMemberId: () => `m-${++next}`,
    ...options,
  });
  return { gc, clock, store };
}

/** Joins a member, commits `offset` for t-0 and t-1 with it, and returns its id. */
async function joinAndCommit(gc: GroupCoordinator, groupId: string, offset: number): Promise<string> {
  const { memberId, memberEpoch } = gc.join(groupId, { topics: ["t"] });
  await gc.commitOffsets(groupId, {
    memberId,
    memberEpoch,
    offsets: [
      { topic: "t", partition: 0, offset },
      { topic: "t", partition: 1, offset },
    ],
  });
  return memberId;
}

const ids = (gc: GroupCoordinator) => gc.listGroups().map((g) => g.groupId);

describe("retention of empty groups", () => {
  it("defaults to Kafka's 7 days and refuses a non-positive retention", () => {
    const base = { clock: new ManualClock(), offsetStore: new InMemoryOffsetStore(), partitionCount: () => 1 };
    expect(new GroupCoordinator(base).offsetsRetentionMs).toBe(7 * 24 * 60 * 60 * 1000);
    expect(DEFAULT_OFFSETS_RETENTION_MS).toBe(604_800_000);
    expect(() => new GroupCoordinator({ ...base, offsetsRetentionMs: 0 })).toThrow(
      expect.objectContaining({ code: "INVALID_CONFIG", message: "offsetsRetentionMs must be a positive integer (ms), got 0" }),
    );
  });

  it("forgets a group that never committed as soon as its last member leaves, expires or is fenced", () => {
    const { gc, clock } = setup();
    const a = gc.join("left", { topics: ["t"] }).memberId;
    const b = gc.join("left", { topics: ["t"] }).memberId;
    gc.join("expired", { topics: ["t"] });
    const f = gc.join("fenced", { topics: ["t"] }).memberId;
    gc.leave("left", a);
    expect(ids(gc)).toEqual(["expired", "fenced", "left"]); // one member left: kept
    gc.leave("left", b);
    expect(() => gc.heartbeat("fenced", f, { memberEpoch: 7, ownedPartitions: [] })).toThrow(
      expect.objectContaining({ code: "FENCED_MEMBER_EPOCH" }),
    );
    expect(ids(gc)).toEqual(["expired"]);
    clock.advance(SESSION_MS + 1);
    expect(gc.tick()).toHaveLength(1);
    expect(ids(gc)).toEqual([]);
    // A member of a forgotten group is told to rejoin.
    expect(() => gc.heartbeat("left", a, { memberEpoch: 1, ownedPartitions: [] })).toThrow(expect.objectContaining({ code: "GROUP_ID_NOT_FOUND" }));
  });

  it("keeps an empty group that committed, listed as empty, until its offsets expire; then deletes them from the store", async () => {
    const { gc, clock, store } = setup();
    const m = await joinAndCommit(gc, "g", 5);
    clock.advance(1_000);
    gc.leave("g", m); // empty from t = 1 000
    expect(gc.listGroups()).toEqual([{ groupId: "g", state: "empty", groupEpoch: 2, memberCount: 0 }]);
    clock.set(1_000 + RETENTION_MS - 1);
    gc.tick();
    expect(ids(gc)).toEqual(["g"]);
    expect(await gc.fetchOffsets("g")).toHaveLength(2);
    clock.advance(1);
    expect(gc.tick()).toEqual([]);
    expect(ids(gc)).toEqual([]);
    expect(() => gc.describeGroup("g")).toThrow(expect.objectContaining({ code: "GROUP_ID_NOT_FOUND" }));
    await gc.close(); // waits for the store's delete
    expect(await store.committedOffsets("g")).toEqual([]);
    expect(store.committedGroupIds()).toEqual([]);
  });

  it("counts retention from the moment the group became empty: a member joining in between resets it", async () => {
    const { gc, clock } = setup();
    const m = await joinAndCommit(gc, "g", 5);
    gc.leave("g", m);
    clock.advance(RETENTION_MS - 1);
    const n = gc.join("g", { topics: ["t"] }).memberId;
    clock.advance(RETENTION_MS * 3); // a member, however long: never forgotten
    gc.heartbeat("g", n, { memberEpoch: 3, ownedPartitions: [] });
    gc.tick();
    expect(ids(gc)).toEqual(["g"]);
    gc.leave("g", n);
    clock.advance(RETENTION_MS - 1);
    gc.tick();
    expect(ids(gc)).toEqual(["g"]);
    expect(await gc.fetchOffsets("g")).toEqual([
      { topic: "t", partition: 0, offset: 5 },
      { topic: "t", partition: 1, offset: 5 },
    ]);
    clock.advance(1);
    gc.tick();
    expect(ids(gc)).toEqual([]);
    expect(await gc.fetchOffsets("g")).toEqual([]);
  });

  it("counts a commit as soon as it is accepted: the last member leaving while it is in flight keeps the group", async () => {
    const { gc } = setup();
    const { memberId, memberEpoch } = gc.join("g", { topics: ["t"] });
    const pending = gc.commitOffsets("g", { memberId, memberEpoch, offsets: [{ topic: "t", partition: 0, offset: 3 }] });
    gc.leave("g", memberId);
    await pending;
    expect(gc.listGroups()).toEqual([{ groupId: "g", state: "empty", groupEpoch: 2, memberCount: 0 }]);
  });

  it("knows the groups the store lists at start, as empty groups whose retention starts then", async () => {
    const store = new InMemoryOffsetStore();
    await store.commitOffsets("old", [{ topic: "t", partition: 0, offset: 9 }]);
    await store.commitOffsets("back", [{ topic: "t", partition: 1, offset: 4 }]);
    const clock = new ManualClock(500_000);
    const { gc } = setup({ clock, offsetStore: store });
    expect(gc.listGroups()).toEqual([
      { groupId: "back", state: "empty", groupEpoch: 0, memberCount: 0 },
      { groupId: "old", state: "empty", groupEpoch: 0, memberCount: 0 },
    ]);
    // "back" gets a member again: a group with offsets, so leaving keeps it (retention restarts).
    clock.advance(RETENTION_MS - 10);
    const m = gc.join("back", { topics: ["t"] }).memberId;
    clock.advance(5);
    gc.leave("back", m);
    clock.advance(5);
    gc.tick();
    expect(ids(gc)).toEqual(["back"]);
    expect(store.committedGroupIds()).toEqual(["back"]);
    expect(await store.committedOffsets("back")).toEqual([{ topic: "t", partition: 1, offset: 4 }]);
  });

  it("with a store that cannot delete, forgets the group and leaves its offsets in the store", async () => {
    const inner = new InMemoryOffsetStore();
    const store: OffsetStore = {
      commitOffsets: (g, o) => inner.commitOffsets(g, o),
      committedOffsets: (g) => inner.committedOffsets(g),
    };
    const { gc, clock } = setup({ offsetStore: store });
    gc.leave("g", await joinAndCommit(gc, "g", 2));
    clock.advance(RETENTION_MS);
    gc.tick();
    expect(ids(gc)).toEqual([]);
    expect(await inner.committedOffsets("g")).toHaveLength(2);
  });

  it("keeps a group whose offsets the store failed to delete, reports it, and tries again at the next tick", async () => {
    const inner = new InMemoryOffsetStore();
    let failures = 1;
    const store: OffsetStore = {
      commitOffsets: (g, o) => inner.commitOffsets(g, o),
      committedOffsets: (g) => inner.committedOffsets(g),
      deleteGroup: (g) => (failures-- > 0 ? Promise.reject(new Error("disk on fire")) : inner.deleteGroup(g)),
    };
    const errors: string[] = [];
    const { gc, clock } = setup({ offsetStore: store, onRetentionError: (g, e) => errors.push(`${g}: ${(e as Error).message}`) });
    gc.leave("g", await joinAndCommit(gc, "g", 2));
    clock.advance(RETENTION_MS);
    gc.tick();
    await new Promise((resolve) => setImmediate(resolve)); // the failed delete settles
    expect(errors).toEqual(["g: disk on fire"]);
    expect(gc.listGroups()).toEqual([{ groupId: "g", state: "empty", groupEpoch: 2, memberCount: 0 }]);
    gc.tick();
    await gc.close();
    expect(errors).toHaveLength(1);
    expect(await inner.committedOffsets("g")).toEqual([]);
  });

  it("stays bounded under join/leave churn: 8,698 rounds (the issue's count) leave at most a retention window of groups", async () => {
    const { gc, clock, store } = setup();
    let most = 0;
    for (let round = 0; round < 8_698; round++) {
      const groupId = `churn-${round}`;
      // One round in ten commits; the others never do.
      const memberId = round % 10 === 0 ? await joinAndCommit(gc, groupId, round) : gc.join(groupId, { topics: ["t"] }).memberId;
      gc.leave(groupId, memberId);
      clock.advance(1_000);
      gc.tick();
      most = Math.max(most, gc.listGroups().length);
    }
    // Committed groups live for RETENTION_MS (60 rounds), one in ten commits: at most 6 at a time.
    expect(most).toBe(6);
    // The store holds exactly the groups still retained.
    expect(store.committedGroupIds()).toEqual(ids(gc));
    expect(ids(gc).length).toBeLessThanOrEqual(6);
  });
});

describe("deleteGroup", () => {
  it("refuses a group with members with NON_EMPTY_GROUP (not retriable), and changes nothing", async () => {
    const { gc } = setup();
    await joinAndCommit(gc, "g", 1);
    gc.join("g", { topics: ["t"] });
    await expect(gc.deleteGroup("g")).rejects.toMatchObject({
      code: "NON_EMPTY_GROUP",
      retriable: false,
      message: "group g has 2 members; only an empty group can be deleted",
    });
    expect(gc.describeGroup("g").members).toHaveLength(2);
    expect(await gc.fetchOffsets("g")).toHaveLength(2);
  });

  it("deletes an empty group and its offsets at once", async () => {
    const { gc, store } = setup();
    gc.leave("g", await joinAndCommit(gc, "g", 1));
    await gc.deleteGroup("g");
    expect(ids(gc)).toEqual([]);
    expect(await store.committedOffsets("g")).toEqual([]);
    await expect(gc.deleteGroup("g")).rejects.toMatchObject({ code: "GROUP_ID_NOT_FOUND", message: "group g does not exist" });
  });

  it("deletes a group known only to the store (committed before a restart, by a store that cannot list groups)", async () => {
    const inner = new InMemoryOffsetStore();
    await inner.commitOffsets("old", [{ topic: "t", partition: 0, offset: 9 }]);
    const store: OffsetStore = {
      commitOffsets: (g, o) => inner.commitOffsets(g, o),
      committedOffsets: (g) => inner.committedOffsets(g),
      deleteGroup: (g) => inner.deleteGroup(g),
    };
    const { gc } = setup({ offsetStore: store });
    expect(ids(gc)).toEqual([]);
    await gc.deleteGroup("old");
    expect(await inner.committedOffsets("old")).toEqual([]);
    expect(ids(gc)).toEqual([]);
  });

  it("answers GROUP_ID_NOT_FOUND for an unknown group, INVALID_GROUP_ID for a bad id, COORDINATOR_NOT_AVAILABLE once closed", async () => {
    const { gc } = setup();
    await expect(gc.deleteGroup("nobody")).rejects.toMatchObject({ code: "GROUP_ID_NOT_FOUND", message: "group nobody does not exist" });
    await expect(gc.deleteGroup("")).rejects.toMatchObject({ code: "INVALID_GROUP_ID" });
    await gc.close();
    await expect(gc.deleteGroup("g")).rejects.toMatchObject({ code: "COORDINATOR_NOT_AVAILABLE" });
  });

  it("keeps the group when the store fails to delete, and passes the store's error on", async () => {
    const inner = new InMemoryOffsetStore();
    const boom = new Error("read-only file system");
    const store: OffsetStore = {
      commitOffsets: (g, o) => inner.commitOffsets(g, o),
      committedOffsets: (g) => inner.committedOffsets(g),
      deleteGroup: () => Promise.reject(boom),
    };
    const { gc } = setup({ offsetStore: store });
    gc.leave("g", await joinAndCommit(gc, "g", 1));
    await expect(gc.deleteGroup("g")).rejects.toBe(boom);
    expect(gc.listGroups()).toEqual([{ groupId: "g", state: "empty", groupEpoch: 2, memberCount: 0 }]);
    expect(await inner.committedOffsets("g")).toHaveLength(2);
  });

  it("lets a group be used again after deletion, from scratch", async () => {
    const { gc } = setup();
    gc.leave("g", await joinAndCommit(gc, "g", 1));
    await gc.deleteGroup("g");
    const { memberEpoch } = gc.join("g", { topics: ["t"] });
    expect(memberEpoch).toBe(1);
    expect(await gc.fetchOffsets("g")).toEqual([] satisfies TopicPartitionOffset[]);
  });
});
