// The Node lane must answer exactly as the Hono app does. Two brokers over two stores get the same requests
// in the same order, good and bad: one served by the Hono app alone, one with the lane in front of it. Every
// answer's status, content type, WWW-Authenticate and body must be equal, and each request must have been
// taken by the lane, or left to the app, as the case says.
import { createHash } from "node:crypto";
import { createServer, request, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { getRequestListener } from "@hono/node-server";
import { ManualClock } from "@minikafka/group-coordinator";
import { LogStore } from "@minikafka/log-store";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { tempDir } from "../../../test-support/temp-dir.js";
import type { AclEntry, AuthOptions } from "./access.js";
import { buildBrokerApp } from "./app.js";
import { createBrokerContext, type BrokerAppOptions } from "./context.js";
import { createNodeLane } from "./node-lane.js";

interface Sent {
  status: number;
  contentType: string | undefined;
  wwwAuthenticate: string | undefined;
  body: string;
}

interface Target {
  port: number;
  /** Requests the lane took. */
  laned: number;
  /** The member ids this broker handed out, in join order (they differ between the two brokers). */
  members: string[];
  /** Called when a request's headers have arrived (after the lane or the app took it). */
  onRequest?: (() => void) | undefined;
}

const cleanup: Array<() => Promise<void>> = [];
// The sticky partitioner places keyless records at random: the same "random" choices for both brokers.
beforeEach(() => void vi.spyOn(Math, "random").mockReturnValue(0.25));
afterEach(async () => {
  vi.restoreAllMocks();
  for (const close of cleanup.splice(0).reverse()) await close();
});

async function broker(lane: boolean, options: Partial<BrokerAppOptions>): Promise<Target> {
  // One fixed clock for both brokers: record timestamps and session deadlines come out equal.
  const store = await LogStore.open({ dataDir: tempDir(), fsync: "never", now: () => 1_700_000_000_000 });
  const ctx = createBrokerContext({ store, clock: new ManualClock(1_000_000), restartHoldMs: 0, logger: { error() {} }, ...options });
  const app = getRequestListener(buildBrokerApp(ctx).fetch);
  const nodeLane = createNodeLane(ctx);
  const target: Target = { port: 0, laned: 0, members: [] };
  const server: Server = createServer((req, res) => {
    if (lane && nodeLane(req, res)) target.laned++;
    else void app(req, res);
    target.onRequest?.();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  target.port = (server.address() as AddressInfo).port;
  cleanup.push(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await ctx.coordinator.close();
    await store.close();
  });
  return target;
}

interface Call {
  method: string;
  path: string;
  headers?: Record<string, string | string[]>;
  body?: string;
  /** Send the body chunked (no Content-Length). */
  chunked?: boolean;
}

function send(port: number, call: Call): Promise<Sent> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | string[]> = { ...call.headers };
    if (call.body !== undefined && !call.chunked) headers["content-length"] = String(Buffer.byteLength(call.body));
    const req = request({ host: "127.0.0.1", port, method: call.method, path: call.path, headers, agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (d: string) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode!, ...pick(res.headers), body }));
    });
    req.on("error", reject);
    if (call.chunked) req.setHeader("transfer-encoding", "chunked");
    req.end(call.body);
  });
}

const pick = (h: IncomingHttpHeaders) => ({ contentType: h["content-type"], wwwAuthenticate: h["www-authenticate"] as string | undefined });

/** Sends `call` to both (`{m0}`, `{m1}` … in it name each broker's own members); expects equal answers and the lane's take. */
async function same(hono: Target, laned: Target, call: Call, lane: boolean): Promise<Sent> {
  const own = (t: Target, text: string) => text.replace(/\{m(\d)\}/g, (_, i: string) => t.members[Number(i)]!);
  const back = (t: Target, text: string) => t.members.reduce((out, id, i) => out.split(id).join(`{m${i}}`), text);
  const forTarget = (t: Target): Call => ({ ...call, path: own(t, call.path), body: call.body === undefined ? undefined : own(t, call.body) });
  const a = await send(hono.port, forTarget(hono));
  const before = laned.laned;
  const b = await send(laned.port, forTarget(laned));
  const label = `${call.method} ${call.path}`;
  expect({ ...b, body: back(laned, b.body) }, label).toEqual({ ...a, body: back(hono, a.body) });
  expect(laned.laned - before, `${label}: taken by the lane`).toBe(lane ? 1 : 0);
  return a;
}

const json = { "content-type": "application/json" };
const VALUE = "v".repeat(100);

describe("the Node lane", () => {
  it("answers produce, member fetch, commit and the seed routes exactly as the Hono app, or leaves them to it", async () => {
    const options: Partial<BrokerAppOptions> = { maxBodyBytes: 4096, maxRecordValueBytes: 1000 };
    const [hono, laned] = [await broker(false, options), await broker(true, options)];
    const both = (call: Call, lane: boolean) => same(hono, laned, call, lane);
    await both({ method: "POST", path: "/v1/topics", headers: json, body: JSON.stringify({ name: "t", partitions: 2 }) }, false);

    const produce = (body: unknown, headers: Record<string, string | string[]> = json, path = "/v1/topics/t/records") => ({
      method: "POST",
      path,
      headers,
      body: typeof body === "string" ? body : JSON.stringify(body),
    });
    // Produce: good, and every way to be wrong, in the app's order of checks.
    expect((await both(produce({ records: [{ value: VALUE }] }), true)).status).toBe(200);
    await both(produce({ records: [{ key: "k", value: "a", headers: { h: "x" } }, { value: "b", partition: 1, timestamp: 5 }] }), true);
    await both(produce({ records: [{ key: "aw==", value: "YQ==" }], encoding: "base64" }), true);
    await both(produce({ records: [{ value: "not base64!" }], encoding: "base64" }), true);
    await both(produce({ records: [{ value: "a" }] }, json, "/v1/topics/missing/records"), true);
    await both(produce({ records: [{ value: "a" }] }, json, "/v1/topics/bad!name/records"), true);
    await both(produce({ records: [{ value: "a" }] }, json, "/v1/topics/t/records?ignored=1"), true);
    await both(produce({ records: [{ value: "a" }] }, { "content-type": "text/plain" }), true);
    await both(produce({ records: [{ value: "a" }] }, {}), true);
    await both(produce({ records: [{ value: "a" }] }, { "content-type": "application/json; charset=utf-8" }), true);
    await both(produce(""), true);
    await both(produce('{"records": [ {"value": "a"} '), true);
    await both(produce(`\ufeff${JSON.stringify({ records: [{ value: "bom" }] })}`), true);
    await both(produce({ records: [] }), true);
    await both(produce({ records: [{ value: "a", extra: 1 }] }), true);
    await both(produce({ records: [{ value: 5 }] }), true);
    await both(produce({ records: [{ value: "a", partition: 7 }] }), true);
    await both(produce({ records: [{ value: "x".repeat(1001) }] }), true);
    await both(produce({ records: [{ value: "x".repeat(5000) }] }), true); // over maxBodyBytes
    await both(produce({ records: [{ value: "a" }], producerId: 1 }), true);
    await both(produce({ records: "nope" }), true);
    // Left to the app: a browser's request, a repeated Content-Type, a chunked body, escapes, odd paths.
    await both(produce({ records: [{ value: "a" }] }, { ...json, origin: "http://127.0.0.1" }), false);
    await both(produce({ records: [{ value: "a" }] }, { ...json, "sec-fetch-site": "same-origin" }), false);
    await both(produce({ records: [{ value: "a" }] }, { "content-type": ["application/json", "text/plain"] }), false);
    await both({ ...produce({ records: [{ value: "a" }] }), chunked: true }, false);
    await both(produce({ records: [{ value: "a" }] }, json, "/v1/topics/%74/records"), false);
    await both(produce({ records: [{ value: "a" }] }, json, "/v1/topics/t/records/"), false);
    await both(produce({ records: [{ value: "a" }] }, json, "/v1/topics/./t/records"), false);
    await both({ method: "PUT", path: "/v1/topics/t/records", headers: json, body: "{}" }, false);

    // A group of one member on topic t: member fetch and commit.
    for (const t of [hono, laned]) {
      const joined = await send(t.port, { method: "POST", path: "/v1/groups/g/members", headers: json, body: JSON.stringify({ topics: ["t"] }) });
      t.members.push((JSON.parse(joined.body) as { memberId: string }).memberId);
    }
    const fetchPath = "/v1/groups/g/members/{m0}/records";
    expect(JSON.parse((await both({ method: "GET", path: `${fetchPath}?maxRecords=2` }, true)).body).records).toHaveLength(2);
    await both({ method: "GET", path: fetchPath }, true);
    await both({ method: "GET", path: `${fetchPath}?maxRecords=1&positions=t:0:3,t:1:0&encoding=base64` }, true);
    await both({ method: "GET", path: `${fetchPath}?maxRecords=abc` }, true);
    await both({ method: "GET", path: `${fetchPath}?maxRecords=1&maxRecords=2` }, true);
    await both({ method: "GET", path: `${fetchPath}?maxRecords=99999999999999999999` }, true);
    await both({ method: "GET", path: `${fetchPath}?positions=t:0` }, true);
    await both({ method: "GET", path: `${fetchPath}?positions=t:0:999` }, true);
    await both({ method: "GET", path: `${fetchPath}?encoding=hex` }, true);
    await both({ method: "GET", path: `${fetchPath}?maxRecords=1+2` }, true);
    await both({ method: "GET", path: "/v1/groups/g/members/nobody/records" }, true);
    await both({ method: "GET", path: "/v1/groups/other/members/{m0}/records" }, true);
    await both({ method: "GET", path: `${fetchPath}?waitMs=0` }, false); // long polls hold a slot: the app's
    await both({ method: "GET", path: fetchPath, headers: json, body: "{}" }, false);
    const commit = (body: unknown, path = "/v1/groups/g/offsets") => ({ method: "POST", path, headers: json, body: JSON.stringify(body) });
    await both(commit({ memberId: "{m0}", memberEpoch: 1, offsets: [{ topic: "t", partition: 0, offset: 2 }] }), true);
    await both(commit({ memberId: "{m0}", memberEpoch: 99, offsets: [{ topic: "t", partition: 0, offset: 3 }] }), true);
    await both(commit({ memberId: "nobody", memberEpoch: 1, offsets: [{ topic: "t", partition: 0, offset: 3 }] }), true);
    await both(commit({ memberId: "{m0}", memberEpoch: 1, offsets: [] }), true);
    await both(commit({ memberId: "{m0}", memberEpoch: 1, offsets: [{ topic: "t", partition: 0, offset: -1 }] }), true);
    await both(commit({ memberId: "{m0}", memberEpoch: 1, offsets: [{ topic: "t", partition: 0, offset: 3 }] }, "/v1/groups/b@d/offsets"), true);
    await both({ ...commit({}), headers: {} }, true);
    await both({ method: "GET", path: fetchPath }, true); // from the committed offsets

    // The seed's routes: produce (creating a topic), subscribe, poll, ack.
    const seed = (path: string, method = "POST"): Call => ({ method, path });
    await both(seed(`/topics/s/messages?message=${VALUE}&key=`), true);
    await both(seed("/topics/s/messages?message=hello+world&key=k"), true);
    await both(seed("/topics/s/messages?key=k"), true);
    await both(seed("/topics/s/messages?message=a&message=b"), true);
    await both(seed(`/topics/s/messages?message=${"x".repeat(1001)}`), true);
    await both({ ...seed("/topics/s/messages?message=a"), headers: { "content-length": "0" } }, true);
    await both({ ...seed("/topics/s/messages?message=a"), body: "hello" }, false);
    await both(seed("/topics/s/messages?message=caf%C3%A9"), false);
    await both(seed("/topics/s/messages?consumer_id=c1&group_id=sg", "GET"), true); // not subscribed: 404 detail
    await both(seed("/topics/s/groups/sg/subscribe?consumer_id=c1"), false);
    await both(seed("/topics/s/groups/sg/subscribe?consumer_id=c2"), false);
    await both(seed("/topics/s/messages?consumer_id=c2&group_id=sg", "GET"), true); // no partition left for c2: 404 detail
    await both(seed("/topics/s/messages?consumer_id=c1&group_id=sg", "GET"), true);
    await both(seed("/topics/s/messages?consumer_id=c1", "GET"), true);
    await both(seed("/topics/nope/messages?consumer_id=c1&group_id=sg", "GET"), true);
    await both(seed("/topics/s/messages/0/ack?consumer_id=c1&partition_id=0"), true);
    await both(seed("/topics/s/messages?consumer_id=c1&group_id=sg", "GET"), true);
    await both(seed("/topics/s/messages/x/ack?consumer_id=c1&partition_id=0"), true);
    await both(seed("/topics/s/messages/1/ack?consumer_id=c1"), true);
    await both(seed("/topics/s/messages/1/ack?consumer_id=stranger&partition_id=0"), true);
    await both(seed("/topics/s/messages/1/ack?consumer_id=c1&partition_id=0", "GET"), false);

    // Both counted the same requests under the same route patterns.
    const metrics = async (t: Target) =>
      (await send(t.port, { method: "GET", path: "/metrics" })).body
        .split("\n")
        .filter((line) => line.startsWith("minikafka_http_requests_total") && !line.includes('route="/metrics"'))
        .sort();
    expect(await metrics(laned)).toEqual(await metrics(hono));
  });

  it("authenticates and authorises as the app does", async () => {
    const sha256 = (token: string) => createHash("sha256").update(token).digest("hex");
    const auth: AuthOptions = { principals: ["alice", "bob"].map((name) => ({ name, tokenSha256: sha256(`${name}-token`) })), superUsers: ["alice"] };
    const acls: AclEntry[] = [
      { principal: "bob", resource: "topic", name: "b", operations: ["write", "read"], permission: "allow" },
      { principal: "bob", resource: "group", name: "bg", operations: ["read"], permission: "allow" },
    ];
    const [hono, laned] = [await broker(false, { auth, acls }), await broker(true, { auth, acls })];
    const both = (call: Call, lane: boolean) => same(hono, laned, call, lane);
    const as = (who: string | string[] | undefined, extra: Record<string, string> = json) =>
      who === undefined ? extra : { ...extra, authorization: Array.isArray(who) ? who.map((w) => `Bearer ${w}-token`) : `Bearer ${who}-token` };
    for (const name of ["a", "b"]) {
      await both({ method: "POST", path: "/v1/topics", headers: as("alice"), body: JSON.stringify({ name, partitions: 1 }) }, false);
    }
    const body = JSON.stringify({ records: [{ value: "x" }] });
    await both({ method: "POST", path: "/v1/topics/a/records", headers: as(undefined), body }, true);
    await both({ method: "POST", path: "/v1/topics/a/records", headers: as("mallory"), body }, true);
    await both({ method: "POST", path: "/v1/topics/a/records", headers: { ...json, authorization: "Basic abc" }, body }, true);
    await both({ method: "POST", path: "/v1/topics/a/records", headers: as("bob"), body }, true);
    await both({ method: "POST", path: "/v1/topics/b/records", headers: as("bob"), body }, true);
    await both({ method: "POST", path: "/v1/topics/a/records", headers: as("alice"), body }, true);
    await both({ method: "POST", path: "/v1/topics/bad!/records", headers: as(undefined), body }, true); // 401 before 400
    await both({ method: "POST", path: "/v1/topics/a/records", headers: as(["bob", "alice"]), body }, false);
    await both({ method: "POST", path: "/topics/new/messages?message=m", headers: as("bob", {}) }, true); // may not create
    await both({ method: "POST", path: "/topics/new/messages?message=m", headers: as("alice", {}) }, true);
    await both({ method: "POST", path: "/topics/b/messages?message=m", headers: as("bob", {}) }, true);
    await both({ method: "GET", path: "/topics/b/messages?consumer_id=c&group_id=other", headers: as("bob", {}) }, true);
    await both({ method: "POST", path: "/topics/a/groups/bg/subscribe?consumer_id=c", headers: as("alice", {}) }, false);
    await both({ method: "POST", path: "/topics/a/messages/0/ack?consumer_id=c&partition_id=0", headers: as("bob", {}) }, true);
    await both({ method: "POST", path: "/topics/a/messages/0/ack?consumer_id=c&partition_id=0", headers: as("alice", {}) }, true);
    for (const t of [hono, laned]) {
      const joined = await send(t.port, { method: "POST", path: "/v1/groups/bg/members", headers: as("alice"), body: JSON.stringify({ topics: ["a"] }) });
      t.members.push((JSON.parse(joined.body) as { memberId: string }).memberId);
    }
    await both({ method: "GET", path: "/v1/groups/bg/members/{m0}/records", headers: as("bob", {}) }, true); // may not read topic a
    await both({ method: "GET", path: "/v1/groups/bg/members/{m0}/records", headers: as("alice", {}) }, true);
    const commit = JSON.stringify({ memberId: "{m0}", memberEpoch: 1, offsets: [{ topic: "a", partition: 0, offset: 1 }] });
    await both({ method: "POST", path: "/v1/groups/bg/offsets", headers: as("bob"), body: commit }, true);
    await both({ method: "POST", path: "/v1/groups/bg/offsets", headers: as("alice"), body: commit }, true);
  });

  it("reads a produce body that arrives with its headers, or after them, alike", async () => {
    const [hono, laned] = [await broker(false, {}), await broker(true, {})];
    const both = (call: Call, lane: boolean) => same(hono, laned, call, lane);
    await both({ method: "POST", path: "/v1/topics", headers: json, body: JSON.stringify({ name: "t", partitions: 2 }) }, false);
    const records = JSON.stringify({
      records: [
        { value: VALUE, partition: 1 },
        { key: "k", value: "é" },
      ],
    });
    // In one write with the headers: the lane takes the body from the stream's buffer at once.
    await both({ method: "POST", path: "/v1/topics/t/records", headers: json, body: records }, true);
    await both({ method: "POST", path: "/v1/topics/t/records", headers: json, body: `\uFEFF${records}` }, true);
    await both({ method: "POST", path: "/v1/topics/t/records", headers: json, body: "" }, true);
    await both({ method: "POST", path: "/v1/topics/t/records", headers: json, body: "{" }, true);
    // The headers and half the body first, the rest once the server has seen the request: read as it arrives.
    const split = (t: Target) =>
      new Promise<Sent>((resolve, reject) => {
        const bytes = Buffer.from(records);
        const headers = { ...json, "content-length": String(bytes.length) };
        const req = request({ host: "127.0.0.1", port: t.port, method: "POST", path: "/v1/topics/t/records", headers, agent: false }, (res) => {
          let body = "";
          res.setEncoding("utf8").on("data", (d: string) => (body += d));
          res.on("end", () => resolve({ status: res.statusCode!, ...pick(res.headers), body }));
        });
        req.on("error", reject);
        t.onRequest = () => {
          t.onRequest = undefined;
          req.end(bytes.subarray(10));
        };
        req.write(bytes.subarray(0, 10));
      });
    const before = laned.laned;
    const a = await split(hono);
    expect(await split(laned)).toEqual(a);
    expect(laned.laned - before).toBe(1);
    expect(JSON.parse(a.body)).toEqual({
      offsets: [
        { partition: 1, offset: 2 },
        { partition: expect.any(Number), offset: expect.any(Number) },
      ],
    });
  });

  it("leaves everything to the app when quotas are configured", async () => {
    const options: Partial<BrokerAppOptions> = { quotas: { produceBytesPerSecond: 1_000_000 } };
    const [hono, laned] = [await broker(false, options), await broker(true, options)];
    await same(hono, laned, { method: "POST", path: "/topics/q/messages?message=m" }, false);
    await same(hono, laned, { method: "POST", path: "/v1/topics/q/records", headers: json, body: JSON.stringify({ records: [{ value: "x" }] }) }, false);
  });
});
