// One record at a time out of large batches (what a consumer polling one message does): after the first
// read of a batch, the next reads inside it come from the batch kept in memory, not from the file.
import { describe, expect, it } from "vitest";
import { tempDir } from "../../../test-support/temp-dir.js";
import { nodeFileSystem, type FileSystem } from "../src/file-system.js";
import { LogStore } from "../src/index.js";
import { text } from "./helpers/text.js";

describe("reading inside a large batch", () => {
  it("reads each batch from the file once when a consumer takes one record per read", async () => {
    let reads = 0;
    const fs: FileSystem = {
      ...nodeFileSystem,
      read: (...args) => (reads++, nodeFileSystem.read(...args)),
      readSync: (...args) => (reads++, nodeFileSystem.readSync!(...args)),
    };
    const store = await LogStore.openWith({ dataDir: tempDir(), retentionCheckIntervalMs: 0 }, fs);
    await store.createTopic("t", { partitions: 1 });
    const value = "v".repeat(100);
    for (let b = 0; b < 3; b++)
      await store.append(
        "t",
        0,
        Array.from({ length: 500 }, (_, i) => ({ value: `${b * 500 + i}:${value}` })),
      );
    reads = 0;
    for (let offset = 0; offset < 1500; offset++) {
      const { records } = await store.read("t", 0, offset, { maxRecords: 1 });
      expect(records.map((r) => [r.offset, text(r.value)])).toEqual([[offset, `${offset}:${value}`]]);
    }
    // Without the kept batch: a read (or two) per record, 1,500 or more.
    expect(reads).toBeLessThanOrEqual(3 * 2);
    // Larger reads that start inside a kept batch continue into the next one from the file.
    const { records } = await store.read("t", 0, 499, { maxRecords: 3 });
    expect(records.map((r) => r.offset)).toEqual([499, 500, 501]);
    await store.close();
  });
});

describe("reading what this process just wrote", () => {
  it("reads the end of the segment synchronously, older data and data of an earlier process through the thread pool", async () => {
    const counts = { read: 0, readSync: 0 };
    const fs: FileSystem = {
      ...nodeFileSystem,
      read: (...args) => (counts.read++, nodeFileSystem.read(...args)),
      readSync: (...args) => (counts.readSync++, nodeFileSystem.readSync!(...args)),
    };
    const dataDir = tempDir();
    const open = () => LogStore.openWith({ dataDir, retentionCheckIntervalMs: 0, fsync: "never" }, fs);
    // 60 batches of 50 records of 500 bytes: ~1.5 MiB, more than the 1 MiB window of synchronous reads.
    const batch = (b: number) => Array.from({ length: 50 }, (_, i) => ({ value: `${b * 50 + i}:`.padEnd(500, "x") }));
    let store = await open();
    await store.createTopic("t", { partitions: 1 });
    for (let b = 0; b < 60; b++) await store.append("t", 0, batch(b));
    const readBatch = async (b: number) => {
      counts.read = counts.readSync = 0;
      const { records } = await store.read("t", 0, b * 50, { maxRecords: 50 });
      expect(records.map((r) => text(r.value))).toEqual(batch(b).map((r) => r.value));
      return { ...counts };
    };
    expect(await readBatch(59)).toEqual({ read: 0, readSync: 1 });
    expect(await readBatch(58)).toEqual({ read: 0, readSync: 1 });
    expect(await readBatch(0)).toEqual({ read: 1, readSync: 0 });
    await store.close();
    // After a restart the file's bytes were written by another process (maybe long ago): not in the cache for sure.
    store = await open();
    expect(await readBatch(59)).toEqual({ read: 1, readSync: 0 });
    await store.append("t", 0, batch(60));
    expect(await readBatch(60)).toEqual({ read: 0, readSync: 1 });
    await store.close();
  });
});
