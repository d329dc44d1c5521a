// Replicated mode (issue 18): the high watermark set from outside, apart from the durable end. Consumer reads
// and waits stop at the high watermark; replica fetches (readBatches) and replica waits at what is written
// (without the journal; durable with it); the high watermark is checkpointed and a restart starts from the
// checkpoint. Real files.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { tempDir } from "../../../test-support/temp-dir.js";
import { nodeFileSystem, type FileSystem } from "../src/file-system.js";
import { isLogStoreError, LogStore, PartitionLog } from "../src/index.js";
import { resolveSettings } from "../src/settings.js";
import { CrashFs, random } from "./helpers/crash-fs.js";
import { text } from "./helpers/text.js";

const recs = (...values: string[]) => values.map((value) => ({ value }));
const codeOf = (error: unknown) => (isLogStoreError(error) ? error.code : String(error));
const CHECKPOINT = "high-watermark-checkpoint";

async function values(log: PartitionLog, from = log.logStartOffset): Promise<string[]> {
  const out: string[] = [];
  for (let offset = from; offset < log.highWatermark;) {
    const { records, nextOffset } = await log.read(offset, { maxRecords: 10_000 });
    for (const r of records) out.push(text(r.value)!);
    offset = nextOffset;
  }
  return out;
}

/** A replicated log holding batches [a b c] [d e] [f] (offsets 0–5). */
async function replicatedLog(dir: string, options: { fsync?: "always" | "never" | "interval"; highWatermarkCheckpointIntervalMs?: number } = {}) {
  const log = await PartitionLog.open({ dir, replicated: true, ...options });
  await log.append(recs("a", "b", "c"));
  await log.append(recs("d", "e"));
  await log.append(recs("f"));
  return log;
}

describe("a log that is not replicated", () => {
  it("keeps its high watermark at the durable end and refuses setHighWatermark", async () => {
    const dir = tempDir();
    const log = await PartitionLog.open({ dir });
    await log.append(recs("a", "b"));
    expect(log.highWatermark).toBe(2);
    expect(log.durableEndOffset).toBe(2);
    expect(log.describe().highWatermark).toBe(2);
    expect((await log.read(0)).records.map((r) => text(r.value))).toEqual(["a", "b"]);
    expect(await log.waitForData(1, { timeoutMs: 0 })).toBe(true);
    expect(await log.waitForData(1, { timeoutMs: 0, replica: true })).toBe(true);
    expect(() => log.setHighWatermark(1)).toThrow(expect.objectContaining({ code: "INVALID_REQUEST" }));
    await log.checkpointHighWatermark(); // nothing to do
    await log.close();
    expect(existsSync(join(dir, CHECKPOINT))).toBe(false);
  });
});

describe("a replicated log", () => {
  it("shows consumers only what is below the high watermark, and replica fetches everything durable", async () => {
    const dir = tempDir();
    const log = await replicatedLog(dir);
    expect(log.logEndOffset).toBe(6);
    expect(log.durableEndOffset).toBe(6);
    expect(log.highWatermark).toBe(0);
    expect(log.describe()).toMatchObject({ logEndOffset: 6, highWatermark: 0 });
    expect(await log.read(0)).toMatchObject({ records: [], nextOffset: 0, highWatermark: 0 });
    await expect(log.read(1)).rejects.toMatchObject({ code: "OFFSET_OUT_OF_RANGE" });

    const fetched = await log.readBatches(0);
    expect(fetched.batches.map((b) => [b.baseOffset, b.lastOffset])).toEqual([
      [0, 2],
      [3, 4],
      [5, 5],
    ]);
    expect(fetched).toMatchObject({ nextOffset: 6, highWatermark: 0, logStartOffset: 0 });

    // Inside a batch: consumers get exactly the records below it.
    log.setHighWatermark(4);
    expect(log.highWatermark).toBe(4);
    expect(await values(log)).toEqual(["a", "b", "c", "d"]);
    const r = await log.read(3, { maxRecords: 10 });
    expect(r.records.map((x) => x.offset)).toEqual([3]);
    expect(r).toMatchObject({ nextOffset: 4, highWatermark: 4 });
    expect((await log.readBatches(3)).highWatermark).toBe(4);
    log.setHighWatermark(4); // the same value again: nothing
    log.setHighWatermark(6);
    expect(await values(log, 4)).toEqual(["e", "f"]);
    await log.close();
  });

  it("refuses a high watermark that goes back, past the durable end, or is not an offset", async () => {
    const log = await replicatedLog(tempDir());
    log.setHighWatermark(3);
    for (const bad of [2, 7, -1, 3.5, Number.NaN]) {
      let caught: unknown;
      try {
        log.setHighWatermark(bad);
      } catch (error) {
        caught = error;
      }
      expect(codeOf(caught)).toBe("OFFSET_OUT_OF_RANGE");
    }
    expect(log.highWatermark).toBe(3);
    await log.close();
    expect(() => log.setHighWatermark(4)).toThrow(expect.objectContaining({ code: "STORE_CLOSED" }));
  });

  it("wakes consumer waits when the high watermark moves, replica waits when the durable end does", async () => {
    const log = await replicatedLog(tempDir());
    const consumer = log.waitForData(0, { timeoutMs: 60_000 });
    const later = log.waitForData(2, { timeoutMs: 60_000 });
    const replica = log.waitForData(6, { timeoutMs: 60_000, replica: true });
    expect(await log.waitForData(5, { timeoutMs: 0, replica: true })).toBe(true);
    expect(await log.waitForData(0, { timeoutMs: 0 })).toBe(false);
    let woken = "";
    void consumer.then(() => (woken += "consumer "));
    void later.then(() => (woken += "later "));
    void replica.then(() => (woken += "replica "));
    await log.append(recs("g")); // durable: the replica wait wakes, consumer waits do not
    expect(await replica).toBe(true);
    await new Promise((resolve) => setImmediate(resolve));
    expect(woken).toBe("replica ");
    log.setHighWatermark(1);
    expect(await consumer).toBe(true);
    await new Promise((resolve) => setImmediate(resolve));
    expect(woken).toBe("replica consumer ");
    log.setHighWatermark(3);
    expect(await later).toBe(true);
    const pending = log.waitForData(7, { timeoutMs: 60_000 });
    await log.close();
    expect(await pending).toBe(false);
  });

  it("checkpoints the high watermark on close and starts from it after a restart", async () => {
    const dir = tempDir();
    const log = await replicatedLog(dir);
    log.setHighWatermark(5);
    await log.close();
    expect(readFileSync(join(dir, CHECKPOINT), "utf8")).toBe("0\n5\n");
    const again = await PartitionLog.open({ dir, replicated: true });
    expect(again.highWatermark).toBe(5);
    expect(again.durableEndOffset).toBe(6);
    expect(await values(again)).toEqual(["a", "b", "c", "d", "e"]);
    await again.close();
    // Opened as not replicated, the same files show everything durable.
    const plain = await PartitionLog.open({ dir });
    expect(plain.highWatermark).toBe(6);
    await plain.close();
  });

  it("checkpoints periodically, within highWatermarkCheckpointIntervalMs, and only when it changed", async () => {
    const dir = tempDir();
    const path = join(dir, CHECKPOINT);
    // The periodic write is seen at its rename over the checkpoint (awaited, not polled for); the timers are
    // fake, so the interval passes when the test says so.
    let renamed!: () => void;
    const checkpointed = new Promise<void>((resolve) => (renamed = resolve));
    const fs: FileSystem = {
      ...nodeFileSystem,
      renameSync: (from, to) => {
        nodeFileSystem.renameSync(from, to);
        if (to === path) renamed();
      },
    };
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    let log: PartitionLog;
    try {
      log = await PartitionLog.openDir(dir, resolveSettings({ replicated: true }, { highWatermarkCheckpointIntervalMs: 5 }, undefined, fs));
      await log.append(recs("a", "b", "c"));
      log.setHighWatermark(2);
      await vi.advanceTimersByTimeAsync(4);
      expect(existsSync(path)).toBe(false); // not before the interval
      await vi.advanceTimersByTimeAsync(1);
      await checkpointed;
    } finally {
      vi.useRealTimers();
    }
    expect(readFileSync(path, "utf8")).toBe("0\n2\n");
    log.setHighWatermark(3);
    await log.checkpointHighWatermark(); // now, without waiting for the timer
    expect(readFileSync(path, "utf8")).toBe("0\n3\n");
    writeFileSync(path, "0\n1\n"); // unchanged since the last write: not written again
    await log.checkpointHighWatermark();
    expect(readFileSync(path, "utf8")).toBe("0\n1\n");
    await log.close();
  });

  it("starts from the checkpoint clamped to the log (never above its end), and from the log start for an invalid one", async () => {
    const dir = tempDir();
    const log = await replicatedLog(dir);
    await log.close();
    writeFileSync(join(dir, CHECKPOINT), "0\n99\n"); // above the log end (e.g. the tail was cut)
    let reopened = await PartitionLog.open({ dir, replicated: true });
    expect(reopened.highWatermark).toBe(6);
    await reopened.close();
    expect(readFileSync(join(dir, CHECKPOINT), "utf8")).toBe("0\n6\n"); // rewritten with the clamped value
    writeFileSync(join(dir, CHECKPOINT), "garbage");
    reopened = await PartitionLog.open({ dir, replicated: true });
    expect(reopened.highWatermark).toBe(0);
    await reopened.close();
  });

  it("a missing checkpoint starts at the log start; truncation lowers the high watermark to the new end", async () => {
    const dir = tempDir();
    const log = await replicatedLog(dir);
    expect(log.highWatermark).toBe(0);
    log.setHighWatermark(6);
    expect(await log.truncateTo(4)).toBe(3); // the batch [d e] holds offset 4
    expect(log.highWatermark).toBe(3);
    expect(log.durableEndOffset).toBe(3);
    expect(await values(log)).toEqual(["a", "b", "c"]);
    await log.append(recs("x"));
    expect(log.highWatermark).toBe(3);
    log.setHighWatermark(4);
    await log.close();
    const again = await PartitionLog.open({ dir, replicated: true });
    expect(await values(again)).toEqual(["a", "b", "c", "x"]);
    await again.close();
  });

  it("under fsync interval, the durable end follows the periodic fsync and bounds the high watermark", async () => {
    const log = await PartitionLog.open({ dir: tempDir(), replicated: true, fsync: "interval", fsyncIntervalMs: 60_000 });
    await log.append(recs("a"));
    expect(log.logEndOffset).toBe(1);
    expect(log.durableEndOffset).toBe(0);
    expect(() => log.setHighWatermark(1)).toThrow(expect.objectContaining({ code: "OFFSET_OUT_OF_RANGE" }));
    await log.flush();
    expect(log.durableEndOffset).toBe(1);
    log.setHighWatermark(1);
    expect(await values(log)).toEqual(["a"]);
    await log.close();
  });

  it("serves followers what is written before it is durable, and wakes replica waits on the write (fsync always)", async () => {
    const dir = tempDir();
    // fdatasync held until the test releases it: the batch is written, not yet durable.
    let hold: Promise<void> | undefined;
    let release!: () => void;
    const fs: FileSystem = {
      ...nodeFileSystem,
      fdatasync: async (fd) => {
        await hold;
        return nodeFileSystem.fdatasync(fd);
      },
    };
    const log = await PartitionLog.openDir(dir, resolveSettings({ replicated: true }, {}, undefined, fs));
    await log.append(recs("a"));
    hold = new Promise<void>((resolve) => (release = resolve));
    const replica = log.waitForData(1, { timeoutMs: 60_000, replica: true });
    const consumer = log.waitForData(0, { timeoutMs: 60_000 });
    let acked = false;
    const append = log.append(recs("b", "c")).then(() => (acked = true));
    expect(await replica).toBe(true);
    expect(acked).toBe(false);
    expect(log.durableEndOffset).toBe(1);
    expect(log.replicaEndOffset).toBe(3);
    const fetched = await log.readBatches(1);
    expect(fetched.batches.map((b) => [b.baseOffset, b.lastOffset])).toEqual([[1, 2]]);
    expect(fetched.highWatermark).toBe(0);
    // Committed only once durable here too: the high watermark cannot pass the durable end.
    expect(() => log.setHighWatermark(3)).toThrow(expect.objectContaining({ code: "OFFSET_OUT_OF_RANGE" }));
    hold = undefined;
    release();
    await append;
    expect(log.durableEndOffset).toBe(3);
    log.setHighWatermark(3);
    expect(await consumer).toBe(true);
    expect(await values(log)).toEqual(["a", "b", "c"]);
    await log.close();
  });

  it("does not serve a batch queued behind a segment roll before it is written", async () => {
    const dir = tempDir();
    let hold: Promise<void> | undefined;
    let release!: () => void;
    const fs: FileSystem = {
      ...nodeFileSystem,
      fdatasync: async (fd) => {
        await hold;
        return nodeFileSystem.fdatasync(fd);
      },
    };
    const log = await PartitionLog.openDir(dir, resolveSettings({ replicated: true, segmentBytes: 1024 }, {}, undefined, fs));
    await log.append(recs("x".repeat(700)));
    hold = new Promise<void>((resolve) => (release = resolve));
    // Does not fit: the old segment is fsynced (held) before the new one gets this batch.
    const rolled = log.append(recs("y".repeat(700)));
    expect(log.logEndOffset).toBe(2);
    expect(log.replicaEndOffset).toBe(1);
    expect(await log.waitForData(1, { timeoutMs: 0, replica: true })).toBe(false);
    expect((await log.readBatches(1)).batches).toEqual([]);
    hold = undefined;
    release();
    await rolled;
    expect(log.replicaEndOffset).toBe(2);
    expect((await log.readBatches(1)).batches.map((b) => b.baseOffset)).toEqual([1]);
    await log.close();
  });

  it("under fsync interval, followers get written batches before the periodic fsync; truncation lowers what they get", async () => {
    const log = await PartitionLog.open({ dir: tempDir(), replicated: true, fsync: "interval", fsyncIntervalMs: 60_000 });
    await log.append(recs("a"));
    await log.append(recs("b"));
    expect(log.durableEndOffset).toBe(0);
    expect(log.replicaEndOffset).toBe(2);
    expect((await log.readBatches(0)).batches.map((b) => b.baseOffset)).toEqual([0, 1]);
    await log.flush();
    expect(await log.truncateTo(1)).toBe(1);
    expect(log.replicaEndOffset).toBe(1);
    expect((await log.readBatches(0)).batches.map((b) => b.baseOffset)).toEqual([0]);
    await log.close();
  });

  it("retention keeps segments at or above the high watermark", async () => {
    const dir = tempDir();
    const log = await PartitionLog.open({ dir, replicated: true, segmentBytes: 1024, retentionBytes: 0, fsync: "never" });
    for (let i = 0; i < 40; i++) await log.append(recs(`v${i}-${"x".repeat(60)}`));
    await log.enforceRetention();
    expect(log.logStartOffset).toBe(0); // nothing committed: nothing deleted
    log.setHighWatermark(40);
    await log.enforceRetention();
    expect(log.logStartOffset).toBeGreaterThan(0);
    expect(log.logStartOffset).toBeLessThanOrEqual(40);
    await log.close();
  });
});

describe("LogStore with replicated topics", () => {
  it("sets, reads and restores a partition's high watermark; other topics behave as before", async () => {
    const dataDir = tempDir();
    let store = await LogStore.open({ dataDir, highWatermarkCheckpointIntervalMs: 60_000 });
    await store.createTopic("r", { partitions: 2, config: { replicated: true } });
    await store.createTopic("plain", { partitions: 1 });
    await store.append("r", 1, recs("a", "b"));
    await store.append("r", 1, recs("c"));
    await store.append("plain", 0, recs("p"));
    expect(store.describeTopic("r").config).toEqual({ replicated: true });
    expect(store.describeTopic("plain").config).toEqual({});
    expect(store.describeTopic("r").partitions[1]).toMatchObject({ logEndOffset: 3, highWatermark: 0 });
    expect(await store.durableEndOffset("r", 1)).toBe(3);
    expect((await store.read("r", 1, 0)).records).toEqual([]);
    expect((await store.readBatches("r", 1, 0)).nextOffset).toBe(3);
    await store.setHighWatermark("r", 1, 2);
    expect((await store.read("r", 1, 0)).records.map((r) => text(r.value))).toEqual(["a", "b"]);
    await expect(store.setHighWatermark("r", 1, 1)).rejects.toMatchObject({ code: "OFFSET_OUT_OF_RANGE" });
    await expect(store.setHighWatermark("plain", 0, 1)).rejects.toMatchObject({ code: "INVALID_REQUEST" });
    await expect(store.setHighWatermark("r", 2, 0)).rejects.toMatchObject({ code: "UNKNOWN_TOPIC_OR_PARTITION" });
    expect((await store.read("plain", 0, 0)).records).toHaveLength(1);
    await store.close();

    // A clean restart (the shutdown marker): the replicated partitions come back with their high watermark.
    store = await LogStore.open({ dataDir });
    expect(store.describeTopic("r").partitions.map((p) => p.highWatermark)).toEqual([0, 2]);
    expect(store.describeTopic("plain").partitions[0]!.highWatermark).toBe(1);
    expect((await store.read("r", 1, 0)).records.map((r) => text(r.value))).toEqual(["a", "b"]);
    await store.close();
  });

  it("a store-wide replicated default applies to every topic", async () => {
    const store = await LogStore.open({ dataDir: tempDir(), replicated: true });
    await store.createTopic("t", { partitions: 1 });
    await store.append("t", 0, recs("a"));
    expect(store.describeTopic("t").partitions[0]!.highWatermark).toBe(0);
    await store.setHighWatermark("t", 0, 1);
    expect(store.describeTopic("t").partitions[0]!.highWatermark).toBe(1);
    await store.close();
  });

  it("refuses a replicated setting that is not a boolean", async () => {
    const store = await LogStore.open({ dataDir: tempDir() });
    await expect(store.createTopic("t", { partitions: 1, config: { replicated: "yes" as unknown as boolean } })).rejects.toMatchObject({
      code: "INVALID_REQUEST",
    });
    await store.close();
  });
});

describe("the high watermark checkpoint on a simulated disk", () => {
  it("a power loss at any operation of a checkpoint (or of the close writing it) leaves the old or the new value", async () => {
    const dataDir = "/data";
    const options = { dataDir, replicated: true, highWatermarkCheckpointIntervalMs: 2_000_000_000, now: () => 1_700_000_000_000 } as const;
    const setUp = async () => {
      const fs = new CrashFs(random(21));
      fs.mkdirSync(dataDir, { recursive: true });
      fs.syncAll();
      const store = await LogStore.openWith(options, fs);
      await store.createTopic("r", { partitions: 1 });
      for (let i = 0; i < 10; i++) await store.append("r", 0, recs(`v${i}`));
      await store.setHighWatermark("r", 0, 4);
      await store.checkpointHighWatermarks();
      return { fs, store };
    };
    // The operations to crash at: the checkpoint of 8, then the close checkpointing 9.
    const steps = async (store: LogStore) => {
      await store.setHighWatermark("r", 0, 8);
      await store.checkpointHighWatermarks();
      await store.setHighWatermark("r", 0, 9);
      await store.close();
    };
    const counting = await setUp();
    const before = counting.fs.ops;
    await steps(counting.store);
    const total = counting.fs.ops - before;
    expect(total).toBeGreaterThan(4);
    const seen = new Set<number>();
    for (let k = 1; k <= total; k++) {
      const { fs, store } = await setUp();
      fs.crashAt = fs.ops + k;
      await steps(store).catch(() => undefined);
      await store.close().catch(() => undefined);
      expect(fs.poweredOff, `crash at ${k}`).toBe(true);
      for (const seed of [1, 2]) {
        const recovered = await LogStore.openWith(options, fs.afterPowerLoss(random(k * 10 + seed)));
        const p = recovered.describeTopic("r").partitions[0]!;
        expect([4, 8, 9], `crash at ${k} of ${total}, disk ${seed}`).toContain(p.highWatermark);
        expect(p.logEndOffset).toBe(10);
        seen.add(p.highWatermark);
        const { records } = await recovered.read("r", 0, 0, { maxRecords: 100 });
        expect(records.map((r) => text(r.value))).toEqual(Array.from({ length: p.highWatermark }, (_, i) => `v${i}`));
        await recovered.close();
      }
    }
    expect([...seen].sort()).toEqual([4, 8, 9]);
  });

  for (const op of ["truncateTo", "truncateFullyAndStartAt"] as const) {
    it(`after ${op} below a checkpointed high watermark, a power loss never shows the batches appended since as committed`, async () => {
      const dataDir = "/data";
      const options = { dataDir, replicated: true, highWatermarkCheckpointIntervalMs: 2_000_000_000, now: () => 1_700_000_000_000 } as const;
      const fs = new CrashFs(random(31));
      fs.mkdirSync(dataDir, { recursive: true });
      fs.syncAll();
      const store = await LogStore.openWith(options, fs);
      await store.createTopic("r", { partitions: 1 });
      for (let i = 0; i < 10; i++) await store.append("r", 0, recs(`old${i}`));
      await store.setHighWatermark("r", 0, 10);
      await store.checkpointHighWatermarks();
      if (op === "truncateTo") expect(await store.truncateTo("r", 0, 5)).toBe(5);
      else expect(await store.truncateFullyAndStartAt("r", 0, 5)).toBe(5);
      for (let i = 5; i < 10; i++) await store.append("r", 0, recs(`new${i}`), { leaderEpoch: 1 });
      expect(store.describeTopic("r").partitions[0]).toMatchObject({ logEndOffset: 10, highWatermark: 5 });
      // The power fails before any other checkpoint.
      const disk = fs.afterPowerLoss(random(32));
      await store.close().catch(() => undefined);
      const recovered = await LogStore.openWith(options, disk);
      expect(recovered.describeTopic("r").partitions[0]).toMatchObject({ logEndOffset: 10, highWatermark: 5 });
      const from = recovered.describeTopic("r").partitions[0]!.logStartOffset;
      expect((await recovered.read("r", 0, from, { maxRecords: 100 })).records.map((r) => text(r.value))).toEqual(
        op === "truncateTo" ? ["old0", "old1", "old2", "old3", "old4"] : [],
      );
      await recovered.close();
    });
  }
});
