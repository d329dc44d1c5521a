// The broker's limits, each answered with its 4xx and the envelope: records per request and the size of a
// record's key, value and headers (through the app), and on a real socket the request head's size, the
// header and request timeouts against a slowloris client, and the idle timeout, which must leave long
// polls and SSE streams alone while they wait. Timeouts are set short through the options so that each
// case takes well under two seconds. Many slowloris and silent clients at once must all be closed too.
import { connect, type Socket } from "node:net";
import { describe, expect, it } from "vitest";
import { startBroker, type StartBrokerOptions, type StartBrokerResult } from "../src/index.js";
import { tempDir } from "../../../test-support/temp-dir.js";
import { envelope, openTestApp } from "./helpers/test-app.js";

async function withBroker(options: Partial<StartBrokerOptions>, run: (broker: StartBrokerResult) => Promise<void>): Promise<void> {
  const broker = await startBroker({ dataDir: tempDir(), port: 0, fsync: "never", logger: { error() {} }, shutdownTimeoutMs: 200, ...options });
  try {
    await run(broker);
  } finally {
    await broker.close();
  }
}

/** A raw connection: what the broker sent, and when it closed the socket (ms after the connection). */
interface Raw {
  socket: Socket;
  received(): string;
  /** Resolves with the time the broker closed the connection, in ms since it was opened. */
  closed: Promise<number>;
}

function raw(port: number): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const socket = connect(port, "127.0.0.1");
    let text = "";
    socket.setEncoding("utf8").on("data", (d: string) => (text += d));
    socket.on("error", () => {});
    const closed = new Promise<number>((done) => socket.once("close", () => done(performance.now() - started)));
    socket.once("connect", () => resolve({ socket, received: () => text, closed }));
    socket.once("error", reject);
  });
}

/** The envelope's code of a raw answer, with its status line. */
function rawAnswer(text: string): { status: string; code: string } {
  const [head, body] = text.split("\r\n\r\n");
  return { status: head!.split("\r\n")[0]!, code: (JSON.parse(body!) as { error: { code: string } }).error.code };
}

describe("record limits", () => {
  it("records per request, key, value, header size and count: 413 with the code, nothing appended", async () => {
    const t = await openTestApp({
      maxRecordsPerRequest: 3,
      maxRecordKeyBytes: 8,
      maxRecordValueBytes: 16,
      maxRecordHeaders: 2,
      maxRecordHeaderBytes: 12,
    });
    expect((await t.call("POST", "/v1/topics", { name: "t", partitions: 1 })).status).toBe(201);
    const produce = (records: unknown[], encoding?: string) => t.call("POST", "/v1/topics/t/records", { records, ...(encoding ? { encoding } : {}) });
    const tooLarge = (code: string) => ({ status: 413, body: envelope(code) });
    expect(await produce([{ value: "a" }, { value: "b" }, { value: "c" }, { value: "d" }])).toMatchObject(tooLarge("RECORD_LIST_TOO_LARGE"));
    expect(await produce([{ value: "ok" }, { key: "123456789", value: "v" }])).toMatchObject(tooLarge("MESSAGE_TOO_LARGE"));
    // Bytes, not characters: 6 × "é" is 12 bytes of UTF-8.
    expect(await produce([{ key: "éééééé", value: "v" }])).toMatchObject(tooLarge("MESSAGE_TOO_LARGE"));
    expect(await produce([{ value: "x".repeat(17) }])).toMatchObject(tooLarge("MESSAGE_TOO_LARGE"));
    // base64: the decoded bytes count (24 characters are 18 bytes).
    expect(await produce([{ value: "A".repeat(24) }], "base64")).toMatchObject(tooLarge("MESSAGE_TOO_LARGE"));
    expect(await produce([{ value: "v", headers: { a: "1", b: "2", c: "3" } }])).toMatchObject(tooLarge("MESSAGE_TOO_LARGE"));
    const header = await produce([{ value: "v", headers: { name: "12345678+" } }]);
    expect(header).toMatchObject(tooLarge("MESSAGE_TOO_LARGE"));
    expect(header.body.error.message).toBe('record 0: the header "name" is larger than the limit of 12 bytes');
    expect((await t.call("GET", "/v1/topics/t")).body.partitions[0].logEndOffset).toBe(0);
    // At the limits exactly: stored.
    const atLimits = [{ key: "12345678", value: "x".repeat(16), headers: { a: "1", name: "12345678" } }, { value: "A".repeat(16) }, { value: "c" }];
    expect((await produce(atLimits)).status).toBe(200);
    expect((await produce([{ value: "A".repeat(20) }], "base64")).status).toBe(200); // 15 bytes
    // The seed's produce: the same key and value limits.
    expect(await t.call("POST", `/topics/t/messages?message=${"m".repeat(17)}`)).toMatchObject(tooLarge("MESSAGE_TOO_LARGE"));
    expect((await t.call("POST", `/topics/t/messages?message=${"m".repeat(16)}`)).status).toBe(200);
  });

  it("partitions per topic (the store's maxPartitions): 400 INVALID_PARTITIONS", async () => {
    const t = await openTestApp({ maxPartitions: 4 });
    expect(await t.call("POST", "/v1/topics", { name: "t", partitions: 5 })).toMatchObject({ status: 400, body: envelope("INVALID_PARTITIONS") });
    expect((await t.call("POST", "/v1/topics", { name: "t", partitions: 4 })).status).toBe(201);
  });
});

describe("socket limits", () => {
  it("slowloris: headers sent a line at a time, slower than headersTimeoutMs → 408 REQUEST_TIMEOUT and the socket is closed", async () => {
    await withBroker({ headersTimeoutMs: 300, requestTimeoutMs: 600 }, async (broker) => {
      const c = await raw(broker.port);
      c.socket.write("GET /healthz HTTP/1.1\r\nHost: x\r\n");
      let lines = 0;
      const drip = setInterval(() => {
        if (!c.socket.destroyed) c.socket.write(`x-drip-${lines++}: ${"a".repeat(10)}\r\n`);
      }, 60);
      try {
        const after = await c.closed;
        // Closed by the timeout (not at once, and long before the client would have finished).
        expect(after).toBeGreaterThanOrEqual(300);
        expect(after).toBeLessThan(1500);
        expect(rawAnswer(c.received())).toEqual({ status: "HTTP/1.1 408 Request Timeout", code: "REQUEST_TIMEOUT" });
      } finally {
        clearInterval(drip);
      }
      // The broker still serves everyone else.
      expect((await fetch(`${broker.url}/healthz`)).status).toBe(200);
    });
  });

  it("a body that stalls past requestTimeoutMs → 408 and closed; a connection that sends nothing is closed too", async () => {
    await withBroker({ headersTimeoutMs: 200, requestTimeoutMs: 400 }, async (broker) => {
      const body = JSON.stringify({ records: [{ value: "never finished" }] });
      const c = await raw(broker.port);
      c.socket.write(
        `POST /v1/topics/t/records HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\n\r\n${body.slice(0, 5)}`,
      );
      const after = await c.closed;
      expect(after).toBeGreaterThanOrEqual(400);
      expect(after).toBeLessThan(1500);
      expect(rawAnswer(c.received())).toEqual({ status: "HTTP/1.1 408 Request Timeout", code: "REQUEST_TIMEOUT" });
      const silent = await raw(broker.port);
      expect(await silent.closed).toBeLessThan(1500);
    });
  });

  it("many slowloris and silent clients cannot hold the broker's sockets: all are closed by the timeouts, the broker keeps serving", async () => {
    await withBroker({ headersTimeoutMs: 300, requestTimeoutMs: 600, idleTimeoutMs: 400 }, async (broker) => {
      const metric = async () => Number(/^minikafka_connections (\d+)$/m.exec(await (await fetch(`${broker.url}/metrics`)).text())?.[1]);
      const clients = await Promise.all(Array.from({ length: 40 }, () => raw(broker.port)));
      // Half trickle header lines forever, half send nothing at all.
      const drips = clients.slice(0, 20).map((c, i) => {
        c.socket.write(`GET /healthz HTTP/1.1\r\nHost: x\r\n`);
        return setInterval(() => c.socket.destroyed || c.socket.write(`x-drip-${i}: a\r\n`), 50);
      });
      try {
        // Every one of them is connected (the metric counts its own request too)...
        expect(await metric()).toBeGreaterThanOrEqual(41);
        // ...and closed by the broker, none much later than the timeouts allow (with room for a loaded CI machine).
        const closedAfter = await Promise.all(clients.map((c) => c.closed));
        for (const after of closedAfter) expect(after).toBeLessThan(3000);
        expect(Math.min(...closedAfter.slice(0, 20))).toBeGreaterThanOrEqual(300);
        for (const c of clients.slice(0, 20)) expect(rawAnswer(c.received()).code).toBe("REQUEST_TIMEOUT");
      } finally {
        for (const d of drips) clearInterval(d);
      }
      // Nothing of them is left: the only connection is this metrics request's.
      expect(await metric()).toBe(1);
      expect((await fetch(`${broker.url}/healthz`)).status).toBe(200);
    });
  });

  it("a request head over maxRequestHeaderBytes → 431 REQUEST_HEADERS_TOO_LARGE in the envelope", async () => {
    await withBroker({ maxRequestHeaderBytes: 2048 }, async (broker) => {
      const big = await fetch(`${broker.url}/healthz`, { headers: { "x-big": "b".repeat(3000) } });
      expect(big.status).toBe(431);
      expect(await big.json()).toEqual(envelope("REQUEST_HEADERS_TOO_LARGE"));
      // The seed's produce carries its message in the query string: bounded by the same limit.
      const seed = await fetch(`${broker.url}/topics/t/messages?message=${"m".repeat(3000)}`, { method: "POST" });
      expect(seed.status).toBe(431);
      expect((await fetch(`${broker.url}/healthz`, { headers: { "x-small": "s".repeat(1000) } })).status).toBe(200);
    });
  });

  it("the idle timeout closes an idle connection but not a long poll or an SSE stream while they wait", async () => {
    await withBroker({ idleTimeoutMs: 250, keepAliveTimeoutMs: 10_000, maxWaitMs: 5000 }, async (broker) => {
      await fetch(`${broker.url}/v1/topics`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ name: "t", partitions: 1 }),
      });
      // Headers complete, nothing else: a request in progress? No — a connection with half a request line.
      const idle = await raw(broker.port);
      idle.socket.write("GET /hea");
      const idleAfter = await idle.closed;
      expect(idleAfter).toBeGreaterThanOrEqual(250);
      expect(idleAfter).toBeLessThan(1500);
      // An SSE stream and a long poll waiting 4× the idle timeout stay connected, and get their record.
      const sse = await raw(broker.port);
      sse.socket.write("GET /v1/topics/t/partitions/0/records?offset=0&live=sse HTTP/1.1\r\nHost: x\r\n\r\n");
      const poll = fetch(`${broker.url}/v1/topics/t/partitions/0/records?offset=0&waitMs=1000`);
      await new Promise((resolve) => setTimeout(resolve, 1000)); // the point: time passes beyond the idle timeout
      const produced = await fetch(`${broker.url}/v1/topics/t/records`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ records: [{ value: "late" }] }),
      });
      expect(produced.status).toBe(200);
      const answer = await poll;
      expect(answer.status).toBe(200);
      const polled = (await answer.json()) as { records: Array<{ value: string }> };
      // Either it was woken by the record or it returned empty at its 1 s: never cut off.
      expect(polled.records.length).toBeLessThanOrEqual(1);
      for (const deadline = Date.now() + 3000; !sse.received().includes('"late"') && Date.now() < deadline;) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      expect(sse.received()).toContain('"late"');
      expect(sse.socket.destroyed).toBe(false);
      sse.socket.destroy();
    });
  });
});
