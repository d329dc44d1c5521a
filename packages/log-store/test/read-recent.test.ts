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
    const fs: FileSystem = { ...nodeFileSystem, read: (...args) => (reads++, nodeFileSystem.read(...args)) };
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
