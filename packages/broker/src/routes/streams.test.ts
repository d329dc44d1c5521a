import { createHash } from "node:crypto";
import { EventEmitter } from "node:events";
import { LogStore } from "@minikafka/log-store";
import { afterEach, describe, expect, it } from "vitest";
import { tempDir } from "../../../../test-support/temp-dir.js";
import { StreamService } from "../core/stream-service.js";
import { createBrokerApp, type AclEntry } from "../index.js";

const open: Array<{ close(): unknown }> = [];
afterEach(async () => {
  for (const x of open.splice(0).reverse()) await x.close();
});

const sha = (token: string) => createHash("sha256").update(token).digest("hex");

async function app(acls?: AclEntry[]) {
  const store = await LogStore.open({ dataDir: tempDir(), fsync: "never" });
  const streams = await StreamService.open({ store, longPollTimeoutMs: 100 });
  open.push(store, streams);
  const auth = {
    principals: [
      { name: "alice", tokenSha256: sha("a-token") },
      { name: "bob", tokenSha256: sha("b-token") },
    ],
  };
  const broker = createBrokerApp({ store, streams, logger: { error() {} }, ...(acls ? { auth, acls } : {}) });
  return (method: string, path: string, token?: string, init: { body?: string; headers?: Record<string, string> } = {}) =>
    broker.request(path, {
      method,
      body: init.body,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), "content-type": "text/plain", ...init.headers },
    });
}

describe("/v1/stream/* routes", () => {
  it("maps any UTF-8 path (slashes, percent-encoding) to one stream and answers the protocol's headers", async () => {
    const call = await app();
    const created = await call("PUT", "/v1/stream/a/b%20c/%C3%BC", undefined, { body: "x" });
    expect(created.status).toBe(201);
    expect(created.headers.get("stream-next-offset")).toBe("0000000000000000_0000000000000001");
    expect(created.headers.get("x-content-type-options")).toBe("nosniff");
    expect((await call("POST", "/v1/stream/a/b c/ü", undefined, { body: "y" })).status).toBe(204);
    const read = await call("GET", "/v1/stream/a/b%20c/%C3%BC?offset=-1");
    expect([read.status, await read.text(), read.headers.get("stream-up-to-date"), read.headers.get("etag")]).toEqual([
      200,
      "xy",
      "true",
      expect.stringMatching(/^"s-[0-9a-f]{32}-[0-9a-z]+:-1:0000000000000000_0000000000000002"$/),
    ]);
    const refused = await call("POST", "/v1/stream/a/b c/ü", undefined, { body: "z", headers: { "content-type": "application/json" } });
    expect([refused.status, ((await refused.json()) as { error: { code: string } }).error.code]).toEqual([409, "CONTENT_TYPE_MISMATCH"]);
    expect((await call("GET", "/v1/stream/a/b%20c/%C3%BC?offset=..%2F..")).status).toBe(400);
    expect((await call("GET", "/v1/stream/%E0%A4%A")).status).toBe(400);
  });

  it("applies ACLs: streams are resources like topics (create, write, read, describe, delete; a fork reads its source)", async () => {
    const call = await app([
      { principal: "alice", resource: "stream", name: "shared/", pattern: "prefixed", operations: ["all"], permission: "allow" },
      { principal: "bob", resource: "stream", name: "shared/", pattern: "prefixed", operations: ["read"], permission: "allow" },
      { principal: "bob", resource: "stream", name: "bob/", pattern: "prefixed", operations: ["create", "write", "read"], permission: "allow" },
    ]);
    expect((await call("PUT", "/v1/stream/shared/s")).status).toBe(401);
    expect((await call("PUT", "/v1/stream/shared/s", "a-token", { body: "hi" })).status).toBe(201);
    const denied = await call("POST", "/v1/stream/shared/s", "b-token", { body: "x" });
    expect([denied.status, ((await denied.json()) as { error: { code: string } }).error.code]).toEqual([403, "STREAM_AUTHORIZATION_FAILED"]);
    expect(await (await call("GET", "/v1/stream/shared/s?offset=-1", "b-token")).text()).toBe("hi");
    expect((await call("HEAD", "/v1/stream/shared/s", "b-token")).status).toBe(200);
    expect((await call("DELETE", "/v1/stream/shared/s", "b-token")).status).toBe(403);
    expect((await call("PUT", "/v1/stream/elsewhere", "b-token")).status).toBe(403);
    // A fork under bob/ of a stream bob may read: allowed; of one he may not: refused.
    expect((await call("PUT", "/v1/stream/bob/f", "b-token", { headers: { "stream-forked-from": "/v1/stream/shared/s" } })).status).toBe(201);
    expect((await call("PUT", "/v1/stream/other", "a-token")).status).toBe(403);
    expect((await call("DELETE", "/v1/stream/shared/s", "a-token")).status).toBe(204);
    expect((await call("GET", "/v1/stream/shared/s", "a-token")).status).toBe(410);
    expect(await (await call("GET", "/v1/stream/bob/f?offset=-1", "b-token")).text()).toBe("hi");
  });

  it("answers a catch-up of many records in parts with their length, byte for byte, up to 8 MiB per answer", async () => {
    const call = await app();
    const record = (i: number) => Buffer.alloc(300_000, i);
    expect((await call("PUT", "/v1/stream/parts", undefined, { headers: { "content-type": "application/octet-stream" } })).status).toBe(201);
    for (let i = 0; i < 30; i++) {
      const res = await call("POST", "/v1/stream/parts", undefined, {
        body: record(i) as unknown as string,
        headers: { "content-type": "application/octet-stream" },
      });
      expect(res.status).toBe(204);
    }
    const first = await call("GET", "/v1/stream/parts?offset=-1");
    const body = Buffer.from(await first.arrayBuffer());
    // 27 records of 300,000 bytes fit 8 MiB (8,388,608): the 28th would not.
    expect([body.length, Number(first.headers.get("content-length")), first.headers.get("stream-up-to-date")]).toEqual([8_100_000, 8_100_000, null]);
    expect(body.equals(Buffer.concat(Array.from({ length: 27 }, (_, i) => record(i))))).toBe(true);
    const rest = await call("GET", `/v1/stream/parts?offset=${first.headers.get("stream-next-offset")}`);
    expect(Buffer.from(await rest.arrayBuffer()).equals(Buffer.concat([27, 28, 29].map(record)))).toBe(true);
    expect(rest.headers.get("stream-up-to-date")).toBe("true");
  });

  it("reads catch-ups into reused buffers on Node, and gives an answer's back only once its response is done", async () => {
    const dataDir = tempDir();
    const record = (i: number) => Buffer.alloc(400_000, i + 1);
    {
      const store = await LogStore.open({ dataDir, fsync: "never" });
      const streams = await StreamService.open({ store });
      await streams.create("big", { contentType: "application/octet-stream", closed: false, body: new Uint8Array(0) });
      for (let i = 0; i < 24; i++) await streams.append("big", { contentType: "application/octet-stream", body: record(i), close: false });
      await streams.close();
      await store.close();
    }
    // Reopened: every byte is read from the segment file (into the reused buffers).
    const store = await LogStore.open({ dataDir, fsync: "never" });
    const streams = await StreamService.open({ store });
    open.push(store, streams);
    const broker = createBrokerApp({ store, streams, logger: { error() {} } });
    // @hono/node-server's c.env.outgoing: the route waits for its close event.
    const outgoing = () => Object.assign(new EventEmitter(), { destroyed: false });
    const catchUp = async () => {
      const parts: Buffer[] = [];
      for (let offset = "-1"; ;) {
        const response = outgoing();
        const res = await broker.request(`/v1/stream/big?offset=${offset}`, {}, { outgoing: response });
        parts.push(Buffer.from(await res.arrayBuffer()));
        response.emit("close");
        offset = res.headers.get("stream-next-offset")!;
        if (res.headers.get("stream-up-to-date") === "true") return Buffer.concat(parts);
      }
    };
    const all = Buffer.concat(Array.from({ length: 24 }, (_, i) => record(i)));
    // An answer whose response is not done yet (its body not sent): other reads meanwhile must not reuse its buffers.
    const held = outgoing();
    const first = await broker.request("/v1/stream/big?offset=-1", {}, { outgoing: held });
    for (let i = 0; i < 3; i++) expect((await catchUp()).equals(all)).toBe(true);
    const body = Buffer.from(await first.arrayBuffer());
    expect(body.equals(all.subarray(0, 20 * 400_000))).toBe(true); // 20 records fit 8 MiB
    held.emit("close");
    // Its buffers back in the pool: reads go on byte for byte, and so does a response closed early.
    const abandoned = outgoing();
    await broker.request("/v1/stream/big?offset=-1", {}, { outgoing: abandoned });
    abandoned.emit("close");
    expect((await catchUp()).equals(all)).toBe(true);
  });
});
