import { describe, expect, it } from "vitest";
import { createClient, type Consumer } from "../src/index.js";
import { startTestBroker } from "./helpers/broker.js";
import { cuttableFetch } from "./helpers/fetch.js";
import { OwnershipTracker } from "./helpers/ownership.js";
import { produceNumbered } from "./helpers/produce.js";
import { until } from "./helpers/until.js";

const SESSION_TIMEOUT_MS = 1_500;

describe("a consumer that stops heartbeating", () => {
  it("has its partitions taken over after the session timeout, with no record lost", async () => {
    const broker = await startTestBroker({ heartbeatIntervalMs: 100, sessionTimeoutMs: SESSION_TIMEOUT_MS, tickIntervalMs: 100 });
    const kafka = createClient({ brokers: broker.url });
    await kafka.admin().createTopics({ topics: [{ topic: "payments", numPartitions: 6 }] });
    const producer = kafka.producer();
    const tracker = new OwnershipTracker();
    const processed = new Map<number, number>();
    let crashed = false;
    let revive!: () => void;
    const dead = new Promise<void>((resolve) => (revive = resolve));
    const network = cuttableFetch();
    const victimClient = createClient({ brokers: broker.url, fetch: network.fetch, retry: { retries: 1, initialRetryTimeMs: 50 } });

    const start = async (name: string, client = kafka): Promise<Consumer<string>> => {
      const consumer = client.consumer({
        groupId: "ledger",
        fromBeginning: true,
        maxWaitTimeMs: 200,
        maxRecords: 120,
        messageFormat: "text",
        sessionTimeoutMs: SESSION_TIMEOUT_MS,
      });
      await consumer.subscribe({ topics: ["payments"] });
      await consumer.run({
        eachMessage: async ({ topic, partition, message }) => {
          if (name === "victim" && crashed) return dead; // a dead process handles nothing more
          await tracker.run("ledger", name, topic, partition, async () => {
            const n = Number(message.value);
            processed.set(n, (processed.get(n) ?? 0) + 1);
            await new Promise((resolve) => setTimeout(resolve, 1));
          });
        },
      });
      return consumer;
    };

    const [a, b, victim] = await Promise.all([start("a"), start("b"), start("victim", victimClient)]);
    await until("a balanced group", () => [a, b, victim].every((c) => c.assignment()[0]?.partitions.length === 2));
    const victimPartitions = victim.assignment()[0]!.partitions;
    await produceNumbered(producer, "payments", 900);
    await until("the victim to be processing", () => processed.size > 100);

    // Crash: no more heartbeats, fetches or commits from the victim, and it does not leave the group.
    crashed = true;
    network.cut();
    const crashedAt = Date.now();
    await produceNumbered(producer, "payments", 300, { from: 900 });

    await until("the others to own every partition", () => [a, b].flatMap((c) => c.assignment()[0]?.partitions ?? []).length === 6, 10_000);
    const takeoverMs = Date.now() - crashedAt;
    expect(takeoverMs).toBeGreaterThanOrEqual(SESSION_TIMEOUT_MS - 200); // the session timeout, not a graceful leave
    expect(takeoverMs).toBeLessThan(SESSION_TIMEOUT_MS + 3_000);
    expect(victimPartitions.every((p) => [a, b].some((c) => c.assignment()[0]!.partitions.includes(p)))).toBe(true);

    // No record lost: every one processed at least once (the victim's uncommitted work is done again).
    await until("every record processed", () => processed.size === 1_200, 15_000);
    expect([...processed.keys()].sort((x, y) => x - y)).toEqual(Array.from({ length: 1_200 }, (_, i) => i));
    // …and the group's committed offsets reach the end of every partition.
    await until("commits to reach the end", async () => {
      const [offsets] = await kafka.admin().fetchOffsets({ groupId: "ledger", topics: ["payments"] });
      return offsets!.partitions.every((p) => p.lag === 0 && p.offset === p.highWatermark);
    });
    expect(tracker.violations).toEqual([]);

    revive();
    await Promise.all([a.disconnect(), b.disconnect(), victim.disconnect(), producer.disconnect()]);
  });
});
