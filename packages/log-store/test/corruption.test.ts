// Damage to an older (sealed) segment, byte by byte: every read across it either returns the intact
// records before the damage and then fails with CORRUPT_RECORD at the damaged batch, or never touches it.
// Never a gap, never a renumbered record. Real files, no mocks.
import { readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { LogStore, PartitionLog, isLogStoreError, type StoredRecord } from "../src/index.js";
import { tempDir } from "../../../test-support/temp-dir.js";
import { text } from "./helpers/text.js";

const FIRST = "00000000000000000000.log";
const HEADER = 61;
const OPTIONS = { segmentBytes: 2048, indexIntervalBytes: 300, fsync: "never" } as const;

interface Batch {
  position: number;
  size: number;
  baseOffset: number;
  lastOffset: number;
}

/** The batches of an intact segment image, walked by their length fields. */
function batchesOf(image: Buffer): Batch[] {
  const out: Batch[] = [];
  for (let pos = 0; pos < image.length;) {
    const size = 12 + image.readInt32BE(pos + 8);
    const baseOffset = Number(image.readBigInt64BE(pos));
    out.push({ position: pos, size, baseOffset, lastOffset: baseOffset + image.readInt32BE(pos + 23) });
    pos += size;
  }
  return out;
}

const valueOf = (offset: number): string => `value-${offset}`.padEnd(40, ".");

/** A log of several segments, batches of 1 to 4 records; returns its files and the first segment's batches. */
async function build(dir: string): Promise<{
  files: Map<string, Buffer>;
  batches: Batch[];
  secondBase: number;
  thirdBase: number;
}> {
  const log = await PartitionLog.open({ dir, ...OPTIONS });
  for (let b = 0; log.logEndOffset < 150; b++) {
    const base = log.logEndOffset;
    await log.append(Array.from({ length: 1 + (b % 4) }, (_, k) => ({ key: `k${b}`, value: valueOf(base + k) })));
  }
  await log.close();
  const files = new Map(readdirSync(dir).map((name) => [name, readFileSync(join(dir, name))]));
  const segments = [...files.keys()].filter((n) => n.endsWith(".log")).sort();
  expect(segments.length).toBeGreaterThanOrEqual(3);
  const [secondBase, thirdBase] = [1, 2].map((i) => Number(segments[i]!.slice(0, 20))) as [number, number];
  return { files, batches: batchesOf(files.get(FIRST)!), secondBase, thirdBase };
}

function restore(dir: string, files: Map<string, Buffer>): void {
  for (const name of readdirSync(dir)) if (!files.has(name)) rmSync(join(dir, name), { recursive: true, force: true });
  for (const [name, bytes] of files) writeFileSync(join(dir, name), bytes);
}

/** Reads from `start` following `nextOffset` until `until` (default: the high watermark) or an error. */
async function readAcross(log: PartitionLog, start: number, until = log.highWatermark): Promise<{ records: StoredRecord[]; error?: unknown }> {
  const records: StoredRecord[] = [];
  let next = start;
  try {
    while (next < until) {
      const result = await log.read(next, { maxRecords: 9 });
      if (result.records.length === 0) throw new Error(`read from ${next} returned nothing below the high watermark`);
      records.push(...result.records);
      if (result.nextOffset !== records.at(-1)!.offset + 1) throw new Error(`nextOffset ${result.nextOffset} after offset ${records.at(-1)!.offset}`);
      next = result.nextOffset;
    }
  } catch (error) {
    return { records, error };
  }
  return { records };
}

/**
 * Damages byte `at` of `target` (xor `mask`) in the sealed first segment, reopens, reads from several
 * starts and checks every outcome exactly.
 */
async function sweepCase(dir: string, built: Awaited<ReturnType<typeof build>>, target: Batch, at: number, mask: number): Promise<void> {
  const image = Buffer.from(built.files.get(FIRST)!);
  image[target.position + at]! ^= mask;
  writeFileSync(join(dir, FIRST), image);
  const what = `byte ${at} of the batch at ${target.position} (offsets ${target.baseOffset}-${target.lastOffset}) ^ 0x${mask.toString(16)}`;
  const log = await PartitionLog.open({ dir, ...OPTIONS });
  try {
    const starts = new Set([0, Math.max(0, target.baseOffset - 3), target.baseOffset, target.lastOffset, target.lastOffset + 1]);
    starts.add(built.secondBase + 1);
    // Far enough to cross into the third segment: past the damaged one and the boundary after it.
    const until = built.thirdBase + 5;
    for (const start of starts) {
      const { records, error } = await readAcross(log, start, until);
      const where = `${what}, reading from ${start}`;
      // Whatever came back is exactly the log from `start` on, densely numbered, with the right values
      // (compared by hand: an expect() per record would dominate the run time).
      const wrong = records.findIndex((record, i) => record.offset !== start + i || text(record.value) !== valueOf(start + i));
      if (wrong >= 0) expect([records[wrong]!.offset, text(records[wrong]!.value)], where).toEqual([start + wrong, valueOf(start + wrong)]);
      if (start <= target.lastOffset) {
        // The read had to cross the damage: it must fail there, after the records before it at most.
        expect(error, where).toBeDefined();
        expect(records.length, where).toBeLessThanOrEqual(Math.max(0, target.baseOffset - start));
      }
      if (error === undefined) {
        expect(start + records.length, where).toBeGreaterThanOrEqual(until);
        continue;
      }
      expect(isLogStoreError(error) && error.code, `${where}: ${String(error)}`).toBe("CORRUPT_RECORD");
      expect((error as Error).message, where).toContain(
        `corrupt batch in ${join(dir, FIRST)} at byte ${target.position} (offset ${target.baseOffset})`,
      );
    }
  } finally {
    await log.close();
    restore(dir, built.files);
  }
}

describe("damage to an older segment", () => {
  it("every header byte and a sample of body bytes of a batch, read from several offsets: records up to the damage, then CORRUPT_RECORD, never a gap", async () => {
    const dir = tempDir();
    const built = await build(dir);
    const { batches } = built;
    // The first batch of the segment, one in the middle (which the index may point at), and the last.
    const targets = [batches[0]!, batches[Math.floor(batches.length / 2)]!, batches.at(-1)!];
    let cases = 0;
    for (const target of targets) {
      for (let at = 0; at < HEADER; at++) {
        for (const mask of [0x01, 0x80, 0xff]) {
          await sweepCase(dir, built, target, at, mask);
          cases++;
        }
      }
      for (let at = HEADER; at < target.size; at += 7) {
        await sweepCase(dir, built, target, at, 0x01);
        cases++;
      }
    }
    expect(cases).toBeGreaterThan(3 * HEADER * 3);
  }, 120_000);

  it("a base offset turned into the next batch's (the reported silent gap) fails the read from 0 at that batch", async () => {
    const dir = tempDir();
    const built = await build(dir);
    const target = built.batches[3]!;
    const image = Buffer.from(built.files.get(FIRST)!);
    image.writeBigInt64BE(BigInt(target.lastOffset + 1), target.position); // skips the batch's records
    writeFileSync(join(dir, FIRST), image);
    const log = await PartitionLog.open({ dir, ...OPTIONS });
    const first = await log.read(0, { maxRecords: 1000 });
    expect(first.records.map((r) => r.offset)).toEqual(Array.from({ length: target.baseOffset }, (_, i) => i));
    expect(first.nextOffset).toBe(target.baseOffset);
    const error = await log.read(first.nextOffset).catch((e: unknown) => e);
    expect(isLogStoreError(error) && error.code).toBe("CORRUPT_RECORD");
    expect((error as Error).message).toContain(`at byte ${target.position} (offset ${target.baseOffset})`);
    expect((error as Error).message).toContain(`batch base offset ${target.lastOffset + 1}, expected ${target.baseOffset}`);
    await log.close();
  });

  it("a sealed segment that lost its last batch fails the read that reaches its end instead of stalling", async () => {
    const dir = tempDir();
    const built = await build(dir);
    const last = built.batches.at(-1)!;
    writeFileSync(join(dir, FIRST), built.files.get(FIRST)!.subarray(0, last.position));
    const log = await PartitionLog.open({ dir, ...OPTIONS });
    const { records, error } = await readAcross(log, 0);
    expect(records.map((r) => r.offset)).toEqual(Array.from({ length: last.baseOffset }, (_, i) => i));
    expect(isLogStoreError(error) && error.code).toBe("CORRUPT_RECORD");
    expect((error as Error).message).toContain(`at byte ${last.position} (offset ${last.baseOffset})`);
    // Offsets in later segments are still served.
    expect((await log.read(built.secondBase)).records[0]!.offset).toBe(built.secondBase);
    await log.close();
  });

  it("the recovery scan of a sealed segment without its index checks the same, and names the damaged batch", async () => {
    const dir = tempDir();
    const built = await build(dir);
    const target = built.batches[2]!;
    for (const at of [0, 7, 8, 11, 12, 16, 17, 30]) {
      const image = Buffer.from(built.files.get(FIRST)!);
      image[target.position + at]! ^= 0x01;
      writeFileSync(join(dir, FIRST), image);
      rmSync(join(dir, FIRST.replace(".log", ".index")));
      const error = await PartitionLog.open({ dir, ...OPTIONS }).catch((e: unknown) => e);
      expect(isLogStoreError(error) && error.code, `byte ${at}`).toBe("CORRUPT_RECORD");
      expect((error as Error).message, `byte ${at}`).toContain(`at byte ${target.position} (offset ${target.baseOffset})`);
      restore(dir, built.files);
    }
    // Without the last batch the scan ends short of the next segment's base offset.
    writeFileSync(join(dir, FIRST), built.files.get(FIRST)!.subarray(0, built.batches.at(-1)!.position));
    rmSync(join(dir, FIRST.replace(".log", ".index")));
    const error = await PartitionLog.open({ dir, ...OPTIONS }).catch((e: unknown) => e);
    expect(isLogStoreError(error) && error.code).toBe("CORRUPT_RECORD");
    expect((error as Error).message).toContain(`(offset ${built.batches.at(-1)!.baseOffset})`);
  });

  it("names the topic, partition, segment file, byte position and offset when read through a store", async () => {
    const dataDir = tempDir();
    const store = await LogStore.open({ dataDir, ...OPTIONS });
    await store.createTopic("orders", { partitions: 2 });
    for (let i = 0; i < 120; i++) await store.append("orders", 1, [{ value: valueOf(i) }]);
    await store.close();
    const file = join(dataDir, "orders", "1", FIRST);
    const image = readFileSync(file);
    const target = batchesOf(image)[5]!;
    image[target.position + 3]! ^= 0x40; // a high byte of the base offset
    writeFileSync(file, image);
    const again = await LogStore.open({ dataDir, ...OPTIONS });
    const first = await again.read("orders", 1, 0, { maxRecords: 100 });
    expect(first.records.map((r) => r.offset)).toEqual([0, 1, 2, 3, 4]);
    const error = await again.read("orders", 1, first.nextOffset).catch((e: unknown) => e);
    expect(isLogStoreError(error) && error.code).toBe("CORRUPT_RECORD");
    expect((error as Error).message).toMatch(
      new RegExp(
        `^topic "orders" partition 1: corrupt batch in ${file.replace(/[.]/g, "\\.")} at byte ${target.position} \\(offset 5\\): batch base offset \\d+, expected 5$`,
      ),
    );
    await again.close();
  });
});
