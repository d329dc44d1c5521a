// A partition's leader epochs (Kafka's LeaderEpochFileCache, KIP-101 / KIP-279): for each epoch that wrote
// to the log, the offset of its first batch. A follower that follows a new leader asks it where the
// follower's latest epoch ends there (endOffsetFor) and truncates its log to that point.
//
// File `leader-epoch-checkpoint` in the partition directory, in Kafka's text format:
//
//   0               version
//   2               number of entries
//   0 0             epoch startOffset, increasing in both
//   3 120
//
// It is rewritten atomically (temp file, fsync, rename, directory fsync) before the first batch of a new
// epoch is appended, so on disk it is never behind the batches: every stored batch's epoch has its entry.
// No file means epoch 0 from offset 0 (every log written before epochs existed).
import { join } from "node:path";
import { Buffer } from "node:buffer";
import { LogStoreError } from "./errors.js";
import type { FileSystem } from "./file-system.js";
import { errnoCode, writeFileAtomicSync } from "./fs-utils.js";

/** Name of the checkpoint file in the partition directory (Kafka's). */
export const LEADER_EPOCH_CHECKPOINT = "leader-epoch-checkpoint";

/** Kafka's UNDEFINED_EPOCH / UNDEFINED_EPOCH_OFFSET. */
export const UNDEFINED_EPOCH = -1;

/** The largest epoch a batch header can hold (int32). */
export const MAX_LEADER_EPOCH = 2 ** 31 - 1;

/** One epoch and the offset of its first batch. */
export interface EpochEntry {
  readonly epoch: number;
  readonly startOffset: number;
}

/** The answer to an OffsetForLeaderEpoch question (Kafka's `(epoch, endOffset)` pair). */
export interface EpochEndOffset {
  /** The largest epoch at or below the requested one, or -1 (UNDEFINED) when the log knows none. */
  leaderEpoch: number;
  /** One past the last offset of that epoch (the next epoch's start, or the log end), or -1 (UNDEFINED). */
  endOffset: number;
}

/** What a batch's epoch must be checked against (see {@link LeaderEpochCache.epochAt}). */
export interface EpochLookup {
  /** The epoch a stored batch starting at `offset` must carry. */
  epochAt(offset: number): number;
}

/**
 * The leader epochs of one partition, in memory and in its `leader-epoch-checkpoint` file.
 * Entries increase strictly in epoch and in start offset.
 */
export class LeaderEpochCache implements EpochLookup {
  private constructor(
    private readonly fs: FileSystem,
    /** Path of the checkpoint file. */
    readonly path: string,
    private entries: EpochEntry[],
  ) {
    this.setLast();
  }

  /**
   * The latest entry's epoch and start (-1 and +∞ without entries), kept in fields: the append path asks
   * for them on every batch, and with thousands of partitions the entry objects are rarely in the CPU cache.
   */
  private lastEpoch = UNDEFINED_EPOCH;
  private lastStart = Infinity;

  private setLast(): void {
    const last = this.entries[this.entries.length - 1];
    this.lastEpoch = last?.epoch ?? UNDEFINED_EPOCH;
    this.lastStart = last?.startOffset ?? Infinity;
  }

  /**
   * Reads the checkpoint of the partition in `dir` (epoch 0 from offset 0 when there is none).
   * @throws LogStoreError `CORRUPT_RECORD` when the file is not a valid checkpoint (it is written
   *   atomically, so a crash never leaves one half written)
   */
  static load(fs: FileSystem, dir: string): LeaderEpochCache {
    const path = join(dir, LEADER_EPOCH_CHECKPOINT);
    let text: string;
    try {
      text = fs.readFileSync(path).toString("utf8");
    } catch (error) {
      if (errnoCode(error) === "ENOENT") return new LeaderEpochCache(fs, path, [{ epoch: 0, startOffset: 0 }]);
      throw error;
    }
    return new LeaderEpochCache(fs, path, parseCheckpoint(text, path));
  }

  /** The entries, oldest first (a copy). */
  get all(): EpochEntry[] {
    return [...this.entries];
  }

  /**
   * The latest epoch of a log ending at `logEnd`, or -1 when the log knows none (it was truncated to its
   * start). Entries starting past `logEnd` are ignored: they were recorded for batches that a crash (or a
   * full disk) took back, and are dropped by the next {@link beforeAppend}.
   */
  latestEpoch(logEnd: number): number {
    if (this.lastStart <= logEnd) return this.lastEpoch; // the common case
    const entries = this.entries;
    for (let i = entries.length - 1; i >= 0; i--) if (entries[i]!.startOffset <= logEnd) return entries[i]!.epoch;
    return UNDEFINED_EPOCH;
  }

  /** The epoch of the batch at `offset`: that of the last entry starting at or before it (0 if none does). */
  epochAt(offset: number): number {
    const entries = this.entries;
    const last = entries[entries.length - 1];
    if (last === undefined) return 0;
    if (offset >= last.startOffset) return last.epoch; // the common case: the latest epoch
    let found = 0;
    for (const entry of entries) {
      if (entry.startOffset > offset) break;
      found = entry.epoch;
    }
    return found;
  }

  /**
   * Kafka's `endOffsetFor` on a log ending at `logEnd`: for the latest epoch, `logEnd`; for an older one
   * (or one between two known epochs), the largest known epoch at or below it and the start offset of the
   * first epoch above it; UNDEFINED (-1, -1) for an epoch below the first known one, above the latest, or
   * negative.
   */
  endOffsetFor(epoch: number, logEnd: number): EpochEndOffset {
    const undefinedAnswer = { leaderEpoch: UNDEFINED_EPOCH, endOffset: UNDEFINED_EPOCH };
    const entries = this.entries.filter((e) => e.startOffset <= logEnd);
    if (!Number.isSafeInteger(epoch) || epoch < 0 || entries.length === 0) return undefinedAnswer;
    const latest = entries[entries.length - 1]!;
    if (epoch === latest.epoch) return { leaderEpoch: epoch, endOffset: logEnd };
    if (epoch > latest.epoch || epoch < entries[0]!.epoch) return undefinedAnswer;
    let floor = entries[0]!;
    for (const entry of entries) {
      if (entry.epoch > epoch) return { leaderEpoch: floor.epoch, endOffset: entry.startOffset };
      floor = entry;
    }
    return undefinedAnswer; // not reached: the latest entry is above `epoch`
  }

  /**
   * Before a batch of `epoch` is appended at `offset` (the log end; `epoch` at or above
   * {@link latestEpoch}): makes the checkpoint say that `epoch` covers `offset`, recording it as starting
   * there if it is new, and dropping entries past `offset`. Writes the file (durably, before returning)
   * only when that changes it, i.e. on the first batch of a new epoch.
   * @throws Error from the file system when the checkpoint could not be written (the cache is unchanged;
   *   the file holds the old or the new entries)
   */
  beforeAppend(epoch: number, offset: number): void {
    if (this.lastEpoch === epoch && this.lastStart <= offset) return; // the common case
    const entries = this.entries;
    let kept = entries.filter((e) => e.startOffset <= offset);
    if (kept.at(-1)?.epoch !== epoch) kept = [...kept.filter((e) => e.startOffset < offset), { epoch, startOffset: offset }];
    this.write(kept);
  }

  /**
   * Drops the entries starting at or after `offset` (the log was truncated to end there), rewriting the
   * checkpoint if anything changed. Returns whether it did.
   */
  truncateFromEnd(offset: number): boolean {
    const kept = this.entries.filter((e) => e.startOffset < offset);
    if (kept.length === this.entries.length) return false;
    this.write(kept);
    return true;
  }

  private write(entries: EpochEntry[]): void {
    const lines = ["0", String(entries.length), ...entries.map((e) => `${e.epoch} ${e.startOffset}`)];
    // Always fsynced, whatever the log's fsync policy: an epoch change is rare, and a checkpoint behind
    // the batches on disk would make the log refuse them as damage.
    writeFileAtomicSync(this.fs, this.path, Buffer.from(lines.join("\n") + "\n"), true);
    this.entries = entries;
    this.setLast();
  }
}

function parseCheckpoint(text: string, path: string): EpochEntry[] {
  const bad = (why: string) => new LogStoreError("CORRUPT_RECORD", `leader epoch checkpoint ${path} is invalid: ${why}`);
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  if (lines[0] !== "0") throw bad(`unsupported version line ${JSON.stringify(lines[0] ?? "")}`);
  const count = Number(lines[1]);
  if (lines[1] === undefined || !/^\d+$/.test(lines[1]) || count !== lines.length - 2)
    throw bad(`count line ${JSON.stringify(lines[1] ?? "")} does not match the ${lines.length - 2} entries`);
  const entries: EpochEntry[] = [];
  for (let i = 2; i < lines.length; i++) {
    const match = /^(\d+) (\d+)$/.exec(lines[i]!);
    const epoch = match ? Number(match[1]) : NaN;
    const startOffset = match ? Number(match[2]) : NaN;
    if (!match || epoch > MAX_LEADER_EPOCH || !Number.isSafeInteger(startOffset))
      throw bad(`line ${i + 1} ${JSON.stringify(lines[i])} is not "epoch startOffset"`);
    const previous = entries.at(-1);
    if (previous && (epoch <= previous.epoch || startOffset <= previous.startOffset))
      throw bad(`line ${i + 1}: epoch ${epoch} at ${startOffset} does not follow epoch ${previous.epoch} at ${previous.startOffset}`);
    entries.push({ epoch, startOffset });
  }
  return entries;
}
