import { GroupCoordinator, InMemoryOffsetStore, ManualClock } from "@minikafka/group-coordinator";
import { LogStore } from "@minikafka/log-store";
import { afterEach, describe, expect, it } from "vitest";
import { tempDir } from "../../../../test-support/temp-dir.js";
import { createBrokerCore, type BrokerCore } from "./broker-core.js";
import type { BrokerStore } from "./storage.js";

const open: LogStore[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

async function openCore(): Promise<{ store: LogStore; core: BrokerCore; clock: ManualClock }> {
  const store = await LogStore.open({ dataDir: tempDir(), fsync: "never" });
  open.push(store);
  const clock = new ManualClock(1_000);
  // LogStore is a BrokerStore structurally: this assignment is the compile-time check.
  const asBrokerStore: BrokerStore = store;
  return { store, core: createBrokerCore({ store: asBrokerStore, clock, restartHoldMs: 1, logger: { error() {} } }), clock };
}

const partitions = (core: BrokerCore, groupId: string, memberId: string) =>
  core.coordinator.describeMember(groupId, memberId).assignment.flatMap((a) => a.partitions.map((p) => `${a.topic}/${p}`));

describe("createBrokerCore: topic changes reach the coordinator through the store's events", () => {
  it("sees partitions an embedder adds with store.addPartitions() directly", async () => {
    const { store, core } = await openCore();
    await core.topics.create("orders", { partitions: 2 });
    const { memberId } = core.groups.join("g", { topics: ["orders"] });
    expect(partitions(core, "g", memberId)).toEqual(["orders/0", "orders/1"]);
    expect(core.topics.partitionCount("orders")).toBe(2); // cached

    await store.addPartitions("orders", 4); // not through the broker

    expect(core.topics.partitionCount("orders")).toBe(4);
    const { assignment } = core.groups.heartbeat("g", memberId, { memberEpoch: 1, ownedPartitions: [{ topic: "orders", partitions: [0, 1] }] });
    expect(assignment).toEqual([{ topic: "orders", partitions: [0, 1, 2, 3] }]);
  });

  it("sees topics an embedder creates and deletes directly", async () => {
    const { store, core } = await openCore();
    const { memberId } = core.groups.join("g", { topics: ["later"] });
    expect(partitions(core, "g", memberId)).toEqual([]);
    await store.createTopic("later", { partitions: 1 });
    const { memberEpoch, assignment } = core.groups.heartbeat("g", memberId, { memberEpoch: 1, ownedPartitions: [] });
    expect(assignment).toEqual([{ topic: "later", partitions: [0] }]);
    await store.deleteTopic("later");
    expect(core.topics.partitionCount("later")).toBeUndefined();
    expect(partitions(core, "g", memberId)).toEqual([]);
    expect(memberEpoch).toBeGreaterThan(1);
  });

  it("stops listening once its coordinator is closed, without logging", async () => {
    const store = await LogStore.open({ dataDir: tempDir(), fsync: "never" });
    open.push(store);
    const logged: unknown[] = [];
    const coordinator = new GroupCoordinator({ clock: new ManualClock(0), offsetStore: new InMemoryOffsetStore(), partitionCount: () => 1 });
    const core = createBrokerCore({ store, coordinator, logger: { error: (...args) => logged.push(args) } });
    await coordinator.close();
    await store.createTopic("a", { partitions: 1 });
    await store.createTopic("b", { partitions: 1 });
    expect(logged).toEqual([]);
    expect(core.topics.partitionCount("b")).toBe(1);
  });

  it("refuses a store that tells no topic changes", () => {
    const { onTopicChange: _, ...rest } = {} as BrokerStore;
    const store = { ...rest, append: () => Promise.reject(new Error("unused")) } as unknown as BrokerStore;
    expect(() => createBrokerCore({ store })).toThrow(expect.objectContaining({ code: "INVALID_REQUEST" }));
  });
});

describe("core services without a transport", () => {
  it("produce: one batch per partition, offsets in request order", async () => {
    const { store, core } = await openCore();
    await core.topics.create("t", { partitions: 3 });
    const { partitions: where, offsets } = await core.produce.produce("t", [
      { value: "a", partition: 2 },
      { value: "b", partition: 0 },
      { value: "c", partition: 2 },
      { value: new Uint8Array([1, 2]), key: new Uint8Array([7]), partition: 0 },
      { value: "aGk=", partition: 1 },
    ]);
    expect([...where]).toEqual([2, 0, 2, 0, 1]);
    expect([...offsets]).toEqual([0, 0, 1, 1, 0]);
    expect(store.metrics.appendedRecords).toBe(5);
    expect((await store.read("t", 0, 0)).records.map((r) => [r.key && [...r.key], [...r.value!]])).toEqual([
      [null, [98]],
      [[7], [1, 2]],
    ]);
    const binary = await core.produce.produce("t", [{ value: "aGk=", key: "AQ==", partition: 1 }], "base64");
    expect([...binary.offsets]).toEqual([1]);
    const read = (await store.read("t", 1, 1)).records[0]!;
    expect([new TextDecoder().decode(read.value!), [...read.key!]]).toEqual(["hi", [1]]);
  });

  it("fetch: long poll wakes on an append and returns what it appended", async () => {
    const { core } = await openCore();
    await core.topics.create("t", { partitions: 1 });
    const pending = core.fetch.fetch("t", 0, 0, { waitMs: 10_000 });
    await core.produce.produce("t", [{ value: "x", partition: 0 }]);
    const { records, nextOffset } = await pending;
    expect([records.length, nextOffset]).toEqual([1, 1]);
    // Aborted by the caller: answers the empty read at once.
    const controller = new AbortController();
    const waiting = core.fetch.fetch("t", 0, 1, { waitMs: 10_000, signal: controller.signal });
    controller.abort();
    expect((await waiting).records).toEqual([]);
  });

  it("member fetch: shares the budget between partitions and cuts to maxRecords in all", async () => {
    const { core } = await openCore();
    await core.topics.create("t", { partitions: 2 });
    const many = Array.from({ length: 10 }, (_, i) => ({ value: `v${i}`, partition: i % 2 }));
    await core.produce.produce("t", many);
    const { memberId } = core.groups.join("g", { topics: ["t"] });
    const reads = await core.groups.memberFetch("g", memberId, { maxRecords: 3 });
    // ceil(3 / 2) = 2 per partition, then cut to 3 in all.
    expect(reads.map((r) => [r.partition, r.records.map((x) => x.offset)])).toEqual([
      [0, [0, 1]],
      [1, [0]],
    ]);
  });

  it("describe: a group with committed offsets and no members is described as empty, with lag", async () => {
    const { store, core } = await openCore();
    await core.topics.create("t", { partitions: 1 });
    await core.produce.produce("t", [{ value: "a" }, { value: "b" }, { value: "c" }]);
    await store.commitOffsets("old", [{ topic: "t", partition: 0, offset: 1 }]);
    expect(await core.groups.describe("old")).toEqual({
      groupId: "old",
      state: "empty",
      groupEpoch: 0,
      assignmentEpoch: 0,
      members: [],
      offsets: [{ topic: "t", partition: 0, committedOffset: 1, logStartOffset: 0, highWatermark: 3, lag: 2 }],
    });
    await expect(core.groups.describe("nobody")).rejects.toMatchObject({ code: "GROUP_ID_NOT_FOUND" });
  });
});
