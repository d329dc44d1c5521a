// The replica-side primitives of the log (issue 18's data path): raw batch reads (what a leader serves a
// follower), follower appends of those bytes, and truncation to a divergence point. Real files.
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir } from "../../../test-support/temp-dir.js";
import { isLogStoreError, LogStore, PartitionLog } from "../src/index.js";

const recs = (...values: string[]) => values.map((value) => ({ value }));
const codeOf = (error: unknown) => (isLogStoreError(error) ? error.code : String(error));
const FIRST = "00000000000000000000.log";

/** A leader log of several segments and epochs: batches of 1–3 records, epochs 0, 2 and 5. */
async function leaderLog(dir: string, options: { fsync?: "always" | "never" } = {}): Promise<PartitionLog> {
  const log = await PartitionLog.open({ dir, segmentBytes: 1024, indexIntervalBytes: 100, ...options });
  for (let b = 0; b < 30; b++) {
    const base = log.logEndOffset;
    const values = Array.from({ length: 1 + (b % 3) }, (_, k) => `v${base + k}-${"x".repeat(40)}`);
    await log.append(recs(...values), { leaderEpoch: b < 10 ? 0 : b < 20 ? 2 : 5 });
  }
  return log;
}

describe("readBatches", () => {
  it("returns the stored bytes of whole batches with their offsets and epochs, across segments, from the batch holding the offset", async () => {
    const dir = tempDir();
    const log = await leaderLog(dir, { fsync: "never" });
    const all = await log.readBatches(0, { maxBytes: 1 << 20 });
    expect(all.nextOffset).toBe(log.logEndOffset);
    expect(all.highWatermark).toBe(log.logEndOffset);
    expect(all.logStartOffset).toBe(0);
    expect(all.batches).toHaveLength(30);
    expect(all.batches.map((b) => b.leaderEpoch)).toEqual([...Array(10).fill(0), ...Array(10).fill(2), ...Array(10).fill(5)]);
    // Dense and continuous, and byte for byte the segment files one after another.
    all.batches.forEach((b, i) => expect(b.baseOffset).toBe(i === 0 ? 0 : all.batches[i - 1]!.lastOffset + 1));
    const files = readdirSync(dir)
      .filter((n) => n.endsWith(".log"))
      .sort();
    expect(files.length).toBeGreaterThan(2);
    expect(all.bytes.equals(Buffer.concat(files.map((n) => readFileSync(join(dir, n)))))).toBe(true);
    expect(all.bytes.readInt32BE(12)).toBe(0);

    // From an offset inside a batch: that whole batch first.
    const inner = all.batches.find((b) => b.lastOffset > b.baseOffset + 1)!;
    const mid = await log.readBatches(inner.baseOffset + 1, { maxBytes: 1 });
    expect(mid.batches).toEqual([inner]); // at least one batch, even over maxBytes
    expect(mid.nextOffset).toBe(inner.lastOffset + 1);
    expect(Number(mid.bytes.readBigInt64BE(0))).toBe(inner.baseOffset);

    // A byte budget: whole batches within it.
    const some = await log.readBatches(0, { maxBytes: 500 });
    expect(some.bytes.length).toBeLessThanOrEqual(500);
    expect(some.batches.length).toBeGreaterThan(1);
    expect(some.nextOffset).toBe(some.batches.at(-1)!.lastOffset + 1);

    // At the end: nothing; outside: OFFSET_OUT_OF_RANGE; a bad limit: INVALID_REQUEST.
    const end = await log.readBatches(log.logEndOffset);
    expect([end.batches, end.bytes.length, end.nextOffset]).toEqual([[], 0, log.logEndOffset]);
    expect(codeOf(await log.readBatches(log.logEndOffset + 1).catch((e: unknown) => e))).toBe("OFFSET_OUT_OF_RANGE");
    expect(codeOf(await log.readBatches(-1).catch((e: unknown) => e))).toBe("OFFSET_OUT_OF_RANGE");
    expect(codeOf(await log.readBatches(0, { maxBytes: 0 }).catch((e: unknown) => e))).toBe("INVALID_REQUEST");
    await log.close();
  });

  it("checks what it hands out: a damaged batch (checksum or epoch) ends the read after the intact ones, then fails with CORRUPT_RECORD", async () => {
    const dir = tempDir();
    let log = await leaderLog(dir, { fsync: "never" });
    const { batches } = await log.readBatches(0, { maxBytes: 1 << 20 });
    await log.close();
    const image = readFileSync(join(dir, FIRST));
    let position = 0;
    for (let i = 0; i < 3; i++) position += 12 + image.readInt32BE(position + 8);
    for (const at of [12 + 3, 40]) {
      // The fourth batch of the first (sealed) segment: its epoch field, then a checksummed byte.
      const damaged = Buffer.from(image);
      damaged[position + at]! ^= 0x01;
      writeFileSync(join(dir, FIRST), damaged);
      log = await PartitionLog.open({ dir, segmentBytes: 1024, fsync: "never" });
      const first = await log.readBatches(0, { maxBytes: 1 << 20 });
      expect(first.batches).toEqual(batches.slice(0, 3));
      const error = await log.readBatches(first.nextOffset).catch((e: unknown) => e);
      expect(codeOf(error), `byte ${at}`).toBe("CORRUPT_RECORD");
      expect((error as Error).message).toContain(`at byte ${position} (offset ${batches[3]!.baseOffset})`);
      await log.close();
    }
    writeFileSync(join(dir, FIRST), image);
  });

  it("through a LogStore, only below the high watermark", async () => {
    const store = await LogStore.open({ dataDir: tempDir(), fsync: "interval", fsyncIntervalMs: 20 });
    await store.createTopic("t", { partitions: 1 });
    await store.append("t", 0, recs("a", "b"), { leaderEpoch: 3 });
    // Written, not yet fsynced under "interval": not readable, not served to followers either.
    const before = await store.readBatches("t", 0, 0);
    expect([before.batches, before.highWatermark]).toEqual([[], 0]);
    expect(await store.waitForData("t", 0, 0, { timeoutMs: 10_000 })).toBe(true); // the periodic fsync ran
    const after = await store.readBatches("t", 0, 0);
    expect(after.batches).toEqual([{ baseOffset: 0, lastOffset: 1, leaderEpoch: 3 }]);
    expect(codeOf(await store.readBatches("t", 1, 0).catch((e: unknown) => e))).toBe("UNKNOWN_TOPIC_OR_PARTITION");
    await store.close();
  });
});
