import { partitionForKey } from "@minikafka/partitioner";
import { describe, expect, it, vi } from "vitest";
import { envelope, openTestApp } from "../../test/helpers/test-app.js";

const b64 = (text: string | Uint8Array) => Buffer.from(text).toString("base64");

describe("produce", () => {
  it("answers each record's partition and offset in request order, one append per partition", async () => {
    const { call, store } = await openTestApp();
    await call("POST", "/v1/topics", { name: "t", partitions: 4 });
    const append = vi.spyOn(store, "append");
    const keys = ["alpha", "beta", "gamma", "delta", "alpha"];
    const records = [
      ...keys.map((key, i) => ({ key, value: `keyed-${i}` })),
      { value: "explicit-2", partition: 2 },
      { value: "explicit-0", partition: 0, key: "alpha" },
    ];
    const answer = await call("POST", "/v1/topics/t/records", { records });
    expect(answer.status).toBe(200);
    const expected = [...keys.map((key) => partitionForKey(key, 4)), 2, 0];
    expect(answer.body.offsets.map((o: { partition: number }) => o.partition)).toEqual(expected);
    // Offsets: dense per partition, in request order.
    const next = new Map<number, number>();
    const offsets = expected.map((p) => {
      const offset = next.get(p) ?? 0;
      next.set(p, offset + 1);
      return { partition: p, offset };
    });
    expect(answer.body.offsets).toEqual(offsets);
    expect(append).toHaveBeenCalledTimes(new Set(expected).size);
    for (const [, partition, batch] of append.mock.calls) expect(batch.length).toBe(expected.filter((p) => p === partition).length);

    // What was stored is what was sent, at the answered offsets.
    for (let i = 0; i < records.length; i++) {
      const { partition, offset } = answer.body.offsets[i];
      const fetched = await call("GET", `/v1/topics/t/partitions/${partition}/records?offset=${offset}&maxRecords=1`);
      expect(fetched.body.records[0]).toMatchObject({ offset, value: records[i]!.value, key: records[i]!.key ?? null });
    }
  });

  it("puts keyless records on one partition (sticky) and keyed ones by murmur2, across requests", async () => {
    const { call } = await openTestApp();
    await call("POST", "/v1/topics", { name: "t", partitions: 6 });
    const first = await call("POST", "/v1/topics/t/records", { records: Array.from({ length: 10 }, (_, i) => ({ value: String(i) })) });
    const partitions = new Set(first.body.offsets.map((o: { partition: number }) => o.partition));
    expect(partitions.size).toBe(1);
    expect(first.body.offsets.map((o: { offset: number }) => o.offset)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const second = await call("POST", "/v1/topics/t/records", { records: [{ key: "order-42", value: "x" }] });
    expect(second.body.offsets).toEqual([{ partition: partitionForKey("order-42", 6), offset: expect.any(Number) }]);
    // Hashing uses the key's UTF-8 bytes, the same ones a base64 request would send.
    const third = await call("POST", "/v1/topics/t/records", { encoding: "base64", records: [{ key: b64("order-42"), value: b64("y") }] });
    expect(third.body.offsets[0].partition).toBe(partitionForKey("order-42", 6));
    expect(third.body.offsets[0].offset).toBe(second.body.offsets[0].offset + 1);
  });

  it("stores headers, timestamps and null values, and returns them as sent", async () => {
    const { call } = await openTestApp();
    await call("POST", "/v1/topics", { name: "t", partitions: 1 });
    await call("POST", "/v1/topics/t/records", {
      records: [
        { key: "k", value: "héllo wörld ✓", headers: { source: "web", trace: null }, timestamp: 1_700_000_000_000 },
        { key: null, value: null },
      ],
    });
    const fetched = await call("GET", "/v1/topics/t/partitions/0/records?offset=0");
    expect(fetched.body).toEqual({
      records: [
        { offset: 0, timestamp: 1_700_000_000_000, key: "k", value: "héllo wörld ✓", headers: { source: "web", trace: null } },
        { offset: 1, timestamp: expect.any(Number), key: null, value: null, headers: {} },
      ],
      nextOffset: 2,
      highWatermark: 2,
      logStartOffset: 0,
    });
  });

  it("carries binary keys, values and headers as base64 both ways", async () => {
    const { call } = await openTestApp();
    await call("POST", "/v1/topics", { name: "t", partitions: 1 });
    const bytes = Uint8Array.from([0, 1, 2, 0xfe, 0xff, 0x80]);
    const answer = await call("POST", "/v1/topics/t/records", {
      encoding: "base64",
      records: [{ key: b64(bytes.subarray(0, 2)), value: b64(bytes), headers: { raw: b64(bytes.subarray(3)) } }],
    });
    expect(answer.body.offsets).toEqual([{ partition: 0, offset: 0 }]);
    const binary = await call("GET", "/v1/topics/t/partitions/0/records?offset=0&encoding=base64");
    expect(binary.body.records[0]).toMatchObject({ key: b64(bytes.subarray(0, 2)), value: b64(bytes), headers: { raw: b64(bytes.subarray(3)) } });
    // As text, invalid UTF-8 becomes U+FFFD rather than failing.
    const text = await call("GET", "/v1/topics/t/partitions/0/records?offset=0");
    expect(text.body.records[0].key).toBe("\u0000\u0001");
    expect(text.body.records[0].value).toBe(Buffer.from(bytes).toString("utf8"));
  });

  it("round-trips headers named like Object.prototype members, __proto__ included", async () => {
    const { call } = await openTestApp();
    await call("POST", "/v1/topics", { name: "t", partitions: 1 });
    const produced = await call(
      "POST",
      "/v1/topics/t/records",
      '{"records":[{"value":"b","headers":{"__proto__":"x","constructor":"y","toString":"z"}}]}',
    );
    expect(produced.status).toBe(200);
    const fetched = await call("GET", "/v1/topics/t/partitions/0/records?offset=0");
    expect(Object.entries(fetched.body.records[0].headers)).toEqual([
      ["__proto__", "x"],
      ["constructor", "y"],
      ["toString", "z"],
    ]);
  });

  it("acknowledges only durable records under fsync always", async () => {
    const { call, store } = await openTestApp({ fsync: "always" });
    await call("POST", "/v1/topics", { name: "t", partitions: 2 });
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        call("POST", "/v1/topics/t/records", {
          records: [
            { value: `a${i}`, partition: i % 2 },
            { value: `b${i}`, partition: i % 2 },
          ],
        }),
      ),
    );
    for (const answer of answers) {
      for (const { partition, offset } of answer.body.offsets) {
        expect(store.describeTopic("t").partitions[partition]!.highWatermark).toBeGreaterThan(offset);
      }
    }
    expect(store.describeTopic("t").partitions.map((p) => p.highWatermark)).toEqual([8, 8]);
    expect(store.metrics.fsyncs).toBeGreaterThan(0);
  });

  it.each([
    ["an empty record list", { records: [] }, "INVALID_RECORD", "body field records must not have fewer than 1 items, got an array of 0"],
    ["no records field", {}, "INVALID_REQUEST", "request body must have required properties records"],
    ["records that is not an array", { records: "x" }, "INVALID_RECORD", 'body field records must be array, got "x"'],
    ["a record without value", { records: [{ key: "k" }] }, "INVALID_RECORD", "body field records[0] must have required properties value"],
    ["a numeric value", { records: [{ value: 1 }] }, "INVALID_RECORD", "body field records[0].value must be string or must be null, got 1"],
    [
      "an object key",
      { records: [{ value: "v", key: {} }] },
      "INVALID_RECORD",
      "body field records[0].key must be string or must be null, got an object",
    ],
    [
      "a numeric header",
      { records: [{ value: "v", headers: { h: 1 } }] },
      "INVALID_RECORD",
      "body field records[0].headers.h must be string or must be null, got 1",
    ],
    ["a negative partition", { records: [{ value: "v", partition: -1 }] }, "INVALID_RECORD", "body field records[0].partition must be >= 0, got -1"],
    [
      "a fractional partition",
      { records: [{ value: "v", partition: 0.5 }] },
      "INVALID_RECORD",
      "body field records[0].partition must be integer, got 0.5",
    ],
    ["a negative timestamp", { records: [{ value: "v", timestamp: -1 }] }, "INVALID_RECORD", "body field records[0].timestamp must be >= 0, got -1"],
    ["an unknown record field", { records: [{ value: "v", offset: 3 }] }, "INVALID_RECORD", 'body field records[0] has unknown field "offset"'],
    [
      "an unknown encoding",
      { records: [{ value: "v" }], encoding: "hex" },
      "INVALID_REQUEST",
      'body field encoding must be one of \"utf8\", \"base64\", got "hex"',
    ],
    ["bad base64", { encoding: "base64", records: [{ value: "not base64!" }] }, "INVALID_RECORD", "record 0 value is not valid base64"],
    ["unpadded base64", { encoding: "base64", records: [{ value: "AAA" }] }, "INVALID_RECORD", "record 0 value is not valid base64"],
    ["a bad base64 key", { encoding: "base64", records: [{ value: "", key: "%%%%" }] }, "INVALID_RECORD", "record 0 key is not valid base64"],
  ])("answers %s with 400 %s and writes nothing", async (_, body, code, message) => {
    const { call, store } = await openTestApp();
    await call("POST", "/v1/topics", { name: "t", partitions: 1 });
    expect(await call("POST", "/v1/topics/t/records", body)).toMatchObject({ status: 400, body: { error: { code, message, retriable: false } } });
    expect(store.describeTopic("t").partitions[0]!.logEndOffset).toBe(0);
  });

  it("answers an unknown topic or partition with 404 and writes nothing", async () => {
    const { call, store } = await openTestApp();
    await call("POST", "/v1/topics", { name: "t", partitions: 2 });
    expect(await call("POST", "/v1/topics/nope/records", { records: [{ value: "v" }] })).toMatchObject({
      status: 404,
      body: { error: { code: "UNKNOWN_TOPIC_OR_PARTITION", message: 'unknown topic "nope"' } },
    });
    // One bad record fails the whole request before anything is appended.
    expect(
      await call("POST", "/v1/topics/t/records", {
        records: [
          { value: "ok", partition: 0 },
          { value: "v", partition: 2 },
        ],
      }),
    ).toMatchObject({
      status: 404,
      body: { error: { code: "UNKNOWN_TOPIC_OR_PARTITION", message: 'partition 2 is outside [0, 2) for topic "t"' } },
    });
    expect(store.describeTopic("t").partitions.map((p) => p.logEndOffset)).toEqual([0, 0]);
  });

  it("answers a body over the limit with 413 REQUEST_TOO_LARGE", async () => {
    const { call, store } = await openTestApp({ maxBodyBytes: 1024 });
    await call("POST", "/v1/topics", { name: "t", partitions: 1 });
    const answer = await call("POST", "/v1/topics/t/records", { records: [{ value: "x".repeat(2000) }] });
    expect(answer).toMatchObject({
      status: 413,
      body: { error: { code: "REQUEST_TOO_LARGE", message: "request body exceeds the limit of 1024 bytes", retriable: false } },
    });
    expect(store.describeTopic("t").partitions[0]!.logEndOffset).toBe(0);
    // Just under the limit is fine.
    expect((await call("POST", "/v1/topics/t/records", { records: [{ value: "x".repeat(900) }] })).status).toBe(200);
  });
});

describe("fetch", () => {
  async function withRecords(count: number, options: Parameters<typeof openTestApp>[0] = {}) {
    const t = await openTestApp(options);
    await t.call("POST", "/v1/topics", { name: "t", partitions: 1 });
    if (count > 0)
      await t.call("POST", "/v1/topics/t/records", { records: Array.from({ length: count }, (_, i) => ({ value: `v${i}`, partition: 0 })) });
    return t;
  }

  it("reads from an offset, bounded by maxRecords", async () => {
    const { call } = await withRecords(10);
    const answer = await call("GET", "/v1/topics/t/partitions/0/records?offset=3&maxRecords=4");
    expect(answer.status).toBe(200);
    expect(answer.body.records.map((r: { offset: number; value: string }) => [r.offset, r.value])).toEqual([
      [3, "v3"],
      [4, "v4"],
      [5, "v5"],
      [6, "v6"],
    ]);
    expect(answer.body).toMatchObject({ nextOffset: 7, highWatermark: 10, logStartOffset: 0 });
  });

  it("bounds a read by maxBytes but always returns at least one record", async () => {
    const { call } = await withRecords(0);
    for (let i = 0; i < 5; i++) await call("POST", "/v1/topics/t/records", { records: [{ value: "x".repeat(100) }] });
    const answer = await call("GET", "/v1/topics/t/partitions/0/records?offset=0&maxBytes=1");
    expect(answer.body.records.map((r: { offset: number }) => r.offset)).toEqual([0]);
    expect(answer.body.nextOffset).toBe(1);
  });

  it("answers an empty list at the high watermark without waitMs", async () => {
    const { call } = await withRecords(2);
    expect((await call("GET", "/v1/topics/t/partitions/0/records?offset=2")).body).toEqual({
      records: [],
      nextOffset: 2,
      highWatermark: 2,
      logStartOffset: 0,
    });
  });

  it("long-polls: answers as soon as a record is appended", async () => {
    const { call, store } = await withRecords(2);
    const waiting = call("GET", "/v1/topics/t/partitions/0/records?offset=2&waitMs=20000");
    // The fetch is parked on the store; an append wakes it.
    await vi.waitFor(() => expect(store.describeTopic("t").partitions[0]!.highWatermark).toBe(2));
    await call("POST", "/v1/topics/t/records", { records: [{ value: "late" }] });
    const answer = await waiting;
    expect(answer.body.records.map((r: { offset: number; value: string }) => [r.offset, r.value])).toEqual([[2, "late"]]);
  });

  it("long-polls: answers an empty list after waitMs, capped by maxWaitMs", async () => {
    const { call } = await withRecords(1, { maxWaitMs: 50 });
    const started = performance.now();
    const answer = await call("GET", "/v1/topics/t/partitions/0/records?offset=1&waitMs=600000");
    expect(answer.body).toEqual({ records: [], nextOffset: 1, highWatermark: 1, logStartOffset: 0 });
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it("long-polls: answers at once when the broker is shutting down", async () => {
    const shutdown = new AbortController();
    const { call } = await withRecords(1, { signal: shutdown.signal });
    const waiting = call("GET", "/v1/topics/t/partitions/0/records?offset=1&waitMs=20000");
    shutdown.abort();
    expect((await waiting).body.records).toEqual([]);
  });

  it.each([
    ["past the high watermark", "offset=4", 416, "OFFSET_OUT_OF_RANGE", "offset 4 is outside [0, 3]"],
    ["negative", "offset=-1", 400, "INVALID_REQUEST", "query parameter offset must be >= 0, got -1"],
    ["not a number", "offset=abc", 400, "INVALID_REQUEST", 'query parameter offset must be integer, got "abc"'],
    ["fractional", "offset=1.5", 400, "INVALID_REQUEST", 'query parameter offset must be integer, got "1.5"'],
    ["missing", "", 400, "INVALID_REQUEST", "query parameters must have required properties offset"],
    ["given twice", "offset=1&offset=2", 400, "INVALID_REQUEST", "parameter offset is given 2 times; give it once"],
    ["maxRecords 0", "offset=0&maxRecords=0", 400, "INVALID_REQUEST", "query parameter maxRecords must be >= 1, got 0"],
    ["negative waitMs", "offset=0&waitMs=-5", 400, "INVALID_REQUEST", "query parameter waitMs must be >= 0, got -5"],
    ["bad encoding", "offset=0&encoding=hex", 400, "INVALID_REQUEST", 'query parameter encoding must be one of \"utf8\", \"base64\", got "hex"'],
    // Quoted as sent, not as the nearest double (9007199254740992).
    ["of 2^53 + 1", "offset=9007199254740993", 400, "INVALID_REQUEST", "query parameter offset must be <= 9007199254740991, got 9007199254740993"],
    ["of 2^53", "offset=9007199254740992", 400, "INVALID_REQUEST", "query parameter offset must be <= 9007199254740991, got 9007199254740992"],
    ["of 30 digits", `offset=${"9".repeat(30)}`, 400, "INVALID_REQUEST", `query parameter offset must be <= 9007199254740991, got ${"9".repeat(30)}`],
    ["of -(2^53 + 1)", "offset=-9007199254740993", 400, "INVALID_REQUEST", "query parameter offset must be >= 0, got -9007199254740993"],
    [
      "with a maxRecords of 2^64",
      "offset=0&maxRecords=18446744073709551616",
      400,
      "INVALID_REQUEST",
      "query parameter maxRecords must be <= 100000, got 18446744073709551616",
    ],
  ])("answers an offset %s with an error naming it", async (_, q, status, code, message) => {
    const { call } = await withRecords(3);
    expect(await call("GET", `/v1/topics/t/partitions/0/records?${q}`)).toMatchObject({ status, body: { error: { code, message } } });
  });

  it.each([
    ["an unknown partition", "/v1/topics/t/partitions/5/records?offset=0", 404, "UNKNOWN_TOPIC_OR_PARTITION"],
    ["a negative partition", "/v1/topics/t/partitions/-1/records?offset=0", 400, "INVALID_REQUEST"],
    ["a non-numeric partition", "/v1/topics/t/partitions/x/records?offset=0", 400, "INVALID_REQUEST"],
    ["a partition of 2^53 + 1", "/v1/topics/t/partitions/9007199254740993/records?offset=0", 400, "INVALID_REQUEST"],
    ["an unknown topic", "/v1/topics/nope/partitions/0/records?offset=0", 404, "UNKNOWN_TOPIC_OR_PARTITION"],
    ["an unknown topic, long-polling", "/v1/topics/nope/partitions/0/records?offset=0&waitMs=10000", 404, "UNKNOWN_TOPIC_OR_PARTITION"],
  ])("answers %s with an error naming it", async (_, path, status, code) => {
    const { call } = await withRecords(1);
    expect(await call("GET", path)).toMatchObject({ status, body: envelope(code) });
  });

  it("names a huge partition exactly", async () => {
    const { call } = await withRecords(1);
    expect((await call("GET", "/v1/topics/t/partitions/9007199254740993/records?offset=0")).body.error.message).toBe(
      "path parameter partition must be <= 2147483647, got 9007199254740993",
    );
  });
});
