import { LogStore } from "@minikafka/log-store";
import { describe, expect, it } from "vitest";
import { envelope, openTestApp, type TestApp } from "../../test/helpers/test-app.js";
import { createBrokerApp } from "../index.js";

const records = (partition: number, ...values: string[]) => values.map((value) => ({ value, partition }));

async function setup(partitions = 2): Promise<TestApp & { producerId: number }> {
  const app = await openTestApp();
  expect((await app.call("POST", "/v1/topics", { name: "t", partitions })).status).toBe(201);
  const init = await app.call("POST", "/v1/producers");
  expect(init.status).toBe(201);
  return { ...app, producerId: init.body.producerId };
}

async function log(call: TestApp["call"], partition: number): Promise<string[]> {
  const answer = await call("GET", `/v1/topics/t/partitions/${partition}/records?offset=0`);
  return answer.body.records.map((r: { value: string }) => r.value);
}

describe("POST /v1/producers", () => {
  it("hands out fresh ids with epoch 0, without a body", async () => {
    const { call, app } = await openTestApp();
    expect(await call("POST", "/v1/producers")).toMatchObject({ status: 201, body: { producerId: 0, producerEpoch: 0 } });
    // No content type, no body (curl -X POST): fine, the route reads nothing.
    const bare = await app.request("/v1/producers", { method: "POST" });
    expect(bare.status).toBe(201);
    expect(await bare.json()).toEqual({ producerId: 1, producerEpoch: 0 });
  });

  it("never hands out an id twice across a restart", async () => {
    const { call, store, dataDir } = await openTestApp();
    const first = (await call("POST", "/v1/producers")).body.producerId;
    await store.close();
    const reopened = await LogStore.open({ dataDir, fsync: "never" });
    try {
      const res = await createBrokerApp({ store: reopened, logger: { error() {} } }).request("/v1/producers", { method: "POST" });
      expect(((await res.json()) as { producerId: number }).producerId).toBeGreaterThan(first);
    } finally {
      await reopened.close();
    }
  });
});

describe("idempotent produce", () => {
  it("appends the next sequence and answers a retry with the original offsets, appending nothing", async () => {
    const { call, producerId } = await setup();
    const body = { producerId, producerEpoch: 0, sequences: [{ partition: 0, sequence: 0 }], records: records(0, "a", "b") };
    const first = await call("POST", "/v1/topics/t/records", body);
    expect(first).toMatchObject({ status: 200 });
    expect(first.body).toEqual({
      offsets: [
        { partition: 0, offset: 0 },
        { partition: 0, offset: 1 },
      ],
      duplicate: false,
      duplicatePartitions: [],
    });
    const retry = await call("POST", "/v1/topics/t/records", body);
    expect(retry.status).toBe(200);
    expect(retry.body).toEqual({ ...first.body, duplicate: true, duplicatePartitions: [0] });
    const next = await call("POST", "/v1/topics/t/records", { ...body, sequences: [{ partition: 0, sequence: 2 }], records: records(0, "c") });
    expect(next.body).toEqual({ offsets: [{ partition: 0, offset: 2 }], duplicate: false, duplicatePartitions: [] });
    expect(await log(call, 0)).toEqual(["a", "b", "c"]);
  });

  it("leaves plain produce unchanged: no duplicate fields, a resend is stored twice", async () => {
    const { call } = await setup();
    const body = { records: records(0, "a") };
    expect((await call("POST", "/v1/topics/t/records", body)).body).toEqual({ offsets: [{ partition: 0, offset: 0 }] });
    expect((await call("POST", "/v1/topics/t/records", body)).body).toEqual({ offsets: [{ partition: 0, offset: 1 }] });
    expect(await log(call, 0)).toEqual(["a", "a"]);
  });

  it("refuses a gap or a reordering with 409 OUT_OF_ORDER_SEQUENCE_NUMBER naming the partition, appending nothing", async () => {
    const { call, producerId } = await setup();
    const send = (sequence: number, ...values: string[]) =>
      call("POST", "/v1/topics/t/records", { producerId, producerEpoch: 0, sequences: [{ partition: 1, sequence }], records: records(1, ...values) });
    expect((await send(0, "a", "b")).status).toBe(200);
    const gap = await send(3, "d");
    expect(gap).toMatchObject({ status: 409, body: envelope("OUT_OF_ORDER_SEQUENCE_NUMBER") });
    expect(gap.body.error.message).toBe(`t/1: producer ${producerId} epoch 0: sequence 3, expected 2`);
    // A batch overlapping the stored one without matching it is no retry either.
    expect(await send(1, "b", "c")).toMatchObject({ status: 409, body: envelope("OUT_OF_ORDER_SEQUENCE_NUMBER") });
    expect(await log(call, 1)).toEqual(["a", "b"]);
  });

  it("fences an older epoch with 403 INVALID_PRODUCER_EPOCH once a newer one has written", async () => {
    const { call, producerId } = await setup();
    const send = (producerEpoch: number, sequence: number, value: string) =>
      call("POST", "/v1/topics/t/records", { producerId, producerEpoch, sequences: [{ partition: 0, sequence }], records: records(0, value) });
    expect((await send(0, 0, "old-0")).status).toBe(200);
    expect((await send(1, 0, "new-0")).status).toBe(200);
    const fenced = await send(0, 1, "old-1");
    expect(fenced).toMatchObject({ status: 403, body: envelope("INVALID_PRODUCER_EPOCH") });
    expect(fenced.body.error.message).toContain("t/0: ");
    // A new epoch must start at sequence 0.
    expect(await send(2, 5, "x")).toMatchObject({ status: 409, body: envelope("OUT_OF_ORDER_SEQUENCE_NUMBER") });
    expect(await log(call, 0)).toEqual(["old-0", "new-0"]);
  });

  it("answers 409 UNKNOWN_PRODUCER_ID for a producer the partition has no state for, not starting at 0", async () => {
    const { call, producerId } = await setup();
    const answer = await call("POST", "/v1/topics/t/records", {
      producerId,
      producerEpoch: 0,
      sequences: [{ partition: 0, sequence: 7 }],
      records: records(0, "a"),
    });
    expect(answer).toMatchObject({ status: 409, body: envelope("UNKNOWN_PRODUCER_ID") });
    expect(await log(call, 0)).toEqual([]);
  });

  it("decides each partition of a request by its own sequence: a partial retry appends only what is missing", async () => {
    const { call, producerId } = await setup(3);
    await call("POST", "/v1/topics/t/records", {
      producerId,
      producerEpoch: 0,
      sequences: [{ partition: 2, sequence: 0 }],
      records: records(2, "x"),
    });
    // Partition 2's batch is already stored (say the first attempt reached only it); partition 0's is new.
    const answer = await call("POST", "/v1/topics/t/records", {
      producerId,
      producerEpoch: 0,
      sequences: [
        { partition: 0, sequence: 0 },
        { partition: 2, sequence: 0 },
      ],
      records: [...records(0, "a"), ...records(2, "x")],
    });
    expect(answer.body).toEqual({
      offsets: [
        { partition: 0, offset: 0 },
        { partition: 2, offset: 0 },
      ],
      duplicate: false,
      duplicatePartitions: [2],
    });
    expect(await log(call, 0)).toEqual(["a"]);
    expect(await log(call, 2)).toEqual(["x"]);
  });

  it("finds a retry a duplicate after the store is closed and reopened (state rebuilt from the log)", async () => {
    const { call, store, dataDir, producerId } = await setup();
    const body = { producerId, producerEpoch: 0, sequences: [{ partition: 0, sequence: 0 }], records: records(0, "a", "b") };
    expect((await call("POST", "/v1/topics/t/records", body)).status).toBe(200);
    await store.close();
    const reopened = await LogStore.open({ dataDir, fsync: "never" });
    try {
      const app = createBrokerApp({ store: reopened, logger: { error() {} } });
      const res = await app.request("/v1/topics/t/records", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      expect(await res.json()).toEqual({
        offsets: [
          { partition: 0, offset: 0 },
          { partition: 0, offset: 1 },
        ],
        duplicate: true,
        duplicatePartitions: [0],
      });
      expect((await reopened.describeTopic("t")).partitions[0]!.logEndOffset).toBe(2);
    } finally {
      await reopened.close();
    }
  });

  it.each([
    ["producerId without the rest", { producerId: 0, records: records(0, "a") }, "missing producerEpoch, sequences"],
    [
      "a record without a partition",
      { producerId: 0, producerEpoch: 0, sequences: [{ partition: 0, sequence: 0 }], records: [{ value: "a" }] },
      "record 0 names no partition",
    ],
    [
      "no sequence for a partition",
      { producerId: 0, producerEpoch: 0, sequences: [{ partition: 0, sequence: 0 }], records: [...records(0, "a"), ...records(1, "b")] },
      "no sequence for partition 1",
    ],
    [
      "a sequence for a partition without records",
      {
        producerId: 0,
        producerEpoch: 0,
        sequences: [
          { partition: 0, sequence: 0 },
          { partition: 1, sequence: 0 },
        ],
        records: records(0, "a"),
      },
      "partition 1, which no record goes to",
    ],
    [
      "a partition twice",
      {
        producerId: 0,
        producerEpoch: 0,
        sequences: [
          { partition: 0, sequence: 0 },
          { partition: 0, sequence: 1 },
        ],
        records: records(0, "a"),
      },
      "partition 0 twice",
    ],
    [
      "an epoch beyond int16",
      { producerId: 0, producerEpoch: 32_768, sequences: [{ partition: 0, sequence: 0 }], records: records(0, "a") },
      "producerEpoch",
    ],
    [
      "a sequence beyond int32",
      { producerId: 0, producerEpoch: 0, sequences: [{ partition: 0, sequence: 2 ** 31 }], records: records(0, "a") },
      "sequence",
    ],
    [
      "a negative producer id",
      { producerId: -1, producerEpoch: 0, sequences: [{ partition: 0, sequence: 0 }], records: records(0, "a") },
      "producerId",
    ],
  ])("refuses %s with 400 INVALID_REQUEST, appending nothing", async (_, body, message) => {
    const { call } = await setup();
    const answer = await call("POST", "/v1/topics/t/records", body);
    expect(answer).toMatchObject({ status: 400, body: envelope("INVALID_REQUEST") });
    expect(answer.body.error.message).toContain(message);
    expect(await log(call, 0)).toEqual([]);
    expect(await log(call, 1)).toEqual([]);
  });
});
