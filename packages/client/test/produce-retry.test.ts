import { describe, expect, it } from "vitest";
import { createClient, isClientError, type FetchFunction } from "../src/index.js";
import { startTestBroker } from "./helpers/broker.js";
import { requestLine } from "./helpers/fetch.js";
import { until } from "./helpers/until.js";

const UNAVAILABLE = JSON.stringify({ error: { code: "BROKER_NOT_AVAILABLE", message: "the broker is shutting down", retriable: true } });

/** Answers the first `failures` produce requests with the broker's retriable 503 (nothing appended), then forwards. */
function failingProduce(failures: number): { fetch: FetchFunction; produceCalls: () => number } {
  let calls = 0;
  return {
    produceCalls: () => calls,
    fetch: async (input, init) => {
      const { method, path } = requestLine(input, init);
      if (method === "POST" && /^\/v1\/topics\/[^/]+\/records$/.test(path) && calls++ < failures) {
        return new Response(UNAVAILABLE, { status: 503, headers: { "content-type": "application/json" } });
      }
      return fetch(input, init);
    },
  };
}

describe("producer retries", () => {
  it("retries a 503 the broker answered before appending, without duplicating acknowledged records", async () => {
    const broker = await startTestBroker();
    const wrapped = failingProduce(3);
    const kafka = createClient({ brokers: broker.url, fetch: wrapped.fetch, retry: { retries: 5, initialRetryTimeMs: 10 } });
    await kafka.admin().createTopics({ topics: [{ topic: "orders", numPartitions: 2 }] });
    const producer = kafka.producer({ maxBatchRecords: 40 });
    const messages = Array.from({ length: 100 }, (_, i) => ({ key: `k${i % 7}`, value: `v${i}` }));
    const first = await producer.send({ topic: "orders", messages: messages.slice(0, 50) });
    const second = await producer.send({ topic: "orders", messages: messages.slice(50) });
    // 3 failed attempts + 3 requests for 50 + 50 records in batches of at most 40.
    expect(wrapped.produceCalls()).toBe(3 + 4);
    const results = [...first, ...second];

    // Offsets are dense per partition and each record is stored exactly once.
    const consumer = kafka.consumer({ groupId: "audit", fromBeginning: true, maxWaitTimeMs: 200, messageFormat: "text" });
    await consumer.subscribe({ topics: ["orders"] });
    const stored: Array<{ partition: number; offset: number; value: string }> = [];
    await consumer.run({
      eachMessage: async ({ partition, message }) => void stored.push({ partition, offset: message.offset, value: message.value! }),
    });
    await until("100 records", () => stored.length >= 100);
    await consumer.disconnect();
    const [description] = await kafka.admin().describeTopics({ topics: ["orders"] });
    expect(description!.partitions.reduce((sum, p) => sum + p.highWatermark, 0)).toBe(100);
    for (const p of [0, 1]) {
      const offsets = stored.filter((r) => r.partition === p).map((r) => r.offset);
      expect(offsets).toEqual(Array.from({ length: offsets.length }, (_, i) => i));
    }
    expect(stored.map((r) => r.value).sort()).toEqual(messages.map((m) => m.value).sort());
    // send() answered with the records' real places.
    for (let i = 0; i < 100; i++) {
      expect(stored.find((r) => r.partition === results[i]!.partition && r.offset === results[i]!.offset)?.value).toBe(`v${i}`);
    }
    await producer.disconnect();
  });

  it("gives up after retry.retries and reports the broker's error", async () => {
    const broker = await startTestBroker();
    const wrapped = failingProduce(100);
    const kafka = createClient({ brokers: broker.url, fetch: wrapped.fetch, retry: { retries: 2, initialRetryTimeMs: 5 } });
    await kafka.admin().createTopics({ topics: [{ topic: "orders", numPartitions: 1 }] });
    const error = await kafka
      .producer()
      .send({ topic: "orders", messages: [{ value: "x" }] })
      .catch((e: unknown) => e);
    expect(isClientError(error, "BROKER_NOT_AVAILABLE")).toBe(true);
    expect(error).toMatchObject({ retriable: true, status: 503 });
    expect(wrapped.produceCalls()).toBe(3);
  });

  it("without idempotence, does not resend a produce whose answer was lost (it may have been stored)", async () => {
    const broker = await startTestBroker();
    let produceCalls = 0;
    const losesAnswers: FetchFunction = async (input, init) => {
      const { method, path } = requestLine(input, init);
      const response = await fetch(input, init);
      if (method === "POST" && path.endsWith("/records")) {
        produceCalls++;
        throw new TypeError("fetch failed: connection reset"); // the broker did append
      }
      return response;
    };
    const kafka = createClient({ brokers: broker.url, fetch: losesAnswers, retry: { retries: 5, initialRetryTimeMs: 5 } });
    await kafka.admin().createTopics({ topics: [{ topic: "orders", numPartitions: 1 }] });
    const error = await kafka
      .producer({ idempotent: false })
      .send({ topic: "orders", messages: [{ value: "x" }] })
      .catch((e: unknown) => e);
    expect(isClientError(error, "NETWORK_EXCEPTION")).toBe(true);
    expect(produceCalls).toBe(1);
    const [description] = await kafka.admin().describeTopics({ topics: ["orders"] });
    expect(description!.partitions[0]!.highWatermark).toBe(1); // stored once; resending would be at-least-once
  });
});
