import { readdirSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { envelope, openTestApp } from "../../test/helpers/test-app.js";

const partition = (p: number, end = 0) => ({ partition: p, logStartOffset: 0, logEndOffset: end, highWatermark: end, sizeBytes: expect.any(Number) });

describe("topic routes", () => {
  it("creates, lists, describes, grows and deletes a topic", async () => {
    const { call } = await openTestApp();
    const created = await call("POST", "/v1/topics", { name: "orders", partitions: 2, config: { retentionMs: 60_000 } });
    expect(created).toMatchObject({
      status: 201,
      body: { name: "orders", config: { retentionMs: 60_000 }, partitions: [partition(0), partition(1)] },
    });
    expect(created.body.createdAt).toEqual(expect.any(Number));

    await call("POST", "/v1/topics", { name: "audit", partitions: 1 });
    const listed = await call("GET", "/v1/topics");
    expect(listed.status).toBe(200);
    expect(listed.body.topics.map((t: { name: string; partitions: unknown[] }) => [t.name, t.partitions.length])).toEqual([
      ["audit", 1],
      ["orders", 2],
    ]);

    expect(await call("GET", "/v1/topics/orders")).toMatchObject({ status: 200, body: { name: "orders", partitions: [partition(0), partition(1)] } });

    const grown = await call("POST", "/v1/topics/orders/partitions", { count: 4 });
    expect(grown).toMatchObject({ status: 200, body: { partitions: [partition(0), partition(1), partition(2), partition(3)] } });

    // Produce lands on the new partitions (the partition-count cache was refreshed).
    const produced = await call("POST", "/v1/topics/orders/records", { records: [{ value: "x", partition: 3 }] });
    expect(produced).toEqual({ status: 200, body: { offsets: [{ partition: 3, offset: 0 }] }, headers: expect.anything() });

    const deleted = await call("DELETE", "/v1/topics/orders");
    expect(deleted.status).toBe(204);
    expect(deleted.body).toBeNull();
    expect(await call("GET", "/v1/topics/orders")).toMatchObject({ status: 404, body: envelope("UNKNOWN_TOPIC_OR_PARTITION") });
    expect((await call("GET", "/v1/topics")).body.topics.map((t: { name: string }) => t.name)).toEqual(["audit"]);
    // Re-created with fewer partitions: the cache does not remember the old count.
    await call("POST", "/v1/topics", { name: "orders", partitions: 1 });
    expect(await call("POST", "/v1/topics/orders/records", { records: [{ value: "x", partition: 3 }] })).toMatchObject({
      status: 404,
      body: envelope("UNKNOWN_TOPIC_OR_PARTITION"),
    });
  });

  it("refuses a duplicate topic and a case-only twin", async () => {
    const { call } = await openTestApp();
    await call("POST", "/v1/topics", { name: "Orders", partitions: 1 });
    expect(await call("POST", "/v1/topics", { name: "Orders", partitions: 1 })).toMatchObject({
      status: 409,
      body: envelope("TOPIC_ALREADY_EXISTS"),
    });
    const twin = await call("POST", "/v1/topics", { name: "orders", partitions: 1 });
    expect(twin).toMatchObject({ status: 400, body: envelope("INVALID_TOPIC_NAME") });
    expect(twin.body.error.message).toBe('topic "orders" differs only in case from existing topic "Orders"');
  });

  const hostileNames: Array<[string, unknown]> = [
    ["dot-dot", ".."],
    ["dot", "."],
    ["slash", "a/b"],
    ["backslash", "a\\b"],
    ["NUL", "a\u0000b"],
    ["250 characters", "a".repeat(250)],
    ["empty", ""],
    ["reserved prefix", "__offsets"],
    ["lock file", ".lock"],
    ["space", "a b"],
    ["unicode", "ördersß"],
    ["not a string", 42],
  ];

  it.each(hostileNames)("refuses a %s topic name in a body with 400 INVALID_TOPIC_NAME and touches no file", async (_, name) => {
    const { call, dataDir } = await openTestApp();
    const before = readdirSync(dataDir).sort();
    expect(await call("POST", "/v1/topics", { name, partitions: 1 })).toMatchObject({ status: 400, body: envelope("INVALID_TOPIC_NAME") });
    expect(readdirSync(dataDir).sort()).toEqual(before);
  });

  it("accepts a 249-character name", async () => {
    const { call } = await openTestApp();
    const name = "n".repeat(249);
    expect((await call("POST", "/v1/topics", { name, partitions: 1 })).status).toBe(201);
    expect((await call("GET", `/v1/topics/${name}`)).body.name).toBe(name);
  });

  it.each([
    ["%2F (slash)", "a%2Fb"],
    ["%00 (NUL)", "a%00b"],
    ["%5C (backslash)", "a%5Cb"],
    ["250 characters", "a".repeat(250)],
    ["reserved prefix", "__offsets"],
    ["encoded dots in a longer name", "..%2F..%2Fetc"],
  ])("refuses a %s topic name in the path with 400 INVALID_TOPIC_NAME", async (_, name) => {
    const { call } = await openTestApp();
    for (const [method, path, body] of [
      ["GET", `/v1/topics/${name}`],
      ["DELETE", `/v1/topics/${name}`],
      ["POST", `/v1/topics/${name}/partitions`, { count: 2 }],
      ["POST", `/v1/topics/${name}/records`, { records: [{ value: "x" }] }],
      ["GET", `/v1/topics/${name}/partitions/0/records?offset=0`],
    ] as const) {
      expect(await call(method, path, body), `${method} ${path}`).toMatchObject({ status: 400, body: envelope("INVALID_TOPIC_NAME") });
    }
  });

  it("never resolves a %2e%2e path segment to a topic: the URL parser removes it (404 NOT_FOUND)", async () => {
    const { call, dataDir } = await openTestApp();
    expect(await call("POST", "/v1/topics/%2e%2e/records", { records: [{ value: "x" }] })).toMatchObject({
      status: 404,
      body: envelope("NOT_FOUND"),
    });
    expect(await call("GET", "/v1/topics/%2E%2E")).toMatchObject({ status: 404, body: envelope("NOT_FOUND") });
    expect(readdirSync(dataDir).filter((f) => f !== ".lock" && f !== "__offsets")).toEqual([]);
  });

  it.each([
    ["zero", 0, "body field partitions must be >= 1, got 0"],
    ["negative", -3, "body field partitions must be >= 1, got -3"],
    ["fractional", 1.5, "body field partitions must be integer, got 1.5"],
    ["a string", "3", 'body field partitions must be integer, got "3"'],
    ["absurdly many", 1e12, "body field partitions must be <= 100000, got 1000000000000"],
  ])("refuses %s partitions with 400 INVALID_PARTITIONS", async (_, partitions, message) => {
    const { call } = await openTestApp();
    expect(await call("POST", "/v1/topics", { name: "t", partitions })).toMatchObject({
      status: 400,
      body: { error: { code: "INVALID_PARTITIONS", message, retriable: false } },
    });
  });

  it("refuses more partitions than the store allows with 400 INVALID_PARTITIONS", async () => {
    const { call } = await openTestApp({ maxPartitions: 8 });
    expect(await call("POST", "/v1/topics", { name: "t", partitions: 9 })).toMatchObject({
      status: 400,
      body: { error: { code: "INVALID_PARTITIONS", message: "partition count must be an integer from 1 to 8, got 9" } },
    });
  });

  it("only grows a topic", async () => {
    const { call } = await openTestApp();
    await call("POST", "/v1/topics", { name: "t", partitions: 3 });
    expect(await call("POST", "/v1/topics/t/partitions", { count: 2 })).toMatchObject({ status: 400, body: envelope("INVALID_PARTITIONS") });
    expect(await call("POST", "/v1/topics/t/partitions", { count: 3 })).toMatchObject({ status: 400, body: envelope("INVALID_PARTITIONS") });
    expect(await call("POST", "/v1/topics/t/partitions", { count: 0 })).toMatchObject({ status: 400, body: envelope("INVALID_PARTITIONS") });
    expect(await call("POST", "/v1/topics/t/partitions", {})).toMatchObject({ status: 400, body: envelope("INVALID_REQUEST") });
    expect(await call("POST", "/v1/topics/nope/partitions", { count: 5 })).toMatchObject({
      status: 404,
      body: envelope("UNKNOWN_TOPIC_OR_PARTITION"),
    });
  });

  it("answers unknown topics with 404 UNKNOWN_TOPIC_OR_PARTITION", async () => {
    const { call } = await openTestApp();
    expect(await call("GET", "/v1/topics/nope")).toMatchObject({ status: 404, body: envelope("UNKNOWN_TOPIC_OR_PARTITION") });
    expect(await call("DELETE", "/v1/topics/nope")).toMatchObject({ status: 404, body: envelope("UNKNOWN_TOPIC_OR_PARTITION") });
  });

  it.each([
    ["malformed JSON", "{bad", "INVALID_REQUEST", /^malformed JSON in request body: /],
    ["an empty body", "", "INVALID_REQUEST", /^request body is empty; expected a JSON object$/],
    ["a JSON array", "[]", "INVALID_REQUEST", /^request body must be object, got an array of 0$/],
    ["JSON null", "null", "INVALID_REQUEST", /^request body must be object, got null$/],
    ["a missing field", JSON.stringify({ name: "t" }), "INVALID_REQUEST", /^request body must have required properties partitions$/],
    ["an unknown field", JSON.stringify({ name: "t", partitions: 1, replicas: 3 }), "INVALID_REQUEST", /^request body has unknown field "replicas"$/],
    [
      "a bad config value",
      JSON.stringify({ name: "t", partitions: 1, config: { segmentBytes: 10 } }),
      "INVALID_REQUEST",
      /segmentBytes must be >= 1024/,
    ],
    [
      "an unknown config key",
      JSON.stringify({ name: "t", partitions: 1, config: { cleanup: "compact" } }),
      "INVALID_REQUEST",
      /unknown field "cleanup"/,
    ],
  ])("answers %s with 400 and a message naming the problem", async (_, body, code, message) => {
    const { call } = await openTestApp();
    const answer = await call("POST", "/v1/topics", body);
    expect(answer).toMatchObject({ status: 400, body: envelope(code) });
    expect(answer.body.error.message).toMatch(message);
  });

  it("takes a body only as application/json: a page on another origin can send text/plain or a form without a preflight", async () => {
    const { call, store } = await openTestApp();
    for (const type of ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/jsonx", ""]) {
      expect(await call("POST", "/v1/topics", { name: "t", partitions: 1 }, { "content-type": type }), type).toMatchObject({
        status: 415,
        body: envelope("UNSUPPORTED_MEDIA_TYPE"),
      });
    }
    expect(store.listTopics()).toEqual([]);
    expect((await call("POST", "/v1/topics", { name: "t", partitions: 1 }, { "content-type": "Application/JSON; charset=utf-8" })).status).toBe(201);
  });
});
