// The producer against a real broker (port 0) with small limits: a batch the broker refuses as too large
// (413 RECORD_LIST_TOO_LARGE, REQUEST_TOO_LARGE, MESSAGE_TOO_LARGE) is split in halves and sent again, in
// order, with the idempotent producer's sequences reused in the same epoch; a record too large by itself
// fails its own send with a typed error, and the other sends of its batch are stored.
import { describe, expect, it } from "vitest";
import { createClient, isClientError, type FetchFunction, type RecordMetadata } from "../src/index.js";
import { startTestBroker } from "./helpers/broker.js";
import { requestLine } from "./helpers/fetch.js";

interface Sent {
  records: number;
  status: number;
  producerEpoch?: number;
  sequences?: Array<{ partition: number; sequence: number }>;
  partitions: number[];
}

/** Forwards every request, noting each produce request: its record count, partitions, producer fields and answer's status. */
function recording(): { fetch: FetchFunction; sent: Sent[] } {
  const sent: Sent[] = [];
  return {
    sent,
    fetch: async (input, init) => {
      const { method, path } = requestLine(input, init);
      if (method !== "POST" || !/^\/v1\/topics\/[^/]+\/records$/.test(path)) return fetch(input, init);
      const body = JSON.parse(await (input as Request).clone().text()) as {
        records: Array<{ partition: number }>;
        producerEpoch?: number;
        sequences?: Sent["sequences"];
      };
      const response = await fetch(input, init);
      sent.push({
        records: body.records.length,
        status: response.status,
        producerEpoch: body.producerEpoch,
        sequences: body.sequences,
        partitions: body.records.map((r) => r.partition),
      });
      return response;
    },
  };
}

async function log(url: string, topic: string, partition: number): Promise<string[]> {
  const res = await fetch(`${url}/v1/topics/${topic}/partitions/${partition}/records?offset=0&maxRecords=1000`);
  return ((await res.json()) as { records: Array<{ value: string }> }).records.map((r) => r.value);
}

/** Per partition, the stored sequence ranges of the accepted requests must follow each other without a gap. */
function expectContiguous(sent: Sent[]): void {
  const next = new Map<number, number>();
  for (const s of sent.filter((s) => s.status === 200)) {
    for (const { partition, sequence } of s.sequences ?? []) {
      expect(sequence).toBe(next.get(partition) ?? 0);
      next.set(partition, sequence + s.partitions.filter((p) => p === partition).length);
    }
  }
}

describe("producer against the broker's limits", () => {
  it("RECORD_LIST_TOO_LARGE: splits a batch of several sends until it fits, stored once, in send order, one epoch", async () => {
    const broker = await startTestBroker({ maxRecordsPerRequest: 4 });
    const wire = recording();
    const kafka = createClient({ brokers: broker.url, fetch: wire.fetch });
    await kafka.admin().createTopics({ topics: [{ topic: "t", numPartitions: 2 }] });
    const producer = kafka.producer();
    // Three sends in one tick share one request of 23 records; keys spread them over both partitions.
    const messages = (name: string, n: number) => Array.from({ length: n }, (_, i) => ({ key: `k${i % 5}`, value: `${name}${i}` }));
    const sends = [messages("a", 10), messages("b", 8), messages("c", 5)];
    const results = await Promise.all(sends.map((m) => producer.send({ topic: "t", messages: m })));

    expect(wire.sent[0]).toMatchObject({ records: 23, status: 413 });
    expect(
      wire.sent
        .filter((s) => s.status === 200)
        .map((s) => s.records)
        .reduce((a, b) => a + b),
    ).toBe(23);
    expect(wire.sent.every((s) => s.status === 200 || s.status === 413)).toBe(true);
    expect(wire.sent.every((s) => s.records <= 4 || s.status === 413)).toBe(true);
    // No new epoch for a refusal that stored nothing, and the sequences follow each other per partition.
    expect(new Set(wire.sent.map((s) => s.producerEpoch))).toEqual(new Set([0]));
    expectContiguous(wire.sent);
    // Each message once, at the offset its send reported, in send order per partition.
    const logs = [await log(broker.url, "t", 0), await log(broker.url, "t", 1)];
    const expected: string[][] = [[], []];
    sends.forEach((m, s) =>
      m.forEach((message, i) => {
        const { partition, offset } = results[s]![i]!;
        expect(logs[partition]![offset]).toBe(message.value);
        expected[partition]!.push(message.value);
      }),
    );
    expect(logs).toEqual(expected);
    expect(logs[0]!.length + logs[1]!.length).toBe(23);
    // The producer goes on in the same epoch with the next sequences.
    expect(await producer.send({ topic: "t", messages: [{ key: "k0", value: "after" }] })).toEqual([
      { partition: results[0]![0]!.partition, offset: logs[results[0]![0]!.partition]!.length },
    ]);
    expect(wire.sent.at(-1)).toMatchObject({ status: 200, producerEpoch: 0 });
    expectContiguous(wire.sent);
    await producer.disconnect();
  });

  it("REQUEST_TOO_LARGE (maxBodyBytes): splits a large batch; a message larger than the limit fails alone with the code", async () => {
    const broker = await startTestBroker({ maxBodyBytes: 2048 });
    const wire = recording();
    const kafka = createClient({ brokers: broker.url, fetch: wire.fetch });
    await kafka.admin().createTopics({ topics: [{ topic: "t", numPartitions: 1 }] });
    const producer = kafka.producer();
    const values = Array.from({ length: 20 }, (_, i) => `${String(i).padStart(2, "0")}${"v".repeat(298)}`);
    const [stored, huge, after] = await Promise.allSettled([
      producer.send({ topic: "t", messages: values.map((value) => ({ value })) }),
      producer.send({ topic: "t", messages: [{ value: "h".repeat(3000) }] }),
      producer.send({ topic: "t", messages: [{ value: "after" }] }),
    ]);
    expect(wire.sent[0]).toMatchObject({ records: 22, status: 413 });
    expect(stored).toEqual({ status: "fulfilled", value: values.map((_, offset) => ({ partition: 0, offset })) });
    expect(huge.status).toBe("rejected");
    const error = (huge as PromiseRejectedResult).reason;
    expect(isClientError(error, "REQUEST_TOO_LARGE")).toBe(true);
    expect(error).toMatchObject({ status: 413, retriable: false });
    expect(error.message).toBe("message 0 for topic t refused: request body exceeds the limit of 2048 bytes");
    expect(after).toEqual({ status: "fulfilled", value: [{ partition: 0, offset: 20 }] });
    expect(await log(broker.url, "t", 0)).toEqual([...values, "after"]);
    expectContiguous(wire.sent);
    await producer.disconnect();
  });

  it("MESSAGE_TOO_LARGE: only the send with the oversized record fails; the rest of that send is not stored, the others are", async () => {
    for (const idempotent of [true, false]) {
      const broker = await startTestBroker({ maxRecordValueBytes: 100 });
      const wire = recording();
      const kafka = createClient({ brokers: broker.url, fetch: wire.fetch });
      await kafka.admin().createTopics({ topics: [{ topic: "t", numPartitions: 1 }] });
      const producer = kafka.producer({ idempotent });
      const send = (values: string[]) => producer.send({ topic: "t", messages: values.map((value) => ({ value })) });
      const big = "x".repeat(101);
      const [a, b, c] = await Promise.allSettled([send(["a0", big, "a2"]), send(["b0", "b1"]), send(["c0"])]);
      expect(a.status).toBe("rejected");
      const error = (a as PromiseRejectedResult).reason;
      expect(isClientError(error, "MESSAGE_TOO_LARGE")).toBe(true);
      expect(error.message).toBe("message 1 for topic t refused: record 0: the value is larger than the limit of 100 bytes");
      const offsets = (r: PromiseSettledResult<RecordMetadata[]>) => (r as PromiseFulfilledResult<RecordMetadata[]>).value.map((m) => m.offset);
      expect(offsets(b)).toEqual([1, 2]);
      expect(offsets(c)).toEqual([3]);
      expect(await log(broker.url, "t", 0)).toEqual(["a0", "b0", "b1", "c0"]);
      // The sequences skipped nothing: the next send is stored at once.
      expect(await send(["d0"])).toEqual([{ partition: 0, offset: 4 }]);
      if (idempotent) {
        expect(new Set(wire.sent.map((s) => s.producerEpoch))).toEqual(new Set([0]));
        expectContiguous(wire.sent);
      }
      await producer.disconnect();
      await broker.close();
    }
  });
});
