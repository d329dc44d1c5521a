// SSE fan-out: many readers of one stream (or partition) share one tail — identical bytes for all, a slow
// reader dropped at a bounded backlog, everything released when readers go, no listener per reader.
import { LogStore } from "@minikafka/log-store";
import { afterEach, describe, expect, it } from "vitest";
import { tempDir } from "../../../../test-support/temp-dir.js";
import { until } from "../../test/helpers/wait.js";
import { StreamService } from "../core/stream-service.js";
import { createBrokerApp } from "../index.js";
import { DEFAULT_SSE_BACKLOG_BYTES } from "./sse.js";

const open: Array<{ close(): unknown }> = [];
afterEach(async () => {
  for (const x of open.splice(0).reverse()) await x.close();
});

/** A broker app with streams over a real store whose waits for data are counted. */
async function broker() {
  const store = await LogStore.open({ dataDir: tempDir(), fsync: "never" });
  let waiting = 0;
  const counted = Object.create(store) as LogStore;
  counted.waitForData = (...args: Parameters<LogStore["waitForData"]>) => {
    waiting++;
    return store.waitForData(...args).finally(() => waiting--);
  };
  const streamStore = await LogStore.open({ dataDir: tempDir(), fsync: "never" });
  const countedStreams = Object.create(streamStore) as LogStore;
  countedStreams.waitForData = (...args: Parameters<LogStore["waitForData"]>) => {
    waiting++;
    return streamStore.waitForData(...args).finally(() => waiting--);
  };
  const streams = await StreamService.open({ store: countedStreams, longPollTimeoutMs: 30_000 });
  open.push(store, streamStore, streams);
  const app = createBrokerApp({ store: counted, streams, logger: { error() {} } });
  const call = (method: string, path: string, body?: string, contentType = "text/plain") =>
    app.request(path, { method, body, headers: { "content-type": contentType } });
  return { app, call, streams, waiting: () => waiting };
}

/** The raw text of an SSE body, read as it arrives. */
function bodyReader(res: Response) {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = "";
  return {
    reader,
    text: () => text,
    /** Reads until `done(text)` holds. */
    async until(done: (text: string) => boolean): Promise<string> {
      while (!done(text)) {
        const { done: ended, value } = await reader.read();
        if (ended) break;
        text += decoder.decode(value, { stream: true });
      }
      return text;
    },
  };
}

/** The data events' payloads of SSE text, joined. */
const dataOf = (text: string) =>
  [...text.matchAll(/event: data\n((?:data:.*\n)+)\n/g)].map((m) => m[1]!.replace(/^data:/gm, "").replace(/\n$/, "")).join("");

describe("SSE fan-out of a Durable Stream", () => {
  it("gives every reader the same bytes, from one shared tail, and each reader exactly its offset's rest", async () => {
    const { call, streams } = await broker();
    expect((await call("PUT", "/v1/stream/room", "m0;")).status).toBe(201);
    const atTail = await Promise.all(Array.from({ length: 20 }, () => call("GET", "/v1/stream/room?offset=now&live=sse")));
    const tails = atTail.map(bodyReader);
    await until(() => (streams.sseReaders === 20 ? true : undefined));
    // Readers joining from the start and from the middle while appends arrive.
    const late: Array<{ from: number; read: ReturnType<typeof bodyReader> }> = [];
    const expected = ["m0;"];
    for (let i = 1; i <= 30; i++) {
      const res = await call("POST", "/v1/stream/room", `m${i};`);
      expect(res.status).toBe(204);
      expected.push(`m${i};`);
      if (i % 5 === 0) {
        const from = i - 3; // message i is the (i + 1)-th record: its token is i (tokens count from 0)
        const offset = `0000000000000000_${String(from).padStart(16, "0")}`;
        late.push({ from, read: bodyReader(await call("GET", `/v1/stream/room?offset=${offset}&live=sse`)) });
      }
    }
    const all = expected.join("");
    const texts = await Promise.all(tails.map((t) => t.until((text) => dataOf(text).endsWith("m30;"))));
    for (const text of texts) expect(dataOf(text)).toBe(expected.slice(1).join(""));
    // Identical framing for all the readers at the tail: one encoding per round, the same bytes to each.
    // (Rounds may batch several appends; every reader at the tail saw the same rounds.)
    for (const text of texts) expect(text.replace(/"streamCursor":"\d+"/g, "")).toBe(texts[0]!.replace(/"streamCursor":"\d+"/g, ""));
    for (const { from, read } of late) {
      const text = await read.until((t) => dataOf(t).endsWith("m30;"));
      expect(dataOf(text)).toBe(all.slice(expected.slice(0, from).join("").length));
    }
    await Promise.all([...tails, ...late.map((l) => l.read)].map((t) => t.reader.cancel()));
    await until(() => (streams.sseReaders === 0 ? true : undefined));
  });

  it("catches a reader up on more than its backlog bound in rounds that fit it (base64: 2 MiB of data from the start)", async () => {
    const { app, streams } = await broker();
    const chunk = (i: number) => new Uint8Array(64 * 1024).fill(i);
    await streams.create("bin", { contentType: "application/octet-stream", closed: false, body: new Uint8Array(0) });
    for (let i = 0; i < 32; i++) await streams.append("bin", { contentType: "application/octet-stream", body: chunk(i), close: false });
    const res = await app.request("/v1/stream/bin?offset=-1&live=sse");
    expect(res.headers.get("stream-sse-data-encoding")).toBe("base64");
    const read = bodyReader(res);
    const text = await read.until((t) => t.includes('"upToDate":true'));
    const events = [...text.matchAll(/event: data\n((?:data:.*\n)+)\n/g)].map((m) =>
      Buffer.from(m[1]!.replace(/^data:/gm, "").replace(/\n/g, ""), "base64"),
    );
    expect(events.length).toBeGreaterThan(1);
    expect(Buffer.concat(events).equals(Buffer.concat(Array.from({ length: 32 }, (_, i) => chunk(i))))).toBe(true);
    await read.reader.cancel();
  });

  it("drops a reader whose client does not read at a bounded backlog, while the others go on", async () => {
    const { call, streams } = await broker();
    await call("PUT", "/v1/stream/big", "", "application/octet-stream");
    const slow = await call("GET", "/v1/stream/big?offset=now&live=sse"); // never read
    const fast = bodyReader(await call("GET", "/v1/stream/big?offset=now&live=sse"));
    await until(() => (streams.sseReaders === 2 ? true : undefined));
    const chunk = "x".repeat(64 * 1024);
    // Base64 makes each 64 KiB append about 87 KiB of SSE: 40 of them are over three times the bound.
    let appended = 0;
    for (; appended < 40 && streams.sseReaders === 2; appended++) {
      await call("POST", "/v1/stream/big", chunk, "application/octet-stream");
      await fast.until((t) => t.split("event: control").length - 1 >= appended + 2);
    }
    // Dropped before 40 appends: no more than the bound (plus one round) was ever queued for it.
    expect(appended).toBeLessThan(Math.ceil((DEFAULT_SSE_BACKLOG_BYTES * 1.5) / (64 * 1024)));
    expect(streams.sseReaders).toBe(1);
    // Its answer fails (what it had queued is gone), the fast reader still gets what follows.
    const slowReader = slow.body!.getReader();
    await expect(
      (async () => {
        for (;;) if ((await slowReader.read()).done) return "ended";
      })(),
    ).rejects.toThrow(/dropped/);
    await call("POST", "/v1/stream/big", "after", "application/octet-stream");
    await fast.until((t) => t.includes(Buffer.from("after").toString("base64")));
    await fast.reader.cancel();
  });

  it("releases the tail, its wait and every reader when the readers go; no listener per reader (50 readers)", async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on("warning", onWarning);
    try {
      const { call, app, streams, waiting } = await broker();
      await call("PUT", "/v1/stream/many", "hi");
      await app.request("/v1/topics", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ name: "t", partitions: 1 }),
      });
      const streamReaders = await Promise.all(Array.from({ length: 50 }, () => call("GET", "/v1/stream/many?offset=-1&live=sse")));
      const topicReaders = await Promise.all(Array.from({ length: 50 }, () => app.request("/v1/topics/t/partitions/0/records?offset=0&live=sse")));
      expect([...streamReaders, ...topicReaders].map((r) => r.status)).toEqual(Array(100).fill(200));
      await until(() => (streams.sseReaders === 50 ? true : undefined));
      // One wait per tail (the stream's and the partition's), not one per reader.
      await until(() => (waiting() === 2 ? true : undefined));
      const produced = await app.request("/v1/topics/t/records", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ records: [{ value: "v", partition: 0 }] }),
      });
      expect(produced.status).toBe(200);
      const topicTexts = topicReaders.map(bodyReader);
      for (const t of topicTexts) await t.until((text) => text.includes('"value":"v"'));
      expect(new Set(topicTexts.map((t) => t.text().replace(/"streamCursor":"\d+"/g, ""))).size).toBe(1);
      await Promise.all([...streamReaders.map((r) => r.body!.cancel()), ...topicTexts.map((t) => t.reader.cancel())]);
      await until(() => (streams.sseReaders === 0 && waiting() === 0 ? true : undefined));
      await new Promise((resolve) => setImmediate(resolve)); // warnings are emitted on a later tick
      expect(warnings.filter((w) => w.name === "MaxListenersExceededWarning")).toEqual([]);
    } finally {
      process.off("warning", onWarning);
    }
  });
});
