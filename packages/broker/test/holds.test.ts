// Concurrent long polls and SSE streams per principal, on a real broker (port 0) over real sockets: every
// kind that waits (topic fetch and member fetch with waitMs, Durable Streams live=long-poll; topic
// ?live=sse and Durable Streams live=sse) takes one of its principal's slots (quotas.maxLongPolls,
// quotas.maxSseStreams), the next one over the bound gets 429 with Retry-After and the envelope, another
// principal is unaffected, a refused request holds nothing, and a slot comes back when the answer ends,
// when the client aborts it, or when its socket is destroyed. The counts are read from /metrics
// (minikafka_long_polls_waiting, minikafka_sse_streams_open), which must come back to exactly 0.
import { createHash } from "node:crypto";
import { connect, type Socket } from "node:net";
import { describe, expect, it } from "vitest";
import { startBroker, type StartBrokerResult } from "../src/index.js";
import { tempDir } from "../../../test-support/temp-dir.js";

const sha256 = (token: string) => createHash("sha256").update(token).digest("hex");
const NAMES = ["alice", "bob", "admin"];
const auth = { principals: NAMES.map((name) => ({ name, tokenSha256: sha256(`${name}-token`) })), superUsers: ["admin"] };
const acls = ["alice", "bob"].flatMap((principal) =>
  (["topic", "group", "stream"] as const).map((resource) => ({
    principal,
    resource,
    name: "*",
    operations: ["all" as const],
    permission: "allow" as const,
  })),
);
const bearer = (who: string) => ({ authorization: `Bearer ${who}-token` });

async function withBroker(run: (broker: StartBrokerResult) => Promise<void>): Promise<void> {
  const broker = await startBroker({
    dataDir: tempDir(),
    port: 0,
    fsync: "never",
    logger: { error() {} },
    shutdownTimeoutMs: 200,
    auth,
    acls: acls as never,
    quotas: { maxLongPolls: 2, maxSseStreams: 2 },
  });
  try {
    await run(broker);
  } finally {
    await broker.close();
  }
}

/** A request on a raw socket: what came back so far; destroying the socket is the client hanging up. */
function rawGet(port: number, path: string, who: string): Promise<{ socket: Socket; received(): string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    let text = "";
    socket.setEncoding("utf8").on("data", (d: string) => (text += d));
    socket.on("error", () => {});
    socket.once("connect", () => {
      socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${who}-token\r\n\r\n`);
      resolve({ socket, received: () => text });
    });
    socket.once("error", reject);
  });
}

function gauges(broker: StartBrokerResult) {
  const read = async (name: string) => {
    const text = await (await fetch(`${broker.url}/metrics`, { headers: bearer("admin") })).text();
    return Number(new RegExp(`^${name} (\\d+)$`, "m").exec(text)?.[1]);
  };
  return {
    longPolls: () => read("minikafka_long_polls_waiting"),
    sse: () => read("minikafka_sse_streams_open"),
  };
}

async function call(broker: StartBrokerResult, who: string, method: string, path: string, body?: unknown, contentType = "application/json") {
  const res = await fetch(`${broker.url}${path}`, {
    method,
    headers: { ...bearer(who), ...(body === undefined ? {} : { "content-type": contentType }) },
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) as any };
}

async function setup(broker: StartBrokerResult): Promise<string> {
  expect((await call(broker, "admin", "POST", "/v1/topics", { name: "t", partitions: 1 })).status).toBe(201);
  expect((await call(broker, "admin", "PUT", "/v1/stream/s", "", "text/plain")).status).toBe(201);
  const joined = await call(broker, "alice", "POST", "/v1/groups/g/members", { topics: ["t"] });
  expect(joined.status).toBe(201);
  return joined.json().memberId as string;
}

const expectThrottled = (answer: { status: number; headers: Headers; json(): any }, what: string) => {
  expect(answer.status).toBe(429);
  expect(answer.headers.get("retry-after")).toBe("1");
  expect(answer.json().error).toMatchObject({ code: "THROTTLING_QUOTA_EXCEEDED", retriable: true });
  expect(answer.json().error.message).toContain(what);
};

describe("long polls and SSE streams per principal", () => {
  it("long polls: topic fetch, member fetch and stream long-poll share the bound; a slot comes back on close, abort and answer", async () => {
    await withBroker(async (broker) => {
      const memberId = await setup(broker);
      const g = gauges(broker);
      expect(await g.longPolls()).toBe(0);
      // A refused long poll holds nothing: an unknown topic (404), a bad query (400).
      expect((await call(broker, "alice", "GET", "/v1/topics/nope/partitions/0/records?offset=0&waitMs=30000")).status).toBe(404);
      expect((await call(broker, "alice", "GET", "/v1/topics/t/partitions/0/records?offset=0&waitMs=-1")).status).toBe(400);
      expect(await g.longPolls()).toBe(0);

      const topicPoll = await rawGet(broker.port, "/v1/topics/t/partitions/0/records?offset=0&waitMs=30000", "alice");
      const memberAbort = new AbortController();
      const memberPoll = fetch(`${broker.url}/v1/groups/g/members/${memberId}/records?waitMs=30000`, {
        headers: bearer("alice"),
        signal: memberAbort.signal,
      }).catch((error: unknown) => error);
      await expect.poll(g.longPolls).toBe(2);
      // Alice holds both of her slots: a third long poll of any kind is refused at once.
      expectThrottled(await call(broker, "alice", "GET", "/v1/stream/s?offset=-1&live=long-poll"), "maxLongPolls");
      expectThrottled(await call(broker, "alice", "GET", "/v1/topics/t/partitions/0/records?offset=0&waitMs=1000"), "maxLongPolls");
      // A fetch that does not wait is not a long poll.
      expect((await call(broker, "alice", "GET", "/v1/topics/t/partitions/0/records?offset=0")).status).toBe(200);
      // Bob has his own slots.
      const bobsPoll = call(broker, "bob", "GET", "/v1/topics/t/partitions/0/records?offset=0&waitMs=30000");
      await expect.poll(g.longPolls).toBe(3);

      // Hanging up (the socket destroyed) frees a slot, and so does aborting the request.
      topicPoll.socket.destroy();
      await expect.poll(g.longPolls).toBe(2);
      memberAbort.abort();
      expect(await memberPoll).toMatchObject({ name: "AbortError" });
      await expect.poll(g.longPolls).toBe(1);
      // Alice may wait again, now on the stream; an append answers it, a record answers Bob's.
      const streamPoll = call(broker, "alice", "GET", "/v1/stream/s?offset=-1&live=long-poll");
      await expect.poll(g.longPolls).toBe(2);
      expect((await call(broker, "admin", "POST", "/v1/stream/s", "hello", "text/plain")).status).toBe(204);
      const streamAnswer = await streamPoll;
      expect([streamAnswer.status, streamAnswer.text]).toEqual([200, "hello"]);
      expect((await call(broker, "admin", "POST", "/v1/topics/t/records", { records: [{ value: "wake" }] })).status).toBe(200);
      const bobs = await bobsPoll;
      expect(bobs.json().records.map((r: { value: string }) => r.value)).toEqual(["wake"]);
      // Every slot is back: exactly 0, and both of Alice's slots usable again.
      await expect.poll(g.longPolls).toBe(0);
      const again = [
        call(broker, "alice", "GET", "/v1/topics/t/partitions/0/records?offset=1&waitMs=30000"),
        call(broker, "alice", "GET", "/v1/stream/s?offset=-1&live=long-poll&cursor=1"),
      ];
      await expect.poll(g.longPolls).toBe(1); // the stream read has data: it answers at once
      expect((await again[1]!).status).toBe(200);
      expect((await call(broker, "admin", "POST", "/v1/topics/t/records", { records: [{ value: "again" }] })).status).toBe(200);
      expect((await again[0]!).json().records.map((r: { value: string }) => r.value)).toEqual(["again"]);
      await expect.poll(g.longPolls).toBe(0);
    });
  });

  it("SSE: topic ?live=sse and stream live=sse share the bound; refused ones hold nothing; a slot comes back on close and abort", async () => {
    await withBroker(async (broker) => {
      await setup(broker);
      const g = gauges(broker);
      // Refused before the stream starts: nothing held.
      expect((await call(broker, "alice", "GET", "/v1/topics/nope/partitions/0/records?offset=0&live=sse")).status).toBe(404);
      expect((await call(broker, "alice", "GET", "/v1/stream/nope?offset=-1&live=sse")).status).toBe(404);
      expect((await call(broker, "alice", "GET", "/v1/topics/t/partitions/0/records?live=sse")).status).toBe(400);
      expect(await g.sse()).toBe(0);

      const topicSse = await rawGet(broker.port, "/v1/topics/t/partitions/0/records?offset=0&live=sse", "alice");
      const streamAbort = new AbortController();
      const streamSse = await fetch(`${broker.url}/v1/stream/s?offset=-1&live=sse`, { headers: bearer("alice"), signal: streamAbort.signal });
      expect(streamSse.status).toBe(200);
      await expect.poll(g.sse).toBe(2);
      expect(topicSse.received()).toMatch(/^HTTP\/1\.1 200 /);
      expectThrottled(await call(broker, "alice", "GET", "/v1/topics/t/partitions/0/records?offset=0&live=sse"), "maxSseStreams");
      expectThrottled(await call(broker, "alice", "GET", "/v1/stream/s?offset=-1&live=sse"), "maxSseStreams");
      // SSE streams and long polls are counted apart: Alice may still long-poll.
      const poll = call(broker, "alice", "GET", "/v1/topics/t/partitions/0/records?offset=0&waitMs=30000");
      await expect.poll(g.longPolls).toBe(1);
      // Bob's own bound.
      const bobAbort = new AbortController();
      const bobs = await fetch(`${broker.url}/v1/topics/t/partitions/0/records?offset=0&live=sse`, {
        headers: bearer("bob"),
        signal: bobAbort.signal,
      });
      expect(bobs.status).toBe(200);
      await expect.poll(g.sse).toBe(3);

      topicSse.socket.destroy();
      await expect.poll(g.sse).toBe(2);
      streamAbort.abort();
      await expect.poll(g.sse).toBe(1);
      const again = new AbortController();
      const alices = await fetch(`${broker.url}/v1/stream/s?offset=-1&live=sse`, { headers: bearer("alice"), signal: again.signal });
      expect(alices.status).toBe(200);
      await expect.poll(g.sse).toBe(2);
      again.abort();
      bobAbort.abort();
      await expect.poll(g.sse).toBe(0);
      expect((await call(broker, "admin", "POST", "/v1/topics/t/records", { records: [{ value: "wake" }] })).status).toBe(200);
      expect((await poll).status).toBe(200);
      await expect.poll(g.longPolls).toBe(0);
    });
  });
});
