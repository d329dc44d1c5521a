import { LogStore, LogStoreError, type AppendResult, type RecordInput } from "@minikafka/log-store";
import { createDefaultPartitioner, createRoundRobinPartitioner } from "@minikafka/partitioner";
import { afterEach, describe, expect, it } from "vitest";
import { tempDir } from "../../../../test-support/temp-dir.js";
import { ProduceService } from "./produce-service.js";

const open: LogStore[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

/** A produce service over a real store whose append calls are recorded (and can be made to fail). */
async function service(failMerged = false) {
  const store = await LogStore.open({ dataDir: tempDir(), fsync: "always" });
  open.push(store);
  await store.createTopic("t", { partitions: 2 });
  const appends: Array<{ partition: number; values: string[] }> = [];
  const recorder = {
    append(topic: string, partition: number, records: readonly RecordInput[]): Promise<AppendResult> {
      appends.push({ partition, values: records.map((r) => String(r.value)) });
      if (records.some((r) => r.value === "refused")) return Promise.reject(new LogStoreError("INVALID_RECORD", "record refused"));
      if (failMerged && records.length > 1) return Promise.reject(new LogStoreError("DISK_FULL", "no space (once)"));
      return store.append(topic, partition, records);
    },
  };
  const produce = new ProduceService({
    store: recorder,
    topics: { partitionCount: () => 2, resolvePartitionCount: async () => 2, ensure: async () => 2 },
    partitioner: createDefaultPartitioner(),
    keylessCompat: createRoundRobinPartitioner(),
  });
  const read = async (partition: number) =>
    (await store.read("t", partition, 0, { maxRecords: 100 })).records.map((r) => Buffer.from(r.value!).toString());
  return { produce, appends, read };
}

const offsetsOf = (r: { partitions: Int32Array; offsets: Float64Array }) => Array.from(r.offsets, (o, i) => `${r.partitions[i]}:${o}`);

describe("ProduceService: small appends that would wait for a busy fsync round share a batch", () => {
  it("appends a call at once when nothing waits, queues the calls behind a waiting append and appends them as one batch", async () => {
    const { produce, appends, read } = await service();
    const answers = await Promise.all([
      produce.produce("t", [{ value: "a0", partition: 0 }]),
      produce.produce("t", [
        { value: "b0", partition: 0 },
        { value: "b1", partition: 1 },
        { value: "b2", partition: 0 },
      ]),
      produce.produce("t", [{ value: "c0", partition: 1 }]),
      produce.produceCompat("t", "", "d0"), // round-robin: partition 0 first
    ]);
    // a0 and b1 found their partitions idle; the others waited for them, each partition's in one batch.
    expect(appends.slice(0, 2)).toEqual([
      { partition: 0, values: ["a0"] },
      { partition: 1, values: ["b1"] },
    ]);
    expect(appends.slice(2).sort((x, y) => x.partition - y.partition)).toEqual([
      { partition: 0, values: ["b0", "b2", "d0"] },
      { partition: 1, values: ["c0"] },
    ]);
    expect(answers.slice(0, 3).map((a) => offsetsOf(a as never))).toEqual([["0:0"], ["0:1", "1:0", "0:2"], ["1:1"]]);
    expect(answers[3]).toEqual({ partition: 0, offset: 3 });
    expect(await read(0)).toEqual(["a0", "b0", "b2", "d0"]);
    expect(await read(1)).toEqual(["b1", "c0"]);

    // Once everything is durable a call is appended at once again; a call with many records for a
    // partition is always appended on its own.
    const many = Array.from({ length: 101 }, (_, i) => ({ value: `m${i}`, partition: 1 }));
    appends.length = 0;
    const [late, big] = await Promise.all([produce.produce("t", [{ value: "e0", partition: 1 }]), produce.produce("t", many)]);
    expect(appends.map((a) => a.values.length)).toEqual([1, 101]);
    expect(offsetsOf(late)).toEqual(["1:2"]);
    expect(offsetsOf(big)[0]).toBe("1:3");
  });

  it("appends each queued call on its own when their merged append fails, so that each gets its own answer", async () => {
    const { produce, appends, read } = await service(true);
    const answers = await Promise.allSettled([
      produce.produce("t", [{ value: "a", partition: 0 }]),
      produce.produce("t", [{ value: "refused", partition: 0 }]),
      produce.produce("t", [{ value: "c", partition: 0 }]),
    ]);
    expect(appends.map((a) => a.values)).toEqual([["a"], ["refused", "c"], ["refused"], ["c"]]);
    expect(answers.map((a) => (a.status === "fulfilled" ? offsetsOf(a.value) : (a.reason as LogStoreError).code))).toEqual([
      ["0:0"],
      "INVALID_RECORD",
      ["0:1"],
    ]);
    expect(await read(0)).toEqual(["a", "c"]);
  });
});

describe("ProduceService over a store with appendMany", () => {
  it("appends a call spread over several partitions of a journaled store in one appendMany call; a one-partition call as before", async () => {
    const store = await LogStore.open({ dataDir: tempDir(), fsync: "always", journal: true });
    open.push(store);
    await store.createTopic("t", { partitions: 3 });
    const calls: string[] = [];
    let journaled = true;
    const produce = new ProduceService({
      store: {
        get journaled() {
          return journaled;
        },
        append(topic: string, partition: number, records: readonly RecordInput[]) {
          calls.push(`append ${partition}:${records.length}`);
          return store.append(topic, partition, records);
        },
        appendMany(topic: string, appends: ReadonlyArray<{ partition: number; records: readonly RecordInput[] }>) {
          calls.push(`appendMany ${appends.map((a) => `${a.partition}:${a.records.length}`).join(" ")}`);
          return store.appendMany(topic, appends);
        },
      },
      topics: { partitionCount: () => 3, resolvePartitionCount: async () => 3, ensure: async () => 3 },
      partitioner: createDefaultPartitioner(),
      keylessCompat: createRoundRobinPartitioner(),
    });
    const spread = await produce.produce("t", [
      { value: "a", partition: 2 },
      { value: "b", partition: 0 },
      { value: "c", partition: 2 },
      { value: "d", partition: 1 },
    ]);
    expect(calls).toEqual(["appendMany 2:2 0:1 1:1"]);
    expect(offsetsOf(spread)).toEqual(["2:0", "0:0", "2:1", "1:0"]);
    const one = await produce.produce("t", [{ value: "e", partition: 2 }]);
    expect(calls.slice(1)).toEqual(["append 2:1"]);
    expect(offsetsOf(one)).toEqual(["2:2"]);
    // Refused by the store: the call fails with the store's error.
    await expect(
      produce.produce("t", [
        { value: "x", partition: 0 },
        { value: "y", timestamp: -5, partition: 1 },
      ]),
    ).rejects.toMatchObject({ code: "INVALID_RECORD" });
    const read = async (p: number) => (await store.read("t", p, 0)).records.map((r) => Buffer.from(r.value!).toString());
    expect(await read(2)).toEqual(["a", "c", "e"]);
    // Not journaled: one append per partition (merged with other calls' by the service).
    journaled = false;
    calls.length = 0;
    await produce.produce("t", [
      { value: "f", partition: 0 },
      { value: "g", partition: 1 },
    ]);
    expect(calls).toEqual(["append 0:1", "append 1:1"]);
  });
});
