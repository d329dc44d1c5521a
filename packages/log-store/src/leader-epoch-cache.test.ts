import { existsSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { tempDir } from "../../../test-support/temp-dir.js";
import { text } from "../test/helpers/text.js";
import { isLogStoreError } from "./errors.js";
import { nodeFileSystem, type FileSystem } from "./file-system.js";
import { LEADER_EPOCH_CHECKPOINT, LeaderEpochCache } from "./leader-epoch-cache.js";
import { LogStore } from "./log-store.js";
import { PartitionLog } from "./partition-log.js";
import { resolveSettings } from "./settings.js";

const recs = (...values: string[]) => values.map((value) => ({ value }));
const codeOf = (error: unknown) => (isLogStoreError(error) ? error.code : String(error));

/** A cache whose file holds `lines` (Kafka's format). */
function cacheWith(lines: string[]): LeaderEpochCache {
  const dir = tempDir();
  writeFileSync(join(dir, LEADER_EPOCH_CHECKPOINT), lines.join("\n") + "\n");
  return LeaderEpochCache.load(nodeFileSystem, dir);
}

describe("LeaderEpochCache", () => {
  it("without a file: epoch 0 from offset 0, and nothing is written", () => {
    const dir = tempDir();
    const cache = LeaderEpochCache.load(nodeFileSystem, dir);
    expect(cache.all).toEqual([{ epoch: 0, startOffset: 0 }]);
    expect(cache.latestEpoch(10)).toBe(0);
    expect(cache.epochAt(5)).toBe(0);
    cache.beforeAppend(0, 10); // the same epoch: no change
    expect(readdirSync(dir)).toEqual([]);
  });

  it("reads and writes Kafka's text format: version 0, the count, then `epoch startOffset` lines", () => {
    const dir = tempDir();
    const cache = LeaderEpochCache.load(nodeFileSystem, dir);
    cache.beforeAppend(3, 120);
    cache.beforeAppend(5, 200);
    expect(readFileSync(join(dir, LEADER_EPOCH_CHECKPOINT), "utf8")).toBe("0\n3\n0 0\n3 120\n5 200\n");
    expect(LeaderEpochCache.load(nodeFileSystem, dir).all).toEqual([
      { epoch: 0, startOffset: 0 },
      { epoch: 3, startOffset: 120 },
      { epoch: 5, startOffset: 200 },
    ]);
    expect(readdirSync(dir)).toEqual([LEADER_EPOCH_CHECKPOINT]); // no temp file left
  });

  it("writes through a temp file: fsync, rename over the checkpoint, fsync of the directory, in that order", () => {
    const dir = tempDir();
    const { ops, recording } = recordingFs(
      (path) => (path === dir ? "dir" : path.includes("~tmp~") ? "temp" : path),
      (to) => (to === join(dir, LEADER_EPOCH_CHECKPOINT) ? "over checkpoint" : to),
    );
    LeaderEpochCache.load(recording, dir).beforeAppend(1, 0);
    expect(ops).toEqual(["write temp", "fsync temp", "rename over checkpoint", "fsync dir"]);
  });

  it("answers endOffsetFor as Kafka's LeaderEpochFileCache: latest → log end, older → next epoch's start with the floor epoch, outside → UNDEFINED", () => {
    const cache = cacheWith(["0", "3", "1 0", "3 10", "6 20"]);
    const at = (epoch: number) => cache.endOffsetFor(epoch, 25);
    expect(at(6)).toEqual({ leaderEpoch: 6, endOffset: 25 });
    expect(at(3)).toEqual({ leaderEpoch: 3, endOffset: 20 });
    expect(at(1)).toEqual({ leaderEpoch: 1, endOffset: 10 });
    // Between two known epochs: the largest known epoch below it, and where the next one starts.
    expect(at(2)).toEqual({ leaderEpoch: 1, endOffset: 10 });
    expect(at(5)).toEqual({ leaderEpoch: 3, endOffset: 20 });
    // Before the first epoch, after the latest, and UNDEFINED_EPOCH itself.
    for (const epoch of [0, 7, -1, 1.5]) expect(at(epoch), `epoch ${epoch}`).toEqual({ leaderEpoch: -1, endOffset: -1 });
    expect(cache.epochAt(0)).toBe(1);
    expect(cache.epochAt(9)).toBe(1);
    expect(cache.epochAt(10)).toBe(3);
    expect(cache.epochAt(19)).toBe(3);
    expect(cache.epochAt(20)).toBe(6);
  });

  it("ignores entries past the log end (their batches were taken back) until the next append replaces them", () => {
    const dir = tempDir();
    writeFileSync(join(dir, LEADER_EPOCH_CHECKPOINT), "0\n3\n0 0\n5 100\n6 110\n");
    const cache = LeaderEpochCache.load(nodeFileSystem, dir);
    // The log ends at 100: epoch 6 never stored a batch.
    expect(cache.latestEpoch(100)).toBe(5);
    expect(cache.endOffsetFor(5, 100)).toEqual({ leaderEpoch: 5, endOffset: 100 });
    expect(cache.endOffsetFor(6, 100)).toEqual({ leaderEpoch: -1, endOffset: -1 });
    expect(cache.endOffsetFor(0, 100)).toEqual({ leaderEpoch: 0, endOffset: 100 });
    cache.beforeAppend(5, 100);
    expect(readFileSync(join(dir, LEADER_EPOCH_CHECKPOINT), "utf8")).toBe("0\n2\n0 0\n5 100\n");
    cache.beforeAppend(7, 100); // epoch 5 never stored a batch either: replaced
    expect(cache.all).toEqual([
      { epoch: 0, startOffset: 0 },
      { epoch: 7, startOffset: 100 },
    ]);
  });

  it("truncateFromEnd drops the epochs starting at or after the cut, down to none", () => {
    const dir = tempDir();
    const cache = LeaderEpochCache.load(nodeFileSystem, dir);
    cache.beforeAppend(2, 10);
    cache.beforeAppend(4, 30);
    expect(cache.truncateFromEnd(31)).toBe(false);
    expect(cache.truncateFromEnd(30)).toBe(true);
    expect(cache.all).toEqual([
      { epoch: 0, startOffset: 0 },
      { epoch: 2, startOffset: 10 },
    ]);
    expect(cache.truncateFromEnd(0)).toBe(true);
    expect(cache.latestEpoch(0)).toBe(-1);
    expect(readFileSync(join(dir, LEADER_EPOCH_CHECKPOINT), "utf8")).toBe("0\n0\n");
    expect(LeaderEpochCache.load(nodeFileSystem, dir).all).toEqual([]);
  });

  it("refuses a malformed checkpoint with CORRUPT_RECORD naming the file", () => {
    for (const lines of [
      ["1", "0"],
      ["0", "2", "0 0"],
      ["0", "1", "x 0"],
      ["0", "2", "3 10", "2 20"],
      ["0", "2", "1 10", "2 10"],
    ]) {
      let caught: unknown;
      try {
        cacheWith(lines);
      } catch (error) {
        caught = error;
      }
      expect(codeOf(caught), lines.join("|")).toBe("CORRUPT_RECORD");
      expect((caught as Error).message).toContain(LEADER_EPOCH_CHECKPOINT);
    }
  });
});

describe("leader epochs on a PartitionLog", () => {
  it("a log that never saw another epoch stays as before: batches stamped 0, no checkpoint file", async () => {
    const dir = tempDir();
    const log = await PartitionLog.open({ dir });
    await log.append(recs("a"));
    await log.append(recs("b"), { leaderEpoch: 0 });
    expect(log.latestEpoch).toBe(0);
    expect(log.endOffsetForEpoch(0)).toEqual({ leaderEpoch: 0, endOffset: 2 });
    await log.close();
    expect(existsSync(join(dir, LEADER_EPOCH_CHECKPOINT))).toBe(false);
    expect(readFileSync(join(dir, "00000000000000000000.log")).readInt32BE(12)).toBe(0);
  });

  it("stamps batches with the epoch, records each new epoch before its first batch, and keeps it across a reopen", async () => {
    const dir = tempDir();
    let log = await PartitionLog.open({ dir, segmentBytes: 1024 });
    await log.append(recs("a", "b"));
    await log.append(recs("c"), { leaderEpoch: 2 });
    await log.append(recs("d")); // the latest epoch by default
    await log.append(recs("e".repeat(600), "f".repeat(600)), { leaderEpoch: 5 }); // rolls
    expect(log.latestEpoch).toBe(5);
    await log.close();
    expect(readFileSync(join(dir, LEADER_EPOCH_CHECKPOINT), "utf8")).toBe("0\n3\n0 0\n2 2\n5 4\n");
    log = await PartitionLog.open({ dir, segmentBytes: 1024 });
    expect(log.latestEpoch).toBe(5);
    expect(log.endOffsetForEpoch(0)).toEqual({ leaderEpoch: 0, endOffset: 2 });
    expect(log.endOffsetForEpoch(2)).toEqual({ leaderEpoch: 2, endOffset: 4 });
    expect(log.endOffsetForEpoch(3)).toEqual({ leaderEpoch: 2, endOffset: 4 });
    expect(log.endOffsetForEpoch(5)).toEqual({ leaderEpoch: 5, endOffset: 6 });
    expect(log.endOffsetForEpoch(6)).toEqual({ leaderEpoch: -1, endOffset: -1 });
    const { records } = await log.read(0, { maxRecords: 10 });
    expect(records.map((r) => text(r.value)!.slice(0, 1))).toEqual(["a", "b", "c", "d", "e", "f"]);
    await log.close();
  });

  it("refuses an append with an older epoch than the latest (FENCED_LEADER_EPOCH, nothing stored) and a malformed epoch", async () => {
    const dir = tempDir();
    const log = await PartitionLog.open({ dir });
    await log.append(recs("a"), { leaderEpoch: 4 });
    for (const [epoch, code] of [
      [3, "FENCED_LEADER_EPOCH"],
      [-1, "INVALID_REQUEST"],
      [2 ** 31, "INVALID_REQUEST"],
      [1.5, "INVALID_REQUEST"],
    ] as const) {
      expect(codeOf(await log.append(recs("x"), { leaderEpoch: epoch }).catch((e: unknown) => e)), `epoch ${epoch}`).toBe(code);
      const idempotent = await log
        .append(recs("x"), { leaderEpoch: epoch, producer: { producerId: 1, producerEpoch: 0, sequence: 0 } })
        .catch((e: unknown) => e);
      expect(codeOf(idempotent), `idempotent, epoch ${epoch}`).toBe(code);
    }
    const fenced = await log.append(recs("x"), { leaderEpoch: 3 }).catch((e: unknown) => e);
    expect((fenced as Error).message).toContain("leader epoch 3 is fenced: the partition's latest epoch is 4");
    expect(log.logEndOffset).toBe(1);
    expect((await log.append(recs("b"), { leaderEpoch: 4 })).baseOffset).toBe(1);
    await log.close();
  });

  it("treats a batch whose epoch does not match the checkpoint as damage: CORRUPT_RECORD in a sealed segment, a cut tail in the last", async () => {
    const dir = tempDir();
    const options = { dir, fsync: "never", segmentBytes: 1024 } as const;
    let log = await PartitionLog.open(options);
    await log.append(recs("a"));
    await log.append(recs("b"), { leaderEpoch: 1 });
    await log.append(recs("c".repeat(1000)), { leaderEpoch: 1 }); // rolls: offsets 0-1 are sealed
    await log.append(recs("d"), { leaderEpoch: 1 }); // rolls again: offset 2 is sealed, 3 is in the last segment
    await log.close();
    writeFileSync(join(dir, LEADER_EPOCH_CHECKPOINT), "0\n2\n0 0\n2 1\n"); // says epoch 2 from offset 1
    log = await PartitionLog.open(options);
    // The last segment is scanned at open: its only batch disagrees, so it is a damaged tail, cut off.
    expect(log.logEndOffset).toBe(3);
    expect((await log.read(0, { maxRecords: 1 })).records.map((r) => text(r.value))).toEqual(["a"]);
    const error = await log.read(1).catch((e: unknown) => e);
    expect(codeOf(error)).toBe("CORRUPT_RECORD");
    expect((error as Error).message).toContain("partition leader epoch 1, expected 2");
    await log.close();
  });

  it("writes the checkpoint durably before the first batch of the new epoch reaches the segment file", async () => {
    const dir = tempDir();
    const { ops, recording } = recordingFs(
      (path) => (path.endsWith(".log") ? "segment" : path.includes("~tmp~") ? "temp" : path === dir ? "dir" : "other"),
      (to) => (to.endsWith(LEADER_EPOCH_CHECKPOINT) ? "checkpoint" : "other"),
    );
    const log = await PartitionLog.openDir(dir, resolveSettings({}, { fsync: "never" }, undefined, recording));
    await log.append(recs("a"));
    ops.length = 0;
    await log.append(recs("b"), { leaderEpoch: 3 });
    await log.append(recs("c"), { leaderEpoch: 3 });
    expect(ops.filter((op) => op !== "write other")).toEqual([
      "write temp",
      "fsync temp",
      "rename checkpoint",
      "fsync dir",
      "write segment",
      "write segment",
    ]);
    await log.close();
  });

  it("through a LogStore: append with a leader epoch, endOffsetForEpoch per partition", async () => {
    const store = await LogStore.open({ dataDir: tempDir() });
    await store.createTopic("t", { partitions: 2 });
    await store.append("t", 1, recs("a", "b"));
    await store.append("t", 1, recs("c"), { leaderEpoch: 1 });
    expect([await store.latestEpoch("t", 0), await store.latestEpoch("t", 1)]).toEqual([0, 1]);
    expect(await store.endOffsetForEpoch("t", 1, 0)).toEqual({ leaderEpoch: 0, endOffset: 2 });
    expect(await store.endOffsetForEpoch("t", 1, 1)).toEqual({ leaderEpoch: 1, endOffset: 3 });
    expect(await store.endOffsetForEpoch("t", 0, 1)).toEqual({ leaderEpoch: -1, endOffset: -1 });
    expect(codeOf(await store.append("t", 1, recs("x"), { leaderEpoch: 0 }).catch((e: unknown) => e))).toBe("FENCED_LEADER_EPOCH");
    expect(codeOf(await store.endOffsetForEpoch("t", 2, 0).catch((e: unknown) => e))).toBe("UNKNOWN_TOPIC_OR_PARTITION");
    await store.close();
  });
});

/**
 * The real file system, recording `write <file>`, `fsync <file>` and `rename <target>` in `ops`, each file
 * named by `label` (from the path it was opened with) and each rename by `renamed` (from its target).
 */
function recordingFs(label: (path: string) => string, renamed: (to: string) => string): { ops: string[]; recording: FileSystem } {
  const ops: string[] = [];
  const names = new Map<number, string>();
  const recording: FileSystem = {
    ...nodeFileSystem,
    openSync: (path, flags) => {
      const fd = nodeFileSystem.openSync(path, flags);
      names.set(fd, label(path));
      return fd;
    },
    writeSync: (fd, ...rest) => (ops.push(`write ${names.get(fd)}`), nodeFileSystem.writeSync(fd, ...rest)),
    fsyncSync: (fd) => (ops.push(`fsync ${names.get(fd)}`), nodeFileSystem.fsyncSync(fd)),
    renameSync: (from, to) => (ops.push(`rename ${renamed(to)}`), nodeFileSystem.renameSync(from, to)),
  };
  return { ops, recording };
}
