import { describe, expect, it } from "vitest";
import { envelope, openTestApp } from "../../test/helpers/test-app.js";
import { ROUTES } from "@minikafka/protocol";

describe("admin routes", () => {
  it("answers /healthz and /readyz", async () => {
    const shutdown = new AbortController();
    const { call, store } = await openTestApp({ signal: shutdown.signal });
    expect(await call("GET", "/healthz")).toMatchObject({ status: 200, body: { status: "ok" } });
    expect(await call("GET", "/readyz")).toMatchObject({ status: 200, body: { status: "ready" } });
    shutdown.abort();
    expect(await call("GET", "/readyz")).toMatchObject({ status: 503, body: envelope("BROKER_NOT_AVAILABLE", true) });
    expect((await call("GET", "/healthz")).status).toBe(200);
    void store;
  });

  it("answers /readyz with 503 once the store is closed, without logging the probe as an error", async () => {
    const errors: string[] = [];
    const { call, store } = await openTestApp({ logger: { error: (message) => errors.push(message) } });
    await store.close();
    expect(await call("GET", "/readyz")).toMatchObject({ status: 503, body: envelope("STORE_CLOSED") });
    expect(await call("GET", "/v1/topics")).toMatchObject({ status: 503, body: envelope("STORE_CLOSED") });
    expect(errors).toEqual([expect.stringMatching(/^minikafka broker: STORE_CLOSED: /)]); // the topic list's, not the probe's
  });

  it("exposes Prometheus metrics: requests by route, records, bytes, fsyncs", async () => {
    const { call } = await openTestApp({ fsync: "always" });
    await call("POST", "/v1/topics", { name: "t", partitions: 2 });
    await call("POST", "/v1/topics/t/records", {
      records: [
        { value: "abc", partition: 0 },
        { key: "k", value: "de", partition: 1 },
      ],
    });
    await call("GET", "/v1/topics/t/partitions/0/records?offset=0");
    await call("GET", "/v1/topics/t/partitions/1/records?offset=0");
    await call("GET", "/v1/topics/nope");
    await call("GET", "/v1/topics/other");
    await call("GET", "/no/such/route");
    const answer = await call("GET", "/metrics");
    expect(answer.status).toBe(200);
    expect(answer.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    const lines = (answer.body as string).split("\n");
    expect(lines).toEqual(
      expect.arrayContaining([
        "# TYPE minikafka_http_requests_total counter",
        'minikafka_http_requests_total{method="POST",route="/v1/topics",status="201"} 1',
        'minikafka_http_requests_total{method="POST",route="/v1/topics/:topic/records",status="200"} 1',
        'minikafka_http_requests_total{method="GET",route="/v1/topics/:topic/partitions/:partition/records",status="200"} 2',
        // Both unknown topics share the route's series: topic names never become labels.
        'minikafka_http_requests_total{method="GET",route="/v1/topics/:topic",status="404"} 2',
        'minikafka_http_requests_total{method="GET",route="unmatched",status="404"} 1',
        "minikafka_records_in_total 2",
        "minikafka_records_out_total 2",
        "minikafka_bytes_out_total 6",
        "minikafka_group_rebalances_total 0",
      ]),
    );
    expect(lines.find((l) => l.startsWith("minikafka_bytes_in_total "))).toMatch(/^minikafka_bytes_in_total [1-9]\d*$/);
    expect(lines.find((l) => l.startsWith("minikafka_fsyncs_total "))).toMatch(/^minikafka_fsyncs_total [1-9]\d*$/);
    // Storage: the sum of the partitions' sizes as the topic routes report them. No connection count
    // without a server that counts them (app.request has no sockets).
    const { topics } = (await call("GET", "/v1/topics")).body as { topics: Array<{ partitions: Array<{ sizeBytes: number }> }> };
    const sizeBytes = topics.flatMap((t) => t.partitions).reduce((n, p) => n + p.sizeBytes, 0);
    expect(sizeBytes).toBeGreaterThan(0);
    expect(lines).toContain(`minikafka_log_size_bytes ${sizeBytes}`);
    expect(lines.filter((l) => l.includes("minikafka_connections"))).toEqual([]);
  });

  it("serves an OpenAPI 3.1 document covering every route, built from the typebox schemas", async () => {
    const { call, app } = await openTestApp();
    const answer = await call("GET", "/openapi.json");
    expect(answer.status).toBe(200);
    const doc = answer.body;
    expect(doc.openapi).toBe("3.1.0");
    const documented = Object.entries(doc.paths as Record<string, Record<string, unknown>>).flatMap(([path, methods]) =>
      Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`),
    );
    const routes = app.routes.filter((r) => r.method !== "ALL").map((r) => `${r.method} ${r.path.replace(/:([A-Za-z_]+)/g, "{$1}")}`);
    expect(new Set(documented)).toEqual(new Set(routes));
    expect(documented.length).toBe(Object.keys(ROUTES).length);
    expect(new Set(routes).size).toBe(Object.keys(ROUTES).length);
    const create = doc.paths["/v1/topics"].post;
    expect(create.requestBody.content["application/json"].schema.properties.name).toMatchObject({
      type: "string",
      maxLength: 249,
      "x-error-code": "INVALID_TOPIC_NAME",
    });
    const fetch = doc.paths["/v1/topics/{topic}/partitions/{partition}/records"].get;
    expect(fetch.parameters.map((p: { name: string; in: string; required: boolean }) => [p.name, p.in, p.required])).toEqual([
      ["topic", "path", true],
      ["partition", "path", true],
      ["offset", "query", true],
      ["maxRecords", "query", false],
      ["maxBytes", "query", false],
      ["waitMs", "query", false],
      ["encoding", "query", false],
    ]);
  });
});
