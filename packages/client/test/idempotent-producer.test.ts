// The idempotent producer against a real broker (port 0), with faults injected in `fetch`: answers lost
// after the broker stored a batch, answers too slow, a foreign producer fencing this one, partitions that
// lost the producer's state, and batches the producer never sent. Each case is also run with
// `idempotent: false` where that changes the outcome, so these tests fail without idempotence.
import { describe, expect, it } from "vitest";
import { createClient, isClientError, type FetchFunction } from "../src/index.js";
import { startTestBroker } from "./helpers/broker.js";
import { requestLine } from "./helpers/fetch.js";

const isProduce = (input: Request | string | URL, init?: RequestInit) => {
  const { method, path } = requestLine(input, init);
  return method === "POST" && /^\/v1\/topics\/[^/]+\/records$/.test(path);
};

/** Forwards every request, but throws away the answers of the produce requests numbered in `lose` (from 0). */
function losingAnswers(lose: ReadonlySet<number>): { fetch: FetchFunction; produceCalls: () => number } {
  let calls = 0;
  return {
    produceCalls: () => calls,
    fetch: async (input, init) => {
      const response = await fetch(input, init);
      if (isProduce(input, init) && lose.has(calls++)) throw new TypeError("fetch failed: connection reset"); // the broker did append
      return response;
    },
  };
}

async function log(url: string, topic: string, partition: number): Promise<string[]> {
  const res = await fetch(`${url}/v1/topics/${topic}/partitions/${partition}/records?offset=0&maxRecords=1000`);
  return ((await res.json()) as { records: Array<{ value: string }> }).records.map((r) => r.value);
}

async function rawProduce(url: string, topic: string, body: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${url}/v1/topics/${topic}/records`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

/** The producer id the broker gave the producer, from the produce requests it sent. */
function recordingFetch(): { fetch: FetchFunction; bodies: any[] } {
  const bodies: any[] = [];
  return {
    bodies,
    fetch: async (input, init) => {
      if (isProduce(input, init)) bodies.push(JSON.parse(await (input as Request).clone().text()));
      return fetch(input, init);
    },
  };
}

describe("idempotent producer", () => {
  it("resends a batch whose answer was lost and gets the original offsets: stored once, in order", async () => {
    const broker = await startTestBroker();
    const wrapped = losingAnswers(new Set([0, 2, 3]));
    const kafka = createClient({ brokers: broker.url, fetch: wrapped.fetch, retry: { retries: 5, initialRetryTimeMs: 5 } });
    await kafka.admin().createTopics({ topics: [{ topic: "orders", numPartitions: 2 }] });
    const producer = kafka.producer();
    const first = await producer.send({
      topic: "orders",
      messages: [
        { value: "a", partition: 0 },
        { value: "b", partition: 1 },
        { value: "c", partition: 0 },
      ],
    });
    const second = await producer.send({ topic: "orders", messages: [{ value: "d", partition: 1 }] });
    expect(first).toEqual([
      { partition: 0, offset: 0 },
      { partition: 1, offset: 0 },
      { partition: 0, offset: 1 },
    ]);
    expect(second).toEqual([{ partition: 1, offset: 1 }]);
    expect(wrapped.produceCalls()).toBe(5); // two requests, three answers lost
    expect(await log(broker.url, "orders", 0)).toEqual(["a", "c"]);
    expect(await log(broker.url, "orders", 1)).toEqual(["b", "d"]);
    await producer.disconnect();
  });

  it("without idempotence, fails such a send instead (resending could store it twice)", async () => {
    const broker = await startTestBroker();
    const wrapped = losingAnswers(new Set([0]));
    const kafka = createClient({ brokers: broker.url, fetch: wrapped.fetch, retry: { retries: 5, initialRetryTimeMs: 5 } });
    await kafka.admin().createTopics({ topics: [{ topic: "orders", numPartitions: 1 }] });
    const error = await kafka
      .producer({ idempotent: false })
      .send({ topic: "orders", messages: [{ value: "x" }] })
      .catch((e: unknown) => e);
    expect(isClientError(error, "NETWORK_EXCEPTION")).toBe(true);
    expect(wrapped.produceCalls()).toBe(1);
    expect(await log(broker.url, "orders", 0)).toEqual(["x"]);
  });

  it("resends a request that timed out, and the late original is not stored again", async () => {
    const broker = await startTestBroker();
    let calls = 0;
    let lateAnswer: Promise<Response> | undefined;
    // The first produce request reaches the broker only after the client gave up on it (timeoutMs 150).
    const slow: FetchFunction = async (input, init) => {
      if (isProduce(input, init) && calls++ === 0) {
        const late = (input as Request).clone();
        const body = await late.text();
        lateAnswer = new Promise((resolve) => setTimeout(resolve, 400)).then(() => fetch(late.url, { method: "POST", headers: late.headers, body }));
        return lateAnswer;
      }
      return fetch(input, init);
    };
    const kafka = createClient({ brokers: broker.url, fetch: slow, timeoutMs: 150, retry: { retries: 5, initialRetryTimeMs: 5 } });
    await kafka.admin().createTopics({ topics: [{ topic: "orders", numPartitions: 1 }] });
    const producer = kafka.producer();
    expect(await producer.send({ topic: "orders", messages: [{ value: "a" }, { value: "b" }] })).toEqual([
      { partition: 0, offset: 0 },
      { partition: 0, offset: 1 },
    ]);
    // The late copy arrives after the retry was stored: a duplicate, answered with the same offsets.
    const late = await lateAnswer!;
    expect(await late.json()).toMatchObject({
      offsets: [
        { partition: 0, offset: 0 },
        { partition: 0, offset: 1 },
      ],
      duplicate: true,
    });
    expect(await producer.send({ topic: "orders", messages: [{ value: "c" }] })).toEqual([{ partition: 0, offset: 2 }]);
    expect(await log(broker.url, "orders", 0)).toEqual(["a", "b", "c"]);
  });

  it("stops with INVALID_PRODUCER_EPOCH when fenced by a newer epoch: queued and later sends fail too", async () => {
    const broker = await startTestBroker();
    const recorded = recordingFetch();
    const kafka = createClient({ brokers: broker.url, fetch: recorded.fetch, retry: { retries: 0 } });
    await kafka.admin().createTopics({ topics: [{ topic: "orders", numPartitions: 1 }] });
    const producer = kafka.producer();
    await producer.send({ topic: "orders", messages: [{ value: "a" }] });
    const { producerId, producerEpoch } = recorded.bodies[0];
    // Another instance takes the id over with a newer epoch.
    const intruder = await rawProduce(broker.url, "orders", {
      producerId,
      producerEpoch: producerEpoch + 1,
      sequences: [{ partition: 0, sequence: 0 }],
      records: [{ value: "intruder", partition: 0 }],
    });
    expect(intruder.status).toBe(200);
    const sends = [
      producer.send({ topic: "orders", messages: [{ value: "b" }] }),
      producer.send({ topic: "orders", messages: [{ value: "c" }] }), // queued behind the first
    ];
    for (const result of await Promise.allSettled(sends)) {
      expect(result).toMatchObject({ status: "rejected", reason: { code: "INVALID_PRODUCER_EPOCH", name: "ClientError" } });
    }
    await expect(producer.send({ topic: "orders", messages: [{ value: "d" }] })).rejects.toMatchObject({
      code: "INVALID_PRODUCER_EPOCH",
      message: expect.stringContaining("the producer is fenced"),
    });
    expect(await log(broker.url, "orders", 0)).toEqual(["a", "intruder"]);
    await producer.disconnect();
  });

  it("after UNKNOWN_PRODUCER_ID starts a new epoch and stores the batch once, also when only one partition of a request lost its state", async () => {
    const broker = await startTestBroker();
    const recorded = recordingFetch();
    const kafka = createClient({ brokers: broker.url, fetch: recorded.fetch, retry: { retries: 0 } });
    const admin = kafka.admin();
    await admin.createTopics({ topics: [{ topic: "orders", numPartitions: 2 }] });
    const producer = kafka.producer();
    await producer.send({
      topic: "orders",
      messages: [
        { value: "a0", partition: 0 },
        { value: "a1", partition: 1 },
      ],
    });
    const { producerId } = recorded.bodies[0];
    // The topic is re-created: no partition knows the producer any more. A batch under the producer's id
    // (epoch 0, sequence 0) gives partition 0 exactly the state the producer expects; partition 1 has none.
    await admin.deleteTopics({ topics: ["orders"] });
    await admin.createTopics({ topics: [{ topic: "orders", numPartitions: 2 }] });
    expect(
      (
        await rawProduce(broker.url, "orders", {
          producerId,
          producerEpoch: 0,
          sequences: [{ partition: 0, sequence: 0 }],
          records: [{ value: "x", partition: 0 }],
        })
      ).status,
    ).toBe(200);
    const sent = await producer.send({
      topic: "orders",
      messages: [
        { value: "b0", partition: 0 },
        { value: "b1", partition: 1 },
      ],
    });
    expect(sent).toEqual([
      { partition: 0, offset: 1 },
      { partition: 1, offset: 0 },
    ]);
    expect(await log(broker.url, "orders", 0)).toEqual(["x", "b0"]);
    expect(await log(broker.url, "orders", 1)).toEqual(["b1"]);
    // The request refused on partition 1 (appended on 0), each partition again alone with the same numbers
    // (0: a duplicate), then partition 1 as the first batch of epoch 1.
    expect(recorded.bodies.slice(1).map((b) => [b.producerEpoch, b.sequences])).toEqual([
      [
        0,
        [
          { partition: 0, sequence: 1 },
          { partition: 1, sequence: 1 },
        ],
      ],
      [0, [{ partition: 0, sequence: 1 }]],
      [0, [{ partition: 1, sequence: 1 }]],
      [1, [{ partition: 1, sequence: 0 }]],
    ]);
    // The producer goes on in epoch 1.
    expect(await producer.send({ topic: "orders", messages: [{ value: "c0", partition: 0 }] })).toEqual([{ partition: 0, offset: 2 }]);
    expect(recorded.bodies.at(-1)).toMatchObject({ producerEpoch: 1, sequences: [{ partition: 0, sequence: 0 }] });
    await producer.disconnect();
  });

  it("fails a send with OUT_OF_ORDER_SEQUENCE_NUMBER when the partition holds batches the producer did not send, then goes on", async () => {
    const broker = await startTestBroker();
    const recorded = recordingFetch();
    const kafka = createClient({ brokers: broker.url, fetch: recorded.fetch, retry: { retries: 0 } });
    await kafka.admin().createTopics({ topics: [{ topic: "orders", numPartitions: 1 }] });
    const producer = kafka.producer();
    await producer.send({ topic: "orders", messages: [{ value: "a" }] });
    const { producerId } = recorded.bodies[0];
    await rawProduce(broker.url, "orders", {
      producerId,
      producerEpoch: 0,
      sequences: [{ partition: 0, sequence: 1 }],
      records: [
        { value: "x", partition: 0 },
        { value: "y", partition: 0 },
      ],
    });
    const error = await producer.send({ topic: "orders", messages: [{ value: "b" }] }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "OUT_OF_ORDER_SEQUENCE_NUMBER", status: 409 });
    expect(await producer.send({ topic: "orders", messages: [{ value: "c" }] })).toEqual([{ partition: 0, offset: 3 }]);
    expect(await log(broker.url, "orders", 0)).toEqual(["a", "x", "y", "c"]);
    await producer.disconnect();
  });

  it("fails sends clearly against a broker without POST /v1/producers", async () => {
    const noProducers: FetchFunction = async (input, init) =>
      requestLine(input, init).path === "/v1/producers"
        ? new Response(JSON.stringify({ error: { code: "NOT_FOUND", message: "no route for POST /v1/producers", retriable: false } }), {
            status: 404,
            headers: { "content-type": "application/json" },
          })
        : fetch(input, init);
    const broker = await startTestBroker();
    const kafka = createClient({ brokers: broker.url, fetch: noProducers, retry: { retries: 0 } });
    await kafka.admin().createTopics({ topics: [{ topic: "orders", numPartitions: 1 }] });
    await expect(kafka.producer().send({ topic: "orders", messages: [{ value: "a" }] })).rejects.toMatchObject({
      code: "NOT_FOUND",
      message: "no route for POST /v1/producers",
    });
    expect(await kafka.producer({ idempotent: false }).send({ topic: "orders", messages: [{ value: "a" }] })).toEqual([{ partition: 0, offset: 0 }]);
  });
});
