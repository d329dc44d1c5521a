import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir } from "../../../test-support/temp-dir.js";
import { text } from "../test/helpers/text.js";
import { isLogStoreError, type LogStoreErrorCode } from "./errors.js";
import { LogStore } from "./log-store.js";

async function codeOf(run: () => unknown): Promise<LogStoreErrorCode | string> {
  try {
    await run();
  } catch (error) {
    return isLogStoreError(error) ? error.code : `not a LogStoreError: ${String(error)}`;
  }
  return "no error";
}

describe("LogStore clock", () => {
  it("takes a { now() } clock (over the deprecated now), for createdAt and default timestamps", async () => {
    let t = 1_000;
    const store = await LogStore.open({ dataDir: tempDir(), clock: { now: () => t }, now: () => -1 });
    expect((await store.createTopic("t", { partitions: 1 })).createdAt).toBe(1_000);
    t = 2_500;
    await store.append("t", 0, [{ value: "x" }]);
    expect((await store.read("t", 0, 0)).records.map((r) => r.timestamp)).toEqual([2_500]);
    await store.close();
    await expect(LogStore.open({ dataDir: tempDir(), clock: {} as never })).rejects.toMatchObject({
      code: "INVALID_REQUEST",
      message: "clock must have a now() method returning ms",
    });
  });
});

describe("LogStore topics", () => {
  it("creates, lists, describes, grows and deletes topics, and keeps them across reopen", async () => {
    const dataDir = tempDir();
    const store = await LogStore.open({ dataDir, now: () => 42 });
    const created = await store.createTopic("orders", { partitions: 3, config: { retentionMs: 60_000 } });
    expect(created).toEqual({
      name: "orders",
      config: { retentionMs: 60_000 },
      createdAt: 42,
      partitions: [0, 1, 2].map((partition) => ({ partition, logStartOffset: 0, logEndOffset: 0, highWatermark: 0, sizeBytes: 0 })),
    });
    await store.createTopic("audit.log_v-2", { partitions: 1 });
    expect(store.listTopics()).toEqual(["audit.log_v-2", "orders"]);
    await store.append("orders", 2, [{ value: "x" }, { value: "y" }]);
    expect(store.describeTopic("orders").partitions[2]).toMatchObject({ logEndOffset: 2, highWatermark: 2 });
    // One partition alone: the same entry, and the same error for what does not exist.
    for (const p of [0, 1, 2]) expect(store.describePartition("orders", p)).toEqual(store.describeTopic("orders").partitions[p]);
    expect(await codeOf(() => store.describePartition("orders", 3))).toBe("UNKNOWN_TOPIC_OR_PARTITION");
    expect(await codeOf(() => store.describePartition("orders", 1.5))).toBe("UNKNOWN_TOPIC_OR_PARTITION");
    expect(await codeOf(() => store.describePartition("nope", 0))).toBe("UNKNOWN_TOPIC_OR_PARTITION");

    const grown = await store.addPartitions("orders", 5);
    expect(grown.partitions.map((p) => p.partition)).toEqual([0, 1, 2, 3, 4]);
    expect(await store.append("orders", 4, [{ value: "new" }])).toEqual({ baseOffset: 0, lastOffset: 0 });
    expect(await codeOf(() => store.addPartitions("orders", 5))).toBe("INVALID_PARTITIONS");
    expect(await codeOf(() => store.addPartitions("orders", 2))).toBe("INVALID_PARTITIONS");
    await store.close();

    const again = await LogStore.open({ dataDir });
    expect(again.listTopics()).toEqual(["audit.log_v-2", "orders"]);
    expect(again.describeTopic("orders").partitions.map((p) => p.logEndOffset)).toEqual([0, 0, 2, 0, 1]);
    expect(again.describeTopic("orders").config).toEqual({ retentionMs: 60_000 });
    await again.deleteTopic("orders");
    expect(again.listTopics()).toEqual(["audit.log_v-2"]);
    expect(readdirSync(dataDir).sort()).toEqual([".lock", "__offsets", "audit.log_v-2"]);
    expect(await codeOf(() => again.describeTopic("orders"))).toBe("UNKNOWN_TOPIC_OR_PARTITION");
    // A topic re-created under the same name starts empty.
    await again.createTopic("orders", { partitions: 1 });
    expect(await again.append("orders", 0, [{ value: "fresh" }])).toEqual({ baseOffset: 0, lastOffset: 0 });
    await again.close();
  });

  it("refuses hostile and invalid names without writing anything outside the data dir", async () => {
    const parent = tempDir();
    const dataDir = join(parent, "data");
    const store = await LogStore.open({ dataDir });
    const names: unknown[] = [
      "",
      ".",
      "..",
      "a/b",
      "../evil",
      "%2e%2e",
      "a\u0000b",
      "x".repeat(250),
      "héllo",
      "a b",
      "__offsets",
      "__x",
      ".lock",
      7,
      null,
    ];
    for (const name of names) {
      expect(await codeOf(() => store.createTopic(name as string, { partitions: 1 })), JSON.stringify(name)).toBe("INVALID_TOPIC_NAME");
    }
    expect(await codeOf(() => store.createTopic("x".repeat(249), { partitions: 1 }))).toBe("no error");
    expect(readdirSync(parent)).toEqual(["data"]);
    expect(readdirSync(dataDir).sort()).toEqual([".lock", "__offsets", "x".repeat(249)]);
    await store.close();
  });

  it("refuses case-only twins, duplicates and bad partition counts", async () => {
    const store = await LogStore.open({ dataDir: tempDir(), maxPartitions: 64 });
    await store.createTopic("Orders", { partitions: 1 });
    expect(await codeOf(() => store.createTopic("orders", { partitions: 1 }))).toBe("INVALID_TOPIC_NAME");
    expect(await codeOf(() => store.createTopic("ORDERS", { partitions: 1 }))).toBe("INVALID_TOPIC_NAME");
    expect(await codeOf(() => store.createTopic("Orders", { partitions: 1 }))).toBe("TOPIC_ALREADY_EXISTS");
    for (const partitions of [0, -1, 1.5, "3", 65, Number.NaN, undefined]) {
      expect(await codeOf(() => store.createTopic("t", { partitions: partitions as number })), String(partitions)).toBe("INVALID_PARTITIONS");
    }
    expect(await codeOf(() => store.createTopic("t", { partitions: 1, config: { segmentBytes: -1 } }))).toBe("INVALID_REQUEST");
    expect(store.listTopics()).toEqual(["Orders"]);
    await store.close();
  });

  it("rejects unknown topics and partitions on every data call", async () => {
    const store = await LogStore.open({ dataDir: tempDir() });
    await store.createTopic("t", { partitions: 2 });
    for (const [topic, partition] of [
      ["nope", 0],
      ["t", 2],
      ["t", -1],
      ["t", 0.5],
      ["t", Number.NaN],
    ] as const) {
      expect(await codeOf(() => store.append(topic, partition, [{ value: "v" }]))).toBe("UNKNOWN_TOPIC_OR_PARTITION");
      expect(await codeOf(() => store.read(topic, partition, 0))).toBe("UNKNOWN_TOPIC_OR_PARTITION");
      expect(await codeOf(() => store.waitForData(topic, partition, 0, { timeoutMs: 1 }))).toBe("UNKNOWN_TOPIC_OR_PARTITION");
    }
    expect(await codeOf(() => store.deleteTopic("nope"))).toBe("UNKNOWN_TOPIC_OR_PARTITION");
    expect(await codeOf(() => store.addPartitions("nope", 3))).toBe("UNKNOWN_TOPIC_OR_PARTITION");
    await store.close();
  });

  it("wakes waiters on append and rejects them when their topic is deleted", async () => {
    const store = await LogStore.open({ dataDir: tempDir() });
    await store.createTopic("t", { partitions: 1 });
    const woken = store.waitForData("t", 0, 0, { timeoutMs: 60_000 });
    await store.append("t", 0, [{ value: "v" }]);
    expect(await woken).toBe(true);
    const orphaned = codeOf(() => store.waitForData("t", 0, 1, { timeoutMs: 60_000 }));
    await store.deleteTopic("t");
    expect(await orphaned).toBe("UNKNOWN_TOPIC_OR_PARTITION");
    await store.close();
  });

  it("cleans up what an interrupted create, delete, grow or atomic write left behind", async () => {
    const dataDir = tempDir();
    const store = await LogStore.open({ dataDir });
    await store.createTopic("kept", { partitions: 2 });
    await store.close();
    // What a crash could leave: a staging dir (create), a renamed-away topic (delete), a temp metadata
    // file, and partition directories beyond topic.json's count (grow); and no clean-shutdown marker.
    rmSync(join(dataDir, "__clean-shutdown.json"));
    mkdirSync(join(dataDir, "~staging~0001", "0"), { recursive: true });
    writeFileSync(join(dataDir, "~staging~0001", "topic.json"), "{}");
    mkdirSync(join(dataDir, "~deleted~0002", "0"), { recursive: true });
    writeFileSync(join(dataDir, "kept", "~tmp~abc"), "partial");
    mkdirSync(join(dataDir, "kept", "2"));
    const again = await LogStore.open({ dataDir });
    expect(again.listTopics()).toEqual(["kept"]);
    expect(again.describeTopic("kept").partitions).toHaveLength(2);
    expect(readdirSync(dataDir).sort()).toEqual([".lock", "__offsets", "kept"]);
    expect(readdirSync(join(dataDir, "kept")).sort()).toEqual(["0", "1", "topic.json"]);
    expect(JSON.parse(readFileSync(join(dataDir, "kept", "topic.json"), "utf8"))).toMatchObject({ name: "kept", partitions: 2 });
    await again.close();
  });

  it("applies per-topic retention overrides", async () => {
    const store = await LogStore.open({ dataDir: tempDir() });
    await store.createTopic("small", { partitions: 1, config: { segmentBytes: 1024, retentionBytes: 1024 } });
    for (let i = 0; i < 50; i++) await store.append("small", 0, [{ value: "z".repeat(80) }]);
    await store.enforceRetention();
    const [p] = store.describeTopic("small").partitions;
    expect(p!.logStartOffset).toBeGreaterThan(30);
    expect(p!.logEndOffset).toBe(50);
    await store.close();
  });

  it("is closed after close()", async () => {
    const store = await LogStore.open({ dataDir: tempDir() });
    await store.createTopic("t", { partitions: 1 });
    await store.close();
    await store.close();
    expect(await codeOf(() => store.listTopics())).toBe("STORE_CLOSED");
    expect(await codeOf(() => store.append("t", 0, [{ value: "v" }]))).toBe("STORE_CLOSED");
    expect(await codeOf(() => store.createTopic("u", { partitions: 1 }))).toBe("STORE_CLOSED");
  });
});

describe("LogStore committed offsets", () => {
  it("stores the group's next offsets durably, per group, across reopen", async () => {
    const dataDir = tempDir();
    const store = await LogStore.open({ dataDir });
    await store.createTopic("t", { partitions: 2 });
    await store.append("t", 0, [{ value: "a" }, { value: "b" }, { value: "c" }]);
    await store.append("t", 1, [{ value: "a" }]);
    await store.commitOffsets("billing", [
      { topic: "t", partition: 0, offset: 2 },
      { topic: "t", partition: 1, offset: 1 },
    ]);
    await store.commitOffsets("audit", [{ topic: "t", partition: 0, offset: 3 }]);
    await store.commitOffsets("billing", [{ topic: "t", partition: 0, offset: 3 }]);
    expect(await store.committedOffsets("billing")).toEqual([
      { topic: "t", partition: 0, offset: 3 },
      { topic: "t", partition: 1, offset: 1 },
    ]);
    expect(await store.committedOffsets("audit")).toEqual([{ topic: "t", partition: 0, offset: 3 }]);
    expect(await store.committedOffsets("nobody")).toEqual([]);
    await store.close();
    const again = await LogStore.open({ dataDir });
    expect(await again.committedOffsets("billing")).toEqual([
      { topic: "t", partition: 0, offset: 3 },
      { topic: "t", partition: 1, offset: 1 },
    ]);
    await again.close();
  });

  it("applies concurrent commits in call order, each all-or-nothing", async () => {
    const store = await LogStore.open({ dataDir: tempDir() });
    await store.createTopic("t", { partitions: 3 });
    for (let p = 0; p < 3; p++)
      await store.append(
        "t",
        p,
        Array.from({ length: 100 }, () => ({ value: "v" })),
      );
    await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        store.commitOffsets("g", [
          { topic: "t", partition: i % 3, offset: i },
          { topic: "t", partition: 2, offset: 100 - i },
        ]),
      ),
    );
    expect(await store.committedOffsets("g")).toEqual([
      { topic: "t", partition: 0, offset: 48 },
      { topic: "t", partition: 1, offset: 49 },
      { topic: "t", partition: 2, offset: 51 },
    ]);
    await store.close();
  });

  it("rejects bad commits and leaves stored offsets unchanged", async () => {
    const store = await LogStore.open({ dataDir: tempDir() });
    await store.createTopic("t", { partitions: 1 });
    await store.append("t", 0, [{ value: "a" }]);
    await store.commitOffsets("g", [{ topic: "t", partition: 0, offset: 1 }]);
    const bad: Array<[unknown, LogStoreErrorCode]> = [
      [[{ topic: "t", partition: 0, offset: 2 }], "OFFSET_OUT_OF_RANGE"],
      [[{ topic: "t", partition: 0, offset: -1 }], "OFFSET_OUT_OF_RANGE"],
      [[{ topic: "t", partition: 0, offset: "1" }], "OFFSET_OUT_OF_RANGE"],
      [
        [
          { topic: "t", partition: 0, offset: 0 },
          { topic: "t", partition: 1, offset: 0 },
        ],
        "UNKNOWN_TOPIC_OR_PARTITION",
      ],
      [[{ topic: "nope", partition: 0, offset: 0 }], "UNKNOWN_TOPIC_OR_PARTITION"],
      [[null], "UNKNOWN_TOPIC_OR_PARTITION"],
      ["not an array", "INVALID_REQUEST"],
    ];
    for (const [offsets, code] of bad) {
      expect(await codeOf(() => store.commitOffsets("g", offsets as never)), JSON.stringify(offsets)).toBe(code);
    }
    for (const groupId of ["", "a\nb", "x".repeat(256), 5]) {
      expect(await codeOf(() => store.commitOffsets(groupId as string, []))).toBe("INVALID_GROUP_ID");
      expect(await codeOf(() => store.committedOffsets(groupId as string))).toBe("INVALID_GROUP_ID");
    }
    expect(await store.committedOffsets("g")).toEqual([{ topic: "t", partition: 0, offset: 1 }]);
    // 249 characters and no C1 controls, as the coordinator and the broker's schemas: a group the store
    // takes is one the coordinator can serve. Reads and deletes still take what older versions stored.
    const longest = "x".repeat(249);
    await store.commitOffsets(longest, [{ topic: "t", partition: 0, offset: 1 }]);
    expect(await store.committedOffsets(longest)).toEqual([{ topic: "t", partition: 0, offset: 1 }]);
    for (const groupId of ["x".repeat(250), "x".repeat(255), "a\u0085b"]) {
      expect(await codeOf(() => store.commitOffsets(groupId, [{ topic: "t", partition: 0, offset: 1 }])), groupId).toBe("INVALID_GROUP_ID");
      expect(await store.committedOffsets(groupId)).toEqual([]);
      expect(await codeOf(() => store.deleteGroup(groupId))).toBe("no error");
    }
    await store.close();
  });

  it("never turns a group id into a path", async () => {
    const parent = tempDir();
    const dataDir = join(parent, "data");
    const store = await LogStore.open({ dataDir });
    await store.createTopic("t", { partitions: 1 });
    for (const groupId of ["../../escape", "a/b", "%2e%2e", "..", "CON"])
      await store.commitOffsets(groupId, [{ topic: "t", partition: 0, offset: 0 }]);
    expect(readdirSync(parent)).toEqual(["data"]);
    // One internal log for every group: group ids are record keys, never file names.
    expect(readdirSync(join(dataDir, "__offsets")).sort()).toEqual(["current", "offsets-1.log"]);
    expect(await store.committedOffsets("../../escape")).toEqual([{ topic: "t", partition: 0, offset: 0 }]);
    await store.close();
  });

  it("forgets a deleted topic's offsets", async () => {
    const dataDir = tempDir();
    const store = await LogStore.open({ dataDir });
    await store.createTopic("t", { partitions: 1 });
    await store.createTopic("u", { partitions: 1 });
    await store.commitOffsets("g", [
      { topic: "t", partition: 0, offset: 0 },
      { topic: "u", partition: 0, offset: 0 },
    ]);
    await store.deleteTopic("t");
    expect(await store.committedOffsets("g")).toEqual([{ topic: "u", partition: 0, offset: 0 }]);
    await store.close();
    const again = await LogStore.open({ dataDir });
    expect(await again.committedOffsets("g")).toEqual([{ topic: "u", partition: 0, offset: 0 }]);
    await again.close();
  });
});

describe("LogStore data directory lock", () => {
  it("refuses a second store on the same directory until the first closes", async () => {
    const dataDir = tempDir();
    const store = await LogStore.open({ dataDir });
    expect(await codeOf(() => LogStore.open({ dataDir }))).toBe("DATA_DIR_LOCKED");
    expect(await codeOf(() => LogStore.open({ dataDir: join(dataDir, ".") }))).toBe("DATA_DIR_LOCKED");
    const lockFiles = readdirSync(join(dataDir, ".lock"));
    expect(lockFiles).toHaveLength(1);
    expect(JSON.parse(readFileSync(join(dataDir, ".lock", lockFiles[0]!), "utf8"))).toMatchObject({ pid: process.pid });
    await store.close();
    expect(readdirSync(dataDir)).not.toContain(".lock");
    const again = await LogStore.open({ dataDir });
    await again.close();
  });

  it("takes over an old-format lock file left by a process that no longer runs", async () => {
    const dataDir = tempDir();
    mkdirSync(dirname(join(dataDir, ".lock")), { recursive: true });
    writeFileSync(join(dataDir, ".lock"), "2147483646\n"); // no such pid
    const store = await LogStore.open({ dataDir });
    const [lockFile] = readdirSync(join(dataDir, ".lock"));
    expect(JSON.parse(readFileSync(join(dataDir, ".lock", lockFile!), "utf8"))).toMatchObject({ pid: process.pid });
    await store.close();
  });

  it("validates its options", async () => {
    expect(await codeOf(() => LogStore.open({ dataDir: "" }))).toBe("INVALID_REQUEST");
    expect(await codeOf(() => LogStore.open({ dataDir: tempDir(), fsync: "often" as never }))).toBe("INVALID_REQUEST");
    expect(await codeOf(() => LogStore.open({ dataDir: tempDir(), maxPartitions: 0 }))).toBe("INVALID_REQUEST");
    expect(await codeOf(() => LogStore.open({ dataDir: tempDir(), retentionCheckIntervalMs: -5 }))).toBe("INVALID_REQUEST");
    expect(await codeOf(() => LogStore.open({ dataDir: tempDir(), segmentBytes: 1.5 }))).toBe("INVALID_REQUEST");
  });

  it("gives back headers whose names are Object.prototype members", async () => {
    const store = await LogStore.open({ dataDir: tempDir() });
    await store.createTopic("t", { partitions: 1 });
    const headers = JSON.parse('{"__proto__":"p","constructor":"c","toString":"t"}') as Record<string, string>;
    await store.append("t", 0, [{ value: "v", headers }]);
    const [record] = (await store.read("t", 0, 0)).records;
    expect(Object.keys(record!.headers)).toEqual(["__proto__", "constructor", "toString"]);
    expect(Object.entries(record!.headers).map(([k, v]) => [k, text(v)])).toEqual([
      ["__proto__", "p"],
      ["constructor", "c"],
      ["toString", "t"],
    ]);
    await store.close();
  });

  it("returns bytes for string and binary data alike", async () => {
    const store = await LogStore.open({ dataDir: tempDir() });
    await store.createTopic("t", { partitions: 1 });
    await store.append("t", 0, [{ key: new Uint8Array([1, 2]), value: "text", headers: { a: new Uint8Array([3]), b: null } }]);
    const [record] = (await store.read("t", 0, 0)).records;
    expect([...record!.key!]).toEqual([1, 2]);
    expect(text(record!.value)).toBe("text");
    expect([...record!.headers.a!]).toEqual([3]);
    expect(record!.headers.b).toBeNull();
    await store.close();
  });
});

describe("LogStore appendMany", () => {
  for (const journal of [false, true]) {
    it(`appends one batch per item, in the order given, and answers their offsets in that order (journal ${journal ? "on" : "off"})`, async () => {
      const dataDir = tempDir();
      let store = await LogStore.open({ dataDir, journal });
      await store.createTopic("t", { partitions: 3 });
      await store.append("t", 1, [{ value: "before" }]);
      const before = store.metrics.fsyncs;
      const results = await store.appendMany("t", [
        { partition: 2, records: [{ value: "a" }, { value: "b" }] },
        { partition: 1, records: [{ value: "c" }] },
        { partition: 2, records: [{ value: "d" }] },
      ]);
      expect(results).toEqual([
        { baseOffset: 0, lastOffset: 1 },
        { baseOffset: 1, lastOffset: 1 },
        { baseOffset: 2, lastOffset: 2 },
      ]);
      // With the journal, one round for the call; without, one fsync per partition (group commit within each).
      expect(store.metrics.fsyncs - before).toBe(journal ? 1 : 2);
      const values = async (s: LogStore, p: number) => (await s.read("t", p, 0)).records.map((r) => text(r.value));
      expect(await values(store, 1)).toEqual(["before", "c"]);
      expect(await values(store, 2)).toEqual(["a", "b", "d"]);
      expect(await store.appendMany("t", [])).toEqual([]);
      // After a clean close the partitions open lazily, on their first use: appendMany opens them too.
      await store.close();
      store = await LogStore.open({ dataDir, journal });
      expect(
        await store.appendMany("t", [
          { partition: 0, records: [{ value: "e" }] },
          { partition: 2, records: [{ value: "f" }] },
          { partition: 0, records: [{ value: "g" }] },
        ]),
      ).toEqual([
        { baseOffset: 0, lastOffset: 0 },
        { baseOffset: 3, lastOffset: 3 },
        { baseOffset: 1, lastOffset: 1 },
      ]);
      expect(await values(store, 0)).toEqual(["e", "g"]);
      expect(
        await store.appendMany("t", [
          { partition: 2, records: [{ value: "h" }] },
          { partition: 0, records: [{ value: "i" }] },
        ]),
      ).toEqual([
        { baseOffset: 4, lastOffset: 4 },
        { baseOffset: 2, lastOffset: 2 },
      ]);
      await store.close();
      store = await LogStore.open({ dataDir });
      expect(await values(store, 2)).toEqual(["a", "b", "d", "f", "h"]);
      await store.close();
    });

    it(`rejects with the first error, the other items appended all the same (journal ${journal ? "on" : "off"})`, async () => {
      const store = await LogStore.open({ dataDir: tempDir(), journal });
      await store.createTopic("t", { partitions: 2 });
      expect(await codeOf(() => store.appendMany("nope", [{ partition: 0, records: [{ value: "x" }] }]))).toBe("UNKNOWN_TOPIC_OR_PARTITION");
      expect(await codeOf(() => store.appendMany("t", null as never))).toBe("INVALID_REQUEST");
      expect(
        await codeOf(() =>
          store.appendMany("t", [
            { partition: 0, records: [{ value: "ok" }] },
            { partition: 5, records: [{ value: "x" }] },
            { partition: 1, records: [] },
            { partition: 1, records: [{ value: "ok too" }] },
          ]),
        ),
      ).toBe("UNKNOWN_TOPIC_OR_PARTITION");
      // Durable once the appends made after them are (offsets and durability follow call order).
      await store.appendMany("t", [
        { partition: 0, records: [{ value: "next" }] },
        { partition: 1, records: [{ value: "next" }] },
      ]);
      const read = async (p: number) => (await store.read("t", p, 0)).records.map((r) => text(r.value));
      expect(await read(0)).toEqual(["ok", "next"]);
      expect(await read(1)).toEqual(["ok too", "next"]);
      expect(await codeOf(() => store.appendMany("t", [{ partition: 1, records: [] }]))).toBe("INVALID_RECORD");
      await store.close();
      expect(await codeOf(() => store.appendMany("t", [{ partition: 0, records: [{ value: "x" }] }]))).toBe("STORE_CLOSED");
    });
  }
});
