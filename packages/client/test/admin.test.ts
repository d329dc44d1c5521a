import { ManualClock } from "@minikafka/group-coordinator";
import { describe, expect, it } from "vitest";
import { createClient, isClientError } from "../src/index.js";
import { startTestBroker } from "./helpers/broker.js";
import { until } from "./helpers/until.js";

describe("admin", () => {
  it("creates, lists, describes, grows and deletes topics", async () => {
    const broker = await startTestBroker();
    const admin = createClient({ brokers: broker.url }).admin();
    await admin.connect();
    expect(await admin.createTopics({ topics: [{ topic: "b", numPartitions: 2, config: { retentionMs: 60_000 } }, { topic: "a" }] })).toBe(true);
    expect(await admin.createTopics({ topics: [{ topic: "a", numPartitions: 5 }] })).toBe(false);
    expect(await admin.listTopics()).toEqual(["a", "b"]);
    const [b] = await admin.describeTopics({ topics: ["b"] });
    expect(b).toMatchObject({
      name: "b",
      config: { retentionMs: 60_000 },
      partitions: [{ partition: 0, logStartOffset: 0, highWatermark: 0 }, { partition: 1 }],
    });
    expect((await admin.describeTopics()).map((t) => [t.name, t.partitions.length])).toEqual([
      ["a", 1],
      ["b", 2],
    ]);
    await admin.createPartitions({ topicPartitions: [{ topic: "a", count: 3 }] });
    expect((await admin.describeTopics({ topics: ["a"] }))[0]!.partitions).toHaveLength(3);
    await expect(admin.createPartitions({ topicPartitions: [{ topic: "a", count: 2 }] })).rejects.toMatchObject({
      code: "INVALID_PARTITIONS",
      status: 400,
    });
    await expect(admin.createTopics({ topics: [{ topic: "bad name!" }] })).rejects.toMatchObject({ code: "INVALID_TOPIC_NAME" });
    await admin.deleteTopics({ topics: ["a"] });
    expect(await admin.listTopics()).toEqual(["b"]);
    const error = await admin.describeTopics({ topics: ["a"] }).catch((e: unknown) => e);
    expect(isClientError(error, "UNKNOWN_TOPIC_OR_PARTITION")).toBe(true);
    expect(error).toMatchObject({ status: 404, retriable: false });
  });

  it("describes groups with members, assignments, offsets and lag", async () => {
    const broker = await startTestBroker({ heartbeatIntervalMs: 100, tickIntervalMs: 100 });
    const kafka = createClient({ brokers: broker.url });
    const admin = kafka.admin();
    await admin.createTopics({ topics: [{ topic: "t", numPartitions: 2 }] });
    const producer = kafka.producer();
    await producer.send({ topic: "t", messages: [0, 1, 2, 3, 4].map((i) => ({ value: String(i), partition: i % 2 })) });
    const consumer = kafka.consumer({ groupId: "g", fromBeginning: true, instanceId: "worker-1", maxWaitTimeMs: 200 });
    await consumer.subscribe({ topics: ["t"] });
    let count = 0;
    await consumer.run({ eachMessage: async () => void count++ });
    await until(
      "5 records and their commits",
      async () => count === 5 && (await admin.fetchOffsets({ groupId: "g" }))[0]?.partitions.every((p) => p.lag === 0),
    );
    expect(await admin.fetchOffsets({ groupId: "g" })).toEqual([
      {
        topic: "t",
        partitions: [
          { partition: 0, offset: 3, highWatermark: 3, lag: 0 },
          { partition: 1, offset: 2, highWatermark: 2, lag: 0 },
        ],
      },
    ]);
    const { groups } = await admin.describeGroups(["g", "nobody"]);
    expect(groups[0]).toMatchObject({
      groupId: "g",
      state: "stable",
      members: [{ instanceId: "worker-1", topics: ["t"], assignment: [{ topic: "t", partitions: [0, 1] }] }],
      offsets: [
        { topic: "t", partition: 0, committedOffset: 3, logStartOffset: 0, highWatermark: 3, lag: 0 },
        { topic: "t", partition: 1, committedOffset: 2, logStartOffset: 0, highWatermark: 2, lag: 0 },
      ],
    });
    expect(groups[1]).toEqual({ groupId: "nobody", state: "dead", groupEpoch: 0, assignmentEpoch: 0, members: [], offsets: [] });
    expect((await admin.listGroups()).groups).toEqual([{ groupId: "g", state: "stable", groupEpoch: expect.any(Number), memberCount: 1 }]);
    expect(await admin.fetchOffsets({ groupId: "nobody", topics: ["t"] })).toEqual([
      {
        topic: "t",
        partitions: [
          { partition: 0, offset: null, highWatermark: 3, lag: 3 },
          { partition: 1, offset: null, highWatermark: 2, lag: 2 },
        ],
      },
    ]);
    await consumer.disconnect();
    await producer.disconnect();
  });

  it("deletes groups, reporting each one's outcome (KafkaJS's deleteGroups)", async () => {
    const broker = await startTestBroker();
    const admin = createClient({ brokers: broker.url }).admin();
    await admin.createTopics({ topics: [{ topic: "t", numPartitions: 1 }] });
    await admin.setOffsets({ groupId: "idle", topic: "t", partitions: [{ partition: 0, offset: 0 }] }); // empty, with offsets
    const joined = await fetch(`${broker.url}/v1/groups/busy/members`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ topics: ["t"] }),
    });
    expect(joined.status).toBe(201);
    const results = await admin.deleteGroups(["idle", "busy", "nobody"]);
    expect(results.map(({ groupId, errorCode }) => [groupId, errorCode])).toEqual([
      ["idle", "NONE"],
      ["busy", "NON_EMPTY_GROUP"],
      ["nobody", "GROUP_ID_NOT_FOUND"],
    ]);
    const busy = results[1]!;
    expect(busy.errorCode !== "NONE" && isClientError(busy.error, "NON_EMPTY_GROUP")).toBe(true);
    expect(busy.error).toMatchObject({ status: 409, retriable: false, message: "group busy has 1 member; only an empty group can be deleted" });
    expect((await admin.listGroups()).groups.map((g) => g.groupId)).toEqual(["busy"]);
    expect(await admin.fetchOffsets({ groupId: "idle" })).toEqual([]);
    expect(await admin.deleteGroups([])).toEqual([]);
  });

  it("refuses a bad broker URL", () => {
    expect(() => createClient({ brokers: "not a url" })).toThrow(expect.objectContaining({ code: "INVALID_CONFIG" }));
    expect(() => createClient({ brokers: [] })).toThrow(expect.objectContaining({ code: "INVALID_CONFIG" }));
    expect(() => createClient({ brokers: ["http://a:1", "b"] })).toThrow(
      expect.objectContaining({ code: "INVALID_CONFIG", message: 'brokers: "b" is not a URL' }),
    );
    expect(() => createClient({ brokers: ["http://a:1", 7 as never] })).toThrow(expect.objectContaining({ code: "INVALID_CONFIG" }));
    // Several bootstrap brokers of a cluster (nothing is asked of them until the first send).
    expect(createClient({ brokers: ["http://a:1", "http://b:1"] }).clientId).toBe("minikafka-client");
    expect(() => createClient({ brokers: "ftp://x" })).toThrow(expect.objectContaining({ code: "INVALID_CONFIG" }));
    expect(createClient({ brokers: ["http://127.0.0.1:8000/"], clientId: "billing" }).clientId).toBe("billing");
  });

  it("refuses a clock without now, setTimeout and clearTimeout", () => {
    expect(() => createClient({ brokers: "http://127.0.0.1:1", clock: { now: () => 0 } as never })).toThrow(
      expect.objectContaining({ code: "INVALID_CONFIG", message: "clock must have now(), setTimeout(fn, ms) and clearTimeout(handle)" }),
    );
    expect(createClient({ brokers: "http://127.0.0.1:1", clock: new ManualClock() }).clientId).toBe("minikafka-client");
  });
});
