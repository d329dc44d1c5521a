import { get as httpGet, request as httpRequest } from "node:http";
import { createConnection, type Socket } from "node:net";
import { LogStore } from "@minikafka/log-store";
import { describe, expect, it } from "vitest";
import { tempDir } from "../../../test-support/temp-dir.js";
import { startBroker } from "./node.js";

const post = (url: string, body: unknown) =>
  fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

describe("startBroker", () => {
  it("serves on a free port and releases the data directory on close", async () => {
    const dataDir = tempDir();
    const broker = await startBroker({ dataDir, port: 0 });
    try {
      expect(broker.port).toBeGreaterThan(0);
      expect(broker.url).toBe(`http://127.0.0.1:${broker.port}`);
      const health = await fetch(`${broker.url}/healthz`);
      expect([health.status, await health.json()]).toEqual([200, { status: "ok" }]);
      expect((await post(`${broker.url}/v1/topics`, { name: "t", partitions: 2 })).status).toBe(201);
      const produced = await post(`${broker.url}/v1/topics/t/records`, { records: [{ value: "a", partition: 1 }] });
      expect(await produced.json()).toEqual({ offsets: [{ partition: 1, offset: 0 }] });
      // The store is locked while the broker runs.
      await expect(LogStore.open({ dataDir })).rejects.toMatchObject({ code: "DATA_DIR_LOCKED" });
    } finally {
      await broker.close();
    }
    await broker.close(); // idempotent
    const store = await LogStore.open({ dataDir });
    try {
      expect(store.describeTopic("t").partitions.map((p) => p.highWatermark)).toEqual([0, 1]);
    } finally {
      await store.close();
    }
  });

  it("closes the store when the port is taken", async () => {
    const first = await startBroker({ dataDir: tempDir(), port: 0 });
    try {
      const dataDir = tempDir();
      await expect(startBroker({ dataDir, port: first.port })).rejects.toMatchObject({ code: "EADDRINUSE" });
      await (await LogStore.open({ dataDir })).close();
    } finally {
      await first.close();
    }
  });

  it("refuses a second broker on the same data directory", async () => {
    const dataDir = tempDir();
    const broker = await startBroker({ dataDir, port: 0 });
    try {
      await expect(startBroker({ dataDir, port: 0 })).rejects.toMatchObject({ code: "DATA_DIR_LOCKED" });
    } finally {
      await broker.close();
    }
  });

  it("counts open connections in /metrics", async () => {
    const broker = await startBroker({ dataDir: tempDir(), port: 0 });
    const idle: Socket[] = [];
    try {
      const connections = async () => {
        // A connection of its own, closed after the answer (no keep-alive pool in the count).
        const { body } = await rawGet(broker.port, "/metrics");
        return Number(/^minikafka_connections (\d+)$/m.exec(body)?.[1]);
      };
      await expect.poll(connections).toBe(1);
      for (let i = 0; i < 2; i++) {
        const socket = createConnection(broker.port, "127.0.0.1");
        await new Promise((resolve) => socket.once("connect", resolve));
        idle.push(socket);
      }
      await expect.poll(connections).toBe(3);
      for (const socket of idle) socket.destroy();
      await expect.poll(connections).toBe(1);
    } finally {
      for (const socket of idle) socket.destroy();
      await broker.close();
    }
  });

  it("shuts down gracefully: long polls answer, in-flight produces finish and are durable", async () => {
    const dataDir = tempDir();
    const broker = await startBroker({ dataDir, port: 0 });
    await post(`${broker.url}/v1/topics`, { name: "t", partitions: 1 });
    const polling = fetch(`${broker.url}/v1/topics/t/partitions/0/records?offset=0&waitMs=25000`);
    // Parked: two requests in flight, the poll and the /metrics request asking.
    await expect.poll(async () => (await (await fetch(`${broker.url}/metrics`)).text()).includes("minikafka_http_requests_in_flight 2\n")).toBe(true);
    // A produce in flight when shutdown starts (its body half sent) is finished and acknowledged.
    const body = JSON.stringify({ records: Array.from({ length: 100 }, (_, i) => ({ value: `v${i}` })) });
    let sendRest!: () => void;
    const producing = rawRequest(broker.port, { "content-length": String(Buffer.byteLength(body)) }, (req) => {
      req.write(body.slice(0, 100));
      sendRest = () => req.end(body.slice(100));
    });
    await expect.poll(async () => (await (await fetch(`${broker.url}/metrics`)).text()).includes("minikafka_http_requests_in_flight 3\n")).toBe(true);
    const started = performance.now();
    const closed = broker.close();
    sendRest();
    const [poll, produced] = await Promise.all([polling, producing]);
    expect(produced.status).toBe(200);
    expect((JSON.parse(produced.body) as { offsets: unknown[] }).offsets.length).toBe(100);
    expect(poll.status).toBe(200);
    // Woken by the produce, or by the shutdown: either way an answer, not a cut connection.
    expect([0, 100]).toContain(((await poll.json()) as { records: unknown[] }).records.length);
    await closed;
    // Keep-alive connections are closed as their last answer goes out: no waiting for the idle timeout.
    expect(performance.now() - started).toBeLessThan(2_000);
    await expect(fetch(`${broker.url}/healthz`)).rejects.toThrow();
    const store = await LogStore.open({ dataDir });
    try {
      expect(store.describeTopic("t").partitions[0]!.highWatermark).toBe(100);
    } finally {
      await store.close();
    }
  });

  it("answers 413 to a declared oversize body without reading it", async () => {
    const broker = await startBroker({ dataDir: tempDir(), port: 0, maxBodyBytes: 64 * 1024 });
    try {
      await post(`${broker.url}/v1/topics`, { name: "t", partitions: 1 });
      // Declares 1 GiB and sends 10 bytes: the answer must not wait for the rest.
      const answer = await rawRequest(broker.port, { "content-length": String(1024 ** 3) }, (req) => req.write('{"records"'));
      expect(answer.status).toBe(413);
      expect(JSON.parse(answer.body)).toEqual({
        error: { code: "REQUEST_TOO_LARGE", message: "request body exceeds the limit of 65536 bytes", retriable: false },
      });
    } finally {
      await broker.close();
    }
  });

  it("answers 413 to an oversize chunked body after reading just past the limit", async () => {
    const broker = await startBroker({ dataDir: tempDir(), port: 0, maxBodyBytes: 64 * 1024 });
    try {
      await post(`${broker.url}/v1/topics`, { name: "t", partitions: 1 });
      let written = 0;
      let answered = false;
      const chunk = Buffer.alloc(16 * 1024, 0x61);
      const answer = await rawRequest(
        broker.port,
        { "transfer-encoding": "chunked" },
        (req) => {
          // Keep streaming until the answer arrives (at most 64 MiB): the broker must not wait for the end.
          const pump = () => {
            while (!answered && written < 64 * 1024 * 1024) {
              written += chunk.length;
              if (!req.write(chunk)) return void req.once("drain", pump);
            }
          };
          pump();
        },
        () => (answered = true),
      );
      expect(answer.status).toBe(413);
      expect(JSON.parse(answer.body).error.code).toBe("REQUEST_TOO_LARGE");
      expect(written).toBeLessThan(64 * 1024 * 1024);
    } finally {
      await broker.close();
    }
  });
});

function rawRequest(
  port: number,
  headers: Record<string, string>,
  send: (req: ReturnType<typeof httpRequest>) => void,
  onResponse: () => void = () => {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { port, host: "127.0.0.1", method: "POST", path: "/v1/topics/t/records", headers: { "content-type": "application/json", ...headers } },
      (res) => {
        onResponse();
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (body += chunk));
        res.on("end", () => {
          req.destroy();
          resolve({ status: res.statusCode!, body });
        });
      },
    );
    req.on("error", (error) => {
      if (!req.destroyed) reject(error);
    });
    send(req);
  });
}

/** A GET on a connection of its own (no agent: closed after the answer). */
function rawGet(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    httpGet({ host: "127.0.0.1", port, path, agent: false }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode!, body }));
    }).on("error", reject);
  });
}
