import { EventEmitter } from "node:events";
import { request as httpRequest, type IncomingMessage } from "node:http";
import type { Context } from "hono";
import { describe, expect, it } from "vitest";
import { tempDir } from "../../../test-support/temp-dir.js";
import { BodyPool } from "./body-pool.js";
import { startBroker } from "./node.js";

/** A context whose `env.outgoing` stands in for Node's ServerResponse (only its "finish" event matters here). */
function contextWithResponse(): { c: Context; outgoing: EventEmitter } {
  const outgoing = new EventEmitter();
  return { c: { env: { outgoing } } as unknown as Context, outgoing };
}

describe("BodyPool", () => {
  it("reuses a buffer only after its response has finished", () => {
    const pool = new BodyPool();
    const first = pool.take(100_000);
    expect(first.length).toBe(131_072); // the next power of two
    const { c, outgoing } = contextWithResponse();
    pool.recycleAfterResponse(c, first);
    // Identity checks as booleans: a matcher would print these large arrays.
    expect(pool.take(100_000) === first).toBe(false); // still being sent
    outgoing.emit("finish");
    expect(pool.take(100_000) === first).toBe(true);
    expect(pool.take(100_000) === first).toBe(false); // handed out once
  });

  it("does not reuse buffers of responses that closed unfinished, or without a Node response", () => {
    const pool = new BodyPool();
    const { c, outgoing } = contextWithResponse();
    const closed = pool.take(10);
    pool.recycleAfterResponse(c, closed);
    outgoing.emit("close");
    const elsewhere = pool.take(10);
    pool.recycleAfterResponse({ env: undefined } as unknown as Context, elsewhere);
    const next = pool.take(10);
    expect(next === closed || next === elsewhere).toBe(false);
  });

  it("keeps at most maxBuffers buffers of at most maxBufferBytes, and hands out one that is large enough", () => {
    const pool = new BodyPool(2, 1 << 20);
    const buffers = [pool.take(1), pool.take(1), pool.take(1), pool.take(2 << 20)];
    for (const buf of buffers) {
      const { c, outgoing } = contextWithResponse();
      pool.recycleAfterResponse(c, buf);
      outgoing.emit("finish");
    }
    const kept = (buf: Uint8Array) => buffers.indexOf(buf as Uint8Array<ArrayBuffer>);
    expect([0, 1]).toContain(kept(pool.take(1)));
    expect(kept(pool.take(1 << 20))).toBe(-1); // the pooled ones are too small, the big one was not kept
    expect([0, 1]).toContain(kept(pool.take(1)));
    expect(kept(pool.take(1))).toBe(-1); // only two were kept
  });
});

describe("fetch bodies on a real broker", () => {
  it("stay intact while a slow reader holds one and other fetches reuse buffers", async () => {
    const broker = await startBroker({ dataDir: tempDir(), port: 0 });
    const post = (path: string, body: unknown) =>
      fetch(`${broker.url}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    try {
      // Two partitions with different, large contents: a body overwritten by another fetch would show it.
      await post("/v1/topics", { name: "t", partitions: 2 });
      for (const partition of [0, 1]) {
        const value = String(partition).repeat(1000);
        await post("/v1/topics/t/records", { records: Array.from({ length: 8000 }, () => ({ value, partition })) });
      }
      const path = (partition: number) => `/v1/topics/t/partitions/${partition}/records?offset=0&maxRecords=8000&maxBytes=16777216`;
      // A reader that does not read for a while: its ~8 MB body cannot all fit in the socket buffers (4 MB at most on the sending side), so the
      // broker is still sending it while the fetches below run.
      const slow = await new Promise<IncomingMessage>((resolve, reject) => {
        httpRequest(`${broker.url}${path(0)}`, resolve)
          .on("error", reject)
          .end();
      });
      slow.pause();
      for (let i = 0; i < 3; i++) {
        const bodies = await Promise.all([1, 1].map(async (p) => (await fetch(`${broker.url}${path(p)}`)).json()));
        for (const body of bodies) expect((body as { records: unknown[] }).records).toHaveLength(8000);
      }
      const chunks: Buffer[] = [];
      slow.on("data", (chunk: Buffer) => chunks.push(chunk));
      slow.resume();
      await new Promise((resolve) => slow.on("end", resolve));
      const records = (JSON.parse(Buffer.concat(chunks).toString()) as { records: Array<{ offset: number; value: string }> }).records;
      expect(records).toHaveLength(8000);
      expect(records.every((r, i) => r.offset === i && r.value === "0".repeat(1000))).toBe(true);
    } finally {
      await broker.close();
    }
  });
});
