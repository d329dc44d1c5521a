import { partitionForKey } from "@minikafka/partitioner";
import { describe, expect, it } from "vitest";
import { envelope, openTestApp } from "../../test/helpers/test-app.js";

const send = (message: string, key = "") => `?message=${encodeURIComponent(message)}&key=${encodeURIComponent(key)}`;

describe("seed-compatible producer routes", () => {
  it("creates a topic with num_partitions, and re-creating it is a no-op", async () => {
    const { call, store } = await openTestApp();
    expect(await call("POST", "/topics/my_partitioned_topic/create?num_partitions=3")).toMatchObject({ status: 200, body: null });
    expect(store.describeTopic("my_partitioned_topic").partitions.length).toBe(3);
    expect(await call("POST", "/topics/my_partitioned_topic/create?num_partitions=5")).toMatchObject({ status: 200, body: null });
    expect(store.describeTopic("my_partitioned_topic").partitions.length).toBe(3);
    expect((await call("POST", "/topics/single/create")).status).toBe(200);
    expect(store.describeTopic("single").partitions.length).toBe(1);
  });

  it("sends keyless messages round-robin with dense 0-based offsets per partition", async () => {
    const { call } = await openTestApp();
    await call("POST", "/topics/t/create?num_partitions=3");
    const answers = [];
    for (let i = 0; i < 9; i++) answers.push((await call("POST", `/topics/t/messages${send(`Hello, Mini Kafka! -- ${i}`)}`)).body);
    expect(answers).toEqual(Array.from({ length: 9 }, (_, i) => ({ message_offset: Math.floor(i / 3), partition_id: i % 3 })));
    const stored = await call("GET", "/v1/topics/t/partitions/1/records?offset=0");
    expect(stored.body.records.map((r: { value: string; key: string | null }) => [r.key, r.value])).toEqual([
      [null, "Hello, Mini Kafka! -- 1"],
      [null, "Hello, Mini Kafka! -- 4"],
      [null, "Hello, Mini Kafka! -- 7"],
    ]);
  });

  it("sends keyed messages to the murmur2 partition of the key, stably", async () => {
    const { call } = await openTestApp();
    await call("POST", "/topics/t/create?num_partitions=5");
    for (const key of ["customer-1", "customer-2", "order-42", "é"]) {
      const first = await call("POST", `/topics/t/messages${send("a", key)}`);
      const second = await call("POST", `/topics/t/messages${send("b", key)}`);
      expect(first.body.partition_id).toBe(partitionForKey(key, 5));
      expect(second.body).toEqual({ partition_id: first.body.partition_id, message_offset: first.body.message_offset + 1 });
    }
  });

  it("creates an unknown topic with one partition on first send, also under concurrency", async () => {
    const { call, store } = await openTestApp();
    const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => call("POST", `/topics/fresh/messages${send(`m${i}`)}`)));
    expect(answers.every((a) => a.status === 200)).toBe(true);
    expect(store.describeTopic("fresh").partitions.length).toBe(1);
    // No lost or duplicated offsets.
    expect(answers.map((a) => a.body.message_offset).sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, i) => i));
    expect(new Set(answers.map((a) => a.body.partition_id))).toEqual(new Set([0]));
  });

  it("treats a missing key as no key", async () => {
    const { call } = await openTestApp();
    await call("POST", "/topics/t/create?num_partitions=2");
    expect((await call("POST", "/topics/t/messages?message=a")).body).toEqual({ message_offset: 0, partition_id: 0 });
    expect((await call("POST", "/topics/t/messages?message=b")).body).toEqual({ message_offset: 0, partition_id: 1 });
  });

  it.each([
    ["no message", "/topics/t/messages?key=k", 400, "INVALID_REQUEST", "query parameters must have required properties message"],
    ["zero partitions", "/topics/t/create?num_partitions=0", 400, "INVALID_PARTITIONS", "query parameter num_partitions must be >= 1, got 0"],
    [
      "absurdly many partitions",
      "/topics/t/create?num_partitions=99999999",
      400,
      "INVALID_PARTITIONS",
      "query parameter num_partitions must be <= 100000, got 99999999",
    ],
    [
      "non-numeric partitions",
      "/topics/t/create?num_partitions=three",
      400,
      "INVALID_PARTITIONS",
      'query parameter num_partitions must be integer, got "three"',
    ],
    ["a slash in the topic", "/topics/a%2Fb/messages?message=m", 400, "INVALID_TOPIC_NAME", expect.stringContaining('got "a/b"')],
    ["a NUL in the topic", "/topics/a%00/create", 400, "INVALID_TOPIC_NAME", expect.stringContaining('got "a\\u0000"')],
    [
      "a 250-character topic",
      `/topics/${"x".repeat(250)}/messages?message=m`,
      400,
      "INVALID_TOPIC_NAME",
      expect.stringContaining("must not have more than 249 characters"),
    ],
    ["a reserved topic", "/topics/__offsets/messages?message=m", 400, "INVALID_TOPIC_NAME", expect.any(String)],
    ["a %2e%2e topic", "/topics/%2e%2e/messages?message=m", 404, "NOT_FOUND", "no route for POST /messages"],
  ])("answers %s with an error naming it and creates nothing", async (_, path, status, code, message) => {
    const { call, store } = await openTestApp();
    expect(await call("POST", path)).toMatchObject({ status, body: { error: { code, message, retriable: false } } });
    expect(store.listTopics()).toEqual([]);
  });

  it("refuses a case-only twin of an existing topic", async () => {
    const { call } = await openTestApp();
    await call("POST", "/topics/Orders/create");
    expect(await call("POST", "/topics/orders/messages?message=m")).toMatchObject({ status: 400, body: envelope("INVALID_TOPIC_NAME") });
  });
});
