import { ManualClock } from "@minikafka/group-coordinator";
import { partitionForKey } from "@minikafka/partitioner";
import { describe, expect, it } from "vitest";
import { createClient } from "./client.js";
import { isClientError } from "./errors.js";
import type { WireProduceBody } from "./wire.js";

interface FakeBroker {
  fetch: (input: Request | string | URL, init?: RequestInit) => Promise<Response>;
  /** Each stored request: its body without the producer fields, which are in `producer` (idempotent sends). */
  produced: Array<{ topic: string; body: WireProduceBody; producer?: Pick<WireProduceBody, "producerId" | "producerEpoch" | "sequences"> }>;
  inFlight: () => number;
  maxInFlight: () => number;
  /** When holding, produce requests wait until `release()`. */
  hold(): void;
  release(): void;
  partitions: Map<string, number>;
  /** Refuse bodies with more records than this (413 REQUEST_TOO_LARGE, as the broker's body limit does). */
  maxRecords: number;
}

const envelope = (status: number, code: string) =>
  new Response(JSON.stringify({ error: { code, message: code.toLowerCase(), retriable: false } }), {
    status,
    headers: { "content-type": "application/json" },
  });

/** Just enough of the broker for the producer: topic descriptions and produce with dense offsets. */
function fakeBroker(topics: Record<string, number>): FakeBroker {
  const partitions = new Map(Object.entries(topics));
  // Idempotent producers, roughly: per topic/partition the epoch and next sequence (no duplicates here).
  const producerState = new Map<string, { epoch: number; next: number }>();
  let producerIds = 7;
  const next = new Map<string, number>();
  let held: Array<() => void> | undefined;
  let inFlight = 0;
  let maxInFlight = 0;
  const broker: FakeBroker = {
    partitions,
    produced: [],
    maxRecords: Infinity,
    inFlight: () => inFlight,
    maxInFlight: () => maxInFlight,
    hold: () => void (held ??= []),
    release: () => {
      const waiting = held ?? [];
      held = undefined;
      for (const go of waiting) go();
    },
    fetch: async (input) => {
      const request = input as Request;
      const path = new URL(request.url).pathname;
      const describe = path.match(/^\/v1\/topics\/([^/]+)$/);
      if (request.method === "GET" && describe) {
        const count = partitions.get(decodeURIComponent(describe[1]!));
        if (count === undefined) return envelope(404, "UNKNOWN_TOPIC_OR_PARTITION");
        return Response.json({ partitions: Array.from({ length: count }, (_, partition) => ({ partition })) });
      }
      if (request.method === "POST" && path === "/v1/producers")
        return Response.json({ producerId: producerIds++, producerEpoch: 0 }, { status: 201 });
      const produce = path.match(/^\/v1\/topics\/([^/]+)\/records$/);
      if (request.method !== "POST" || !produce) return envelope(404, "NOT_FOUND");
      const topic = decodeURIComponent(produce[1]!);
      const { producerId, producerEpoch, sequences, ...body } = (await request.json()) as WireProduceBody;
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      try {
        if (held) await new Promise<void>((resolve) => held!.push(resolve));
        if (body.records.length > broker.maxRecords) return envelope(413, "REQUEST_TOO_LARGE");
        const count = partitions.get(topic);
        if (count === undefined || body.records.some((r) => r.partition === undefined || r.partition >= count))
          return envelope(404, "UNKNOWN_TOPIC_OR_PARTITION");
        if (sequences !== undefined) {
          for (const { partition, sequence } of sequences) {
            const state = producerState.get(`${producerId}/${topic}/${partition}`) ?? { epoch: -1, next: 0 };
            if (producerEpoch! < state.epoch) return envelope(403, "INVALID_PRODUCER_EPOCH");
            if (sequence !== (producerEpoch! > state.epoch ? 0 : state.next)) return envelope(409, "OUT_OF_ORDER_SEQUENCE_NUMBER");
          }
          for (const { partition, sequence } of sequences) {
            const count = body.records.filter((r) => r.partition === partition).length;
            producerState.set(`${producerId}/${topic}/${partition}`, { epoch: producerEpoch!, next: sequence + count });
          }
          broker.produced.push({ topic, body, producer: { producerId, producerEpoch, sequences } });
        } else broker.produced.push({ topic, body });
        const offsets = body.records.map((r) => {
          const key = `${topic}/${r.partition}`;
          const offset = next.get(key) ?? 0;
          next.set(key, offset + 1);
          return { partition: r.partition!, offset };
        });
        return Response.json({ offsets });
      } finally {
        inFlight--;
      }
    },
  };
  return broker;
}

const clientOf = (broker: FakeBroker) => createClient({ brokers: "http://broker.test", fetch: broker.fetch, retry: { retries: 0 } });
const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

describe("Producer", () => {
  it("sends what is sent in one tick as one request per topic, on the partitioner's partitions", async () => {
    const broker = fakeBroker({ a: 4, b: 2 });
    const producer = clientOf(broker).producer();
    const [a1, b1, a2] = await Promise.all([
      producer.send({
        topic: "a",
        messages: [
          { key: "k1", value: "1" },
          { key: "k2", value: "2" },
          { value: "3", partition: 3 },
        ],
      }),
      producer.send({
        topic: "b",
        messages: [
          { value: "x", partition: 1 },
          { value: "y", partition: 1 },
        ],
      }),
      producer.send({ topic: "a", messages: [{ key: "k1", value: "4" }] }),
    ]);
    expect(broker.produced.map((p) => [p.topic, p.body.records.length])).toEqual([
      ["a", 4],
      ["b", 2],
    ]);
    // murmur2 puts "k1" and "k2" on partition 1 of 4 (as Kafka's Java client and KafkaJS would).
    expect([partitionForKey("k1", 4), partitionForKey("k2", 4)]).toEqual([1, 1]);
    expect(a1).toEqual([
      { partition: 1, offset: 0 },
      { partition: 1, offset: 1 },
      { partition: 3, offset: 0 },
    ]);
    expect(a2).toEqual([{ partition: 1, offset: 2 }]);
    expect(b1).toEqual([
      { partition: 1, offset: 0 },
      { partition: 1, offset: 1 },
    ]);
    expect(broker.produced[0]!.body).toEqual({
      records: [
        { key: "k1", value: "1", partition: 1 },
        { key: "k2", value: "2", partition: 1 },
        { value: "3", partition: 3 },
        { key: "k1", value: "4", partition: 1 },
      ],
    });
    // Idempotent by default: one producer id, each partition's base sequence.
    expect(broker.produced.map((p) => p.producer)).toEqual([
      {
        producerId: 7,
        producerEpoch: 0,
        sequences: [
          { partition: 1, sequence: 0 },
          { partition: 3, sequence: 0 },
        ],
      },
      { producerId: 7, producerEpoch: 0, sequences: [{ partition: 1, sequence: 0 }] },
    ]);
  });

  it("waits lingerMs for more messages", async () => {
    const broker = fakeBroker({ a: 1 });
    const clock = new ManualClock(1_000);
    const lingering = createClient({ brokers: "http://broker.test", fetch: broker.fetch, retry: { retries: 0 }, clock }).producer({ lingerMs: 100 });
    const first = lingering.send({ topic: "a", messages: [{ value: "1" }] });
    await tick();
    clock.advance(60);
    const second = lingering.send({ topic: "a", messages: [{ value: "2" }] });
    await tick();
    clock.advance(39); // 99 ms after the first send: still lingering
    await tick();
    expect(broker.produced).toHaveLength(0);
    expect(clock.pendingTimers()).toBe(1); // one linger timer for the topic, not one per send
    clock.advance(1);
    expect(await Promise.all([first, second])).toEqual([[{ partition: 0, offset: 0 }], [{ partition: 0, offset: 1 }]]);
    expect(broker.produced).toHaveLength(1);
    expect(clock.pendingTimers()).toBe(0);

    const eager = clientOf(broker).producer();
    await eager.send({ topic: "a", messages: [{ value: "3" }] });
    await eager.send({ topic: "a", messages: [{ value: "4" }] });
    expect(broker.produced).toHaveLength(3);
  });

  it("splits at maxBatchRecords, one request in flight per topic, keeping send order", async () => {
    const broker = fakeBroker({ a: 1 });
    const producer = clientOf(broker).producer({ maxBatchRecords: 10 });
    const sends = Array.from({ length: 5 }, (_, s) =>
      producer.send({ topic: "a", messages: Array.from({ length: 7 }, (_, i) => ({ value: `${s}.${i}` })) }),
    );
    const results = (await Promise.all(sends)).flat();
    expect(results.map((r) => r.offset)).toEqual(Array.from({ length: 35 }, (_, i) => i));
    expect(broker.produced.map((p) => p.body.records.length)).toEqual([10, 10, 10, 5]);
    expect(broker.produced.flatMap((p) => p.body.records.map((r) => r.value))).toEqual(
      Array.from({ length: 35 }, (_, i) => `${Math.floor(i / 7)}.${i % 7}`),
    );
    expect(broker.maxInFlight()).toBe(1);
    // Sequences count records per partition.
    expect(broker.produced.map((p) => p.producer!.sequences)).toEqual([0, 10, 20, 30].map((sequence) => [{ partition: 0, sequence }]));
  });

  it("applies back-pressure: a send waits while the buffer is full", async () => {
    const broker = fakeBroker({ a: 1, b: 1 });
    const producer = clientOf(broker).producer({ maxBufferedBytes: 1_000 });
    broker.hold();
    const big = producer.send({ topic: "a", messages: [{ value: "x".repeat(900) }] });
    let secondDone = false;
    const second = producer.send({ topic: "b", messages: [{ value: "y".repeat(200) }] }).then((r) => ((secondDone = true), r));
    await tick();
    await tick();
    // Another topic would go out in parallel, but the buffer is full: only "a" was sent.
    expect(broker.inFlight()).toBe(1);
    expect(secondDone).toBe(false);
    broker.release();
    expect(await big).toEqual([{ partition: 0, offset: 0 }]);
    expect(await second).toEqual([{ partition: 0, offset: 0 }]);
    expect(broker.produced.map((p) => p.topic)).toEqual(["a", "b"]);
    // A single send larger than the whole buffer still goes, alone.
    expect(await producer.send({ topic: "a", messages: [{ value: "z".repeat(5_000) }] })).toEqual([{ partition: 0, offset: 1 }]);
  });

  it("sends base64 when a batch holds bytes, UTF-8 text otherwise", async () => {
    const broker = fakeBroker({ a: 1 });
    const producer = clientOf(broker).producer();
    await producer.send({ topic: "a", messages: [{ key: "k", value: "é", headers: { h: "v" }, timestamp: 5 }] });
    await producer.send({
      topic: "a",
      messages: [
        { key: "k", value: new Uint8Array([0, 255]), headers: { h: "v", n: null } },
        { value: null, key: null },
        { key: "é-key", value: "v" },
      ],
    });
    expect(broker.produced[0]!.body).toEqual({ records: [{ key: "k", value: "é", headers: { h: "v" }, partition: 0, timestamp: 5 }] });
    expect(broker.produced[1]!.body).toEqual({
      encoding: "base64",
      records: [
        { key: "aw==", value: "AP8=", headers: { h: "dg==", n: null }, partition: 0 },
        { key: null, value: null, partition: 0 },
        { key: btoa("\xc3\xa9-key"), value: "dg==", partition: 0 }, // the UTF-8 bytes of "é-key"
      ],
    });
  });

  it("splits a batch the broker finds too large, keeping order", async () => {
    const broker = fakeBroker({ a: 1 });
    broker.maxRecords = 3;
    const producer = clientOf(broker).producer();
    const results = await producer.send({ topic: "a", messages: Array.from({ length: 10 }, (_, i) => ({ value: String(i) })) });
    expect(results.map((r) => r.offset)).toEqual(Array.from({ length: 10 }, (_, i) => i));
    expect(broker.produced.flatMap((p) => p.body.records.map((r) => r.value))).toEqual(Array.from({ length: 10 }, (_, i) => String(i)));
    // A refused request stored nothing: its halves reuse its sequences, in the same epoch (10 → 5 + 5 → 2 + 3 each).
    expect(broker.produced.map((p) => [p.producer!.producerEpoch, p.producer!.sequences![0]!.sequence, p.body.records.length])).toEqual([
      [0, 0, 2],
      [0, 2, 3],
      [0, 5, 2],
      [0, 7, 3],
    ]);
  });

  it("re-reads the partition count when a partition is unknown, then fails only the bad send", async () => {
    const broker = fakeBroker({ a: 2 });
    const producer = clientOf(broker).producer();
    await producer.send({ topic: "a", messages: [{ value: "x" }] }); // caches 2 partitions
    broker.partitions.set("a", 6); // grown by an admin
    expect(await producer.send({ topic: "a", messages: [{ value: "y", partition: 5 }] })).toEqual([{ partition: 5, offset: 0 }]);
    const [bad, good] = await Promise.allSettled([
      producer.send({ topic: "a", messages: [{ value: "z", partition: 9 }] }),
      producer.send({ topic: "a", messages: [{ value: "w", partition: 4 }] }),
    ]);
    expect(bad).toMatchObject({ status: "rejected", reason: { code: "UNKNOWN_TOPIC_OR_PARTITION" } });
    expect(good).toEqual({ status: "fulfilled", value: [{ partition: 4, offset: 0 }] });
    const missing = await producer.send({ topic: "nope", messages: [{ value: "x" }] }).catch((e: unknown) => e);
    expect(isClientError(missing, "UNKNOWN_TOPIC_OR_PARTITION")).toBe(true);
  });

  it("validates messages and options, and refuses sends after disconnect", async () => {
    const broker = fakeBroker({ a: 1 });
    const kafka = clientOf(broker);
    const producer = kafka.producer();
    await expect(producer.send({ topic: "a", messages: [{} as never] })).rejects.toMatchObject({
      code: "INVALID_RECORD",
      message: "message 0 for topic a has no value (use null for a tombstone)",
    });
    await expect(producer.send({ topic: "a", messages: [{ value: 1 as never }] })).rejects.toMatchObject({ code: "INVALID_RECORD" });
    await expect(producer.send({ topic: "a", messages: [{ value: "v", headers: { h: 2 as never } }] })).rejects.toMatchObject({
      code: "INVALID_RECORD",
    });
    await expect(producer.send({ topic: "a", messages: [{ value: "v", partition: -1 }] })).rejects.toMatchObject({ code: "INVALID_RECORD" });
    await expect(producer.send({ topic: "", messages: [{ value: "v" }] })).rejects.toMatchObject({ code: "INVALID_REQUEST" });
    expect(await producer.send({ topic: "a", messages: [] })).toEqual([]);
    expect(() => kafka.producer({ lingerMs: -1 })).toThrow(expect.objectContaining({ code: "INVALID_CONFIG" }));
    expect(() => kafka.producer({ maxBatchRecords: 200_000 })).toThrow(expect.objectContaining({ code: "INVALID_CONFIG" }));

    const lingering = kafka.producer({ lingerMs: 60_000 });
    const pending = lingering.send({ topic: "a", messages: [{ value: "late" }] });
    await lingering.disconnect(); // flushes without waiting for the linger
    expect(await pending).toEqual([{ partition: 0, offset: 0 }]);
    await expect(lingering.send({ topic: "a", messages: [{ value: "v" }] })).rejects.toMatchObject({ code: "CLIENT_DISCONNECTED" });
  });
});
