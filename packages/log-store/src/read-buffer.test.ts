import { describe, expect, it } from "vitest";
import { tempDir } from "../../../test-support/temp-dir.js";
import { LogStore } from "./log-store.js";

/** One batch of `n` records of 1,000 bytes, record i filled with byte `(seed + i) & 0xff`. */
const batch = (n: number, seed: number) => Array.from({ length: n }, (_, i) => ({ value: Buffer.alloc(1000, (seed + i) & 0xff) }));

describe("LogStore.read readBuffer", () => {
  it("reads the file into the caller's buffers (values are views into them) and keeps no view of them for the next read", async () => {
    const dataDir = tempDir();
    const first = await LogStore.open({ dataDir, fsync: "never" });
    await first.createTopic("t", { partitions: 1 });
    await first.append("t", 0, batch(100, 0)); // one batch of ~100 KB
    await first.append("t", 0, batch(100, 100));
    await first.close();
    const store = await LogStore.open({ dataDir, fsync: "never" }); // every byte in the file now
    try {
      const given: Buffer[] = [];
      const readBuffer = (size: number) => {
        const b = Buffer.allocUnsafe(size); // exactly the size asked for: the batch is most of it
        given.push(b);
        return b;
      };
      // Ten records of the first batch: the read stops inside it, and log-store keeps the batch for the next read.
      const head = await store.read("t", 0, 0, { maxRecords: 10, maxBytes: 150_000, readBuffer });
      expect(head.records.map((r) => r.value![0])).toEqual(Array.from({ length: 10 }, (_, i) => i));
      expect(given.length).toBeGreaterThan(0);
      expect(head.records.every((r) => given.some((b) => b.buffer === r.value!.buffer))).toBe(true);
      for (const b of given) b.fill(0xee); // the caller reuses its buffers
      // The rest of the batch (from the batch kept) and the next: intact.
      const rest = await store.read("t", 0, 10, { maxRecords: 190, maxBytes: 1 << 20 });
      expect(rest.records.map((r) => r.value![0])).toEqual(Array.from({ length: 190 }, (_, i) => (10 + i) & 0xff));
      expect(rest.records.every((r) => r.value!.every((byte) => byte === r.value![0]))).toBe(true);
      // A buffer too small, or none given: a new one.
      const fresh = await store.read("t", 0, 0, { maxRecords: 5, readBuffer: () => Buffer.alloc(10) });
      expect(fresh.records.map((r) => r.value![999])).toEqual([0, 1, 2, 3, 4]);
      const none = await store.read("t", 0, 150, { readBuffer: () => undefined });
      expect(none.records.map((r) => r.value![0])).toEqual(Array.from({ length: 50 }, (_, i) => 150 + i));
    } finally {
      await store.close();
    }
  });
});
