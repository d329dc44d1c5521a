import { ManualClock } from "@minikafka/group-coordinator";
import { describe, expect, it } from "vitest";
import { createClient, isClientError, type Client, type FetchFunction } from "../src/index.js";
import { startTestBroker } from "./helpers/broker.js";
import { cuttableFetch, requestLine } from "./helpers/fetch.js";
import { until } from "./helpers/until.js";

const FAST_GROUPS = { heartbeatIntervalMs: 100, sessionTimeoutMs: 1_000, tickIntervalMs: 100 };
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

async function setup(topic: string, partitions: number, records: number, url?: string): Promise<{ kafka: Client; url: string }> {
  url ??= (await startTestBroker(FAST_GROUPS)).url;
  const kafka = createClient({ brokers: url, retry: { initialRetryTimeMs: 10 } });
  await kafka.admin().createTopics({ topics: [{ topic, numPartitions: partitions }] });
  if (records > 0) {
    const producer = kafka.producer();
    await producer.send({ topic, messages: range(0, records).map((i) => ({ value: String(i), partition: i % partitions })) });
    await producer.disconnect();
  }
  return { kafka, url };
}

async function lagOf(kafka: Client, groupId: string, topic: string): Promise<Array<number | null>> {
  const [offsets] = await kafka.admin().fetchOffsets({ groupId, topics: [topic] });
  return offsets!.partitions.map((p) => p.offset);
}

describe("consumer", () => {
  it("seek moves the position, from inside a handler and while idle", async () => {
    const { kafka } = await setup("log", 1, 30);
    const consumer = kafka.consumer({ groupId: "g", fromBeginning: true, maxWaitTimeMs: 200, messageFormat: "text" });
    await consumer.subscribe({ topics: ["log"] });
    const offsets: number[] = [];
    let sought = false;
    await consumer.run({
      eachMessage: async ({ message }) => {
        offsets.push(message.offset);
        if (message.offset === 19 && !sought) {
          sought = true;
          consumer.seek({ topic: "log", partition: 0, offset: 5 }); // the rest of this batch is dropped
        }
      },
    });
    await until("30 offsets after the seek", () => offsets.at(-1) === 29 && offsets.length === 45);
    expect(offsets).toEqual([...range(0, 20), ...range(5, 30)]);
    await until("the commit of 30", async () => (await lagOf(kafka, "g", "log"))[0] === 30);

    consumer.seek({ topic: "log", partition: 0, offset: 27 });
    await until("the idle seek", () => offsets.length === 48);
    expect(offsets.slice(45)).toEqual([27, 28, 29]);
    await consumer.disconnect();
  });

  it("admin resetOffsets and setOffsets move an empty group's offsets, and refuse a group with members", async () => {
    const { kafka } = await setup("log", 2, 20);
    const admin = kafka.admin();
    const consume = async (count: number) => {
      const consumer = kafka.consumer({ groupId: "g", fromBeginning: true, maxWaitTimeMs: 200, messageFormat: "text" });
      await consumer.subscribe({ topics: ["log"] });
      const got: number[] = [];
      await consumer.run({ eachMessage: async ({ message }) => void got.push(Number(message.value)) });
      await until(`${count} records`, () => got.length === count);
      return { consumer, got };
    };
    const first = await consume(20);
    await expect(admin.resetOffsets({ groupId: "g", topic: "log", earliest: true })).rejects.toMatchObject({ code: "NON_EMPTY_GROUP" });
    await first.consumer.disconnect();
    expect(await lagOf(kafka, "g", "log")).toEqual([10, 10]);

    await admin.resetOffsets({ groupId: "g", topic: "log", earliest: true });
    expect(await admin.fetchOffsets({ groupId: "g", topics: ["log"] })).toEqual([
      {
        topic: "log",
        partitions: [
          { partition: 0, offset: 0, highWatermark: 10, lag: 10 },
          { partition: 1, offset: 0, highWatermark: 10, lag: 10 },
        ],
      },
    ]);
    const again = await consume(20);
    expect(again.got.sort((a, b) => a - b)).toEqual(range(0, 20));
    await again.consumer.disconnect();

    await admin.setOffsets({ groupId: "g", topic: "log", partitions: [{ partition: 1, offset: 8 }] });
    await admin.resetOffsets({ groupId: "g", topic: "log" }); // latest
    expect(await lagOf(kafka, "g", "log")).toEqual([10, 10]);
    await admin.setOffsets({ groupId: "g", topic: "log", partitions: [{ partition: 1, offset: 8 }] });
    expect(await lagOf(kafka, "g", "log")).toEqual([10, 8]);
    const tail = await consume(2);
    expect(tail.got.sort((a, b) => a - b)).toEqual([17, 19]); // partition 1 holds the odd numbers
    await tail.consumer.disconnect();
  });

  it("pause stops a partition without a rebalance; resume brings it back", async () => {
    const { url } = await setup("log", 2, 0);
    // Every records request and whether its answer has come, to see what the consumer asks for while paused.
    const requests: Array<{ path: string; answered: boolean }> = [];
    const watching: FetchFunction = async (input, init) => {
      const { method, path } = requestLine(input, init);
      if (method !== "GET" || !path.includes("/records")) return fetch(input, init);
      const request = { path, answered: false };
      requests.push(request);
      try {
        return await fetch(input, init);
      } finally {
        request.answered = true;
      }
    };
    const kafka = createClient({ brokers: url, fetch: watching, retry: { initialRetryTimeMs: 10 } });
    const consumer = kafka.consumer({ groupId: "g", fromBeginning: true, maxWaitTimeMs: 200, messageFormat: "text" });
    await consumer.subscribe({ topics: ["log"] });
    const got: Array<[number, number]> = [];
    await consumer.run({ eachMessage: async ({ partition, message }) => void got.push([partition, message.offset]) });
    await until("both partitions assigned", () => consumer.assignment()[0]?.partitions.length === 2);
    consumer.pause([{ topic: "log", partitions: [0] }]);
    const pausedAt = requests.length;
    expect(consumer.paused()).toEqual([{ topic: "log", partitions: [0] }]);
    const producer = kafka.producer();
    await producer.send({ topic: "log", messages: range(0, 10).map((i) => ({ value: String(i), partition: i % 2 })) });
    await until("partition 1's records", () => got.length === 5);
    // Partition 0's records would have come with any fetch that asked for it: wait for two more answered
    // polls after the records came (the consumer went round its loop), then look at what it asked for.
    const handledAt = requests.length;
    await until("two more polls answered", () => requests.slice(handledAt).filter((r) => r.answered).length >= 2);
    expect(got).toEqual(range(0, 5).map((o) => [1, o]));
    const whilePaused = requests.slice(pausedAt).map((r) => r.path.slice(0, r.path.indexOf("?")));
    expect(new Set(whilePaused)).toEqual(new Set(["/v1/topics/log/partitions/1/records"])); // no member fetch, nothing of partition 0
    expect(consumer.assignment()).toEqual([{ topic: "log", partitions: [0, 1] }]);
    consumer.resume([{ topic: "log" }]);
    await until("partition 0's records", () => got.length === 10);
    expect(got.slice(5)).toEqual(range(0, 5).map((o) => [0, o]));
    expect(consumer.paused()).toEqual([]);
    await consumer.disconnect();
    await producer.disconnect();
  });

  it("eachBatch hands out batches; without auto-resolve only resolved offsets count", async () => {
    const { kafka } = await setup("log", 1, 50);
    const consumer = kafka.consumer({ groupId: "g", fromBeginning: true, maxWaitTimeMs: 200, maxRecords: 20, messageFormat: "text" });
    await consumer.subscribe({ topics: ["log"] });
    const batches: number[][] = [];
    await consumer.run({
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset, isStale, isRunning }) => {
        expect(isStale()).toBe(false);
        expect(isRunning()).toBe(true);
        batches.push(batch.messages.map((m) => m.offset));
        for (const message of batch.messages) {
          if (batches.length === 1 && message.offset === 10) break; // stop half-way: 10.. come again
          resolveOffset(message.offset);
        }
      },
    });
    await until("offset 49", () => batches.at(-1)?.at(-1) === 49);
    expect(batches.map((b) => b[0])).toEqual([0, 10, 30]);
    expect(batches.flat()).toEqual([...range(0, 20), ...range(10, 50)]);
    await until("the commit of 50", async () => (await lagOf(kafka, "g", "log"))[0] === 50);
    await consumer.disconnect();
  });

  it("with autoCommit off, moves on without committing until commitOffsets", async () => {
    const { kafka } = await setup("log", 1, 20);
    const consumer = kafka.consumer({ groupId: "g", fromBeginning: true, maxWaitTimeMs: 200, maxRecords: 7, messageFormat: "text" });
    await consumer.subscribe({ topics: ["log"] });
    const got: number[] = [];
    await consumer.run({ autoCommit: false, eachMessage: async ({ message }) => void got.push(message.offset) });
    await until("20 records", () => got.length === 20);
    expect(got).toEqual(range(0, 20));
    expect(await lagOf(kafka, "g", "log")).toEqual([null]);
    await consumer.commitOffsets([{ topic: "log", partition: 0, offset: 12 }]);
    expect(await lagOf(kafka, "g", "log")).toEqual([12]);
    await expect(consumer.commitOffsets([{ topic: "log", partition: 3, offset: 1 }])).rejects.toMatchObject({ code: "UNASSIGNED_PARTITION" });
    await consumer.disconnect();
    expect(await lagOf(kafka, "g", "log")).toEqual([12]); // no commit on disconnect either
  });

  it("starts at the end of a partition the group never committed, unless fromBeginning", async () => {
    const { kafka } = await setup("log", 1, 5);
    const consumer = kafka.consumer({ groupId: "late", maxWaitTimeMs: 200, messageFormat: "text" });
    await consumer.subscribe({ topics: ["log"] });
    const got: string[] = [];
    await consumer.run({ eachMessage: async ({ message }) => void got.push(message.value!) });
    await until("the end committed as the start", async () => (await lagOf(kafka, "late", "log"))[0] === 5);
    const producer = kafka.producer();
    await producer.send({ topic: "log", messages: [{ value: "new-1" }, { value: "new-2" }] });
    await until("the new records", () => got.length === 2);
    expect(got).toEqual(["new-1", "new-2"]);
    await consumer.disconnect();
    await producer.disconnect();
  });

  it("hands a failed message again, then crashes after retry.retries failures", async () => {
    const broker = await startTestBroker(FAST_GROUPS);
    const { kafka } = await setup("log", 1, 6, broker.url);
    const attempts = new Map<number, number>();
    const consumer = kafka.consumer({ groupId: "g", fromBeginning: true, maxWaitTimeMs: 200, messageFormat: "text" });
    await consumer.subscribe({ topics: ["log"] });
    const handled: number[] = [];
    await consumer.run({
      eachMessage: async ({ message }) => {
        attempts.set(message.offset, (attempts.get(message.offset) ?? 0) + 1);
        if (message.offset === 3 && attempts.get(3)! <= 2) throw new Error("flaky");
        handled.push(message.offset);
      },
    });
    await until("all 6", () => handled.length === 6);
    expect(handled).toEqual(range(0, 6));
    expect(attempts.get(3)).toBe(3);
    expect(attempts.get(2)).toBe(1); // offsets before the failure were committed, not handed out again
    await consumer.disconnect();

    const strict = createClient({ brokers: broker.url, retry: { retries: 2, initialRetryTimeMs: 5 } });
    const doomed = strict.consumer({ groupId: "doomed", fromBeginning: true, maxWaitTimeMs: 200 });
    await doomed.subscribe({ topics: ["log"] });
    const crashed = new Promise<unknown>((resolve) => doomed.on("crash", ({ error }) => resolve(error)));
    let calls = 0;
    await doomed.run({
      eachMessage: async () => {
        calls++;
        throw new Error("poison");
      },
    });
    expect(((await crashed) as Error).message).toBe("poison");
    expect(calls).toBe(3);
    const { groups } = await strict.admin().describeGroups(["doomed"]);
    expect(groups[0]!.members).toEqual([]); // it left the group
    await expect(doomed.run({ eachMessage: async () => {} })).rejects.toMatchObject({ code: "INVALID_REQUEST" });
  });

  it("rejoins after the broker evicted it, and carries on", async () => {
    const { kafka, url } = await setup("log", 2, 0);
    const network = cuttableFetch();
    // No sessionTimeoutMs: the broker's 1 s applies there, while the consumer's local default (45 s) is much
    // longer, so it learns of its eviction from the broker (UNKNOWN_MEMBER_ID).
    const flaky = createClient({ brokers: url, fetch: network.fetch, retry: { retries: 0, initialRetryTimeMs: 10 } });
    const consumer = flaky.consumer({ groupId: "g", fromBeginning: true, maxWaitTimeMs: 200, messageFormat: "text" });
    await consumer.subscribe({ topics: ["log"] });
    const got: string[] = [];
    await consumer.run({ eachMessage: async ({ message }) => void got.push(message.value!) });
    const admin = kafka.admin();
    const memberOf = async () => (await admin.describeGroups(["g"])).groups[0]!.members.map((m) => m.memberId);
    const [before] = await until("the member", async () => (await memberOf()).length === 1 && (await memberOf()));
    network.cut();
    await until("the eviction", async () => (await memberOf()).length === 0, 5_000);
    network.restore();
    const [after] = await until("the rejoin", async () => {
      const members = await memberOf();
      return members.length === 1 && members[0] !== before && members;
    });
    expect(after).not.toBe(before);
    const producer = kafka.producer();
    await producer.send({
      topic: "log",
      messages: [
        { value: "a", partition: 0 },
        { value: "b", partition: 1 },
      ],
    });
    await until("records after the rejoin", () => got.length === 2);
    expect(got.sort()).toEqual(["a", "b"]);
    await consumer.disconnect();
    await producer.disconnect();
  });

  it("a static member keeps its partitions across a restart; a dynamic one hands them over on disconnect", async () => {
    const { kafka } = await setup("log", 2, 0);
    const admin = kafka.admin();
    const members = async () => (await admin.describeGroups(["g"])).groups[0]!.members;
    const start = async (instanceId?: string) => {
      const consumer = kafka.consumer({ groupId: "g", instanceId, fromBeginning: true, maxWaitTimeMs: 200, messageFormat: "text" });
      await consumer.subscribe({ topics: ["log"] });
      const got: string[] = [];
      await consumer.run({ eachMessage: async ({ message }) => void got.push(message.value!) });
      return { consumer, got };
    };
    const first = await start("worker-1");
    await until("the assignment", () => first.consumer.assignment()[0]?.partitions.length === 2);
    await first.consumer.disconnect();
    // Still in the group, its partitions reserved for it (session timeout 1 s)…
    expect((await members()).map((m) => [m.instanceId, m.assignment])).toEqual([["worker-1", [{ topic: "log", partitions: [0, 1] }]]]);
    // …and the restarted process gets them back at once.
    const second = await start("worker-1");
    expect(second.consumer.assignment()).toEqual([{ topic: "log", partitions: [0, 1] }]);
    const producer = kafka.producer();
    await producer.send({ topic: "log", messages: [{ value: "a", partition: 0 }] });
    await until("the record", () => second.got.length === 1);
    await second.consumer.disconnect();

    const dynamic = await start();
    await until("the dynamic member's assignment", async () => (await members()).some((m) => m.instanceId === null && m.assignment.length > 0));
    await dynamic.consumer.disconnect();
    expect((await members()).filter((m) => m.instanceId === null)).toEqual([]); // left at once
    await producer.disconnect();
  });

  it("long-polls: after an early empty answer it waits on its clock; one without partitions makes no request", async () => {
    const { url } = await setup("log", 1, 0);
    const clock = new ManualClock(Date.now());
    const polls = new Map<string, number>();
    // Per consumer and delay: the waits its client scheduled on the shared clock. With a long poll of 600 ms,
    // the pause after an early empty answer is 500 ms and the idle wait (no partition) 600 ms.
    const waits = new Map<string, number>();
    const waited = (name: string, ms: number) => waits.get(`${name}/${ms}`) ?? 0;
    const start = async (name: string) => {
      const client = createClient({
        brokers: url,
        fetch: (input, init) => {
          const { method, path } = requestLine(input, init);
          if (method === "GET" && path.includes("/records")) polls.set(name, (polls.get(name) ?? 0) + 1);
          return fetch(input, init);
        },
        clock: {
          now: () => clock.now(),
          setTimeout: (callback, ms) => {
            waits.set(`${name}/${ms}`, waited(name, ms) + 1);
            return clock.setTimeout(callback, ms);
          },
          clearTimeout: (handle) => clock.clearTimeout(handle),
        },
      });
      const consumer = client.consumer({ groupId: "g", fromBeginning: true, maxWaitTimeMs: 600 });
      await consumer.subscribe({ topics: ["log"] });
      await consumer.run({ eachMessage: async () => {} });
      return consumer;
    };
    const [a, b] = [await start("a"), await start("b")];
    await until("one owner of the only partition", () => a.assignment().length + b.assignment().length === 1);
    const owner = a.assignment().length === 1 ? "a" : "b";
    const idle = owner === "a" ? "b" : "a";
    // The clock does not move while the broker holds a poll (600 ms of real time), so to the consumer every
    // empty answer came early: after each it waits 500 ms of its clock, and polls again only then.
    await until("the owner's first pause", () => waited(owner, 500) === 1);
    const first = polls.get(owner)!;
    expect(first).toBeGreaterThanOrEqual(1);
    for (let step = 1; step <= 3; step++) {
      clock.advance(500);
      await until(`the owner's pause after poll ${first + step}`, () => waited(owner, 500) === 1 + step);
      expect(polls.get(owner)).toBe(first + step);
    }
    expect(polls.get(idle) ?? 0).toBe(0);
    expect(waited(idle, 600)).toBeGreaterThanOrEqual(2); // its loop went round, idle, as the clock moved
    await Promise.all([a.disconnect(), b.disconnect()]);
  });

  it("refuses misuse with typed errors", async () => {
    const { kafka } = await setup("log", 1, 0);
    expect(() => kafka.consumer({ groupId: "" })).toThrow(expect.objectContaining({ code: "INVALID_CONFIG" }));
    const consumer = kafka.consumer({ groupId: "g" });
    await expect(consumer.run({ eachMessage: async () => {} })).rejects.toMatchObject({ code: "INVALID_REQUEST" });
    await expect(consumer.subscribe({ topics: [] })).rejects.toMatchObject({ code: "INVALID_REQUEST" });
    await consumer.subscribe({ topics: ["log"] });
    await expect(consumer.run({} as never)).rejects.toMatchObject({ code: "INVALID_REQUEST" });
    const bad = kafka.consumer({ groupId: "bad\u0001group" });
    await bad.subscribe({ topics: ["log"] });
    const error = await bad.run({ eachMessage: async () => {} }).catch((e: unknown) => e);
    expect(isClientError(error, "INVALID_GROUP_ID")).toBe(true);
    expect(() => consumer.seek({ topic: "log", partition: 0, offset: -1 })).toThrow(expect.objectContaining({ code: "INVALID_REQUEST" }));
    await consumer.disconnect();
    await bad.disconnect();
  });
});
