// @durable-streams/client (the protocol's own TypeScript client) against a real broker on port 0: live
// reads over SSE and long-poll, JSON and bytes, resuming from a saved offset, the idempotent producer.
import { DurableStream, IdempotentProducer, stream } from "@durable-streams/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startBroker, type StartBrokerResult } from "../src/index.js";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

let broker: StartBrokerResult;
let dataDir: string;
beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "minikafka-streams-client-"));
  broker = await startBroker({ dataDir, port: 0, logger: { error() {} }, streams: { longPollTimeoutMs: 1_000 } });
});
afterAll(async () => {
  await broker.close();
  rmSync(dataDir, { recursive: true, force: true });
});

let n = 0;
const url = (name: string) => `${broker.url}/v1/stream/client/${name}-${n++}`;

/** Collects what `subscribe` delivers until `done` says so. */
function collect<T>(subscribe: (fn: (x: T) => Promise<void>) => () => void, done: (all: T[]) => boolean): Promise<T[]> {
  return new Promise((resolve) => {
    const all: T[] = [];
    const unsubscribe = subscribe(async (x) => {
      all.push(x);
      if (done(all)) {
        unsubscribe();
        resolve(all);
      }
    });
  });
}

describe.each(["sse", "long-poll"] as const)("@durable-streams/client, live: %s", (live) => {
  it("JSON: catches up, then receives appends live; resumes from a saved offset with exactly the rest", async () => {
    type Item = { n: number } | number[];
    const handle = await DurableStream.create({ url: url(`json-${live}`), contentType: "application/json" });
    // The client wraps each JSON append in an array (one message each); a raw POST of an array is flattened.
    await handle.append(JSON.stringify({ n: 0 }));
    await fetch(handle.url, { method: "POST", headers: { "content-type": "application/json" }, body: "[[1,2]]" });
    const res = await handle.stream<Item>({ live });
    const seen: Item[] = [];
    let savedOffset: string | undefined;
    let appended = false;
    const got = collect<{ items: ReadonlyArray<Item>; offset: string }>(
      (fn) => res.subscribeJson(fn),
      (batches) => {
        for (const b of batches.splice(0)) {
          seen.push(...b.items);
          if (seen.length === 2) savedOffset = b.offset;
        }
        if (seen.length === 2 && !appended) {
          appended = true;
          void handle.append(JSON.stringify({ n: 2 })).then(() => handle.append(JSON.stringify({ n: 3 })));
        }
        return seen.length >= 4;
      },
    );
    await got;
    res.cancel();
    expect(seen).toEqual([{ n: 0 }, [1, 2], { n: 2 }, { n: 3 }]);
    const resumed = await stream<Item>({ url: handle.url, offset: savedOffset!, live: false });
    expect(await resumed.json()).toEqual([{ n: 2 }, { n: 3 }]);
  });

  it("bytes: every byte value round-trips, live and from a saved offset", async () => {
    const handle = await DurableStream.create({ url: url(`bytes-${live}`), contentType: "application/octet-stream" });
    const first = Uint8Array.from({ length: 256 }, (_, i) => i);
    const second = Uint8Array.from({ length: 100 }, (_, i) => 255 - i);
    await handle.append(first);
    const head = await handle.head();
    if (!head.exists) throw new Error("the stream is gone");
    const afterFirst = head.offset;
    const res = await handle.stream({ live });
    const chunks: Uint8Array[] = [];
    let total = 0;
    let appended = false;
    await collect<{ data: Uint8Array }>(
      (fn) => res.subscribeBytes(fn),
      (all) => {
        for (const c of all.splice(0)) {
          chunks.push(c.data);
          total += c.data.length;
        }
        if (total === 256 && !appended) {
          appended = true;
          void handle.append(second);
        }
        return total >= 356;
      },
    );
    res.cancel();
    expect(Buffer.concat(chunks).equals(Buffer.concat([first, second]))).toBe(true);
    const resumed = await stream({ url: handle.url, offset: afterFirst!, live: false });
    expect(Buffer.from(await resumed.body()).equals(Buffer.from(second))).toBe(true);
  });
});

describe("@durable-streams/client IdempotentProducer", () => {
  it("appends batched, pipelined messages exactly once, in order; a second producer epoch fences the first", async () => {
    const handle = await DurableStream.create({ url: url("producer"), contentType: "application/json" });
    const producer = new IdempotentProducer(handle, "orders-1", { epoch: 0 });
    for (let i = 0; i < 200; i++) producer.append(JSON.stringify({ i }));
    await producer.flush();
    await producer.detach();
    const items = await (await stream<{ i: number }>({ url: handle.url, live: false })).json();
    expect(items.map((x) => x.i)).toEqual(Array.from({ length: 200 }, (_, i) => i));

    // A restarted producer (epoch 1) fences the old epoch, then closes the stream with a final message.
    const next = new IdempotentProducer(handle, "orders-1", { epoch: 1 });
    next.append(JSON.stringify({ i: 200 }));
    await next.flush();
    const zombie = await fetch(handle.url, {
      method: "POST",
      headers: { "content-type": "application/json", "producer-id": "orders-1", "producer-epoch": "0", "producer-seq": "999" },
      body: "{}",
    });
    expect(zombie.status).toBe(403);
    expect(zombie.headers.get("producer-epoch")).toBe("1");
    await next.close(JSON.stringify({ i: 201 }));
    const all = await (await stream<{ i: number }>({ url: handle.url, live: false })).json();
    expect(all.map((x) => x.i)).toEqual(Array.from({ length: 202 }, (_, i) => i));
    expect(await handle.head()).toMatchObject({ exists: true, streamClosed: true });
  });
});
