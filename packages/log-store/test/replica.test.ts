// The replica-side primitives of the log (issue 18's data path): raw batch reads (what a leader serves a
// follower), follower appends of those bytes, and truncation to a divergence point. Real files.
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir } from "../../../test-support/temp-dir.js";
import { isLogStoreError, LogStore, PartitionLog } from "../src/index.js";
import { CrashFs, random } from "./helpers/crash-fs.js";
import { text } from "./helpers/text.js";

const recs = (...values: string[]) => values.map((value) => ({ value }));
const codeOf = (error: unknown) => (isLogStoreError(error) ? error.code : String(error));
const FIRST = "00000000000000000000.log";

/** Every value of the log, in offset order, with its offset. */
async function contents(log: PartitionLog): Promise<Array<[number, string]>> {
  const out: Array<[number, string]> = [];
  for (let offset = log.logStartOffset; offset < log.highWatermark;) {
    const { records, nextOffset } = await log.read(offset, { maxRecords: 10_000 });
    for (const r of records) out.push([r.offset, text(r.value)!]);
    offset = nextOffset;
  }
  return out;
}

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

describe("appendAsFollower", () => {
  it("stores the leader's batches byte for byte with its offsets, epochs and producer state, fetch by fetch", async () => {
    const leader = await leaderLog(tempDir());
    await leader.append(recs("p0", "p1"), { leaderEpoch: 5, producer: { producerId: 7, producerEpoch: 0, sequence: 0 } });
    const followerDir = tempDir();
    const follower = await PartitionLog.open({ dir: followerDir, segmentBytes: 1500, indexIntervalBytes: 64 });
    // Fetch by fetch, as a follower does, in pieces of a few batches.
    while (follower.logEndOffset < leader.logEndOffset) {
      const fetched = await leader.readBatches(follower.logEndOffset, { maxBytes: 300 });
      const result = await follower.appendAsFollower(fetched.bytes);
      expect(result).toEqual({ baseOffset: fetched.batches[0]!.baseOffset, lastOffset: fetched.nextOffset - 1 });
      expect(follower.highWatermark).toBe(fetched.nextOffset); // durable under "always" once it resolves
    }
    expect(await contents(follower)).toEqual(await contents(leader));
    const [ours, theirs] = await Promise.all([follower.readBatches(0, { maxBytes: 1 << 20 }), leader.readBatches(0, { maxBytes: 1 << 20 })]);
    expect(ours.bytes.equals(theirs.bytes)).toBe(true);
    for (const epoch of [0, 1, 2, 5, 6]) expect(follower.endOffsetForEpoch(epoch), `epoch ${epoch}`).toEqual(leader.endOffsetForEpoch(epoch));
    expect(readFileSync(join(followerDir, "leader-epoch-checkpoint"), "utf8")).toBe("0\n3\n0 0\n2 19\n5 39\n");
    // The follower knows the producer: as the new leader, it answers the producer's retry with the original offsets.
    const retry = await follower.append(recs("p0", "p1"), { leaderEpoch: 6, producer: { producerId: 7, producerEpoch: 0, sequence: 0 } });
    expect(retry).toEqual({ baseOffset: leader.logEndOffset - 2, lastOffset: leader.logEndOffset - 1, duplicate: true });
    await follower.close();
    // And all of it survives a reopen (the follower's own segmentation, the same offsets and epochs).
    const reopened = await PartitionLog.open({ dir: followerDir, segmentBytes: 1500 });
    expect((await reopened.readBatches(0, { maxBytes: 1 << 20 })).bytes.equals(theirs.bytes)).toBe(true);
    expect(reopened.latestEpoch).toBe(5);
    await reopened.close();
    await leader.close();
  });

  it("refuses, storing nothing: batches not at the log end, a gap, torn or damaged bytes, an epoch below the latest", async () => {
    const leader = await leaderLog(tempDir(), { fsync: "never" });
    const { bytes, batches } = await leader.readBatches(0, { maxBytes: 1 << 20 });
    const follower = await PartitionLog.open({ dir: tempDir(), fsync: "never" });
    const positions: number[] = [];
    for (let pos = 0; pos < bytes.length; pos += 12 + bytes.readInt32BE(pos + 8)) positions.push(pos);
    const damagedCrc = Buffer.from(bytes);
    damagedCrc[positions[1]! + 40]! ^= 1;
    const negative = Buffer.from(bytes);
    negative.writeInt32BE(-2, positions[1]! + 12);
    const cases: Array<[string, Uint8Array, string]> = [
      ["empty", new Uint8Array(0), "INVALID_RECORD"],
      ["not at the log end", bytes.subarray(positions[1]!), "OFFSET_OUT_OF_RANGE"],
      ["a gap", Buffer.concat([bytes.subarray(0, positions[1]!), bytes.subarray(positions[2]!)]), "INVALID_RECORD"],
      ["a torn last batch", bytes.subarray(0, positions[3]! - 1), "INVALID_RECORD"],
      ["a damaged checksum", damagedCrc, "INVALID_RECORD"],
      ["a negative epoch", negative, "INVALID_RECORD"],
    ];
    for (const [what, input, code] of cases) {
      expect(codeOf(await follower.appendAsFollower(input).catch((e: unknown) => e)), what).toBe(code);
      expect(follower.logEndOffset, what).toBe(0);
    }
    // Epochs going down inside one fetch, or below what the follower has: fenced.
    const epoch5 = positions[batches.findIndex((b) => b.leaderEpoch === 5)]!;
    const down = Buffer.from(bytes);
    down.writeInt32BE(1, epoch5 + 12); // epoch 5's first batch says 1, after epoch 2
    expect(codeOf(await follower.appendAsFollower(down).catch((e: unknown) => e))).toBe("FENCED_LEADER_EPOCH");
    expect(follower.logEndOffset).toBe(0);
    await follower.appendAsFollower(bytes.subarray(0, epoch5));
    expect(follower.latestEpoch).toBe(2);
    const older = Buffer.from(bytes.subarray(epoch5));
    older.writeInt32BE(1, 12);
    const fenced = await follower.appendAsFollower(older).catch((e: unknown) => e);
    expect(codeOf(fenced)).toBe("FENCED_LEADER_EPOCH");
    expect((fenced as Error).message).toContain("leader epoch 1 is fenced: the partition's latest epoch is 2");
    expect(follower.logEndOffset).toBe(batches.find((b) => b.leaderEpoch === 5)!.baseOffset);
    await follower.appendAsFollower(bytes.subarray(epoch5));
    expect(await contents(follower)).toEqual(await contents(leader));
    await follower.close();
    await leader.close();
  });

  it("works with the store-wide journal: the batches are acknowledged once the journal round is durable, read back, and there after a reopen", async () => {
    const leader = await leaderLog(tempDir(), { fsync: "never" });
    const { bytes } = await leader.readBatches(0, { maxBytes: 1 << 20 });
    const dataDir = tempDir();
    const store = await LogStore.open({ dataDir, journal: true, segmentBytes: 1024 });
    await store.createTopic("t", { partitions: 1 });
    expect(await store.appendAsFollower("t", 0, bytes)).toEqual({ baseOffset: 0, lastOffset: leader.logEndOffset - 1 });
    const read = await store.readBatches("t", 0, 0, { maxBytes: 1 << 20 });
    expect(read.bytes.equals(bytes)).toBe(true);
    expect(await store.endOffsetForEpoch("t", 0, 2)).toEqual(leader.endOffsetForEpoch(2));
    await store.close();
    const again = await LogStore.open({ dataDir, journal: true });
    expect((await again.readBatches("t", 0, 0, { maxBytes: 1 << 20 })).bytes.equals(bytes)).toBe(true);
    expect(codeOf(await again.appendAsFollower("t", 0, bytes).catch((e: unknown) => e))).toBe("OFFSET_OUT_OF_RANGE");
    await again.close();
    await leader.close();
  });
});

describe("truncateTo", () => {
  const logFiles = (dir: string) =>
    readdirSync(dir)
      .filter((n) => n.endsWith(".log"))
      .sort();
  const snapshots = (dir: string) =>
    readdirSync(dir)
      .filter((n) => n.endsWith(".snapshot"))
      .map((n) => Number(n.slice(0, 20)))
      .sort((a, b) => a - b);

  it("cuts at the start of the batch holding the offset: later segments, snapshots and epochs go, the rest stays and takes appends", async () => {
    const dir = tempDir();
    const log = await leaderLog(dir);
    const before = await contents(log);
    const { batches } = await log.readBatches(0, { maxBytes: 1 << 20 });
    expect(logFiles(dir).length).toBeGreaterThan(3);
    expect(snapshots(dir).length).toBeGreaterThan(0);
    // Inside a batch of epoch 2 in the middle of the log.
    const target = batches.filter((b) => b.leaderEpoch === 2 && b.lastOffset > b.baseOffset)[3]!;
    const end = await log.truncateTo(target.baseOffset + 1);
    expect(end).toBe(target.baseOffset);
    expect([log.logEndOffset, log.highWatermark]).toEqual([end, end]);
    expect(await contents(log)).toEqual(before.slice(0, end));
    expect(logFiles(dir).every((n) => Number(n.slice(0, 20)) < end)).toBe(true);
    expect(snapshots(dir).every((offset) => offset <= end)).toBe(true);
    expect(readFileSync(join(dir, "leader-epoch-checkpoint"), "utf8")).toBe("0\n2\n0 0\n2 19\n");
    expect(log.latestEpoch).toBe(2);
    // The new leader's history (epoch 6) follows at the cut.
    await log.append(recs("n0", "n1"), { leaderEpoch: 6 });
    expect((await contents(log)).slice(end)).toEqual([
      [end, "n0"],
      [end + 1, "n1"],
    ]);
    expect(log.endOffsetForEpoch(2)).toEqual({ leaderEpoch: 2, endOffset: end });
    await log.close();
    const reopened = await PartitionLog.open({ dir, segmentBytes: 1024 });
    expect(await contents(reopened)).toEqual([...before.slice(0, end), [end, "n0"], [end + 1, "n1"]]);
    expect(reopened.endOffsetForEpoch(6)).toEqual({ leaderEpoch: 6, endOffset: end + 2 });
    await reopened.close();
  });

  it("at a segment's base offset: that segment and all later ones go, the one before becomes the active one again", async () => {
    const dir = tempDir();
    const log = await leaderLog(dir, { fsync: "never" });
    const before = await contents(log);
    const bases = logFiles(dir).map((n) => Number(n.slice(0, 20)));
    const cut = bases[2]!;
    expect(await log.truncateTo(cut)).toBe(cut);
    expect(logFiles(dir).map((n) => Number(n.slice(0, 20)))).toEqual(bases.slice(0, 2));
    expect(await contents(log)).toEqual(before.slice(0, cut));
    await log.append(recs("after"));
    expect((await log.read(cut)).records.map((r) => [r.offset, text(r.value)])).toEqual([[cut, "after"]]);
    await log.close();
    const reopened = await PartitionLog.open({ dir, segmentBytes: 1024, fsync: "never" });
    expect(await contents(reopened)).toEqual([...before.slice(0, cut), [cut, "after"]]);
    await reopened.close();
  });

  it("to the log start: an empty log without epochs, which appends from there; past the end: nothing; below the start: OFFSET_OUT_OF_RANGE", async () => {
    const dir = tempDir();
    const log = await leaderLog(dir, { fsync: "never" });
    const end = log.logEndOffset;
    expect(await log.truncateTo(end + 5)).toBe(end);
    expect(await log.truncateTo(end)).toBe(end);
    expect(codeOf(await log.truncateTo(-1).catch((e: unknown) => e))).toBe("OFFSET_OUT_OF_RANGE");
    expect(codeOf(await log.truncateTo(1.5).catch((e: unknown) => e))).toBe("OFFSET_OUT_OF_RANGE");
    expect(await log.truncateTo(0)).toBe(0);
    expect([log.logEndOffset, log.highWatermark, log.latestEpoch]).toEqual([0, 0, -1]);
    expect(logFiles(dir)).toEqual([FIRST]);
    expect(readFileSync(join(dir, "leader-epoch-checkpoint"), "utf8")).toBe("0\n0\n");
    expect(log.endOffsetForEpoch(0)).toEqual({ leaderEpoch: -1, endOffset: -1 });
    await log.append(recs("first"), { leaderEpoch: 1 });
    await log.close();
    const reopened = await PartitionLog.open({ dir, fsync: "never" });
    expect(await contents(reopened)).toEqual([[0, "first"]]);
    expect(reopened.endOffsetForEpoch(1)).toEqual({ leaderEpoch: 1, endOffset: 1 });
    await reopened.close();
  });

  it("rebuilds the producer state: a producer's batch that was cut off is appended again, not answered as a duplicate", async () => {
    const log = await PartitionLog.open({ dir: tempDir(), fsync: "never" });
    const producer = (sequence: number) => ({ producer: { producerId: 9, producerEpoch: 0, sequence } });
    await log.append(recs("a"), producer(0));
    await log.append(recs("b"), producer(1));
    expect(await log.truncateTo(1)).toBe(1);
    expect(await log.append(recs("b"), producer(1))).toEqual({ baseOffset: 1, lastOffset: 1 });
    expect(await log.append(recs("a"), producer(0))).toEqual({ baseOffset: 0, lastOffset: 0, duplicate: true });
    await log.close();
  });

  it("refuses appends while it runs, then takes them; a concurrent follower append is refused too", async () => {
    const log = await leaderLog(tempDir());
    const running = log.truncateTo(5);
    const refused = await log.append(recs("x")).catch((e: unknown) => e);
    expect(codeOf(refused)).toBe("INVALID_REQUEST");
    expect((refused as Error).message).toContain("is being truncated");
    expect(codeOf(await log.appendAsFollower(new Uint8Array(1)).catch((e: unknown) => e))).toBe("INVALID_REQUEST");
    expect(codeOf(await log.truncateTo(3).catch((e: unknown) => e))).toBe("INVALID_REQUEST");
    const end = await running;
    expect((await log.append(recs("y"))).baseOffset).toBe(end);
    await log.close();
  });

  it("with the store-wide journal: the journal is checkpointed first, so a power loss after the truncation never brings the cut batches back", async () => {
    const dataDir = "/data";
    const fs = new CrashFs(random(3));
    fs.mkdirSync(dataDir, { recursive: true });
    fs.syncAll();
    const options = { dataDir, journal: true, segmentBytes: 1024, now: () => 1_700_000_000_000 } as const;
    const internal = { journal: { journalBytes: 1 << 20, writeBackBytes: 1 << 20 } };
    const store = await LogStore.openWith(options, fs, internal);
    await store.createTopic("t", { partitions: 1 });
    for (let i = 0; i < 12; i++) await store.append("t", 0, recs(`old${i}`));
    expect(await store.truncateTo("t", 0, 5)).toBe(5);
    await store.append("t", 0, recs("new5", "new6"), { leaderEpoch: 1 });
    // The power fails: no close, no clean-shutdown marker; the journal is replayed at open.
    const disk = fs.afterPowerLoss(random(4));
    await store.close().catch(() => undefined);
    const recovered = await LogStore.openWith(options, disk, internal);
    const { records } = await recovered.read("t", 0, 0, { maxRecords: 100 });
    expect(records.map((r) => [r.offset, text(r.value)])).toEqual([
      [0, "old0"],
      [1, "old1"],
      [2, "old2"],
      [3, "old3"],
      [4, "old4"],
      [5, "new5"],
      [6, "new6"],
    ]);
    expect(await recovered.endOffsetForEpoch("t", 0, 0)).toEqual({ leaderEpoch: 0, endOffset: 5 });
    // Truncating a partition that has not appended since the open (no journal round of its own yet).
    expect(await recovered.truncateTo("t", 0, 6)).toBe(5); // the batch holding 6 starts at 5
    expect((await recovered.read("t", 0, 0, { maxRecords: 100 })).records.map((r) => text(r.value))).toEqual([
      "old0",
      "old1",
      "old2",
      "old3",
      "old4",
    ]);
    await recovered.close();
  });
});
