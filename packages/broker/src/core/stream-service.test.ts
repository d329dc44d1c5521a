import { LogStore } from "@minikafka/log-store";
import { afterEach, describe, expect, it } from "vitest";
import { tempDir } from "../../../../test-support/temp-dir.js";
import { until } from "../../test/helpers/wait.js";
import type { LiveReader } from "./live-tail.js";
import { StreamService, type StreamSseProfile } from "./stream-service.js";

const open: Array<{ close(): unknown }> = [];
afterEach(async () => {
  for (const x of open.splice(0).reverse()) await x.close();
});

async function service(dataDir: string, clock?: { now(): number }, wrap?: (store: LogStore) => LogStore, checkpointIntervalMs?: number) {
  const store = await LogStore.open({ dataDir, fsync: "always" });
  const streams = await StreamService.open({
    store: wrap === undefined ? store : wrap(store),
    clock,
    longPollTimeoutMs: 200,
    checkpointIntervalMs,
    logger: { error() {} },
  });
  open.push(store, streams);
  return {
    store,
    streams,
    async stop() {
      await streams.close();
      await store.close();
      open.splice(open.indexOf(store), 2);
    },
    /** kill -9 of the stream layer: the store closes, the service writes nothing more. */
    async crash() {
      await store.close();
      open.splice(open.indexOf(store), 1);
    },
  };
}

const bytes = (s: string) => new TextEncoder().encode(s);
const empty = () => new Uint8Array(0);
const text = (b: Uint8Array) => new TextDecoder().decode(b);
const code = (p: Promise<unknown>) =>
  p.then(
    () => "ok",
    (e: { code: string }) => e.code,
  );

describe("StreamService", () => {
  it("rebuilds every stream's state from its log at open: data, closure, Stream-Seq, producers, forks, soft delete", async () => {
    const dir = tempDir();
    let s = await service(dir);
    await s.streams.create("a/b ü", { contentType: "text/plain", closed: false, body: bytes("x") });
    const p = { id: "writer-1", epoch: 3, seq: 0 };
    await s.streams.append("a/b ü", { contentType: "text/plain", body: bytes("y"), close: false, producer: p, streamSeq: "0001" });
    await s.streams.append("a/b ü", { contentType: "text/plain", body: bytes("z"), close: false, producer: { ...p, seq: 1 } });
    await s.streams.create("fork", { closed: false, body: new Uint8Array(0), forkedFrom: "a/b ü" });
    await s.streams.delete("a/b ü"); // soft: the fork reads it
    await s.streams.create("done", { contentType: "application/json", closed: true, body: bytes('[{"k":1},{"k":2}]') });
    await s.stop();

    s = await service(dir);
    expect(s.store.listTopics().filter((t) => t.startsWith("s-"))).toHaveLength(3);
    expect(await code(s.streams.append("a/b ü", { contentType: "text/plain", body: bytes("w"), close: false }))).toBe("STREAM_GONE");
    const fork = await s.streams.read("fork", {});
    expect(text(fork.body)).toBe("xyz");
    expect(s.streams.head("done")).toMatchObject({ closed: true, contentType: "application/json" });
    expect(JSON.parse(text((await s.streams.read("done", {})).body))).toEqual([{ k: 1 }, { k: 2 }]);
    expect(await code(s.streams.append("done", { contentType: "application/json", body: bytes("1"), close: false }))).toBe("STREAM_CLOSED");

    // Producer state and Stream-Seq survived on a stream that is still live:
    await s.streams.create("live", { contentType: "text/plain", closed: false, body: new Uint8Array(0) });
    await s.streams.append("live", { contentType: "text/plain", body: bytes("1"), close: false, producer: p, streamSeq: "b" });
    await s.stop();
    s = await service(dir);
    const dup = await s.streams.append("live", { contentType: "text/plain", body: bytes("1"), close: false, producer: p });
    expect(dup).toMatchObject({ duplicate: true, appended: false, producer: { epoch: 3, seq: 0 } });
    expect(await code(s.streams.append("live", { contentType: "text/plain", body: bytes("2"), close: false, producer: { ...p, seq: 2 } }))).toBe(
      "OUT_OF_ORDER_SEQUENCE_NUMBER",
    );
    expect(
      await code(s.streams.append("live", { contentType: "text/plain", body: bytes("2"), close: false, producer: { ...p, epoch: 2, seq: 1 } })),
    ).toBe("INVALID_PRODUCER_EPOCH");
    expect(await code(s.streams.append("live", { contentType: "text/plain", body: bytes("2"), close: false, streamSeq: "a" }))).toBe(
      "STREAM_SEQUENCE_CONFLICT",
    );
    await s.streams.append("live", { contentType: "text/plain", body: bytes("2"), close: false, producer: { ...p, seq: 1 } });
    expect(text((await s.streams.read("live", {})).body)).toBe("12");

    // The fork's deletion takes the soft-deleted source's data with it.
    await s.streams.delete("fork");
    await until(() => (s.store.listTopics().filter((t) => t.startsWith("s-")).length === 2 ? true : undefined));
  });

  it("deletes a stream whose creation a crash interrupted (a topic without its metadata record)", async () => {
    const dir = tempDir();
    const store = await LogStore.open({ dataDir: dir, fsync: "always" });
    await store.createTopic("s-0123-x", { partitions: 1 });
    await store.close();
    const s = await service(dir);
    expect(s.store.listTopics().filter((t) => t.startsWith("s-"))).toEqual([]);
    expect(s.streams.size).toBe(0);
  });

  it("expires streams by TTL (reset by reads and appends, not HEAD) and by Expires-At; the sweep deletes their data", async () => {
    let now = 1_000_000;
    const s = await service(tempDir(), { now: () => now });
    await s.streams.create("ttl", { contentType: "text/plain", ttlSeconds: 10, closed: false, body: new Uint8Array(0) });
    await s.streams.create("at", {
      contentType: "text/plain",
      expiresAt: new Date(now + 5_000).toISOString(),
      closed: false,
      body: new Uint8Array(0),
    });
    now += 8_000;
    s.streams.head("ttl");
    expect(() => s.streams.head("at")).toThrow(expect.objectContaining({ code: "NOT_FOUND" }));
    await s.streams.read("ttl", {});
    now += 8_000;
    expect(s.streams.head("ttl").closed).toBe(false);
    now += 3_000;
    expect(await s.streams.sweepExpired()).toBe(1);
    await until(() => (s.store.listTopics().filter((t) => t.startsWith("s-")).length === 0 ? true : undefined));
  });

  it("persists TTL access times across a restart: a stream neither expires early nor lives on past its TTL", async () => {
    const dir = tempDir();
    let now = 1_000_000;
    const clock = { now: () => now };
    const empty = new Uint8Array(0);
    let s = await service(dir, clock);
    await s.streams.create("ttl", { contentType: "text/plain", ttlSeconds: 10, closed: false, body: empty });
    now += 8_000;
    await s.streams.read("ttl", {}); // renews: expires at 1 018 000
    await s.stop();
    now += 9_000; // 17 s after creation, 9 s after the read
    s = await service(dir, clock);
    expect(s.streams.head("ttl").ttlSeconds).toBe(10);
    await s.stop();
    now = 1_018_000; // 10 s after the last read, across a restart
    s = await service(dir, clock);
    expect(() => s.streams.head("ttl")).toThrow(expect.objectContaining({ code: "NOT_FOUND" }));
    await s.stop();

    // A crash loses the accesses since the last checkpoint: counted from its time + the interval, never early.
    s = await service(dir, clock);
    await s.streams.create("crash", { contentType: "text/plain", ttlSeconds: 10, closed: false, body: empty });
    await s.streams.checkpoint();
    const checkpointed = now;
    now += 600;
    await s.streams.read("crash", {}); // not checkpointed
    await s.crash();
    now = checkpointed + 600 + 9_999;
    s = await service(dir, clock);
    expect(s.streams.head("crash").ttlSeconds).toBe(10);
    await s.stop();
    now = checkpointed + 1_000 + 10_000;
    s = await service(dir, clock);
    expect(() => s.streams.head("crash")).toThrow(expect.objectContaining({ code: "NOT_FOUND" }));
  });

  it("opens from checkpoints: no stream record is read after a clean stop, only what was appended since after a crash", async () => {
    const dir = tempDir();
    const reads: Array<[string, number]> = [];
    const counting = (store: LogStore) => {
      const wrapped = Object.create(store) as LogStore;
      wrapped.read = (topic, partition, offset, options) => {
        reads.push([topic, offset]);
        return store.read(topic, partition, offset, options);
      };
      return wrapped;
    };
    let s = await service(dir, undefined, undefined, 3_600_000);
    const p = { id: "w", epoch: 0, seq: 0 };
    for (const name of ["a", "b", "c"]) {
      await s.streams.create(name, { contentType: "text/plain", closed: false, body: bytes("0") });
      for (let i = 1; i < 100; i++) await s.streams.append(name, { contentType: "text/plain", body: bytes(String(i % 10)), close: false });
    }
    await s.streams.append("b", { contentType: "text/plain", body: bytes("p"), close: false, producer: p, streamSeq: "x1" });
    await s.streams.append("c", { contentType: "text/plain", body: empty(), close: true });
    await s.stop();

    s = await service(dir, undefined, counting, 3_600_000);
    expect(reads.filter(([t]) => t.startsWith("s-"))).toEqual([]);
    expect(s.streams.head("c").closed).toBe(true);
    expect(text((await s.streams.read("b", {})).body)).toBe("0123456789".repeat(10) + "p");
    // Producer state and Stream-Seq came back from the checkpoint.
    expect(await s.streams.append("b", { contentType: "text/plain", body: bytes("p"), close: false, producer: p })).toMatchObject({
      duplicate: true,
    });
    expect(await code(s.streams.append("b", { contentType: "text/plain", body: bytes("q"), close: false, streamSeq: "x0" }))).toBe(
      "STREAM_SEQUENCE_CONFLICT",
    );
    await s.streams.append("a", { contentType: "text/plain", body: bytes("new"), close: false, producer: { ...p, seq: 0 } });
    await s.crash(); // no checkpoint of that append

    reads.length = 0;
    s = await service(dir, undefined, counting, 3_600_000);
    const streamReads = reads.filter(([t]) => t.startsWith("s-"));
    // Only stream "a" is replayed, from past its checkpoint (meta at 0, data at 1..100): the new record.
    expect(streamReads.map(([, o]) => o)).toEqual([101]);
    expect(text((await s.streams.read("a", {})).body)).toBe("0123456789".repeat(10) + "new");
    expect(await s.streams.append("a", { contentType: "text/plain", body: bytes("new"), close: false, producer: p })).toMatchObject({
      duplicate: true,
    });
  });

  it("catch-up answers: at most maxReadBytes (one message more when it alone is larger), the next one read ahead and used once, up-to-date decided when it is asked for", async () => {
    const store = await LogStore.open({ dataDir: tempDir(), fsync: "never" });
    const reads: number[] = [];
    let lastRead: Promise<unknown> = Promise.resolve();
    const counted = Object.create(store) as LogStore;
    counted.read = (...args: Parameters<LogStore["read"]>) => {
      reads.push(args[2]);
      const read = store.read(...args);
      lastRead = read;
      return read;
    };
    const streams = await StreamService.open({ store: counted, maxReadBytes: 1000, logger: { error() {} } });
    open.push(store, streams);
    const message = (i: number) => `${i}`.padEnd(100, ".");
    await streams.create("a", { contentType: "text/plain", closed: false, body: empty() });
    for (let i = 0; i < 25; i++) await streams.append("a", { contentType: "text/plain", body: bytes(message(i)), close: false });
    const first = await streams.read("a", { offset: "-1" });
    expect(text(first.body)).toBe(Array.from({ length: 10 }, (_, i) => message(i)).join(""));
    expect(first.upToDate).toBe(false);
    // The read-ahead of the next answer started with the answer (partition offset 11: the meta record is 0).
    expect(reads.filter((o) => o === 11)).toHaveLength(1);
    const second = await streams.read("a", { offset: first.nextOffset });
    expect(text(second.body)).toBe(Array.from({ length: 10 }, (_, i) => message(10 + i)).join(""));
    expect(reads.filter((o) => o === 11)).toHaveLength(1); // served from the read-ahead, not read again
    // The third answer was read ahead up to the tail then; an append since makes it not up to date.
    await lastRead;
    await streams.append("a", { contentType: "text/plain", body: bytes("late"), close: false });
    const third = await streams.read("a", { offset: second.nextOffset });
    expect(text(third.body)).toBe(Array.from({ length: 5 }, (_, i) => message(20 + i)).join(""));
    expect(third.upToDate).toBe(false);
    const last = await streams.read("a", { offset: third.nextOffset });
    expect([text(last.body), last.upToDate]).toEqual(["late", true]);
    // A read-ahead is used only at its offset: a read elsewhere reads for itself (and gets its own bytes).
    const again = await streams.read("a", { offset: "-1" });
    expect(text((await streams.read("a", { offset: "0000000000000000_0000000000000003" })).body)).toBe(
      Array.from({ length: 10 }, (_, i) => message(3 + i)).join(""),
    );
    expect(text((await streams.read("a", { offset: again.nextOffset })).body)).toBe(Array.from({ length: 10 }, (_, i) => message(10 + i)).join(""));
    // A message larger than the bound comes alone.
    await streams.create("big", { contentType: "application/octet-stream", closed: false, body: new Uint8Array(3000).fill(7) });
    await streams.append("big", { contentType: "application/octet-stream", body: new Uint8Array(10).fill(8), close: false });
    const big = await streams.read("big", { offset: "-1" });
    expect([big.body.length, big.upToDate]).toEqual([3000, false]);
    // Deleted and created again: the new stream's data, never the old one's read-ahead.
    await streams.delete("big");
    await streams.create("big", { contentType: "application/octet-stream", closed: false, body: new Uint8Array(20).fill(9) });
    const fresh = await streams.read("big", { offset: big.nextOffset });
    expect([...fresh.body]).toEqual([]);
    expect([...(await streams.read("big", { offset: "-1" })).body]).toEqual(Array(20).fill(9));
  });

  it("answers at most 10,000 messages at once, however small", async () => {
    const store = await LogStore.open({ dataDir: tempDir(), fsync: "never" });
    const streams = await StreamService.open({ store, logger: { error() {} } });
    open.push(store, streams);
    await streams.create("tiny", { contentType: "text/plain", closed: false, body: empty() });
    await Promise.all(Array.from({ length: 10_005 }, () => streams.append("tiny", { contentType: "text/plain", body: bytes("m"), close: false })));
    const first = await streams.read("tiny", { offset: "-1" });
    expect([first.body.length, first.upToDate]).toEqual([10_000, false]);
    const rest = await streams.read("tiny", { offset: first.nextOffset });
    expect([text(rest.body), rest.upToDate]).toEqual(["mmmmm", true]);
  });

  it("answers large records as parts without copying them, small ones joined into parts of 64 KiB or more", async () => {
    const s = await service(tempDir());
    await s.streams.create("big", { contentType: "application/octet-stream", closed: false, body: empty() });
    for (let i = 0; i < 4; i++)
      await s.streams.append("big", { contentType: "application/octet-stream", body: new Uint8Array(100_000).fill(i), close: false });
    const big = await s.streams.read("big", { offset: "-1" });
    expect(big.parts.map((p) => [p.length, p[0]])).toEqual([0, 1, 2, 3].map((i) => [100_000, i]));
    expect(big.body.length).toBe(400_000);
    await s.streams.create("small", { contentType: "application/json", closed: false, body: empty() });
    const messages = Array.from({ length: 3000 }, (_, i) => ({ i, pad: "x".repeat(40) }));
    for (let i = 0; i < messages.length; i += 100)
      await s.streams.append("small", { contentType: "application/json", body: bytes(JSON.stringify(messages.slice(i, i + 100))), close: false });
    const small = await s.streams.read("small", { offset: "-1" });
    expect(small.parts.length).toBeLessThan(5);
    expect(small.parts.slice(0, -1).every((p) => p.length >= 64 * 1024)).toBe(true);
    expect(JSON.parse(text(small.body))).toEqual(messages);
  });

  it("an SSE reader waiting at the tail is released as soon as it goes away", async () => {
    const dir = tempDir();
    const store = await LogStore.open({ dataDir: dir, fsync: "never" });
    let waiting = 0;
    const counted = Object.create(store) as LogStore;
    counted.waitForData = (...args: Parameters<LogStore["waitForData"]>) => {
      waiting++;
      return store.waitForData(...args).finally(() => waiting--);
    };
    const streams = await StreamService.open({ store: counted, longPollTimeoutMs: 30_000 });
    open.push(store, streams);
    await streams.create("s", { contentType: "text/plain", closed: false, body: bytes("hi") });
    const stop = new AbortController();
    const events = streams.sse("s", { offset: "-1", signal: stop.signal });
    // One round: the data event and its control event, in one piece.
    expect((await events.next()).value).toMatch(
      /^event: data\ndata:hi\n\nevent: control\ndata:\{"streamNextOffset":"0000000000000000_0000000000000001","streamCursor":"\d+","upToDate":true\}\n\n$/,
    );
    const pending = events.next();
    await until(() => (waiting === 1 ? true : undefined));
    stop.abort();
    expect((await pending).done).toBe(true);
    expect(waiting).toBe(0);
  });

  it("hands every SSE reader at the tail the very same bytes of a round (one read, one encoding)", async () => {
    const store = await LogStore.open({ dataDir: tempDir(), fsync: "never" });
    const streams = await StreamService.open({ store, longPollTimeoutMs: 30_000 });
    open.push(store, streams);
    await streams.create("s", { contentType: "application/json", closed: false, body: bytes("[1]") });
    const readers = Array.from({ length: 10 }, () => {
      const sent: Uint8Array[] = [];
      const reader: LiveReader<StreamSseProfile> = {
        profile: { cursor: NaN },
        ended: false,
        send: (b) => sent.push(b) > 0,
        end() {},
        onEnded: undefined,
      };
      return { sent, reader };
    });
    for (const r of readers) (await streams.openSse("s", { offset: "now" })).serve(r.reader);
    await until(() => (streams.sseReaders === 10 ? true : undefined));
    await streams.append("s", { contentType: "application/json", body: bytes("[2,3]"), close: false });
    await until(() => (readers.every((r) => r.sent.length === 2) ? true : undefined));
    for (const r of readers) expect(r.sent[1]).toBe(readers[0]!.sent[1]); // the same object, not a copy
    expect(text(readers[0]!.sent[1]!)).toMatch(/^event: data\ndata:\[2,3\]\n\nevent: control\n/);
    await streams.append("s", { contentType: "application/json", body: bytes("4"), close: true });
    await until(() => (readers.every((r) => r.sent.length === 3) ? true : undefined));
    for (const r of readers) expect(r.sent[2]).toBe(readers[0]!.sent[2]);
    expect(text(readers[0]!.sent[2]!)).toMatch(/data:\[4\][\s\S]*"streamClosed":true/);
    await until(() => (streams.sseReaders === 0 ? true : undefined)); // a closed stream ends its readers
  });
});
