import { describe, expect, it } from "vitest";
import { createClient, type KafkaMessage } from "../src/index.js";
import { startTestBroker } from "./helpers/broker.js";
import { until } from "./helpers/until.js";

const bytes = (...values: number[]) => new Uint8Array(values);

describe("produce → consume round trip", () => {
  it("keeps keys, values, headers, binary data, nulls and timestamps", async () => {
    const broker = await startTestBroker();
    const kafka = createClient({ brokers: broker.url });
    await kafka.admin().createTopics({ topics: [{ topic: "mixed", numPartitions: 1 }] });
    const producer = kafka.producer();
    const allBytes = Uint8Array.from({ length: 256 }, (_, i) => i);
    const sent = await producer.send({
      topic: "mixed",
      messages: [
        { key: "order-1", value: "héllo wörld ✓", headers: { "content-type": "text/plain", trace: "t-1" }, timestamp: 1_700_000_000_000 },
        { key: allBytes, value: allBytes, headers: { raw: bytes(0, 1, 2, 254, 255), empty: bytes() } },
        { key: null, value: null, headers: { gone: null } },
        { value: "" },
      ],
    });
    expect(sent).toEqual([
      { partition: 0, offset: 0 },
      { partition: 0, offset: 1 },
      { partition: 0, offset: 2 },
      { partition: 0, offset: 3 },
    ]);

    const consumer = kafka.consumer({ groupId: "bytes", fromBeginning: true, maxWaitTimeMs: 200 });
    await consumer.subscribe({ topics: ["mixed"] });
    const got: KafkaMessage[] = [];
    await consumer.run({ eachMessage: async ({ message }) => void got.push(message) });
    await until("4 messages", () => got.length === 4);
    await consumer.disconnect();
    const text = (s: string) => new TextEncoder().encode(s);
    expect(got.map(({ timestamp, ...m }) => m)).toEqual([
      { offset: 0, key: text("order-1"), value: text("héllo wörld ✓"), headers: { "content-type": text("text/plain"), trace: text("t-1") } },
      { offset: 1, key: allBytes, value: allBytes, headers: { raw: bytes(0, 1, 2, 254, 255), empty: bytes() } },
      { offset: 2, key: null, value: null, headers: { gone: null } },
      { offset: 3, key: null, value: bytes(), headers: {} },
    ]);
    expect(got[0]!.timestamp).toBe(1_700_000_000_000);
    expect(Math.abs(got[1]!.timestamp - Date.now())).toBeLessThan(60_000);

    // The same records as text.
    const textConsumer = kafka.consumer({ groupId: "text", fromBeginning: true, maxWaitTimeMs: 200, messageFormat: "text" });
    await textConsumer.subscribe({ topics: ["mixed"] });
    const texts: KafkaMessage<string>[] = [];
    await textConsumer.run({ eachMessage: async ({ message }) => void texts.push(message) });
    await until("4 text messages", () => texts.length === 4);
    await textConsumer.disconnect();
    expect(texts[0]).toMatchObject({ offset: 0, key: "order-1", value: "héllo wörld ✓", headers: { "content-type": "text/plain", trace: "t-1" } });
    expect(texts[2]).toMatchObject({ key: null, value: null, headers: { gone: null } });
    await producer.disconnect();
  });

  it("keeps per-key order, and places keys where Kafka's Java client and KafkaJS would", async () => {
    const broker = await startTestBroker();
    const kafka = createClient({ brokers: broker.url });
    await kafka.admin().createTopics({ topics: [{ topic: "events", numPartitions: 4 }] });
    const producer = kafka.producer({ lingerMs: 2, maxBatchRecords: 100 });
    const keys = 20;
    const perKey = 60;
    const sends = [];
    // Many concurrent sends, interleaving keys: order per key must survive batching.
    for (let seq = 0; seq < perKey; seq++) {
      for (let k = 0; k < keys; k++) sends.push(producer.send({ topic: "events", messages: [{ key: `user-${k}`, value: `${k}:${seq}` }] }));
    }
    const results = (await Promise.all(sends)).map(([r]) => r!);
    // Each key stays on one partition, with offsets increasing in send order.
    for (let k = 0; k < keys; k++) {
      const ofKey = results.filter((_, i) => i % keys === k);
      expect(new Set(ofKey.map((r) => r.partition)).size).toBe(1);
      expect(ofKey.map((r) => r.offset)).toEqual([...ofKey.map((r) => r.offset)].sort((a, b) => a - b));
    }
    // Client-side placement is murmur2 of the key, as in the Java client and KafkaJS.
    const { partitionForKey } = await import("@minikafka/partitioner");
    for (let k = 0; k < keys; k++) expect(results[k]!.partition).toBe(partitionForKey(`user-${k}`, 4));

    const consumer = kafka.consumer({ groupId: "order", fromBeginning: true, maxWaitTimeMs: 200, maxRecords: 97, messageFormat: "text" });
    await consumer.subscribe({ topics: ["events"] });
    const lastSeq = new Map<string, number>();
    const outOfOrder: string[] = [];
    let count = 0;
    await consumer.run({
      eachMessage: async ({ message }) => {
        const [k, seq] = message.value!.split(":").map(Number) as [number, number];
        if ((lastSeq.get(message.key!) ?? -1) !== seq - 1) outOfOrder.push(`${message.key} ${seq} after ${lastSeq.get(message.key!)}`);
        lastSeq.set(message.key!, seq);
        expect(message.key).toBe(`user-${k}`);
        count++;
      },
    });
    await until("every record", () => count === keys * perKey);
    await consumer.disconnect();
    await producer.disconnect();
    expect(outOfOrder).toEqual([]);
    expect([...lastSeq.values()]).toEqual(Array(keys).fill(perKey - 1));
  });
});
