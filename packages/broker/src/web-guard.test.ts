import { describe, expect, it } from "vitest";
import { envelope, openTestApp } from "../test/helpers/test-app.js";
import { createBrokerApp } from "./app.js";

const topic = { name: "t", partitions: 1 };

describe("pages on other origins (no drive-by writes)", () => {
  it("lets tools that send no Origin through unchanged", async () => {
    const { call } = await openTestApp();
    expect((await call("POST", "/v1/topics", topic)).status).toBe(201);
  });

  it("refuses a foreign origin before anything runs, on /v1 and on the seed routes, reads included", async () => {
    const { call, store } = await openTestApp();
    const evil = { origin: "https://evil.example", host: "127.0.0.1:8000" };
    expect(await call("POST", "/v1/topics", topic, evil)).toMatchObject({ status: 403, body: envelope("ORIGIN_NOT_ALLOWED") });
    expect((await call("POST", "/topics/seed/create?num_partitions=1", undefined, evil)).status).toBe(403);
    expect((await call("POST", "/topics/seed/messages?message=m&key=", undefined, evil)).status).toBe(403);
    expect((await call("GET", "/v1/topics", undefined, evil)).status).toBe(403);
    expect((await call("POST", "/v1/topics", topic, { origin: "null" })).status).toBe(403); // sandboxed iframes, file:
    expect(store.listTopics()).toEqual([]);
  });

  it("refuses cross-site requests that carry no Origin, but not a navigation (a link to the console)", async () => {
    const { call, store } = await openTestApp();
    expect((await call("POST", "/topics/seed/create?num_partitions=1", undefined, { "sec-fetch-site": "cross-site" })).status).toBe(403);
    expect(store.listTopics()).toEqual([]);
    expect((await call("GET", "/healthz", undefined, { "sec-fetch-site": "cross-site", "sec-fetch-mode": "navigate" })).status).toBe(200);
    expect((await call("GET", "/healthz", undefined, { "sec-fetch-site": "cross-site", "sec-fetch-mode": "no-cors" })).status).toBe(403);
  });

  it("trusts the broker's own origin only on an address, not on a DNS name a foreign page could rebind", async () => {
    const { call } = await openTestApp();
    for (const [i, host] of ["127.0.0.1:8000", "localhost:8000", "[::1]:8000"].entries()) {
      expect((await call("POST", "/v1/topics", { name: `t${i}`, partitions: 1 }, { origin: `http://${host}`, host })).status, host).toBe(201);
    }
    expect((await call("POST", "/v1/topics", topic, { origin: "http://rebound.example:8000", host: "rebound.example:8000" })).status).toBe(403);
    expect((await call("POST", "/v1/topics", topic, { origin: "http://127.0.0.1:9999", host: "127.0.0.1:8000" })).status).toBe(403);
  });

  it("answers preflights of listed origins and lets them read answers; others get no CORS headers", async () => {
    const { call } = await openTestApp({ cors: { origins: ["https://app.example.com"] } });
    const app = { origin: "https://app.example.com" };
    const preflight = await call("OPTIONS", "/v1/topics", undefined, {
      ...app,
      "access-control-request-method": "POST",
      "access-control-request-headers": "content-type",
    });
    expect(preflight.status).toBe(204);
    expect(Object.fromEntries([...preflight.headers].filter(([k]) => k.startsWith("access-control") || k === "vary"))).toEqual({
      "access-control-allow-origin": "https://app.example.com",
      "access-control-allow-methods": "GET, HEAD, POST, PUT, DELETE",
      "access-control-allow-headers":
        "authorization, content-type, if-none-match, stream-seq, stream-ttl, stream-expires-at, stream-closed, producer-id, producer-epoch, producer-seq, stream-forked-from, stream-fork-offset, stream-fork-sub-offset",
      "access-control-max-age": "600",
      vary: "origin",
    });
    const created = await call("POST", "/v1/topics", topic, app);
    expect(created.status).toBe(201);
    expect(created.headers.get("access-control-allow-origin")).toBe("https://app.example.com");
    expect(created.headers.get("access-control-expose-headers")).toContain("retry-after");
    expect(created.headers.get("access-control-expose-headers")).toContain("stream-next-offset");
    // Errors are readable too.
    const again = await call("POST", "/v1/topics", topic, app);
    expect([again.status, again.headers.get("access-control-allow-origin")]).toEqual([409, "https://app.example.com"]);
    // A listed page still cannot post text/plain.
    expect((await call("POST", "/v1/topics", topic, { ...app, "content-type": "text/plain" })).status).toBe(415);
    const other = await call("OPTIONS", "/v1/topics", undefined, { origin: "https://other.example", "access-control-request-method": "POST" });
    expect([other.status, other.headers.get("access-control-allow-origin")]).toEqual([403, null]);
  });

  it("refuses cors origins that are not scheme://host[:port]", async () => {
    const { store } = await openTestApp();
    for (const bad of ["app.example.com", "https://app.example.com/", "*", 42]) {
      expect(() => createBrokerApp({ store, cors: { origins: [bad as string] } }), String(bad)).toThrow(/cors\.origins/);
    }
  });
});
