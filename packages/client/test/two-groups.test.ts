import { describe, expect, it } from "vitest";
import { createClient } from "../src/index.js";
import { startTestBroker } from "./helpers/broker.js";
import { produceNumbered } from "./helpers/produce.js";
import { until } from "./helpers/until.js";

describe("two consumer groups", () => {
  it("each receive every record", async () => {
    const broker = await startTestBroker({ heartbeatIntervalMs: 100, tickIntervalMs: 100 });
    const kafka = createClient({ brokers: broker.url });
    await kafka.admin().createTopics({ topics: [{ topic: "news", numPartitions: 3 }] });
    const producer = kafka.producer();
    const received = { search: new Map<number, number>(), mail: new Map<number, number>() };
    const consumers = [];
    for (const groupId of ["search", "search", "mail"] as const) {
      const consumer = kafka.consumer({ groupId, fromBeginning: true, maxWaitTimeMs: 200, messageFormat: "text" });
      await consumer.subscribe({ topics: ["news"] });
      await consumer.run({
        eachMessage: async ({ message }) => {
          const n = Number(message.value);
          received[groupId].set(n, (received[groupId].get(n) ?? 0) + 1);
        },
      });
      consumers.push(consumer);
    }
    await produceNumbered(producer, "news", 500);
    await until("both groups to have everything", () => received.search.size === 500 && received.mail.size === 500);
    await Promise.all(consumers.map((c) => c.disconnect()));
    const all = Array.from({ length: 500 }, (_, i) => i);
    expect([...received.search.keys()].sort((a, b) => a - b)).toEqual(all);
    expect([...received.mail.keys()].sort((a, b) => a - b)).toEqual(all);
    expect([...received.mail.values()].every((times) => times === 1)).toBe(true);
    const admin = kafka.admin();
    for (const groupId of ["search", "mail"]) {
      const [offsets] = await admin.fetchOffsets({ groupId, topics: ["news"] });
      expect(offsets!.partitions.map((p) => p.lag)).toEqual([0, 0, 0]);
    }
    await producer.disconnect();
  });
});
