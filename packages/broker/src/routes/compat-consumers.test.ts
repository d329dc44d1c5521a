import { describe, expect, it } from "vitest";
import { Consumer, drain, Producer, type SeedMessage } from "../../test/helpers/seed-client.js";
import { envelope, openTestApp, type TestApp } from "../../test/helpers/test-app.js";

const BROKER = "http://broker";

async function seedTopic(t: TestApp, partitions = 3, messages = 60) {
  const fetch = (url: string, init?: RequestInit) => t.app.request(url, init);
  await fetch(`${BROKER}/topics/my_partitioned_topic/create?num_partitions=${partitions}`, { method: "POST" });
  const producer = new Producer(fetch, BROKER);
  const sent = [];
  for (let i = 0; i < messages; i++) sent.push(await producer.send("my_partitioned_topic", `Hello, Mini Kafka! -- ${i}`));
  return { fetch, sent };
}

const byPartition = (messages: SeedMessage[]) => {
  const out: Record<number, number[]> = {};
  for (const m of messages) (out[m.partition_id] ??= []).push(m.message_offset);
  return out;
};
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe("seed-compatible consumer routes", () => {
  it("runs the tutorial's example: the first consumer drains the topic, the group's offsets stop the others", async () => {
    const t = await openTestApp({ sessionTimeoutMs: 10_000, heartbeatIntervalMs: 1_000 });
    const { fetch, sent } = await seedTopic(t);
    expect(sent).toEqual(range(60).map((i) => ({ message_offset: Math.floor(i / 3), partition_id: i % 3 })));
    const c1 = await Consumer.create(fetch, BROKER, "consumer-1", "my_partitioned_topic", "my_consumer_group");
    expect(c1.assigned).toEqual([0, 1, 2]);
    const got1 = await drain(c1);
    const c2 = await Consumer.create(fetch, BROKER, "consumer-2", "my_partitioned_topic", "my_consumer_group");
    const got2 = await drain(c2);
    const c3 = await Consumer.create(fetch, BROKER, "consumer-3", "my_partitioned_topic", "my_consumer_group");
    const got3 = await drain(c3);
    expect([got1.length, got2.length, got3.length]).toEqual([60, 0, 0]);
    expect(byPartition(got1)).toEqual({ 0: range(20), 1: range(20), 2: range(20) });
    expect(got1.map((m) => m.data).sort()).toEqual(
      range(60)
        .map((i) => `Hello, Mini Kafka! -- ${i}`)
        .sort(),
    );
    const lag = (await t.call("GET", "/v1/groups/my_consumer_group")).body.offsets;
    expect(lag.map((o: { partition: number; committedOffset: number; lag: number }) => [o.partition, o.committedOffset, o.lag])).toEqual([
      [0, 20, 0],
      [1, 20, 0],
      [2, 20, 0],
    ]);
  });

  it("shares the partitions between interleaved consumers: every message exactly once, one partition each", async () => {
    const t = await openTestApp({ sessionTimeoutMs: 10_000, heartbeatIntervalMs: 1_000 });
    const { fetch } = await seedTopic(t);
    const consumers = [];
    for (const id of ["consumer-1", "consumer-2", "consumer-3"])
      consumers.push(await Consumer.create(fetch, BROKER, id, "my_partitioned_topic", "g"));
    const received = new Map<string, SeedMessage[]>(consumers.map((c) => [c.consumerId, []]));
    // Round-robin between the consumers until a whole round yields nothing.
    for (let idle = 0; idle < 2;) {
      let any = false;
      for (const c of consumers) {
        const msgs = await c.poll();
        for (const msg of msgs ?? []) {
          received.get(c.consumerId)!.push(msg);
          await c.acknowledge(msg.message_offset, msg.partition_id);
          any = true;
        }
      }
      idle = any ? 0 : idle + 1;
    }
    const all = [...received.values()].flat();
    expect(all.length).toBe(60);
    expect(byPartition(all)).toEqual({ 0: range(20), 1: range(20), 2: range(20) });
    // One partition per consumer, each consumer got all of it.
    const partitions = [...received.values()].map((msgs) => [...new Set(msgs.map((m) => m.partition_id))]);
    expect(partitions.map((p) => p.length)).toEqual([1, 1, 1]);
    expect(partitions.flat().sort()).toEqual([0, 1, 2]);
  });

  it("answers 404 {detail} to a consumer without partitions, which the seed client reads as nothing", async () => {
    const t = await openTestApp({ sessionTimeoutMs: 10_000, heartbeatIntervalMs: 1_000 });
    const { fetch } = await seedTopic(t, 1, 2);
    const c1 = await Consumer.create(fetch, BROKER, "c1", "my_partitioned_topic", "g");
    const c2 = await Consumer.create(fetch, BROKER, "c2", "my_partitioned_topic", "g");
    expect(c2.assigned).toEqual([]);
    const answer = await t.call("GET", "/topics/my_partitioned_topic/messages?consumer_id=c2&group_id=g");
    expect(answer).toMatchObject({ status: 404, body: { detail: "Consumer not assigned to any partitions." } });
    expect(await c2.poll()).toBeNull();
    expect((await c1.poll())!.map((m) => m.message_offset)).toEqual([0]);
  });

  it("answers the same record until it is acknowledged, and acks commit offset + 1 for the group", async () => {
    const t = await openTestApp();
    const { fetch } = await seedTopic(t, 1, 3);
    const c = await Consumer.create(fetch, BROKER, "c", "my_partitioned_topic", "g");
    const first = await c.poll();
    expect(first).toEqual([{ message_offset: 0, data: "Hello, Mini Kafka! -- 0", partition_id: 0 }]);
    expect(await c.poll()).toEqual(first);
    expect(await t.call("POST", "/topics/my_partitioned_topic/messages/0/ack?consumer_id=c&partition_id=0")).toMatchObject({
      status: 200,
      body: { status: "ok" },
    });
    expect((await c.poll())![0]!.message_offset).toBe(1);
    // Acks are idempotent and never move the group's offset backwards.
    await c.acknowledge(1, 0);
    await c.acknowledge(1, 0);
    await c.acknowledge(0, 0);
    expect((await c.poll())![0]!.message_offset).toBe(2);
    await c.acknowledge(2, 0);
    expect(await c.poll()).toEqual([]);
    const offsets = (await t.call("GET", "/v1/groups/g")).body.offsets;
    expect(offsets).toEqual([{ topic: "my_partitioned_topic", partition: 0, committedOffset: 3, logStartOffset: 0, highWatermark: 3, lag: 0 }]);
  });

  it("applies concurrent acks of one partition without losing or moving back the offset", async () => {
    const t = await openTestApp();
    const { fetch } = await seedTopic(t, 1, 30);
    const c = await Consumer.create(fetch, BROKER, "c", "my_partitioned_topic", "g");
    await c.poll();
    // Acks arriving in any order: the committed offset ends at the highest + 1.
    const order = [5, 29, 0, 17, 3, 28, 11, 29, 1];
    await Promise.all(order.map((offset) => c.acknowledge(offset, 0)));
    expect((await t.call("GET", "/v1/groups/g")).body.offsets[0].committedOffset).toBe(30);
    expect(await c.poll()).toEqual([]);
  });

  it("keeps committed offsets per group: a consumer taking over continues where the group stopped", async () => {
    const t = await openTestApp({ sessionTimeoutMs: 10_000, heartbeatIntervalMs: 1_000 });
    const { fetch } = await seedTopic(t, 1, 10);
    const c1 = await Consumer.create(fetch, BROKER, "c1", "my_partitioned_topic", "g");
    for (let i = 0; i < 4; i++) {
      const [msg] = (await c1.poll())!;
      await c1.acknowledge(msg!.message_offset, msg!.partition_id);
    }
    const c2 = await Consumer.create(fetch, BROKER, "c2", "my_partitioned_topic", "g");
    expect(await c2.poll()).toBeNull(); // c1 owns the only partition
    t.clock.advance(10_001); // c1 goes silent
    expect(await c2.poll()).toEqual([{ message_offset: 4, data: "Hello, Mini Kafka! -- 4", partition_id: 0 }]);
    // Another group reads the same topic independently, from the start.
    const other = await Consumer.create(fetch, BROKER, "c9", "my_partitioned_topic", "archive");
    expect((await other.poll())![0]!.message_offset).toBe(0);
    // c1 comes back: its session is gone, it rejoins and gets nothing (c2 owns the partition now).
    expect(await c1.poll()).toBeNull();
    await expect(c1.acknowledge(4, 0)).rejects.toThrow(/HTTP 409: .*UNASSIGNED_PARTITION/);
  });

  it("hands a consumer's partitions over when it is gone, and keeps them while it polls", async () => {
    const t = await openTestApp({ sessionTimeoutMs: 10_000, heartbeatIntervalMs: 1_000 });
    const { fetch } = await seedTopic(t, 2, 4);
    const c1 = await Consumer.create(fetch, BROKER, "c1", "my_partitioned_topic", "g");
    const c2 = await Consumer.create(fetch, BROKER, "c2", "my_partitioned_topic", "g");
    // c1 polls every 6 s: its session never lapses, so it keeps its share.
    for (let i = 0; i < 4; i++) {
      t.clock.advance(6_000);
      await c1.poll();
      await c2.poll();
    }
    const shares = async () => [(await c1.poll())!.map((m) => m.partition_id), (await c2.poll())!.map((m) => m.partition_id)];
    expect((await shares()).map((p) => p.length)).toEqual([1, 1]);
    // c2 goes silent past the session timeout: c1 takes its partition over.
    t.clock.advance(10_001);
    await c1.poll(); // releases nothing it holds, sees the rebalance
    expect((await c1.poll())!.map((m) => m.partition_id).sort()).toEqual([0, 1]);
  });

  it("keeps a returning consumer's partitions (consumer_id is its static instance id)", async () => {
    const t = await openTestApp({ sessionTimeoutMs: 10_000, heartbeatIntervalMs: 1_000 });
    const { fetch } = await seedTopic(t, 2, 4);
    const c1 = await Consumer.create(fetch, BROKER, "c1", "my_partitioned_topic", "g");
    const c2 = await Consumer.create(fetch, BROKER, "c2", "my_partitioned_topic", "g");
    await c1.poll();
    await c1.poll();
    await c2.poll();
    const before = (await c2.poll())!.map((m) => m.partition_id);
    expect(before.length).toBe(1);
    // "Restart" c2: a new client object with the same id subscribes again.
    const again = await Consumer.create(fetch, BROKER, "c2", "my_partitioned_topic", "g");
    expect(again.assigned).toEqual(before);
    expect((await again.poll())!.map((m) => m.partition_id)).toEqual(before);
  });

  it("acks for the group in which the consumer holds the partition when its id is in several groups", async () => {
    const t = await openTestApp();
    const { fetch } = await seedTopic(t, 2, 4);
    const inA = await Consumer.create(fetch, BROKER, "same", "my_partitioned_topic", "a");
    await Consumer.create(fetch, BROKER, "other", "my_partitioned_topic", "b"); // b: "other" takes both partitions first
    const inB = await Consumer.create(fetch, BROKER, "same", "my_partitioned_topic", "b");
    expect(inB.assigned).toEqual([]);
    await inA.poll();
    await inB.poll();
    await inA.acknowledge(0, 1); // "same" holds partition 1 only in group a
    const committed = async (group: string) =>
      (await t.call("GET", `/v1/groups/${group}`)).body.offsets.filter((o: { committedOffset: number | null }) => o.committedOffset !== null);
    expect(await committed("a")).toEqual([
      { topic: "my_partitioned_topic", partition: 1, committedOffset: 1, logStartOffset: 0, highWatermark: 2, lag: 1 },
    ]);
    expect(await committed("b")).toEqual([]);
  });

  it.each([
    ["a poll of an unknown topic", "GET", "/topics/nope/messages?consumer_id=c&group_id=g", 404, "UNKNOWN_TOPIC_OR_PARTITION"],
    ["a subscribe to an unknown topic", "POST", "/topics/nope/groups/g/subscribe?consumer_id=c", 404, "UNKNOWN_TOPIC_OR_PARTITION"],
    [
      "an ack from an unknown consumer",
      "POST",
      "/topics/my_partitioned_topic/messages/0/ack?consumer_id=stranger&partition_id=0",
      404,
      "UNKNOWN_MEMBER_ID",
    ],
    [
      "an ack past the end of the partition",
      "POST",
      "/topics/my_partitioned_topic/messages/5/ack?consumer_id=c&partition_id=0",
      416,
      "OFFSET_OUT_OF_RANGE",
    ],
    [
      "an ack of an unknown partition",
      "POST",
      "/topics/my_partitioned_topic/messages/0/ack?consumer_id=c&partition_id=7",
      404,
      "UNKNOWN_TOPIC_OR_PARTITION",
    ],
    ["a poll without consumer_id", "GET", "/topics/my_partitioned_topic/messages?group_id=g", 400, "INVALID_REQUEST"],
    ["a poll without group_id", "GET", "/topics/my_partitioned_topic/messages?consumer_id=c", 400, "INVALID_REQUEST"],
    ["a control character in the group", "GET", "/topics/my_partitioned_topic/messages?consumer_id=c&group_id=a%07", 400, "INVALID_GROUP_ID"],
    ["a control character in the consumer id", "POST", "/topics/my_partitioned_topic/groups/g/subscribe?consumer_id=%00", 400, "INVALID_REQUEST"],
    ["a non-numeric offset", "POST", "/topics/my_partitioned_topic/messages/abc/ack?consumer_id=c&partition_id=0", 400, "INVALID_REQUEST"],
    ["a negative partition_id", "POST", "/topics/my_partitioned_topic/messages/0/ack?consumer_id=c&partition_id=-1", 400, "INVALID_REQUEST"],
    ["a hostile topic", "GET", "/topics/a%2F..%2Fb/messages?consumer_id=c&group_id=g", 400, "INVALID_TOPIC_NAME"],
  ])("answers %s with an error naming it", async (_, method, path, status, code) => {
    const t = await openTestApp();
    const { fetch } = await seedTopic(t, 1, 5);
    await Consumer.create(fetch, BROKER, "c", "my_partitioned_topic", "g");
    expect(await t.call(method, path)).toMatchObject({ status, body: envelope(code) });
  });

  it("quotes an ack's offset and partition beyond 2^53 exactly", async () => {
    const t = await openTestApp();
    const { fetch } = await seedTopic(t, 1, 5);
    await Consumer.create(fetch, BROKER, "c", "my_partitioned_topic", "g");
    const ack = (offset: string, partition: string) =>
      t.call("POST", `/topics/my_partitioned_topic/messages/${offset}/ack?consumer_id=c&partition_id=${partition}`);
    expect((await ack("9007199254740993", "0")).body.error.message).toBe("path parameter offset must be <= 9007199254740991, got 9007199254740993");
    expect((await ack("0", "9007199254740993")).body.error.message).toBe("query parameter partition_id must be <= 2147483647, got 9007199254740993");
  });
});
