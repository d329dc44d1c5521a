import { describe, expect, it } from "vitest";
import { createClient, type Consumer } from "../src/index.js";
import { startTestBroker } from "./helpers/broker.js";
import { OwnershipTracker } from "./helpers/ownership.js";
import { produceNumbered } from "./helpers/produce.js";
import { until } from "./helpers/until.js";

const GROUP_TIMING = { heartbeatIntervalMs: 100, sessionTimeoutMs: 3_000, tickIntervalMs: 100 };

describe("consumer group", () => {
  it("three consumers share a 6-partition topic, never processing a partition at the same time", async () => {
    const broker = await startTestBroker(GROUP_TIMING);
    const kafka = createClient({ brokers: broker.url });
    await kafka.admin().createTopics({ topics: [{ topic: "orders", numPartitions: 6 }] });
    const producer = kafka.producer();
    const tracker = new OwnershipTracker();
    const seen = new Map<number, number>(); // record number → times processed
    const byConsumer = new Map<string, Set<number>>(); // consumer → partitions it processed
    const start = async (name: string): Promise<Consumer<string>> => {
      const consumer = kafka.consumer({
        groupId: "billing",
        fromBeginning: true,
        maxWaitTimeMs: 200,
        maxRecords: 600,
        messageFormat: "text",
        sessionTimeoutMs: 3_000,
      });
      await consumer.subscribe({ topics: ["orders"] });
      byConsumer.set(name, new Set());
      await consumer.run({
        eachMessage: ({ topic, partition, message }) =>
          tracker.run("billing", name, topic, partition, async () => {
            byConsumer.get(name)!.add(partition);
            const n = Number(message.value);
            seen.set(n, (seen.get(n) ?? 0) + 1);
            await new Promise((resolve) => setTimeout(resolve, 1)); // slow enough to be mid-batch when the group changes
          }),
      });
      return consumer;
    };

    const a = await start("a");
    await produceNumbered(producer, "orders", 600);
    await until("a to be processing", () => seen.size > 50);
    // B and C join while A is busy: A's partitions are revoked from under its handler.
    const [b, c] = await Promise.all([start("b"), start("c")]);
    expect(seen.size).toBeLessThan(600);
    await produceNumbered(producer, "orders", 600, { from: 600 });
    await until("every record processed", () => seen.size === 1_200, 15_000);
    await until("a balanced group", () => [a, b, c].every((x) => x.assignment()[0]?.partitions.length === 2));
    const partitions = [a, b, c].flatMap((x) => x.assignment()[0]!.partitions).sort();
    expect(partitions).toEqual([0, 1, 2, 3, 4, 5]);
    expect(byConsumer.get("b")!.size).toBeGreaterThan(0);
    expect(byConsumer.get("c")!.size).toBeGreaterThan(0);

    // B leaves: its partitions move at once (well before the 3 s session timeout), nothing is lost.
    const left = b.assignment()[0]!.partitions;
    const leftAt = Date.now();
    await b.disconnect();
    await until("b's partitions taken over", () => [a, c].flatMap((x) => x.assignment()[0]?.partitions ?? []).length === 6);
    expect(Date.now() - leftAt).toBeLessThan(2_000);
    await produceNumbered(producer, "orders", 300, { from: 1_200 });
    await until("records after the leave processed", () => seen.size === 1_500, 15_000);
    expect(left.every((p) => a.assignment()[0]!.partitions.includes(p) || c.assignment()[0]!.partitions.includes(p))).toBe(true);

    await Promise.all([a.disconnect(), c.disconnect()]);
    expect(tracker.violations).toEqual([]);
    // Handovers really happened: partitions A processed first were later processed by B or C.
    const movedFromA = [...byConsumer.get("a")!].filter((p) => byConsumer.get("b")!.has(p) || byConsumer.get("c")!.has(p));
    expect(movedFromA.length).toBeGreaterThan(0);
    // Graceful handovers commit before letting go: nothing was processed twice.
    expect([...seen.values()].filter((times) => times > 1)).toEqual([]);
    expect([...seen.keys()].sort((x, y) => x - y)).toEqual(Array.from({ length: 1_500 }, (_, i) => i));
    // Committed offsets reach the end of every partition.
    const offsets = await kafka.admin().fetchOffsets({ groupId: "billing", topics: ["orders"] });
    expect(offsets[0]!.partitions.map((p) => p.lag)).toEqual([0, 0, 0, 0, 0, 0]);
    await producer.disconnect();
  });
});
