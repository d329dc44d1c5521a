// truncateFullyAndStartAt (issue 18): a follower entirely behind, or diverged below, its leader's log start
// empties its log and restarts it at that start. Real files, and the simulated disk with the power failing at
// every file operation of the reset.
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir } from "../../../test-support/temp-dir.js";
import { LogStore, PartitionLog } from "../src/index.js";
import { encodeBatch } from "../src/record-batch.js";
import { CrashFs, random } from "./helpers/crash-fs.js";
import { text } from "./helpers/text.js";

const recs = (...values: string[]) => values.map((value) => ({ value }));
const NOW = 1_700_000_000_000;

async function values(
  read: (offset: number) => Promise<{ records: Array<{ offset: number; value: Uint8Array | null }>; nextOffset: number }>,
  from: number,
  to: number,
) {
  const out: Array<[number, string]> = [];
  for (let offset = from; offset < to;) {
    const { records, nextOffset } = await read(offset);
    for (const r of records) out.push([r.offset, text(r.value)!]);
    offset = nextOffset;
  }
  return out;
}

/** A log of several segments, epochs 0 and 3, with an idempotent producer. */
async function oldLog(dir: string): Promise<PartitionLog> {
  const log = await PartitionLog.open({ dir, segmentBytes: 1024, indexIntervalBytes: 100 });
  for (let i = 0; i < 30; i++)
    await log.append(recs(`old${i}-${"x".repeat(50)}`), {
      leaderEpoch: i < 15 ? 0 : 3,
      producer: { producerId: 7, producerEpoch: 0, sequence: i },
    });
  return log;
}

describe("truncateFullyAndStartAt", () => {
  it("empties the log and restarts it at the offset: no batch, no epoch, no producer; appends and follower appends go on from there", async () => {
    const dir = tempDir();
    const log = await oldLog(dir);
    expect(readdirSync(dir).filter((n) => n.endsWith(".log")).length).toBeGreaterThan(2);
    expect(await log.truncateFullyAndStartAt(100)).toBe(100);
    expect(log.describe()).toMatchObject({ logStartOffset: 100, logEndOffset: 100, highWatermark: 100, sizeBytes: 0 });
    expect(log.latestEpoch).toBe(-1);
    expect(log.endOffsetForEpoch(3)).toEqual({ leaderEpoch: -1, endOffset: -1 });
    expect(
      readdirSync(dir)
        .filter((n) => n !== ".lock")
        .sort(),
    ).toEqual(["00000000000000000100.index", "00000000000000000100.log", "leader-epoch-checkpoint"]);
    expect(readFileSync(join(dir, "leader-epoch-checkpoint"), "utf8")).toBe("0\n0\n");
    expect((await log.read(100)).records).toEqual([]);
    await expect(log.read(0)).rejects.toMatchObject({ code: "OFFSET_OUT_OF_RANGE" });

    // The leader's batches from its log start, with its epoch (below the old one: the old epochs are gone).
    await log.appendAsFollower(encodeBatch(recs("a", "b"), 100, NOW, false, undefined, 2).buffer);
    expect(log.latestEpoch).toBe(2);
    expect(readFileSync(join(dir, "leader-epoch-checkpoint"), "utf8")).toBe("0\n1\n2 100\n");
    // The producer's old sequence is forgotten: sequence 0 of a new epoch is accepted.
    expect(await log.append(recs("c"), { producer: { producerId: 7, producerEpoch: 1, sequence: 0 } })).toEqual({ baseOffset: 102, lastOffset: 102 });
    await log.close();

    const again = await PartitionLog.open({ dir });
    expect(again.logStartOffset).toBe(100);
    expect(await values((o) => again.read(o), 100, again.highWatermark)).toEqual([
      [100, "a"],
      [101, "b"],
      [102, "c"],
    ]);
    expect(again.endOffsetForEpoch(2)).toEqual({ leaderEpoch: 2, endOffset: 103 });
    await again.close();
  });

  it("restarts below the old log end too (a log diverged below the leader's start), and at 0", async () => {
    const dir = tempDir();
    const log = await oldLog(dir);
    expect(await log.truncateFullyAndStartAt(5)).toBe(5);
    expect(log.describe()).toMatchObject({ logStartOffset: 5, logEndOffset: 5, sizeBytes: 0 });
    await log.append(recs("n5"));
    expect(await log.truncateFullyAndStartAt(0)).toBe(0);
    expect(log.describe()).toMatchObject({ logStartOffset: 0, logEndOffset: 0 });
    await log.append(recs("z0"));
    expect(await values((o) => log.read(o), 0, log.highWatermark)).toEqual([[0, "z0"]]);
    await log.close();
  });

  it("refuses a bad offset and appends while it runs; a replicated log's high watermark moves to the new start", async () => {
    const dir = tempDir();
    const log = await PartitionLog.open({ dir, replicated: true });
    await log.append(recs("a", "b", "c"));
    log.setHighWatermark(2);
    for (const bad of [-1, 1.5, Number.NaN]) await expect(log.truncateFullyAndStartAt(bad)).rejects.toMatchObject({ code: "OFFSET_OUT_OF_RANGE" });
    const running = log.truncateFullyAndStartAt(50);
    await expect(log.append(recs("x"))).rejects.toMatchObject({ code: "INVALID_REQUEST" });
    await expect(log.truncateTo(0)).rejects.toMatchObject({ code: "INVALID_REQUEST" });
    expect(await running).toBe(50);
    expect(log.highWatermark).toBe(50);
    expect(log.durableEndOffset).toBe(50);
    await log.append(recs("d"));
    log.setHighWatermark(51);
    await log.close();
    const again = await PartitionLog.open({ dir, replicated: true });
    expect(again.highWatermark).toBe(51);
    await again.close();
  });

  it("through the store, with the journal: a power loss after the reset never brings old batches back", async () => {
    const dataDir = "/data";
    const fs = new CrashFs(random(5));
    fs.mkdirSync(dataDir, { recursive: true });
    fs.syncAll();
    const options = { dataDir, journal: true, segmentBytes: 1024, now: () => NOW } as const;
    const internal = { journal: { journalBytes: 1 << 20, writeBackBytes: 1 << 20 } };
    const store = await LogStore.openWith(options, fs, internal);
    await store.createTopic("t", { partitions: 2 });
    for (let i = 0; i < 12; i++) await store.append("t", 0, recs(`old${i}`));
    await store.append("t", 1, recs("other"));
    expect(await store.truncateFullyAndStartAt("t", 0, 40)).toBe(40);
    await store.append("t", 0, recs("new40", "new41"), { leaderEpoch: 4 });
    const disk = fs.afterPowerLoss(random(6));
    await store.close().catch(() => undefined);
    const recovered = await LogStore.openWith(options, disk, internal);
    expect(recovered.describeTopic("t").partitions[0]).toMatchObject({ logStartOffset: 40, logEndOffset: 42 });
    expect(await values((o) => recovered.read("t", 0, o), 40, 42)).toEqual([
      [40, "new40"],
      [41, "new41"],
    ]);
    expect(await recovered.endOffsetForEpoch("t", 0, 4)).toEqual({ leaderEpoch: 4, endOffset: 42 });
    expect((await recovered.read("t", 1, 0)).records.map((r) => text(r.value))).toEqual(["other"]);
    await recovered.close();
  });

  for (const journal of [false, true]) {
    it(`a power loss at any file operation of the reset leaves the old log or the new empty one${journal ? " (journal)" : ""}`, async () => {
      const dataDir = "/data";
      const options = { dataDir, segmentBytes: 1024, indexIntervalBytes: 100, now: () => NOW, ...(journal ? { journal: true } : {}) } as const;
      const internal = { journal: { journalBytes: 1 << 20, writeBackBytes: 1 << 20 } };
      const oldValues = Array.from({ length: 20 }, (_, i) => [i, `old${i}-${"x".repeat(60)}`] as [number, string]);
      /** Builds the old log on a fresh disk; returns the disk and the number of operations so far. */
      const setUp = async (crashAt?: number) => {
        const fs = new CrashFs(random(11));
        fs.mkdirSync(dataDir, { recursive: true });
        fs.syncAll();
        const store = await LogStore.openWith(options, fs, internal);
        await store.createTopic("t", { partitions: 1 });
        for (const [i, value] of oldValues) await store.append("t", 0, recs(value), { leaderEpoch: i < 10 ? 1 : 2 });
        const before = fs.ops;
        if (crashAt !== undefined) fs.crashAt = before + crashAt;
        return { fs, store, before };
      };
      const { fs: counting, store: first, before } = await setUp();
      await first.truncateFullyAndStartAt("t", 0, 30);
      const steps = counting.ops - before;
      await first.close();
      expect(steps).toBeGreaterThan(5);
      const seen = new Set<string>();
      for (let k = 1; k <= steps; k++) {
        const { fs, store } = await setUp(k);
        await store.truncateFullyAndStartAt("t", 0, 30).catch(() => undefined);
        expect(fs.poweredOff, `crash at step ${k}`).toBe(true);
        await store.close().catch(() => undefined);
        for (const seed of [1, 2]) {
          const disk = fs.afterPowerLoss(random(k * 10 + seed));
          const recovered = await LogStore.openWith(options, disk, internal);
          const p = recovered.describeTopic("t").partitions[0]!;
          const got = await values((o) => recovered.read("t", 0, o, { maxRecords: 1000 }), p.logStartOffset, p.highWatermark);
          const where = `crash at step ${k} of ${steps}, disk ${seed}`;
          if (p.logStartOffset === 0) {
            expect(got, where).toEqual(oldValues);
            expect(await recovered.latestEpoch("t", 0), where).toBe(2);
            expect(await recovered.endOffsetForEpoch("t", 0, 1), where).toEqual({ leaderEpoch: 1, endOffset: 10 });
            seen.add("old");
          } else {
            expect([p.logStartOffset, p.logEndOffset, got], where).toEqual([30, 30, []]);
            expect(await recovered.latestEpoch("t", 0), where).toBe(-1);
            seen.add("new");
          }
          // Writable at its end, with an epoch lower than the old log's when it is the new one.
          const epoch = p.logStartOffset === 0 ? 2 : 0;
          expect((await recovered.append("t", 0, recs("after"), { leaderEpoch: epoch })).baseOffset, where).toBe(p.logEndOffset);
          await recovered.close();
        }
      }
      expect([...seen].sort()).toEqual(["new", "old"]);
    }, 60_000);
  }

  it("an invalid reset intent file refuses the open (CORRUPT_RECORD) rather than guess", async () => {
    const dir = tempDir();
    const log = await PartitionLog.open({ dir });
    await log.append(recs("a"));
    await log.close();
    const { writeFileSync } = await import("node:fs");
    writeFileSync(join(dir, "log-reset"), "nonsense");
    await expect(PartitionLog.open({ dir })).rejects.toMatchObject({ code: "CORRUPT_RECORD" });
    writeFileSync(join(dir, "log-reset"), "0\n7\n");
    const reset = await PartitionLog.open({ dir });
    expect(reset.describe()).toMatchObject({ logStartOffset: 7, logEndOffset: 7 });
    expect(existsSync(join(dir, "log-reset"))).toBe(false);
    await reset.close();
  });
});
