import fs, { readdirSync, statSync } from "node:fs";
import { syncBuiltinESMExports } from "node:module";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir } from "../../../test-support/temp-dir.js";
import { text } from "../test/helpers/text.js";
import { isLogStoreError, type LogStoreErrorCode } from "./errors.js";
import { nodeFileSystem, type FileSystem } from "./file-system.js";
import { PartitionLog } from "./partition-log.js";
import { resolveSettings } from "./settings.js";

async function codeOf(promise: Promise<unknown>): Promise<LogStoreErrorCode | string> {
  try {
    await promise;
  } catch (error) {
    return isLogStoreError(error) ? error.code : String(error);
  }
  return "resolved";
}

const fsyncsOf = (log: PartitionLog): number => (log as unknown as { settings: { metrics: { fsyncs: number } } }).settings.metrics.fsyncs;

const values = (records: { value: Uint8Array | null }[]) => records.map((r) => text(r.value));

describe("PartitionLog", () => {
  it("assigns dense offsets from 0 in call order and reads them back", async () => {
    const log = await PartitionLog.open({ dir: tempDir() });
    const results = await Promise.all([log.append([{ value: "a" }]), log.append([{ value: "b" }, { value: "c" }]), log.append([{ value: "d" }])]);
    expect(results).toEqual([
      { baseOffset: 0, lastOffset: 0 },
      { baseOffset: 1, lastOffset: 2 },
      { baseOffset: 3, lastOffset: 3 },
    ]);
    const read = await log.read(0);
    expect(read.records.map((r) => r.offset)).toEqual([0, 1, 2, 3]);
    expect(values(read.records)).toEqual(["a", "b", "c", "d"]);
    expect(read).toMatchObject({ nextOffset: 4, highWatermark: 4, logStartOffset: 0 });
    expect(await log.read(2, { maxRecords: 1 })).toMatchObject({ nextOffset: 3 });
    expect((await log.read(4)).records).toEqual([]);
    await log.close();
  });

  it("stops a read before a batch that cannot fit its byte budget without reading that batch from the file", async () => {
    const dir = tempDir();
    const log = await PartitionLog.open({ dir, fsync: "never" });
    for (let i = 0; i < 20; i++) await log.append([{ value: Buffer.alloc(100_000, i) }]);
    await log.close();
    let bytesRead = 0;
    const counting: FileSystem = {
      ...nodeFileSystem,
      read: (fd, buf, offset, length, position) => {
        bytesRead += length;
        return nodeFileSystem.read(fd, buf, offset, length, position);
      },
    };
    const again = await PartitionLog.openDir(dir, resolveSettings({}, { fsync: "never" }, undefined, counting));
    bytesRead = 0;
    const read = await again.read(0, { maxBytes: 350_000 });
    expect(read.records.map((r) => r.value![0])).toEqual([0, 1, 2]);
    expect(read.nextOffset).toBe(3);
    // The first chunk (the budget plus an index interval) holds three batches and the head of the fourth,
    // which says it would not fit: nothing more is read (a chunk grown for it was 1.4 MB).
    expect(bytesRead).toBeLessThanOrEqual(350_000 + 4096);
    const next = await again.read(3, { maxBytes: 350_000 });
    expect(next.records.map((r) => r.value![0])).toEqual([3, 4, 5]);
    await again.close();
  });

  it("rolls segments at segmentBytes, names them by base offset and reads across them", async () => {
    const dir = tempDir();
    const log = await PartitionLog.open({ dir, segmentBytes: 1024, indexIntervalBytes: 100 });
    for (let i = 0; i < 100; i++) await log.append([{ key: `k${i}`, value: `value-${i}`.padEnd(40, ".") }]);
    const segments = readdirSync(dir).filter((f) => f.endsWith(".log"));
    expect(segments.length).toBeGreaterThan(5);
    expect(segments[0]).toBe("00000000000000000000.log");
    expect(segments.every((f) => /^\d{20}\.log$/.test(f))).toBe(true);
    // Every offset is readable on its own (index lookups into every segment), and a long read spans them.
    for (let offset = 0; offset < 100; offset++) {
      const { records } = await log.read(offset, { maxRecords: 1 });
      expect(records.map((r) => [r.offset, text(r.key)])).toEqual([[offset, `k${offset}`]]);
    }
    const all = await log.read(0, { maxRecords: 1000 });
    expect(all.records.map((r) => r.offset)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    await log.close();
    // Reopen: same content, appends continue at 100.
    const again = await PartitionLog.open({ dir, segmentBytes: 1024, indexIntervalBytes: 100 });
    expect((await again.read(37, { maxRecords: 3 })).records.map((r) => text(r.key))).toEqual(["k37", "k38", "k39"]);
    expect(await again.append([{ value: "next" }])).toEqual({ baseOffset: 100, lastOffset: 100 });
    await again.close();
  });

  it("rolls without blocking on the old segment's fsync: appends made meanwhile queue, in order, for a new segment created only once the old one is durable", async () => {
    for (const fsync of ["always", "interval"] as const) {
      const dir = tempDir();
      const options = { dir, fsync, fsyncIntervalMs: 1, segmentBytes: 1024, indexIntervalBytes: 100 };
      const log = await PartitionLog.open(options);
      const logFiles = () => readdirSync(dir).filter((f) => f.endsWith(".log"));
      await log.append([{ value: "f".repeat(900) }]);
      await log.flush();
      // The first of these appends rolls; the old segment's fsync runs in the background, so none of them
      // can have been written to a new segment yet, and none blocked the caller.
      const appends = Array.from({ length: 30 }, (_, i) => log.append([{ key: `k${i}`, value: `v${i}`.padEnd(60, ".") }]));
      expect(logFiles()).toEqual(["00000000000000000000.log"]);
      expect(log.logEndOffset).toBe(31);
      expect((await Promise.all(appends)).map((a) => a.baseOffset)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1));
      // Acknowledged means written, under "interval" too: a crash of this process would lose none of them.
      expect(logFiles()).toEqual(["00000000000000000000.log", "00000000000000000001.log"]);
      expect(statSync(join(dir, "00000000000000000001.log")).size).toBeGreaterThan(30 * 60);
      await log.flush();
      expect(log.highWatermark).toBe(31);
      const read = await log.read(1, { maxRecords: 100 });
      expect(read.records.map((r) => [r.offset, text(r.key)])).toEqual(Array.from({ length: 30 }, (_, i) => [i + 1, `k${i}`]));
      // Every offset of the new segment is found through its index, and rolling goes on from there.
      for (let offset = 1; offset <= 30; offset++) expect((await log.read(offset, { maxRecords: 1 })).records[0]!.offset).toBe(offset);
      for (let i = 0; i < 20; i++) {
        await log.append([{ value: "x".repeat(200) }]);
        await log.flush(); // under "interval", lets each roll finish before the next append
      }
      expect(logFiles().length).toBeGreaterThan(4);
      await log.close();
      const again = await PartitionLog.open(options);
      expect(again.logEndOffset).toBe(51);
      expect((await again.read(0, { maxRecords: 100 })).records.map((r) => r.offset)).toEqual(Array.from({ length: 51 }, (_, i) => i));
      await again.close();
    }
  });

  it("close() during a roll writes and flushes what was appended meanwhile", async () => {
    const dir = tempDir();
    const log = await PartitionLog.open({ dir, fsync: "interval", segmentBytes: 1024 });
    await log.append([{ value: "f".repeat(900) }]);
    const appends = Array.from({ length: 10 }, (_, i) => log.append([{ value: `late-${i}` }]));
    await log.close(); // the roll is still fsyncing the old segment here
    await Promise.all(appends);
    const again = await PartitionLog.open({ dir, segmentBytes: 1024 });
    expect(values((await again.read(1)).records)).toEqual(Array.from({ length: 10 }, (_, i) => `late-${i}`));
    await again.close();
  });

  it("refuses writes with KAFKA_STORAGE_ERROR when the old segment's fsync fails during a roll, and keeps what was durable", async () => {
    for (const fsync of ["always", "interval"] as const) {
      const dir = tempDir();
      const log = await PartitionLog.open({ dir, fsync, segmentBytes: 1024 });
      await log.append([{ value: "f".repeat(900) }]);
      const fdatasync = fs.fdatasync;
      fs.fdatasync = ((_fd: number, callback: (error: Error | null) => void) =>
        callback(Object.assign(new Error("EIO: i/o error, fdatasync"), { code: "EIO" }))) as typeof fs.fdatasync;
      syncBuiltinESMExports();
      try {
        const appends = [log.append([{ value: "a" }]), log.append([{ value: "b" }])];
        expect(await Promise.all(appends.map(codeOf))).toEqual(["KAFKA_STORAGE_ERROR", "KAFKA_STORAGE_ERROR"]);
      } finally {
        fs.fdatasync = fdatasync;
        syncBuiltinESMExports();
      }
      expect(await codeOf(log.append([{ value: "c" }]))).toBe("KAFKA_STORAGE_ERROR");
      expect(readdirSync(dir).filter((f) => f.endsWith(".log"))).toEqual(["00000000000000000000.log"]);
      await log.close();
      const again = await PartitionLog.open({ dir, segmentBytes: 1024 });
      expect(again.logEndOffset).toBe(1);
      expect(await again.append([{ value: "d" }])).toEqual({ baseOffset: 1, lastOffset: 1 });
      await again.close();
    }
  });

  it("bounds reads by maxBytes but always returns at least one record", async () => {
    const log = await PartitionLog.open({ dir: tempDir() });
    for (let i = 0; i < 10; i++) await log.append([{ value: "x".repeat(1000) }]);
    const one = await log.read(0, { maxBytes: 10 });
    expect(one.records.map((r) => r.offset)).toEqual([0]);
    const some = await log.read(0, { maxBytes: 3500 });
    expect(some.records.map((r) => r.offset)).toEqual([0, 1, 2]);
    await log.close();
  });

  it("reads across many chunks of one segment, including a batch larger than the first chunk", async () => {
    const log = await PartitionLog.open({ dir: tempDir() });
    await log.append([{ value: "small" }]);
    await log.append([{ value: "L".repeat(200_000) }]);
    for (let i = 0; i < 50; i++) await log.append(Array.from({ length: 20 }, (_, k) => ({ value: `${i}:${k}:${"p".repeat(90)}` })));
    const big = await log.read(1, { maxRecords: 1 });
    expect(big.records.map((r) => [r.offset, r.value!.length])).toEqual([[1, 200_000]]);
    const all = await log.read(0, { maxRecords: 10_000, maxBytes: 10_000_000 });
    expect(all.records.map((r) => r.offset)).toEqual(Array.from({ length: 1002 }, (_, i) => i));
    expect(text(all.records[1001]!.value)).toBe(`49:19:${"p".repeat(90)}`);
    // A fetch bounded by bytes stops at a batch boundary after the budget is reached.
    const bounded = await log.read(2, { maxBytes: 5000 });
    expect(bounded.records.length % 20).toBe(0);
    expect(bounded.records.length).toBeGreaterThan(0);
    expect(bounded.nextOffset).toBe(2 + bounded.records.length);
    await log.close();
  });

  it("rejects reads outside [logStartOffset, highWatermark] and bad limits", async () => {
    const log = await PartitionLog.open({ dir: tempDir() });
    await log.append([{ value: "a" }]);
    expect(await codeOf(log.read(2))).toBe("OFFSET_OUT_OF_RANGE");
    expect(await codeOf(log.read(-1))).toBe("OFFSET_OUT_OF_RANGE");
    expect(await codeOf(log.read(0.5))).toBe("OFFSET_OUT_OF_RANGE");
    expect(await codeOf(log.read(0, { maxRecords: 0 }))).toBe("INVALID_REQUEST");
    expect(await codeOf(log.read(0, { maxBytes: -5 }))).toBe("INVALID_REQUEST");
    expect(await codeOf(log.append([]))).toBe("INVALID_RECORD");
    expect(log.logEndOffset).toBe(1); // the rejected append wrote nothing
    await log.close();
    expect(await codeOf(log.append([{ value: "late" }]))).toBe("STORE_CLOSED");
    expect(await codeOf(log.read(0))).toBe("STORE_CLOSED");
  });

  it("group-commits concurrent appends under fsync: always", async () => {
    const log = await PartitionLog.open({ dir: tempDir() });
    const before = log.describe();
    const acks = await Promise.all(Array.from({ length: 200 }, (_, i) => log.append([{ value: String(i) }])));
    expect(acks.map((a) => a.baseOffset)).toEqual(Array.from({ length: 200 }, (_, i) => i));
    expect(before.highWatermark).toBe(0);
    // 200 appends in one tick share one fsync.
    expect(fsyncsOf(log)).toBe(1);
    expect(log.highWatermark).toBe(200);
    await log.close();
  });

  it("lets producers woken by one fsync round share the next", async () => {
    const log = await PartitionLog.open({ dir: tempDir() });
    const producers = 32;
    const rounds = 20;
    await Promise.all(
      Array.from({ length: producers }, async (_, id) => {
        for (let i = 0; i < rounds; i++) await log.append([{ value: `${id}:${i}` }]);
      }),
    );
    // Each producer waits for its previous append, so there are at least `rounds` fsyncs; group commit
    // means not many more (without it: one per append, 640).
    expect(fsyncsOf(log)).toBe(rounds);
    expect(log.logEndOffset).toBe(producers * rounds);
    await log.close();
  });

  it("under fsync: interval, acknowledges at once but only exposes records after the periodic fsync", async () => {
    const log = await PartitionLog.open({ dir: tempDir(), fsync: "interval", fsyncIntervalMs: 20 });
    expect(await log.append([{ value: "a" }])).toEqual({ baseOffset: 0, lastOffset: 0 });
    expect(log.logEndOffset).toBe(1);
    expect(log.highWatermark).toBe(0);
    expect((await log.read(0)).records).toEqual([]);
    expect(await log.waitForData(0, { timeoutMs: 5000 })).toBe(true);
    expect(log.highWatermark).toBe(1);
    expect(values((await log.read(0)).records)).toEqual(["a"]);
    await log.close();
  });

  it("under fsync: never, exposes records as soon as they are written", async () => {
    const dir = tempDir();
    const log = await PartitionLog.open({ dir, fsync: "never", segmentBytes: 1024 });
    for (let i = 0; i < 50; i++) await log.append([{ value: "v".repeat(50) }]);
    expect(log.highWatermark).toBe(50);
    await log.close(); // flushes everything, old segments included
    const again = await PartitionLog.open({ dir, fsync: "never", segmentBytes: 1024 });
    expect(again.highWatermark).toBe(50);
    await again.close();
  });

  it("waitForData wakes on append, times out with false and rejects on abort", async () => {
    const log = await PartitionLog.open({ dir: tempDir() });
    const waiting = log.waitForData(0, { timeoutMs: 60_000 });
    await log.append([{ value: "wake" }]);
    expect(await waiting).toBe(true);
    expect(await log.waitForData(0, { timeoutMs: 0 })).toBe(true);
    expect(await log.waitForData(1, { timeoutMs: 10 })).toBe(false);
    const controller = new AbortController();
    const aborted = log.waitForData(1, { timeoutMs: 60_000, signal: controller.signal });
    controller.abort(new Error("client went away"));
    await expect(aborted).rejects.toThrow("client went away");
    expect(await codeOf(log.waitForData(1, { timeoutMs: -1 }))).toBe("INVALID_REQUEST");
    const pending = log.waitForData(5, { timeoutMs: 60_000 });
    await log.close();
    expect(await pending).toBe(false);
  });

  it("deletes whole old segments by size and moves logStartOffset", async () => {
    const dir = tempDir();
    const log = await PartitionLog.open({ dir, segmentBytes: 1024, retentionBytes: 2048 });
    for (let i = 0; i < 60; i++) await log.append([{ value: "r".repeat(60) }]);
    await log.enforceRetention();
    const { logStartOffset, sizeBytes } = log.describe();
    expect(logStartOffset).toBeGreaterThan(0);
    expect(sizeBytes).toBeLessThan(2048 + 1024);
    expect(readdirSync(dir).filter((f) => f.endsWith(".log"))[0]).toBe(`${String(logStartOffset).padStart(20, "0")}.log`);
    expect(await codeOf(log.read(0))).toBe("OFFSET_OUT_OF_RANGE");
    const rest = await log.read(logStartOffset, { maxRecords: 1000 });
    expect(rest.records.map((r) => r.offset)).toEqual(Array.from({ length: 60 - logStartOffset }, (_, i) => logStartOffset + i));
    await log.close();
  });

  it("deletes old segments by time, never the active one", async () => {
    let now = 1_000_000;
    const dir = tempDir();
    const log = await PartitionLog.open({ dir, segmentBytes: 1024, retentionMs: 60_000, now: () => now });
    for (let i = 0; i < 30; i++) await log.append([{ value: "t".repeat(60) }]);
    now += 30_000;
    for (let i = 0; i < 30; i++) await log.append([{ value: "t".repeat(60) }]);
    const segmentsBefore = readdirSync(dir).filter((f) => f.endsWith(".log")).length;
    now += 45_000; // the first 30 records are now 75 s old, the others 45 s
    await log.enforceRetention();
    const start = log.logStartOffset;
    expect(start).toBeGreaterThan(0);
    expect(start).toBeLessThanOrEqual(30);
    now += 10 * 60_000; // everything expired: only the active segment survives
    await log.enforceRetention();
    const files = readdirSync(dir).filter((f) => f.endsWith(".log"));
    expect(files).toHaveLength(1);
    expect(segmentsBefore).toBeGreaterThan(2);
    expect(log.logEndOffset).toBe(60);
    await log.close();
    // Retention survives a reopen (segments were deleted, not hidden).
    const again = await PartitionLog.open({ dir, segmentBytes: 1024 });
    expect(again.logStartOffset).toBe(log.logStartOffset);
    expect(again.logEndOffset).toBe(60);
    await again.close();
  });

  it("locks its directory against a second opener", async () => {
    const dir = tempDir();
    const log = await PartitionLog.open({ dir });
    expect(await codeOf(PartitionLog.open({ dir }))).toBe("DATA_DIR_LOCKED");
    await log.close();
    const again = await PartitionLog.open({ dir });
    await again.close();
  });

  it("validates its options", async () => {
    expect(await codeOf(PartitionLog.open({ dir: "" }))).toBe("INVALID_REQUEST");
    expect(await codeOf(PartitionLog.open({ dir: tempDir(), fsync: "sometimes" as never }))).toBe("INVALID_REQUEST");
    expect(await codeOf(PartitionLog.open({ dir: tempDir(), segmentBytes: 10 }))).toBe("INVALID_REQUEST");
    expect(await codeOf(PartitionLog.open({ dir: tempDir(), retentionMs: -1 }))).toBe("INVALID_REQUEST");
  });
});
