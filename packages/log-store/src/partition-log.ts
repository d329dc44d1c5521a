import { LogStoreError, isLogStoreError } from "./errors.js";
import { DirectoryLock } from "./directory-lock.js";
import { errnoCode, fsyncDir, fsyncDirSync, isTempFile, writeFileAtomic, writeFileAtomicSync } from "./fs-utils.js";
import { join } from "node:path";
import { Buffer } from "node:buffer";
import type { FileSystem } from "./file-system.js";
import { LogSegment, corruptError, parseSegmentFileName, segmentFileName } from "./log-segment.js";
import { ProducerSnapshots, parseSnapshotFileName } from "./producer-snapshots.js";
import { ProducerStateManager, validateProducerSequence, type ProducerBatchMetadata } from "./producer-state.js";
import type { JournalLog } from "./journal.js";
import { LEADER_EPOCH_CHECKPOINT, LeaderEpochCache, MAX_LEADER_EPOCH, type EpochEndOffset } from "./leader-epoch-cache.js";
import {
  BATCH_HEADER_SIZE,
  BatchBuilder,
  batchOffsets,
  batchProducer,
  checkBatch,
  decodeRecords,
  encodeBatch,
  type BatchHeader,
} from "./record-batch.js";
import { RecentBatches } from "./recent-batches.js";
import { resolveSettings, type LogSettings } from "./settings.js";
import type {
  AppendOptions,
  AppendResult,
  BatchReadResult,
  DurabilityOptions,
  LogConfig,
  PartitionDescription,
  ProducerSequence,
  ReadOptions,
  ReadResult,
  RecordInput,
  StoredRecord,
  WaitOptions,
} from "./types.js";

/** Options for {@link PartitionLog.open}. */
export interface PartitionLogOptions extends LogConfig, DurabilityOptions {
  /** Directory holding the log's segment files; created if missing, locked while open. */
  dir: string;
}

/**
 * @internal Where a partition stood at a clean close (everything written was durable): what the store's
 * clean-shutdown marker records per partition, so that the next open need not scan or even open it.
 */
export interface RecoveryPoint {
  logStartOffset: number;
  logEndOffset: number;
  /** Bytes of all segment files together. */
  sizeBytes: number;
  segmentCount: number;
  /** The last segment's base offset and byte size (checked against the file before it is trusted). */
  activeBaseOffset: number;
  activeSize: number;
  /** The last segment's largest timestamp, when known. */
  activeMaxTimestamp: number | undefined;
}

interface SyncWaiter {
  offset: number;
  resolve: () => void;
  reject: (error: Error) => void;
}

/** A batch appended during a roll, written once the new segment exists. */
interface PendingBatch {
  buffer: Buffer;
  baseOffset: number;
  lastOffset: number;
  maxTimestamp: number;
  /** Set when the batch could not be written (the disk was full): its offsets were given back. */
  error?: LogStoreError;
}

/** A read that found invalid bytes where the index pointed: `badIndex` says what was wrong there. */
interface BadIndex {
  badIndex: string;
  position: number;
  offset: number;
}

/** What one segment contributed to a read. */
interface SegmentReadResult {
  bytes: number;
  nextOffset: number;
  /** Set when the read stopped at damage after taking some records; the next read starts there and fails. */
  damaged?: true;
  /** Set when the next batch does not fit the byte budget: the read is complete (no next segment either). */
  full?: true;
}

/** One batch as {@link PartitionLog.readBatches} collects it. */
interface StoredBatch {
  baseOffset: number;
  lastOffset: number;
  leaderEpoch: number;
  bytes: Buffer;
}

/** A point of the log: offset, and the segment and byte position where it begins. */
interface DurablePoint {
  offset: number;
  segment: LogSegment;
  position: number;
}

interface DataWaiter {
  offset: number;
  finish: (result: boolean | Error) => void;
}

/**
 * A replicated log's high watermark checkpoint in its directory (Kafka keeps one `replication-offset-checkpoint`
 * per log directory; one per partition, beside `leader-epoch-checkpoint`, needs no store-wide state):
 * `0` (version), then the offset, one per line; replaced atomically.
 */
export const HIGH_WATERMARK_CHECKPOINT = "high-watermark-checkpoint";

/**
 * The intent of a {@link PartitionLog.truncateFullyAndStartAt} (`0`, then the new start offset): once it is
 * durable the reset is decided, and every open completes it before anything else, so a power loss leaves
 * either the old log (no file) or the new empty one.
 */
export const LOG_RESET_FILE = "log-reset";

/** Bytes of batches queued during a roll written per turn of the event loop once the new segment exists. */
const DRAIN_BYTES_PER_TURN = 4 * 1024 * 1024;
const DEFAULT_MAX_RECORDS = 500;
const DEFAULT_MAX_BYTES = 1 << 20;
/** First read of a fetch: small, so that polls for a few records allocate little. */
const FIRST_READ_CHUNK = 16 * 1024;
/** The last batch a read stopped inside, per segment: 8 MiB in all, batches of 4 KiB and more. */
const recentBatches = new RecentBatches<LogSegment>(8 * 1024 * 1024, 4096);
/** Later reads grow geometrically up to the byte budget, so large fetches need few syscalls. */
const MAX_READ_CHUNK = 8 * 1024 * 1024;
/**
 * Journal mode: appends without a producer that arrive for a partition while its journal round is open
 * become one batch, up to this size (an append larger than that is a batch of its own): Kafka's default
 * producer `batch.size`, so that readers meet batches of the size they meet anyway. Coalescing pays for
 * small appends (a batch costs about 2 µs of CPU whatever its size); bigger ones gain little from it.
 */
const MAX_COALESCED_BATCH_BYTES = 16 * 1024;

/** The `DISK_FULL` error for an append that found no space (nothing of it was stored). */
function diskFull(dir: string, cause: unknown): LogStoreError {
  return new LogStoreError("DISK_FULL", `log ${dir}: no space left on the disk; the append was not stored, retry once space is freed`, {
    cause,
  });
}

function positiveInt(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1)
    throw new LogStoreError("INVALID_REQUEST", `${name} must be a positive integer, got ${String(value)}`);
  return value;
}

/**
 * One append-only, segmented log (a partition), usable on its own or through {@link LogStore}.
 *
 * Offsets are dense from 0. `append` writes one batch; under `fsync: "always"` it resolves once the batch
 * is on disk, and appends that arrive while an fsync runs share the next one (group commit). Reads and
 * {@link PartitionLog.waitForData} only see offsets below the high watermark: what the fsync policy has
 * made durable.
 */
export class PartitionLog implements AsyncDisposable, JournalLog {
  /** @internal Names this log in the store's journal (`<topic>/<partition>`). */
  journalKey: Buffer = Buffer.alloc(0);
  /** @internal The journal's bookkeeping. */
  journalRound: unknown = undefined;
  /**
   * Journal mode: where the last durable round left the log (everything before is in the journal or the
   * segment files), and where the round being written will leave it.
   */
  private durable!: DurablePoint;
  private roundPoint: DurablePoint | undefined;
  /**
   * Journal mode: the segment whose tail holds the batch being built from appends without a producer
   * ({@link appendCoalesced}); `undefined` when none is. Finished and added to the journal when its round
   * starts ({@link journalRoundStart}) or before anything else is appended.
   */
  private building: LogSegment | undefined;
  /** The batch being built (reused from batch to batch). */
  private builder: BatchBuilder | undefined;
  /** The journal round the batch being built belongs to: what its appends are acknowledged by. */
  private buildingDurable: Promise<void> | undefined;
  private writingBack: Promise<void> | undefined;
  private nextOffset: number;
  /**
   * The durable end: one past the last offset the fsync policy counts as durable. Consumers read below
   * it in a log that is not replicated; in a replicated one, followers fetch below it.
   */
  private hw: number;
  /** Replicated mode ({@link LogConfig.replicated}): consumer reads stop at {@link highWm}, set from outside. */
  private readonly replicated: boolean;
  /** Replicated mode: the high watermark, at most {@link hw}. */
  private highWm = 0;
  /**
   * Replicated mode, while the store's journal is replayed at open: the checkpointed high watermark, which
   * the segment files alone may not reach yet (their tails are in the journal).
   */
  private hwRecovered = 0;
  /** Replicated mode: the value the checkpoint file holds (-1: unknown, write it). */
  private hwCheckpointed = -1;
  private hwTimer: ReturnType<typeof setTimeout> | undefined;
  /** Replicated mode: checkpoint writes, one at a time. */
  private hwWrites: Promise<void> = Promise.resolve();
  /** Replicated mode: `waitForData(…, { replica: true })` waiters, woken as {@link replicaEndOffset} passes them. */
  private readonly replicaWaiters = new Set<DataWaiter>();
  /** One past the last offset actually fsynced. Equals `hw` except under "never", where it lags. */
  private synced: number;
  /**
   * One past the last offset whose batch is in its segment (written, durable or not; not one queued behind
   * a roll). What a leader serves followers in a replicated log without the journal ({@link replicaEndOffset}).
   */
  private written: number;
  private syncing = false;
  private roundScheduled = false;
  private readonly syncWaiters: SyncWaiter[] = [];
  private readonly dataWaiters = new Set<DataWaiter>();
  private readonly dirtySegments = new Set<LogSegment>();
  private dirDirty = false;
  private intervalTimer: ReturnType<typeof setTimeout> | undefined;
  private retentionRunning: Promise<number> | undefined;
  private failure: LogStoreError | undefined;
  private closed = false;
  /**
   * A roll in progress (fsync policies other than "never"): the old segment is being fsynced in the
   * background, and the batches appended meanwhile wait here, in offset order, to be written to the new
   * segment once it exists. No byte lands in the new segment before the old one is whole on disk, so
   * recovery only ever has to repair the last segment; and the event loop never waits for that fsync.
   */
  private rolling: { pending: PendingBatch[]; done: Promise<void> } | undefined;
  /** Idempotent producers' state (producer-state.ts) and its snapshot files; set by openDir. */
  private producers!: ProducerStateManager;
  private snapshots!: ProducerSnapshots;
  /** The partition's leader epochs and their `leader-epoch-checkpoint` file; set by openDir. */
  private epochs!: LeaderEpochCache;
  /** A {@link truncateTo} in progress: appends are refused and retention waits until it ends. */
  private truncating: Promise<number> | undefined;
  /** The batch an idempotent append just recorded, handed from appendBatch to append. */
  private recorded: ProducerBatchMetadata | undefined;

  private constructor(
    /** The log's directory. */
    readonly dir: string,
    private readonly settings: LogSettings,
    private readonly segments: LogSegment[],
    private readonly lock: DirectoryLock | undefined,
    /** Names the log in `CORRUPT_RECORD` messages (`topic "orders" partition 3`), when it belongs to a store. */
    private readonly label: string | undefined,
  ) {
    this.nextOffset = this.active.nextOffset;
    this.hw = this.nextOffset;
    this.written = this.nextOffset;
    this.synced = this.nextOffset;
    this.replicated = settings.replicated;
  }

  /**
   * Opens (or creates) the log in `options.dir`, recovering from a crash: a torn or corrupt tail of the
   * last segment is cut off and its index rebuilt.
   * @throws LogStoreError `CORRUPT_RECORD` when data below the last durable point is damaged (names the
   *   file and offset), `DATA_DIR_LOCKED` when the directory is open elsewhere, `INVALID_REQUEST` for bad options.
   */
  static async open(options: PartitionLogOptions): Promise<PartitionLog> {
    if (typeof options?.dir !== "string" || options.dir === "") throw new LogStoreError("INVALID_REQUEST", "dir must be a non-empty path");
    const settings = resolveSettings(options, options);
    settings.fs.mkdirSync(options.dir, { recursive: true });
    const lock = DirectoryLock.acquire(options.dir);
    try {
      return await PartitionLog.openDir(options.dir, settings, lock);
    } catch (error) {
      lock.release();
      throw error;
    }
  }

  private get active(): LogSegment {
    return this.segments[this.segments.length - 1]!;
  }

  /** The first offset still stored. */
  get logStartOffset(): number {
    return this.segments[0]!.baseOffset;
  }

  /** One past the last offset written. */
  get logEndOffset(): number {
    return this.nextOffset;
  }

  /**
   * One past the last offset consumers may read ({@link read}, {@link waitForData}): the durable end
   * ({@link durableEndOffset}), or in a replicated log the value last given to {@link setHighWatermark}
   * (after a restart, the checkpointed one).
   */
  get highWatermark(): number {
    return this.replicated ? this.highWm : this.hw;
  }

  /**
   * One past the last offset durable under the fsync policy (Kafka's log end as a follower reports it to
   * its leader). At most {@link logEndOffset}; under `"never"`, equal to it.
   */
  get durableEndOffset(): number {
    return this.hw;
  }

  /**
   * One past the last offset {@link readBatches} serves, what a leader's followers may fetch: in a
   * replicated log without the store's journal, everything written to the segments, durable here or not
   * (Kafka's leaders serve up to their log end), so that a follower's fetch and fsync overlap the leader's
   * own fsync instead of following it; otherwise the durable end ({@link durableEndOffset}). Safe because a
   * leader's high watermark counts its own durable end too: a record is committed only once it is durable
   * on the leader and on every in-sync follower, and a follower that got a record the leader then lost in
   * a power cut either leads it (the record survives, never acknowledged) or truncates it by leader epoch.
   */
  get replicaEndOffset(): number {
    if (!this.replicated || this.settings.journal !== undefined) return this.hw;
    return this.written > this.hw ? this.written : this.hw;
  }

  /**
   * Replicated mode ({@link LogConfig.replicated}): moves the high watermark to `offset`, the end of what
   * the in-sync replicas all have (a leader) or of what the leader says is committed (a follower, which
   * passes the smaller of the leader's high watermark and its own {@link durableEndOffset}, as Kafka's
   * followers do: it may not have all the leader has committed yet). Readers
   * then see the offsets below it and waiters for them wake. The checkpoint file follows within
   * `highWatermarkCheckpointIntervalMs` (and on close). Setting the current value again does nothing.
   * Only {@link truncateTo} lowers it (to the new log end, checkpointed before anything is cut when the
   * checkpoint was above it) and {@link truncateFullyAndStartAt} resets it.
   * @throws LogStoreError `OFFSET_OUT_OF_RANGE` when `offset` is below the current high watermark, above
   *   the durable end ({@link durableEndOffset}) or not an integer; `INVALID_REQUEST` when the log is not
   *   replicated; `STORE_CLOSED`
   */
  setHighWatermark(offset: number): void {
    this.assertOpen();
    if (!this.replicated)
      throw new LogStoreError(
        "INVALID_REQUEST",
        `log ${this.label ?? this.dir} is not replicated: its high watermark is its durable end (open it with replicated: true)`,
      );
    if (!Number.isSafeInteger(offset) || offset < this.highWm || offset > this.hw)
      throw new LogStoreError(
        "OFFSET_OUT_OF_RANGE",
        `high watermark ${String(offset)} of ${this.label ?? this.dir} is outside [${this.highWm}, ${this.hw}] (the current high watermark, the durable end)`,
      );
    if (offset === this.highWm) return;
    this.highWm = offset;
    for (const waiter of this.dataWaiters) if (waiter.offset < offset) waiter.finish(true);
    if (this.hwTimer === undefined) {
      this.hwTimer = setTimeout(() => {
        this.hwTimer = undefined;
        // A failed write (full disk) keeps the checkpoint behind: the next change or the close retries it.
        void this.checkpointHighWatermark().catch(() => undefined);
      }, this.settings.highWatermarkCheckpointIntervalMs);
      this.hwTimer.unref?.();
    }
  }

  /**
   * Replicated mode: writes the high watermark to the partition's `high-watermark-checkpoint` now (temp
   * file, fsync, rename, directory fsync; no fsyncs under `fsync: "never"`), if it changed since the last
   * write. Runs periodically and on close by itself; nothing to do in a log that is not replicated.
   * @throws LogStoreError `DISK_FULL`, `KAFKA_STORAGE_ERROR` when the file could not be written (the old
   *   one stays), `STORE_CLOSED`
   */
  checkpointHighWatermark(): Promise<void> {
    if (!this.replicated) return Promise.resolve();
    if (this.closed) return Promise.reject(new LogStoreError("STORE_CLOSED", `log ${this.dir} is closed`));
    const run = this.hwWrites.then(async () => {
      const hw = this.highWm;
      if (hw === this.hwCheckpointed) return;
      try {
        await writeFileAtomic(this.settings.fs, join(this.dir, HIGH_WATERMARK_CHECKPOINT), `0\n${hw}\n`, this.settings.fsync !== "never");
      } catch (error) {
        if (errnoCode(error) === "ENOSPC") throw diskFull(this.dir, error);
        throw new LogStoreError("KAFKA_STORAGE_ERROR", `log ${this.dir}: cannot write the high watermark checkpoint: ${(error as Error).message}`, {
          cause: error,
        });
      }
      this.hwCheckpointed = hw;
    });
    this.hwWrites = run.catch(() => undefined);
    return run;
  }

  /** Offsets and size of this log. */
  describe(partition = 0): PartitionDescription {
    let sizeBytes = 0;
    for (const segment of this.segments) sizeBytes += segment.size;
    return { partition, logStartOffset: this.logStartOffset, logEndOffset: this.nextOffset, highWatermark: this.highWatermark, sizeBytes };
  }

  /**
   * Appends `records` as one batch and resolves with its offsets once durable under the fsync policy.
   * Offsets are assigned in call order, so concurrent appends keep the order they were called in.
   * @throws LogStoreError `INVALID_RECORD` (nothing is written), `DISK_FULL` when the disk has no space
   *   (nothing of this batch is stored or acknowledged, its offsets are reused, and appends work again as
   *   soon as there is space), `KAFKA_STORAGE_ERROR` when the disk failed otherwise (the log then refuses
   *   writes until reopened), `STORE_CLOSED`.
   *
   * With `options.producer` the append is idempotent (see {@link AppendOptions}): a retry of one of the
   * producer's last 5 batches resolves with the original offsets and `duplicate: true` (once the original
   * is acknowledged; with its error if it failed) and appends nothing.
   * @throws LogStoreError also `OUT_OF_ORDER_SEQUENCE_NUMBER`, `INVALID_PRODUCER_EPOCH`,
   *   `UNKNOWN_PRODUCER_ID` (nothing is written; `error.producer` holds the partition's epoch and expected
   *   sequence), `INVALID_REQUEST` for malformed producer fields.
   */
  append(records: readonly RecordInput[], options?: AppendOptions): Promise<AppendResult> {
    const producer = options?.producer;
    const leaderEpoch = options?.leaderEpoch;
    if (producer === undefined) return this.appendBatch(records, undefined, leaderEpoch);
    // Decided and recorded synchronously (check → encode → write → record), so appends of one producer are
    // decided in call order: this log assigns offsets without yielding.
    let duplicate: ProducerBatchMetadata | undefined;
    try {
      this.assertWritable();
      const p = validateProducerSequence(producer);
      if (!Array.isArray(records) || records.length === 0) return this.appendBatch(records, undefined, leaderEpoch); // INVALID_RECORD
      this.epochFor(leaderEpoch); // a fenced leader answers nothing, not even a duplicate
      duplicate = this.producers.check(p, records.length);
      if (duplicate === undefined) {
        const promise = this.appendBatch(records, p, leaderEpoch);
        const recorded = this.recorded;
        this.recorded = undefined;
        if (recorded !== undefined) recorded.ack = promise;
        return promise;
      }
    } catch (error) {
      return Promise.reject(error);
    }
    // A retry: answer with the original's offsets once the original is acknowledged (and with its error if
    // it failed); a batch recovered from disk is durable already.
    const { baseOffset, lastOffset, ack } = duplicate;
    const result: AppendResult = { baseOffset, lastOffset, duplicate: true };
    return ack === undefined ? Promise.resolve(result) : ack.then(() => result);
  }

  /**
   * Appends batches fetched from the leader, as they are (Kafka's appendAsFollower): `bytes` holds whole
   * RecordBatch v2 batches back to back, as {@link readBatches} returns them, with the offsets the leader
   * assigned and its leader epochs. They must start at this log's end and be dense and continuous; their
   * epochs must not go down, nor start below this log's latest epoch. They go through the same path as
   * {@link append} (same fsync policy and group commit, segment rolls, the store's journal when it has
   * one); each new epoch is recorded in the leader-epoch checkpoint before its first batch, and the
   * producer fields of each batch update the partition's idempotent-producer state (so that a follower
   * that becomes leader recognises the producers' retries). Resolves with the first and last offset once
   * the batches are durable under the fsync policy.
   * @throws LogStoreError `OFFSET_OUT_OF_RANGE` when the batches do not start at the log end,
   *   `INVALID_RECORD` for bytes that are not whole, valid batches (checksum included) or that skip or
   *   repeat offsets, `FENCED_LEADER_EPOCH` for an epoch below the latest (the follower must truncate
   *   first), all with nothing stored; `DISK_FULL`, `TOO_MANY_OPEN_FILES`, `KAFKA_STORAGE_ERROR`,
   *   `STORE_CLOSED` as {@link append} (then the batches before the failing one may be stored:
   *   {@link logEndOffset} says where to fetch from again).
   */
  async appendAsFollower(bytes: Uint8Array): Promise<AppendResult> {
    this.assertWritable();
    if (!(bytes instanceof Uint8Array) || bytes.length === 0)
      throw new LogStoreError("INVALID_RECORD", "follower append needs the bytes of at least one batch");
    const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
    // Everything is checked before anything is written: a refused append stores nothing.
    const batches: Array<{ pos: number; header: BatchHeader }> = [];
    let expected = this.nextOffset;
    let epoch = this.epochs.latestEpoch(this.nextOffset);
    for (let pos = 0; pos < buf.length;) {
      const check = checkBatch(buf, pos, buf.length - pos, true, null);
      if ("incomplete" in check)
        throw new LogStoreError(
          "INVALID_RECORD",
          `follower append: the batch at byte ${pos} is incomplete (${buf.length - pos} of ${check.needed} bytes)`,
        );
      if ("corrupt" in check) throw new LogStoreError("INVALID_RECORD", `follower append: invalid batch at byte ${pos}: ${check.corrupt}`);
      if (check.baseOffset !== expected)
        throw batches.length === 0
          ? new LogStoreError(
              "OFFSET_OUT_OF_RANGE",
              `follower append: the batches start at offset ${check.baseOffset}, but the log ends at ${expected}`,
            )
          : new LogStoreError(
              "INVALID_RECORD",
              `follower append: the batch at byte ${pos} starts at offset ${check.baseOffset}, expected ${expected}`,
            );
      if (check.leaderEpoch < epoch) throw fencedEpoch(this.label ?? this.dir, check.leaderEpoch, epoch);
      epoch = check.leaderEpoch;
      expected = check.lastOffset + 1;
      batches.push({ pos, header: check });
      pos += check.size;
    }
    const baseOffset = this.nextOffset;
    const acks: Array<Promise<void>> = [];
    try {
      for (const { pos, header } of batches) {
        const fields = batchProducer(buf, pos);
        const producer = fields && { producerId: fields.producerId, producerEpoch: fields.producerEpoch, sequence: fields.baseSequence };
        const ack = this.writeBatch(
          buf.subarray(pos, pos + header.size),
          header.lastOffset,
          header.maxTimestamp,
          header.lastOffset - header.baseOffset + 1,
          producer,
          header.leaderEpoch,
        );
        acks.push(ack);
        const recorded = this.recorded;
        this.recorded = undefined;
        if (recorded !== undefined) {
          // What a producer's retry of this batch waits for, should this replica become the leader.
          const answer = ack.then(() => ({ baseOffset: header.baseOffset, lastOffset: header.lastOffset }));
          answer.catch(() => undefined);
          recorded.ack = answer;
        }
      }
    } catch (error) {
      // The batches before the failing one are stored; their fate is the log's (a failure fails the log).
      for (const ack of acks) ack.catch(() => undefined);
      throw error;
    }
    await Promise.all(acks);
    return { baseOffset, lastOffset: expected - 1 };
  }

  /**
   * Truncates the log to end at `offset` (a follower cutting the history that diverges from its new
   * leader's, Kafka's truncateTo): every batch holding an offset at or past it is removed. The cut is at a
   * batch boundary, the start of the batch holding `offset`, so the log may end a little before `offset`;
   * resolves with the new log end. Nothing happens when the log ends at or before `offset`.
   *
   * In this order, each step durable before the next, so that a crash at any point leaves a log that opens
   * (and that a repeated truncation finishes): everything written so far is flushed (with the store's
   * journal: a journal checkpoint, so that no journal file still holds the batches cut off); producer-state
   * snapshots past the cut are removed and the directory fsynced; segments wholly past the cut are deleted
   * from the highest down and the directory fsynced; the segment holding the cut is cut there and
   * fdatasynced; the leader-epoch checkpoint loses the epochs starting at or past the cut; that segment is
   * reopened (its index rebuilt from what is left), the producer state rebuilt, and the cached batches of
   * the segments touched dropped. Appends are refused (`INVALID_REQUEST`) while it runs.
   *
   * The log lowers its high watermark to the new end; whether offsets below the old high watermark (or
   * consumers' committed offsets) may be cut is the caller's concern. Reads running meanwhile may return
   * records that are being cut off.
   * @throws LogStoreError `OFFSET_OUT_OF_RANGE` for an offset below the log start or not an integer,
   *   `CORRUPT_RECORD` when the segment holding the cut is damaged there (nothing changed),
   *   `KAFKA_STORAGE_ERROR` when the disk failed midway (the log refuses writes until reopened; reopening
   *   recovers, and truncating again completes the cut), `INVALID_REQUEST` during another truncation,
   *   `STORE_CLOSED`
   */
  truncateTo(offset: number): Promise<number> {
    try {
      this.assertWritable();
      if (!Number.isSafeInteger(offset) || offset < this.logStartOffset)
        throw new LogStoreError("OFFSET_OUT_OF_RANGE", `cannot truncate to offset ${String(offset)}: the log starts at ${this.logStartOffset}`);
    } catch (error) {
      return Promise.reject(error);
    }
    if (offset >= this.nextOffset) return Promise.resolve(this.nextOffset);
    const run = this.runTruncation(offset).finally(() => (this.truncating = undefined));
    this.truncating = run;
    return run;
  }

  private async runTruncation(offset: number): Promise<number> {
    const journal = this.settings.journal;
    await this.rolling?.done;
    await this.flush(); // everything written is in the segment files and durable (journal: written back)
    await this.retentionRunning?.catch(() => 0);
    // A checkpoint rotates the journal and deletes the files holding this log's entries: replayed after a
    // crash, they would bring the cut batches back.
    if (journal !== undefined) await journal.checkpoint();
    this.assertOpen();
    // Readers see nothing at or past the cut from now on (nothing raises the high watermark meanwhile: all
    // is durable and appends are refused).
    if (this.hw > offset) this.hw = offset;
    if (this.written > offset) this.written = offset;
    if (this.highWm > offset) this.highWm = offset;
    // Where the cut falls: the kept segment, the byte position and offset of the first batch to remove.
    let keep = this.segments.indexOf(this.segmentFor(offset)!);
    if (keep > 0 && this.segments[keep]!.baseOffset === offset) keep--; // it ends exactly at the cut
    const kept = this.segments[keep]!;
    const cut = await this.findCut(kept, offset);
    try {
      // A checkpoint above the cut must go first: after a crash, batches appended past the cut would
      // otherwise be read as committed up to the old value.
      if (this.highWm > cut.offset) this.highWm = cut.offset;
      if (this.replicated && (this.hwCheckpointed === -1 || this.hwCheckpointed > this.highWm)) await this.checkpointHighWatermark();
      await this.snapshots.removeAfter(cut.offset);
      const doomed = this.segments.splice(keep + 1);
      for (const segment of doomed.reverse()) {
        this.dirtySegments.delete(segment);
        recentBatches.delete(segment);
        segment.delete();
      }
      if (doomed.length > 0) await fsyncDir(this.settings.fs, this.dir);
      if (cut.position < kept.size) await kept.cutFile(cut.position);
      this.epochs.truncateFromEnd(cut.offset);
      this.dirtySegments.delete(kept);
      recentBatches.delete(kept);
      kept.close();
      const reopened = await LogSegment.open(this.settings.handles, this.dir, kept.baseOffset, {
        active: true,
        indexIntervalBytes: this.settings.indexIntervalBytes,
        epochs: this.epochs,
      });
      this.segments[keep] = reopened;
      if (reopened.nextOffset !== cut.offset)
        throw new Error(`the segment at ${reopened.baseOffset} ends at offset ${reopened.nextOffset} after the cut, expected ${cut.offset}`);
      this.nextOffset = this.synced = this.written = cut.offset;
      this.hw = Math.min(this.hw, cut.offset);
      this.highWm = Math.min(this.highWm, cut.offset);
      this.durable = { offset: cut.offset, segment: reopened, position: reopened.size };
      this.producers = new ProducerStateManager(this.settings.producerIdExpirationMs, this.settings.now);
      await this.snapshots.load(this.producers, this.segments, this.settings.now(), this.epochs);
    } catch (error) {
      throw this.fail(error);
    }
    return cut.offset;
  }

  /**
   * The byte position and offset in `segment` of the first batch holding an offset at or past `offset`,
   * found from the index by reading batch headers only (checked as far as a header goes: length, magic,
   * epoch, offsets following on).
   * @throws LogStoreError `CORRUPT_RECORD` when a header on the way is invalid
   */
  private async findCut(segment: LogSegment, offset: number): Promise<{ position: number; offset: number }> {
    if (offset >= segment.nextOffset) return { position: segment.size, offset: segment.nextOffset };
    let { position, baseOffset: expected } = segment.lookup(offset);
    await segment.acquire();
    try {
      while (position < segment.size && expected < segment.nextOffset) {
        const head = await segment.read(position, BATCH_HEADER_SIZE);
        const check = checkBatch(head, 0, head.length, false, this.epochs);
        // Asked for the rest of the batch: its length, magic and epoch passed.
        const header =
          "incomplete" in check && check.needed > BATCH_HEADER_SIZE
            ? { size: check.needed, ...batchOffsets(head, 0) }
            : "baseOffset" in check
              ? check
              : undefined;
        if (header === undefined || header.baseOffset !== expected || position + header.size > segment.size) {
          const reason =
            "corrupt" in check
              ? check.corrupt
              : header === undefined
                ? "incomplete batch header"
                : header.baseOffset !== expected
                  ? `batch base offset ${header.baseOffset}, expected ${expected}`
                  : `batch of ${header.size} bytes extends past the end of the segment`;
          throw this.labelled(corruptError(segment.logPath, position, expected, reason));
        }
        if (header.lastOffset >= offset) return { position, offset: expected };
        position += header.size;
        expected = header.lastOffset + 1;
      }
    } finally {
      segment.release();
    }
    return { position: segment.size, offset: segment.nextOffset };
  }

  /**
   * Empties the log and restarts it at `offset` (Kafka's truncateFullyAndStartAt): for a follower whose log
   * is entirely behind the leader's log start, or diverges from the leader below it, so that it can fetch
   * from the leader's log start. Afterwards the log starts and ends at `offset`, holds no batch, knows no
   * leader epoch (the `leader-epoch-checkpoint` has no entry: {@link latestEpoch} is -1, the first batch
   * appended records its epoch), no producer, and its high watermark is `offset`. Resolves with `offset`.
   *
   * Crash-safe through an intent file: everything written is flushed (with the store's journal, a journal
   * checkpoint too, so that no journal file can replay old batches); then `log-reset` (the new start) is
   * written atomically and fsynced with the directory: from that point the reset is decided. Then every
   * segment, index and producer snapshot is deleted, the epoch checkpoint rewritten empty, an empty segment
   * created at `offset`, a replicated log's `high-watermark-checkpoint` (if any) rewritten to `offset`, the
   * directory fsynced, and the intent file removed (directory fsynced again). Every
   * open that finds the intent file performs those steps again first, so a power loss at any point leaves
   * either the old log or the new empty one at `offset`, never a mix (old epochs over a new start, a
   * segment missing below others). Appends are refused (`INVALID_REQUEST`) while it runs; reads running
   * meanwhile may fail. Whether committed offsets or consumers' positions below `offset` still make sense
   * is the caller's concern.
   * @throws LogStoreError `OFFSET_OUT_OF_RANGE` for an offset that is not a non-negative safe integer,
   *   `KAFKA_STORAGE_ERROR` when the disk failed midway (the log refuses writes until reopened; reopening
   *   finishes the reset if its intent was durable, else leaves the old log), `INVALID_REQUEST` during a
   *   truncation, `STORE_CLOSED`
   */
  truncateFullyAndStartAt(offset: number): Promise<number> {
    try {
      this.assertWritable();
      if (!Number.isSafeInteger(offset) || offset < 0)
        throw new LogStoreError("OFFSET_OUT_OF_RANGE", `cannot restart the log at offset ${String(offset)}: not a non-negative integer`);
    } catch (error) {
      return Promise.reject(error);
    }
    const run = this.runReset(offset).finally(() => (this.truncating = undefined));
    this.truncating = run;
    return run;
  }

  private async runReset(offset: number): Promise<number> {
    const journal = this.settings.journal;
    await this.rolling?.done;
    await this.flush();
    await this.retentionRunning?.catch(() => 0);
    if (journal !== undefined) await journal.checkpoint();
    await this.snapshots.settled();
    this.assertOpen();
    const fs = this.settings.fs;
    try {
      writeFileAtomicSync(fs, join(this.dir, LOG_RESET_FILE), Buffer.from(`0\n${offset}\n`), true);
      // Decided. Readers see nothing from now on; the files go.
      this.hw = this.highWm = this.written = this.logStartOffset;
      for (const segment of this.segments) {
        recentBatches.delete(segment);
        segment.close();
      }
      this.dirtySegments.clear();
      completeReset(fs, this.dir, offset);
      this.epochs = LeaderEpochCache.load(fs, this.dir);
      const segment = await LogSegment.open(this.settings.handles, this.dir, offset, {
        active: true,
        indexIntervalBytes: this.settings.indexIntervalBytes,
        epochs: this.epochs,
      });
      this.segments.length = 0;
      this.segments.push(segment);
      this.nextOffset = this.synced = this.hw = this.highWm = this.written = offset;
      this.hwCheckpointed = offset; // completeReset wrote it, or there is none (a restart starts at the log start)
      this.durable = { offset, segment, position: 0 };
      this.producers = new ProducerStateManager(this.settings.producerIdExpirationMs, this.settings.now);
      this.snapshots = new ProducerSnapshots(fs, this.dir, this.settings.fsync !== "never");
      await this.snapshots.load(this.producers, this.segments, this.settings.now(), this.epochs);
    } catch (error) {
      throw this.fail(error);
    }
    return offset;
  }

  /**
   * The leader epoch of the partition's latest batches: the one appends are stamped with by default, and
   * below which they are refused. -1 when the log knows no epoch (after a truncation to its start).
   */
  get latestEpoch(): number {
    return this.epochs.latestEpoch(this.nextOffset);
  }

  /**
   * Where the history of leader `epoch` ends in this log (Kafka's OffsetForLeaderEpoch, answered by a
   * leader to a follower that starts following it): for the latest epoch, the log end; for an older one,
   * the largest epoch at or below it that this log has and the start offset of the first epoch above it;
   * `{ leaderEpoch: -1, endOffset: -1 }` (UNDEFINED) for an epoch below the first one this log knows,
   * above its latest, or negative. The follower truncates its log to `endOffset` if it has more.
   * @throws LogStoreError `STORE_CLOSED`
   */
  endOffsetForEpoch(epoch: number): EpochEndOffset {
    this.assertOpen();
    return this.epochs.endOffsetFor(epoch, this.nextOffset);
  }

  /**
   * The epoch an append is stamped with.
   * @throws LogStoreError `FENCED_LEADER_EPOCH` below the latest epoch, `INVALID_REQUEST` for a non-epoch
   */
  private epochFor(requested: number | undefined): number {
    const latest = this.epochs.latestEpoch(this.nextOffset);
    if (requested === undefined) return Math.max(0, latest);
    if (!Number.isSafeInteger(requested) || requested < 0 || requested > MAX_LEADER_EPOCH)
      throw new LogStoreError("INVALID_REQUEST", `leaderEpoch must be an integer from 0 to ${MAX_LEADER_EPOCH}, got ${String(requested)}`);
    if (requested < latest) throw fencedEpoch(this.label ?? this.dir, requested, latest);
    return requested;
  }

  /**
   * Before the first batch of a new epoch is written at `offset`: records the epoch's start durably in the
   * leader-epoch checkpoint (so that the file is never behind the batches on disk).
   */
  private startEpoch(epoch: number, offset: number): void {
    try {
      this.epochs.beforeAppend(epoch, offset);
    } catch (error) {
      if (errnoCode(error) === "ENOSPC") throw diskFull(this.dir, error);
      if (isTooManyOpenFiles(error) || errnoCode(error) === "EMFILE" || errnoCode(error) === "ENFILE")
        throw new LogStoreError(
          "TOO_MANY_OPEN_FILES",
          `log ${this.dir}: no file descriptor to write the leader epoch checkpoint; nothing was stored`,
          {
            cause: error,
          },
        );
      throw this.fail(error);
    }
  }

  // Not an async function: an append is the promise of its acknowledgement mapped to its offsets, one
  // reaction, not an async frame suspended on it (which cost ~1.5 µs more per append with 1,000 partitions
  // per request under the journal, where every append awaits the same round). Throws become rejections.
  private appendBatch(
    records: readonly RecordInput[],
    producer: ProducerSequence | undefined,
    leaderEpoch: number | undefined,
  ): Promise<AppendResult> {
    try {
      this.assertWritable();
      if (producer === undefined && this.settings.journal !== undefined) return this.appendCoalesced(records, leaderEpoch);
      const epoch = this.epochFor(leaderEpoch);
      const baseOffset = this.nextOffset;
      // Scratch encoding is safe: the batch is written (or copied) synchronously below and not referenced afterwards.
      const batch = encodeBatch(
        records,
        baseOffset,
        this.settings.now(),
        true,
        producer && { producerId: producer.producerId, producerEpoch: producer.producerEpoch, baseSequence: producer.sequence },
        epoch,
      );
      const lastOffset = baseOffset + batch.recordCount - 1;
      const result: AppendResult = { baseOffset, lastOffset };
      return this.writeBatch(batch.buffer, lastOffset, batch.maxTimestamp, batch.recordCount, producer, epoch).then(() => result);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Journal mode, an append without a producer: its records join the batch being built in the active
   * segment's tail if there is one of the same leader epoch with room for them (see
   * {@link MAX_COALESCED_BATCH_BYTES}; the segment must not overflow either), else they start one (after
   * finishing the previous one, rolling the segment if needed, and recording a new epoch). The batch joins
   * the journal's open round; every append in it is acknowledged, with its own offsets, when that round is
   * durable. Synchronous, like every append, so offsets follow call order; nothing changes when it throws.
   */
  private appendCoalesced(records: readonly RecordInput[], leaderEpoch: number | undefined): Promise<AppendResult> {
    const result = this.coalesce(records, leaderEpoch);
    return this.buildingDurable!.then(() => result);
  }

  /**
   * @internal {@link LogStore.appendMany}'s path with the store's journal: appends `records` (no producer)
   * as {@link append} does, synchronously, and returns their offsets without a promise of their own. They
   * are durable (and readable) once the journal's open round is: `journal.flushed(this)` right after.
   * @throws LogStoreError what {@link append} would reject with (nothing is appended then)
   */
  appendToRound(records: readonly RecordInput[]): AppendResult {
    this.assertWritable();
    return this.coalesce(records, undefined);
  }

  /** {@link appendCoalesced} up to the promise: the offsets of the records, now in the batch being built. */
  private coalesce(records: readonly RecordInput[], leaderEpoch: number | undefined): AppendResult {
    const now = this.settings.now();
    const builder = (this.builder ??= new BatchBuilder());
    const building = this.building;
    let epoch: number;
    if (building !== undefined && (leaderEpoch === undefined || leaderEpoch === builder.epoch)) {
      // The batch being built has the latest epoch (a new one finishes it first): no need to look it up.
      epoch = builder.epoch;
      const bytes = builder.measure(records, now); // INVALID_RECORD: nothing changed
      const length = builder.length + bytes;
      if (length <= MAX_COALESCED_BATCH_BYTES && building.size + length <= this.settings.segmentBytes)
        return this.addBuilt(building, builder, records, bytes);
    } else epoch = this.epochFor(leaderEpoch);
    // A new batch. Finishing the previous one early (even if these records turn out invalid) changes
    // nothing anyone can see: it is in the same round either way.
    this.sealBuilt();
    const baseOffset = this.nextOffset;
    builder.start(baseOffset, epoch);
    const bytes = builder.measure(records, now);
    this.startEpoch(epoch, baseOffset);
    let segment: LogSegment;
    try {
      segment = this.rollIfFull(baseOffset, BATCH_HEADER_SIZE + bytes);
      this.buildingDurable = this.settings.journal!.join(this);
    } catch (error) {
      if (isTooManyOpenFiles(error)) throw error;
      throw this.fail(error);
    }
    this.building = segment;
    return this.addBuilt(segment, builder, records, bytes);
  }

  /** Writes records just measured (`bytes` of them) into the batch being built in `segment`. */
  private addBuilt(segment: LogSegment, builder: BatchBuilder, records: readonly RecordInput[], bytes: number): AppendResult {
    builder.write(segment.buildSpace(builder.length + bytes), segment.buildStart, records, bytes);
    const baseOffset = this.nextOffset;
    const count = records.length;
    this.nextOffset = baseOffset + count;
    this.settings.metrics.appendedRecords += count;
    return { baseOffset, lastOffset: baseOffset + count - 1 };
  }

  /**
   * Journal mode: finishes the batch being built (header, checksum), makes it part of its segment and adds
   * it to the journal round its appends joined. Nothing to do when no batch is being built.
   */
  private sealBuilt(): void {
    const segment = this.building;
    if (segment === undefined) return;
    this.building = undefined;
    this.buildingDurable = undefined;
    const builder = this.builder!;
    const length = builder.length;
    const buf = segment.buildSpace(length);
    const at = segment.buildStart;
    builder.finish(buf, at);
    segment.commitBuilt(length, builder.baseOffset + builder.count - 1, builder.maxTimestamp);
    // The bytes stay where they are until the next change to the segment's tail: copied now.
    this.settings.journal!.write(this, buf, at, at + length);
    this.settings.metrics.appendedBytes += length;
  }

  /**
   * Stores one encoded batch that starts at the log end: synchronously up to the write (or the queueing
   * behind a roll, or the journal's copy), recording its producer (in `recorded`) and starting its epoch
   * first if it is a new one. Returns the promise of its acknowledgement under the fsync policy. The
   * buffer may be reused once this returns.
   * @throws LogStoreError (synchronously) when nothing of the batch was stored: `DISK_FULL`,
   *   `TOO_MANY_OPEN_FILES`, `KAFKA_STORAGE_ERROR` (the log then refuses writes until reopened)
   */
  private writeBatch(
    buffer: Buffer,
    lastOffset: number,
    maxTimestamp: number,
    recordCount: number,
    producer: ProducerSequence | undefined,
    epoch: number,
  ): Promise<void> {
    const baseOffset = this.nextOffset;
    this.startEpoch(epoch, baseOffset);
    if (this.settings.journal !== undefined) return this.writeJournaled(buffer, lastOffset, maxTimestamp, recordCount, producer);
    const header = { lastOffset, maxTimestamp };
    // Set when the batch waits for a roll to finish before it is written.
    let queued: Promise<void> | undefined;
    let pending: PendingBatch | undefined;
    let wrote = false;
    try {
      const segment = this.active;
      if (this.rolling !== undefined) {
        // The buffer may be reused by the caller (the next encode): keep a copy until the new segment exists.
        pending = { buffer: Buffer.from(buffer), baseOffset, ...header };
        this.rolling.pending.push(pending);
        queued = this.rolling.done;
      } else if (segment.size > 0 && segment.size + buffer.length > this.settings.segmentBytes) {
        this.snapshots.take(this.producers, baseOffset); // the producer state as of the new segment's start
        if (this.settings.fsync === "never") {
          const next = this.roll();
          wrote = true;
          next.append(buffer, header);
          this.dirtySegments.add(next);
          this.wroteThrough(lastOffset + 1);
        } else {
          pending = { buffer: Buffer.from(buffer), baseOffset, ...header };
          queued = this.startRoll(segment, pending);
        }
      } else {
        wrote = true;
        segment.append(buffer, header);
        this.dirtySegments.add(segment);
        this.wroteThrough(lastOffset + 1);
      }
    } catch (error) {
      // A full disk on the write itself: the segment was cut back to where this batch began (else the
      // truncation's own error is what arrives here), so earlier data is untouched and the log stays usable.
      if (wrote && errnoCode(error) === "ENOSPC") throw diskFull(this.dir, error);
      // No descriptor to be had: raised before anything was written (segment append, segment creation).
      if (isTooManyOpenFiles(error)) throw error;
      throw this.fail(error);
    }
    this.nextOffset = lastOffset + 1;
    if (producer !== undefined) this.recorded = this.producers.record(producer, baseOffset, lastOffset, queued !== undefined);
    const metrics = this.settings.metrics;
    metrics.appendedRecords += recordCount;
    metrics.appendedBytes += buffer.length;
    switch (this.settings.fsync) {
      case "never":
        this.advance(this.nextOffset);
        return Promise.resolve();
      case "interval":
        this.scheduleIntervalSync();
        // Acknowledged means written, in the page cache (a crash of this process loses nothing), as for
        // every other append: a batch queued behind a roll is written once the old segment is durable.
        if (queued === undefined) return Promise.resolve();
        return queued.then(() => {
          if (pending?.error) throw pending.error;
          if (this.active.nextOffset <= lastOffset) throw this.failure ?? new LogStoreError("STORE_CLOSED", `log ${this.dir} is closed`);
        });
      case "always":
        return this.syncThrough(this.nextOffset);
    }
  }

  /**
   * Journal mode (a store's `fsync: "always"`): the batch goes to the in-memory tail of the active
   * segment and into the store's journal round; it is acknowledged (and readable) once that round is
   * durable. Everything up to the journal copy is synchronous, so offsets follow call order. Segment files
   * are written later, in the background ({@link writeBack}).
   */
  private writeJournaled(
    buffer: Buffer,
    lastOffset: number,
    maxTimestamp: number,
    recordCount: number,
    producer: ProducerSequence | undefined,
  ): Promise<void> {
    const journal = this.settings.journal!;
    const baseOffset = this.nextOffset;
    const header = { lastOffset, maxTimestamp };
    let durable: Promise<void>;
    try {
      this.sealBuilt(); // its offsets come first
      const segment = this.rollIfFull(baseOffset, buffer.length);
      segment.appendToTail(buffer, header);
      durable = journal.add(this, buffer);
    } catch (error) {
      if (isTooManyOpenFiles(error)) throw error;
      throw this.fail(error);
    }
    this.nextOffset = lastOffset + 1;
    if (producer !== undefined) this.recorded = this.producers.record(producer, baseOffset, lastOffset, true);
    const metrics = this.settings.metrics;
    metrics.appendedRecords += recordCount;
    metrics.appendedBytes += buffer.length;
    return durable;
  }

  /**
   * Journal mode: the active segment, after rolling to a new one (in memory; its files are created now,
   * written by {@link writeBack}) when `bytes` more would not fit.
   */
  private rollIfFull(baseOffset: number, bytes: number): LogSegment {
    const segment = this.active;
    if (segment.size === 0 || segment.size + bytes <= this.settings.segmentBytes) return segment;
    this.snapshots.take(this.producers, baseOffset);
    const next = this.createSegment(baseOffset);
    segment.seal();
    return this.addSegment(next);
  }

  /** @internal Journal: a round with this log's appends so far is being written. */
  journalRoundStart(): void {
    this.sealBuilt();
    this.roundPoint = { offset: this.nextOffset, segment: this.active, position: this.active.size };
  }

  /** @internal Journal: that round is durable; its records become readable. */
  journalRoundDone(): void {
    const point = this.roundPoint;
    if (point === undefined || this.closed) return;
    this.roundPoint = undefined;
    this.durable = point;
    this.synced = point.offset;
    this.producers.forgetUndo(point.offset);
    this.advance(point.offset);
  }

  /** @internal Journal: that round failed; `givenBack`: nothing of it is stored, take it back. */
  journalRoundFailed(error: LogStoreError, givenBack: boolean): void {
    this.roundPoint = undefined;
    if (!givenBack) {
      // The journal failed: it rejects its open round too, which the batch being built (if any) belongs to.
      this.building?.discardBuilt();
      this.building = undefined;
      this.buildingDurable = undefined;
      if (!this.closed) this.fail(error);
      return;
    }
    if (this.closed) return;
    // Nothing is being built: the round that failed sealed every batch when it started, and its write
    // failed synchronously right after, with no append in between.
    // Everything past the last durable round was in the failed one (rounds are written one at a time, and
    // the write is synchronous): the log ends where that round left it, and the offsets are reused.
    const d = this.durable;
    const journal = this.settings.journal!;
    try {
      while (this.active !== d.segment) {
        const dropped = this.segments.pop()!;
        journal.released(dropped.size - dropped.fileSize);
        this.dirtySegments.delete(dropped);
        dropped.delete();
        if (this.active === d.segment) d.segment.unseal();
      }
      journal.released(d.segment.truncateTail(d.position, d.offset));
    } catch (e) {
      this.fail(e);
      return;
    }
    const settings = this.settings.metrics;
    settings.appendedRecords -= this.nextOffset - d.offset;
    this.nextOffset = d.offset;
    this.producers.rollback(d.offset);
  }

  /**
   * @internal Journal: writes the durable part of the in-memory tails to the segment files, in offset order;
   * a segment that is complete (not the active one) is fdatasynced before the next one gets a byte, so that
   * after a crash only the last segment with data can be short (recovery cuts it and the journal refills
   * it). With `sync`, the written segments (and the directory, after a roll) are fdatasynced too: the
   * journal may then forget them. One write-back at a time per log.
   */
  async writeBack(sync: boolean): Promise<void> {
    while (this.writingBack !== undefined) await this.writingBack.catch(() => undefined);
    if (this.closed) return;
    const run = this.runWriteBack(sync);
    this.writingBack = run;
    try {
      await run;
    } finally {
      this.writingBack = undefined;
    }
  }

  private async runWriteBack(sync: boolean): Promise<void> {
    const journal = this.settings.journal;
    // A copy: retention may delete old segments while a write is in flight (those are skipped).
    for (const segment of [...this.segments]) {
      if (segment.baseOffset > this.durable.segment.baseOffset) break;
      if (!this.segments.includes(segment)) continue;
      // The durable point may move past this segment while its write is in flight (a journal round ends):
      // then the rest of it is durable too and is written before the segment counts as complete, so that
      // no later segment gets a byte while this one is short in its file.
      let complete: boolean;
      for (;;) {
        const d = this.durable;
        complete = segment !== d.segment;
        const written = await segment.writeTail(complete ? segment.size : d.position);
        journal?.released(written);
        if (written > 0) this.dirtySegments.add(segment);
        if (complete || this.durable.segment === segment || !this.segments.includes(segment)) break;
      }
      if (complete && this.dirtySegments.has(segment)) {
        await segment.datasync();
        this.dirtySegments.delete(segment);
        if (this.closed) return;
      }
    }
    if (!sync) return;
    const segments = [...this.dirtySegments];
    this.dirtySegments.clear();
    const dir = this.dirDirty;
    this.dirDirty = false;
    try {
      await Promise.all(segments.map((segment) => segment.datasync()));
      if (dir) await fsyncDir(this.settings.fs, this.dir);
    } catch (error) {
      for (const segment of segments) this.dirtySegments.add(segment);
      this.dirDirty ||= dir;
      throw error;
    }
  }

  /** @internal Journal recovery: appends a batch found in the journal unless the segments hold it already. */
  replayBatch(buf: Buffer, pos: number, size: number, where: string): void {
    const check = checkBatch(buf, pos, size, true, this.epochs);
    if (!("baseOffset" in check) || check.size !== size)
      throw new LogStoreError(
        "CORRUPT_RECORD",
        `${this.label ?? this.dir}: ${where}: invalid batch in the journal (${"corrupt" in check ? check.corrupt : "wrong length"})`,
      );
    if (check.lastOffset < this.nextOffset) return;
    if (check.baseOffset !== this.nextOffset)
      throw new LogStoreError(
        "CORRUPT_RECORD",
        `${this.label ?? this.dir}: ${where}: the journal continues at offset ${check.baseOffset}, but the log ends at ${this.nextOffset}`,
      );
    const segment = this.rollIfFull(check.baseOffset, size);
    segment.appendToTail(buf.subarray(pos, pos + size), check);
    const producer = batchProducer(buf, pos);
    if (producer !== undefined)
      this.producers.replay(
        producer.producerId,
        producer.producerEpoch,
        producer.baseSequence,
        check.baseOffset,
        check.lastOffset,
        this.settings.now(),
      );
    this.nextOffset = check.lastOffset + 1;
    this.hw = this.synced = this.nextOffset;
    this.durable = { offset: this.nextOffset, segment: this.active, position: this.active.size };
    if (this.highWm < this.hwRecovered) {
      this.highWm = Math.min(this.hwRecovered, this.hw);
      this.hwCheckpointed = this.highWm === this.hwRecovered ? this.hwRecovered : -1;
    }
  }

  /**
   * Forces everything written so far to disk (under any policy) and makes it readable.
   * @throws LogStoreError `KAFKA_STORAGE_ERROR` when the fsync fails.
   */
  async flush(): Promise<void> {
    if (this.failure) throw this.failure;
    const journal = this.settings.journal;
    if (journal !== undefined) {
      await journal.flushed(this);
      await this.writeBack(true);
      return;
    }
    await this.syncThrough(this.nextOffset);
  }

  /**
   * Reads records from `offset` on, up to the high watermark and the given limits.
   * @throws LogStoreError `OFFSET_OUT_OF_RANGE` when `offset` is below the log start or above the high
   *   watermark, `CORRUPT_RECORD` when stored bytes fail their checksum, `INVALID_REQUEST` for bad limits.
   */
  async read(offset: number, options: ReadOptions = {}): Promise<ReadResult> {
    this.assertOpen();
    let maxRecords = positiveInt("maxRecords", options.maxRecords, DEFAULT_MAX_RECORDS);
    const maxBytes = positiveInt("maxBytes", options.maxBytes, DEFAULT_MAX_BYTES);
    if (!Number.isSafeInteger(offset)) throw new LogStoreError("OFFSET_OUT_OF_RANGE", `offset ${String(offset)} is not an integer`);
    const hw = this.replicated ? this.highWm : this.hw;
    const start = this.logStartOffset;
    // A high watermark set from outside may fall inside a batch: the record budget stops the read there.
    if (this.replicated && hw > offset) maxRecords = Math.min(maxRecords, hw - offset);
    if (offset < start || offset > hw) throw new LogStoreError("OFFSET_OUT_OF_RANGE", `offset ${offset} is outside [${start}, ${hw}]`);
    const records: StoredRecord[] = [];
    let next = offset;
    let bytes = 0;
    while (next < hw && records.length < maxRecords && bytes < maxBytes) {
      const segment = this.segmentFor(next);
      if (!segment) {
        // Retention removed the segment while we were reading: what we have so far is still valid.
        if (records.length > 0) break;
        throw new LogStoreError("OFFSET_OUT_OF_RANGE", `offset ${next} is outside [${this.logStartOffset}, ${hw}]`);
      }
      let result: SegmentReadResult;
      try {
        result = await this.readSegment(segment, next, hw, maxRecords - records.length, maxBytes - bytes, records, undefined, options.readBuffer);
      } catch (error) {
        // Damage met before this segment gave anything: hand out the intact records read so far; the next
        // read, starting at `next`, meets the damage first and fails with it.
        if (records.length > 0 && isLogStoreError(error) && error.code === "CORRUPT_RECORD") break;
        throw this.labelled(error);
      }
      bytes += result.bytes;
      if (result.nextOffset === next) break;
      next = result.nextOffset;
      if (result.damaged || result.full) break;
    }
    this.settings.metrics.readRecords += records.length;
    return { records, nextOffset: next, highWatermark: hw, logStartOffset: this.logStartOffset };
  }

  /**
   * Reads whole stored batches, from the one holding `offset` up to {@link replicaEndOffset} (what is
   * written, or durable: see there; in a log that is not replicated, the high watermark): their bytes exactly
   * as stored (RecordBatch v2, offsets and leader epochs included), back to back, with each batch's offsets
   * and epoch. What a leader serves a follower, which appends them with {@link appendAsFollower}. The
   * first batch may start before `offset` (Kafka's fetch does the same). At least one batch when any is
   * readable, even over `maxBytes` (default 1 MiB); after that, whole batches within it. Every batch is
   * checked as {@link read} checks it (checksum included) before it is handed out.
   *
   * In a replicated log this is where a leader's replica fetches and consumer reads differ: a follower
   * must get what is not yet committed (the high watermark moves only once followers have it), so batches
   * go past the high watermark, up to {@link replicaEndOffset}, and `highWatermark` in the result tells the
   * follower what is committed. Never hand these to consumers.
   * @throws LogStoreError `OFFSET_OUT_OF_RANGE` when `offset` is below the log start or above
   *   {@link replicaEndOffset}, `CORRUPT_RECORD` when the first batch fails its checks, `INVALID_REQUEST` for a bad limit
   */
  async readBatches(offset: number, options: { maxBytes?: number | undefined } = {}): Promise<BatchReadResult> {
    this.assertOpen();
    const maxBytes = positiveInt("maxBytes", options.maxBytes, DEFAULT_MAX_BYTES);
    if (!Number.isSafeInteger(offset)) throw new LogStoreError("OFFSET_OUT_OF_RANGE", `offset ${String(offset)} is not an integer`);
    const hw = this.replicaEndOffset;
    const start = this.logStartOffset;
    if (offset < start || offset > hw) throw new LogStoreError("OFFSET_OUT_OF_RANGE", `offset ${offset} is outside [${start}, ${hw}]`);
    const batches: StoredBatch[] = [];
    let next = offset;
    let bytes = 0;
    while (next < hw && bytes < maxBytes) {
      const segment = this.segmentFor(next);
      if (!segment) {
        if (batches.length > 0) break;
        throw new LogStoreError("OFFSET_OUT_OF_RANGE", `offset ${next} is outside [${this.logStartOffset}, ${hw}]`);
      }
      let result: SegmentReadResult;
      try {
        result = await this.readSegment(segment, next, hw, Number.MAX_SAFE_INTEGER, maxBytes - bytes, [], batches);
      } catch (error) {
        if (batches.length > 0 && isLogStoreError(error) && error.code === "CORRUPT_RECORD") break;
        throw this.labelled(error);
      }
      bytes += result.bytes;
      if (result.nextOffset === next) break;
      next = result.nextOffset;
      if (result.damaged || result.full) break;
    }
    const out = Buffer.allocUnsafe(bytes);
    let at = 0;
    for (const batch of batches) {
      out.set(batch.bytes, at);
      at += batch.bytes.length;
    }
    return {
      bytes: out,
      batches: batches.map(({ baseOffset, lastOffset, leaderEpoch }) => ({ baseOffset, lastOffset, leaderEpoch })),
      nextOffset: next,
      highWatermark: this.replicated ? Math.min(this.highWm, hw) : hw,
      logStartOffset: this.logStartOffset,
    };
  }

  /**
   * Resolves `true` as soon as a record at `offset` or later is readable (immediately if one already is),
   * or `false` after `timeoutMs` or when the log closes. No disk polling: appends wake the waiters (in a
   * replicated log, {@link setHighWatermark} does). With `replica: true`, waits for {@link replicaEndOffset}
   * to pass `offset` instead (what a leader's replica fetch waits for). Rejects with the signal's reason if
   * `signal` aborts.
   */
  waitForData(offset: number, options: WaitOptions): Promise<boolean> {
    const timeoutMs = options?.timeoutMs;
    if (typeof timeoutMs !== "number" || !(timeoutMs >= 0) || timeoutMs > 2_147_483_647) {
      return Promise.reject(new LogStoreError("INVALID_REQUEST", `timeoutMs must be between 0 and 2147483647, got ${String(timeoutMs)}`));
    }
    if (!Number.isSafeInteger(offset) || offset < 0)
      return Promise.reject(new LogStoreError("OFFSET_OUT_OF_RANGE", `offset ${String(offset)} is not a valid offset`));
    const signal = options.signal;
    if (signal?.aborted) return Promise.reject(signal.reason);
    const replica = options.replica === true;
    if (offset < (replica ? this.replicaEndOffset : this.highWatermark)) return Promise.resolve(true);
    if (this.closed || timeoutMs === 0) return Promise.resolve(false);
    const waiters = replica && this.replicated ? this.replicaWaiters : this.dataWaiters;
    return new Promise<boolean>((resolve, reject) => {
      const onAbort = () => waiter.finish(signal!.reason as Error);
      const timer = setTimeout(() => waiter.finish(false), timeoutMs);
      const waiter: DataWaiter = {
        offset,
        finish: (result) => {
          waiters.delete(waiter);
          clearTimeout(timer);
          signal?.removeEventListener("abort", onAbort);
          if (typeof result === "boolean") resolve(result);
          else reject(result);
        },
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      waiters.add(waiter);
    });
  }

  /**
   * Deletes whole old segments past the retention limits (never the active one) and moves
   * `logStartOffset` forward. Runs after every segment roll; call it to enforce retention now.
   * Resolves with the number of segments deleted.
   */
  enforceRetention(): Promise<number> {
    this.retentionRunning ??= this.runRetention().finally(() => (this.retentionRunning = undefined));
    return this.retentionRunning;
  }

  /** Flushes, closes the files and releases the directory lock. Pending waits resolve `false`. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.truncating?.catch(() => undefined); // it replaces segments: let it finish first
    if (this.closed) return;
    await this.rolling?.done; // its fsync is using the old segment's descriptor
    let flushed = false;
    if (!this.failure) {
      try {
        await this.flush();
        flushed = true;
      } catch {
        // The failure is recorded; closing must still release everything.
      }
    }
    // Everything is durable now: a snapshot at the log end lets the next open skip the scan.
    if (!this.failure && this.snapshots.latestOffset !== this.nextOffset) this.snapshots.take(this.producers, this.nextOffset);
    await this.snapshots.settled();
    clearTimeout(this.hwTimer);
    this.hwTimer = undefined;
    await this.checkpointHighWatermark().catch(() => undefined); // the restart starts from the last one written
    // Written back and synced: the journal no longer needs what it holds of this log.
    if (flushed) this.settings.journal?.forget(this);
    this.closed = true;
    clearTimeout(this.intervalTimer);
    await this.retentionRunning?.catch(() => 0);
    for (const waiter of [...this.dataWaiters, ...this.replicaWaiters]) waiter.finish(false);
    for (const segment of this.segments) segment.close();
    this.lock?.release();
  }

  /**
   * @internal Where the log stands, if everything written is durable and the log has not failed (after
   * {@link PartitionLog.close}: what the next open may trust); `undefined` otherwise.
   */
  recoveryPoint(): RecoveryPoint | undefined {
    if (this.failure || this.rolling !== undefined || this.synced !== this.nextOffset) return undefined;
    const active = this.active;
    if (active.nextOffset !== this.nextOffset) return undefined;
    let sizeBytes = 0;
    for (const segment of this.segments) {
      // Journal mode: a tail still in memory is only in the journal; the point must describe the files.
      if (segment.fileSize !== segment.size) return undefined;
      sizeBytes += segment.size;
    }
    return {
      logStartOffset: this.logStartOffset,
      logEndOffset: this.nextOffset,
      sizeBytes,
      segmentCount: this.segments.length,
      activeBaseOffset: active.baseOffset,
      activeSize: active.size,
      activeMaxTimestamp: active.maxTimestamp,
    };
  }

  /** Same as {@link PartitionLog.close}. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** @internal Closes without flushing and wakes waiters with `error` (used when a topic is deleted). */
  abandon(error: Error): void {
    this.closed = true;
    clearTimeout(this.intervalTimer);
    clearTimeout(this.hwTimer);
    this.failure = error instanceof LogStoreError ? error : new LogStoreError("KAFKA_STORAGE_ERROR", error.message);
    this.snapshots.abandon();
    for (const waiter of [...this.dataWaiters, ...this.replicaWaiters]) waiter.finish(error);
    for (const waiter of this.syncWaiters.splice(0)) waiter.reject(error);
    // Reads may still be in flight: their files close when they finish.
    for (const segment of this.segments) segment.closeWhenIdle();
    this.lock?.release();
  }

  /** Prefixes a `CORRUPT_RECORD` message with the topic and partition, when known. */
  private labelled(error: unknown): unknown {
    return withLabel(error, this.label);
  }

  private assertOpen(): void {
    if (this.closed)
      throw this.failure && this.failure.code !== "KAFKA_STORAGE_ERROR"
        ? this.failure
        : new LogStoreError("STORE_CLOSED", `log ${this.dir} is closed`);
  }

  private assertWritable(): void {
    this.assertOpen();
    if (this.failure) throw this.failure;
    if (this.truncating !== undefined)
      throw new LogStoreError("INVALID_REQUEST", `log ${this.label ?? this.dir} is being truncated; append once truncateTo has resolved`);
  }

  private segmentFor(offset: number): LogSegment | undefined {
    const segments = this.segments;
    let lo = 0;
    let hi = segments.length - 1;
    let found: LogSegment | undefined;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (segments[mid]!.baseOffset <= offset) {
        found = segments[mid];
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  }

  /** Reads from one segment into `out`; returns bytes of batches used and the next offset to read. */
  private async readSegment(
    segment: LogSegment,
    fromOffset: number,
    hw: number,
    recordBudget: number,
    byteBudget: number,
    out: StoredRecord[],
    raw?: StoredBatch[],
    readBuffer?: ReadOptions["readBuffer"],
  ): Promise<SegmentReadResult> {
    await segment.acquire();
    try {
      for (let attempt = 0; ; attempt++) {
        const result = await this.tryReadSegment(segment, fromOffset, hw, recordBudget, byteBudget, out, raw, readBuffer);
        if (!("badIndex" in result)) return result;
        // The index pointed at something that is not the batch it claims: rebuild it once from the log.
        // After a rebuild (or one that failed: the scan met damage, which stays) the batch itself is bad.
        if (attempt > 0 || segment.damaged) {
          segment.damaged = true; // the index is fresh: no need to scan the segment again on the next read
          throw corruptError(segment.logPath, result.position, result.offset, result.badIndex);
        }
        await segment.rebuildIndex();
      }
    } finally {
      segment.release();
    }
  }

  /**
   * Decodes the batches of one segment from the indexed position before `fromOffset`. Every batch is
   * checked before any of its records is used: its header (length inside the segment, magic, leader epoch,
   * record count; {@link checkBatch}), its checksum, and its base offset, which must be exactly one past
   * the previous batch's last offset (the first one: the offset the index entry names). `baseOffset` and
   * `batchLength` lie outside the CRC in RecordBatch v2, so without that last check a flipped byte there
   * would silently skip or renumber records. A segment that is read to its end must end at the offset
   * where the next one starts. Damage after some records were taken ends the read there (`damaged`);
   * damage before any is `CORRUPT_RECORD`, or `"bad-index"` when it is the batch the index pointed at.
   */
  private async tryReadSegment(
    segment: LogSegment,
    fromOffset: number,
    hw: number,
    recordBudget: number,
    byteBudget: number,
    out: StoredRecord[],
    raw: StoredBatch[] | undefined,
    readBuffer?: ReadOptions["readBuffer"],
  ): Promise<SegmentReadResult | BadIndex> {
    // Raw mode (readBatches): whole batches go to `raw` as their bytes, nothing is decoded.
    const taken = raw ?? out;
    // Read together, so they describe the same bytes (appends change both synchronously).
    const end = segment.size;
    const endOffset = segment.nextOffset;
    const { position: indexed, baseOffset: indexedBase } = segment.lookup(fromOffset);
    if (indexedBase > fromOffset)
      return { badIndex: `index entry for offset ${indexedBase} is past ${fromOffset}`, position: indexed, offset: fromOffset };
    // Size the first read from the segment's average bytes per record, so that one read usually suffices,
    // plus an index interval: the indexed position may be that far before the wanted offset.
    const bytesPerRecord = segment.size / Math.max(1, segment.nextOffset - segment.baseOffset);
    const firstChunk = (records: number): number =>
      Math.min(Math.max(FIRST_READ_CHUNK, Math.ceil(records * bytesPerRecord * 1.1)), byteBudget, MAX_READ_CHUNK) + this.settings.indexIntervalBytes;
    let chunkSize = firstChunk(recordBudget);
    // The batch a previous read stopped inside (already checked, checksum included), or a read of the file.
    const recent = recentBatches.get(segment, fromOffset);
    let filePos = recent?.position ?? indexed;
    let buf = recent?.bytes ?? (await segment.read(filePos, Math.min(end - filePos, chunkSize), readBuffer));
    let i = 0;
    let bytes = 0;
    let next = fromOffset;
    // The base offset the next batch must have.
    let expected = recent?.baseOffset ?? indexedBase;
    const damage = (position: number, reason: string): SegmentReadResult | BadIndex => {
      // Invalid bytes where the index points may be the index's fault: the caller rebuilds it and retries.
      if (position === indexed && position < end) return { badIndex: reason, position, offset: expected };
      if (taken.length === 0) throw corruptError(segment.logPath, position, expected, reason);
      return { bytes, nextOffset: next, damaged: true };
    };
    while (filePos + i < end && recordBudget > 0) {
      const check = checkBatch(buf, i, buf.length - i, buf !== recent?.bytes, this.epochs);
      if ("incomplete" in check) {
        if (filePos + i + check.needed > end) {
          return damage(filePos + i, `batch of ${check.needed} bytes extends past the end of the segment (${end - filePos - i} bytes left)`);
        }
        // Once something is taken, only whole batches within the byte budget are: a batch whose header
        // says it would not fit is not read at all, and the next chunk need not reach past the budget.
        const more = taken.length > 0;
        if (more && check.needed > BATCH_HEADER_SIZE && bytes + check.needed > byteBudget) return { bytes, nextOffset: next, full: true };
        // Continue with the next chunk, starting at this batch. After the batch kept from a previous read:
        // sized like a first read for the records still wanted (a read that stops inside a batch, as with
        // the batches the journal coalesces, must not make the next one read its whole byte budget).
        filePos += i;
        i = 0;
        chunkSize =
          buf === recent?.bytes
            ? firstChunk(recordBudget)
            : more
              ? Math.min(Math.max(byteBudget - bytes, check.needed), MAX_READ_CHUNK)
              : Math.min(Math.max(chunkSize * 4, byteBudget - bytes), MAX_READ_CHUNK);
        buf = await segment.read(filePos, Math.min(end - filePos, Math.max(chunkSize, check.needed)), readBuffer);
        continue;
      }
      if ("corrupt" in check) {
        return damage(filePos + i, check.corrupt);
      }
      if (check.baseOffset !== expected) {
        return damage(filePos + i, `batch base offset ${check.baseOffset}, expected ${expected}`);
      }
      expected = check.lastOffset + 1;
      if (check.baseOffset >= hw) break;
      if (check.lastOffset >= fromOffset) {
        // At least one record per read, even over the byte budget; after that, whole batches within it.
        if (taken.length > 0 && bytes + check.size > byteBudget) return { bytes, nextOffset: next, full: true };
        if (raw !== undefined) {
          const { baseOffset, lastOffset, leaderEpoch } = check;
          raw.push({ baseOffset, lastOffset, leaderEpoch, bytes: buf.subarray(i, i + check.size) });
          bytes += check.size;
          next = lastOffset + 1;
          i += check.size;
          if (bytes >= byteBudget) break;
          continue;
        }
        const before = out.length;
        let added: number;
        try {
          added = decodeRecords(buf, i, check, next, recordBudget, out);
        } catch (error) {
          out.length = before;
          return damage(filePos + i, (error as Error).message);
        }
        recordBudget -= added;
        bytes += check.size;
        next = out[out.length - 1]!.offset + 1;
        // Stopped inside the batch: the next read (the same consumer's next fetch) starts in it again.
        if (next <= check.lastOffset)
          recentBatches.put(
            segment,
            filePos + i,
            check.baseOffset,
            check.lastOffset,
            buf,
            i,
            check.size,
            readBuffer !== undefined && buf !== recent?.bytes,
          );
        if (bytes >= byteBudget) break;
      }
      i += check.size;
    }
    if (filePos + i >= end && expected !== endOffset) {
      // Read to the end without reaching the offset where the segment should end (the next segment's base
      // offset, or the log end): batches are missing, e.g. a truncated older segment.
      return damage(end, `its batches end before offset ${expected}, but the segment holds offsets up to ${endOffset - 1}`);
    }
    return { bytes, nextOffset: next };
  }

  /** Rolls to a new active segment starting at the next offset ("never": nothing to make durable first). */
  private roll(): LogSegment {
    const old = this.active;
    const segment = this.createSegment(old.nextOffset); // first: if it fails, the old one stays active
    // The old segment stays in dirtySegments, so that close() still flushes it.
    old.seal();
    return this.addSegment(segment);
  }

  /**
   * Starts a roll under "always" or "interval": fsyncs the old segment in the background, then creates the
   * new one and writes `first` and every batch appended meanwhile into it (see {@link PartitionLog.rolling}).
   */
  private startRoll(old: LogSegment, first: PendingBatch): Promise<void> {
    const pending = [first];
    const done = (async () => {
      try {
        await old.datasync();
        this.dirtySegments.delete(old);
        if (this.closed || this.failure) return; // abandoned (topic deleted) or failed meanwhile
        let segment: LogSegment;
        try {
          segment = this.createSegment(old.nextOffset);
        } catch (error) {
          // No descriptor for the new segment: nothing queued is stored; the old segment stays active and
          // the next append tries the roll again.
          if (!isTooManyOpenFiles(error)) throw error;
          this.giveBack(pending, error as LogStoreError);
          return;
        }
        old.seal();
        this.addSegment(segment);
        this.dirtySegments.add(segment);
        // Written a few MiB per turn of the event loop (a fast producer may have queued tens of MiB during
        // the fsync); appends keep queueing behind until the queue is empty.
        let written = 0;
        for (let next = 0; next < pending.length; next++) {
          if (written >= DRAIN_BYTES_PER_TURN) {
            await new Promise((resolve) => setImmediate(resolve));
            if (this.closed || this.failure) return;
            written = 0;
          }
          const batch = pending[next]!;
          try {
            segment.append(batch.buffer, batch);
          } catch (error) {
            if (errnoCode(error) !== "ENOSPC") throw error;
            this.giveBack(pending.slice(next), diskFull(this.dir, error));
            return;
          }
          this.wroteThrough(batch.lastOffset + 1);
          written += batch.buffer.length;
        }
      } catch (error) {
        this.fail(error);
      } finally {
        this.rolling = undefined;
      }
    })();
    this.rolling = { pending, done };
    return done;
  }

  /**
   * The disk was full when the first of `dropped` (batches queued during a roll, in offset order) was to be
   * written: none of them is stored. Their offsets are given back (the next append reuses them) and every
   * append waiting for them fails with `error`; what was written before is unaffected.
   */
  private giveBack(dropped: PendingBatch[], error: LogStoreError): void {
    const from = dropped[0]!.baseOffset;
    this.nextOffset = from;
    if (this.written > from) this.written = from;
    this.producers.rollback(from);
    for (const batch of dropped) {
      batch.error = error;
      this.settings.metrics.appendedRecords -= batch.lastOffset - batch.baseOffset + 1;
      this.settings.metrics.appendedBytes -= batch.buffer.length;
    }
    const waiters = this.syncWaiters;
    let kept = 0;
    for (const waiter of waiters) {
      if (waiter.offset > from) waiter.reject(error);
      else waiters[kept++] = waiter;
    }
    waiters.length = kept;
  }

  /** Creates the files of a segment at `baseOffset` (not yet part of the log). */
  private createSegment(baseOffset: number): LogSegment {
    return LogSegment.create(this.settings.handles, this.dir, baseOffset, this.settings.indexIntervalBytes, this.epochs);
  }

  /** Makes `segment` (from {@link createSegment}) the active one. */
  private addSegment(segment: LogSegment): LogSegment {
    this.segments.push(segment);
    this.dirDirty = true;
    void this.enforceRetention().catch(() => undefined);
    return segment;
  }

  private scheduleIntervalSync(): void {
    if (this.intervalTimer !== undefined || this.syncing) return;
    this.intervalTimer = setTimeout(() => {
      this.intervalTimer = undefined;
      void this.runSyncRounds(true);
    }, this.settings.fsyncIntervalMs);
    this.intervalTimer.unref?.();
  }

  /** Resolves once everything below `offset` is fsynced (under any policy). */
  private syncThrough(offset: number): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (offset <= this.synced) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.syncWaiters.push({ offset, resolve, reject });
      if (!this.syncing && !this.roundScheduled) {
        // Start an idle round on the next turn of the event loop, not now: every append made in this turn
        // (typically the producers that the previous round just woke up) then shares its fsync.
        this.roundScheduled = true;
        setImmediate(() => {
          this.roundScheduled = false;
          void this.runSyncRounds(false);
        });
      }
    });
  }

  /**
   * Group commit: one round fsyncs every segment written since the last round (and the directory if a
   * segment was created), then releases every append it covered. Appends that arrive during a round
   * wait for the next one, which starts as soon as this one ends. With `always`, runs at least one round
   * (the interval timer); otherwise only while someone waits.
   */
  private async runSyncRounds(always: boolean): Promise<void> {
    if (this.syncing) return;
    this.syncing = true;
    clearTimeout(this.intervalTimer);
    this.intervalTimer = undefined;
    try {
      for (let first = true; (first && always) || this.syncWaiters.length > 0; first = false) {
        // Offsets appended during a roll are not written until it ends: wait, so that the round covers them.
        while (this.rolling !== undefined) await this.rolling.done;
        if (this.failure) break;
        const target = this.nextOffset;
        const segments = [...this.dirtySegments];
        this.dirtySegments.clear();
        const dir = this.dirDirty;
        this.dirDirty = false;
        await Promise.all(segments.map((segment) => segment.datasync()));
        if (dir) await fsyncDir(this.settings.fs, this.dir);
        this.settings.metrics.fsyncs++;
        this.synced = target;
        this.advance(target);
        const waiters = this.syncWaiters;
        let done = 0;
        while (done < waiters.length && waiters[done]!.offset <= target) done++;
        for (const waiter of waiters.splice(0, done)) waiter.resolve();
      }
    } catch (error) {
      this.fail(error);
    } finally {
      this.syncing = false;
    }
    if (this.settings.fsync === "interval" && this.nextOffset > this.synced && !this.closed) this.scheduleIntervalSync();
  }

  /**
   * Moves the durable end and wakes the readers waiting for offsets below it: consumers' waits, or in a
   * replicated log replica waits (consumers wait for {@link setHighWatermark} there).
   */
  /** A batch ending at `end` is in its segment: a replicated log's replica waits below it wake. */
  private wroteThrough(end: number): void {
    this.written = end;
    if (!this.replicated || this.replicaWaiters.size === 0) return;
    for (const waiter of this.replicaWaiters) if (waiter.offset < end) waiter.finish(true);
  }

  private advance(hw: number): void {
    if (hw <= this.hw) return;
    this.hw = hw;
    for (const waiter of this.replicated ? this.replicaWaiters : this.dataWaiters) if (waiter.offset < hw) waiter.finish(true);
  }

  /**
   * A write or fsync failed: what reached the disk is unknown, so retrying the fsync could report success
   * for lost data. Refuse further writes until the log is reopened (recovery re-validates the tail).
   */
  private fail(error: unknown): LogStoreError {
    if (!this.failure) {
      const message = error instanceof Error ? error.message : String(error);
      this.failure = new LogStoreError("KAFKA_STORAGE_ERROR", `log ${this.dir} failed and refuses writes until reopened: ${message}`, {
        cause: error,
      });
      for (const waiter of this.syncWaiters.splice(0)) waiter.reject(this.failure);
    }
    return this.failure;
  }

  private async runRetention(): Promise<number> {
    if (this.truncating !== undefined) return 0; // it changes the segment list; the next roll retries
    const { retentionBytes, retentionMs } = this.settings;
    this.producers.removeExpired();
    if (retentionBytes === undefined && retentionMs === undefined) return 0;
    let deleted = 0;
    while (this.segments.length > 1 && !this.closed) {
      const oldest = this.segments[0]!;
      let expired = false;
      if (retentionBytes !== undefined) {
        let total = 0;
        for (const segment of this.segments) total += segment.size;
        expired = total - oldest.size >= retentionBytes;
      }
      if (!expired && retentionMs !== undefined) {
        const maxTimestamp = await oldest.loadMaxTimestamp();
        expired = maxTimestamp < this.settings.now() - retentionMs;
      }
      if (!expired || this.segments[0] !== oldest || this.closed || this.truncating !== undefined) break;
      // A replicated log keeps what is not committed (Kafka deletes only below the high watermark): a
      // follower that becomes leader may still need to serve it, and the log start stays at or below it.
      if (this.replicated && this.segments[1]!.baseOffset > this.highWm) break;
      // Producer state outlives the segments it came from, through snapshots (as in Kafka). With no live
      // producer there is nothing to keep (and a snapshot that cannot be written, e.g. on a full disk, must
      // not stop retention from freeing space).
      if (this.producers.size > 0 && (!(await this.snapshots.covers(oldest.nextOffset)) || this.segments[0] !== oldest || this.closed)) break;
      this.segments.shift();
      this.dirtySegments.delete(oldest);
      oldest.delete();
      deleted++;
    }
    return deleted;
  }

  /**
   * @internal Opens the log in an existing directory (the caller holds the lock, if any). `label` names
   * the log in corruption errors. With `point` (what a clean shutdown recorded), the last segment is not
   * scanned when the directory still holds exactly the segments it names and the last one has the recorded
   * size; anything else recovers as after a crash.
   */
  static async openDir(dir: string, settings: LogSettings, lock?: DirectoryLock, label?: string, point?: RecoveryPoint): Promise<PartitionLog> {
    const fs = settings.fs;
    // A reset decided before a crash: finish it before looking at the segments (they are the old ones, or
    // some of them, or already the new one), and trust no clean-shutdown point from before it.
    const reset = readResetIntent(fs, dir);
    if (reset !== undefined) {
      completeReset(fs, dir, reset);
      point = undefined;
    }
    const bases: number[] = [];
    for (const name of fs.readdirSync(dir)) {
      const base = parseSegmentFileName(name);
      if (base !== undefined) bases.push(base);
      else if (isTempFile(name)) fs.removeSync(`${dir}/${name}`);
    }
    bases.sort((a, b) => a - b);
    const trusted =
      point !== undefined &&
      bases.length === point.segmentCount &&
      bases[0] === point.logStartOffset &&
      bases[bases.length - 1] === point.activeBaseOffset
        ? { size: point.activeSize, nextOffset: point.logEndOffset, maxTimestamp: point.activeMaxTimestamp }
        : undefined;
    // Without a point to trust, empty segment files after the last one with data (a roll whose new segment
    // never got a byte) are removed. With the journal, the segment before it may then be short (its tail was
    // still in memory), so it must be recovered as the active one; without, it is whole and this changes
    // nothing. A trusted point was recorded after every tail was written back: its files are kept as listed.
    while (trusted === undefined && bases.length > 1 && isEmptyFile(fs, join(dir, segmentFileName(bases[bases.length - 1]!, ".log")))) {
      const base = bases.pop()!;
      fs.removeSync(join(dir, segmentFileName(base, ".log")));
      fs.removeSync(join(dir, segmentFileName(base, ".index")));
    }
    const segments: LogSegment[] = [];
    let producers: ProducerStateManager;
    let snapshots: ProducerSnapshots;
    let epochs: LeaderEpochCache;
    try {
      epochs = LeaderEpochCache.load(fs, dir);
      // A new log's first segment: its directory entry is made durable by the first sync round (dirDirty
      // below), before anything written to it is acknowledged; a crash before that loses only an empty file.
      if (bases.length === 0) segments.push(LogSegment.create(settings.handles, dir, 0, settings.indexIntervalBytes, epochs));
      for (let i = 0; i < bases.length; i++) {
        const active = i === bases.length - 1;
        const segment = await LogSegment.open(settings.handles, dir, bases[i]!, {
          active,
          indexIntervalBytes: settings.indexIntervalBytes,
          nextOffset: bases[i + 1],
          trusted: active ? trusted : undefined,
          epochs,
        });
        if (!active) segment.seal();
        segments.push(segment);
      }
      // What survived the crash may sit only in the page cache; make it durable before calling it durable.
      // (A clean shutdown's last segment was fsynced by that close.)
      if (settings.fsync !== "never" && !segments[segments.length - 1]!.trustedUsed) segments[segments.length - 1]!.datasyncSync();
      producers = new ProducerStateManager(settings.producerIdExpirationMs, settings.now);
      snapshots = new ProducerSnapshots(fs, dir, settings.fsync !== "never");
      await snapshots.load(producers, segments, settings.now(), epochs);
    } catch (error) {
      for (const segment of segments) segment.close();
      throw withLabel(error, label);
    }
    const log = new PartitionLog(dir, settings, segments, lock, label);
    log.durable = { offset: log.nextOffset, segment: log.active, position: log.active.size };
    log.dirDirty = bases.length === 0;
    log.producers = producers;
    log.snapshots = snapshots;
    log.epochs = epochs;
    if (settings.replicated) {
      const checkpointed = readHighWatermarkCheckpoint(fs, dir);
      // Never above what survived (a crash may take back what the checkpoint covered only under "never",
      // or a truncation cut below it), never below the log start.
      log.hwRecovered = Math.max(checkpointed ?? 0, log.logStartOffset);
      log.highWm = Math.min(log.hwRecovered, log.hw); // raised by the journal's replay, if any (replayBatch)
      log.hwCheckpointed = checkpointed === log.highWm ? log.highWm : -1;
    }
    return log;
  }
}

/**
 * The start offset named by a `log-reset` intent file, `undefined` when there is none.
 * @throws LogStoreError `CORRUPT_RECORD` when it holds anything else (it is written atomically, so a crash
 *   never leaves it torn; guessing would risk serving the old log as the new or the reverse)
 */
function readResetIntent(fs: FileSystem, dir: string): number | undefined {
  let text: string;
  try {
    text = fs.readFileSync(join(dir, LOG_RESET_FILE)).toString("utf8");
  } catch (error) {
    if (errnoCode(error) === "ENOENT") return undefined;
    throw error;
  }
  const match = /^0\n(\d+)\n$/.exec(text);
  const offset = match ? Number(match[1]) : NaN;
  if (!Number.isSafeInteger(offset)) throw new LogStoreError("CORRUPT_RECORD", `${join(dir, LOG_RESET_FILE)} is not a valid reset intent`);
  return offset;
}

/**
 * The file steps of a reset whose intent file is durable, each repeatable (a crash in the middle repeats
 * them all): every segment, index and producer snapshot removed, the leader-epoch checkpoint rewritten
 * with no entry, an empty segment (log and index) at `offset`, the directory fsynced, then the intent
 * removed and the directory fsynced again.
 */
function completeReset(fs: FileSystem, dir: string, offset: number): void {
  for (const name of fs.readdirSync(dir)) {
    const base = parseSegmentFileName(name);
    if (base !== undefined) {
      fs.removeSync(join(dir, name));
      fs.removeSync(join(dir, segmentFileName(base, ".index")));
    } else if (name.endsWith(".index") || parseSnapshotFileName(name) !== undefined || isTempFile(name)) fs.removeSync(join(dir, name));
  }
  writeFileAtomicSync(fs, join(dir, LEADER_EPOCH_CHECKPOINT), Buffer.from("0\n0\n"), true);
  for (const suffix of [".log", ".index"] as const) fs.closeSync(fs.openSync(join(dir, segmentFileName(offset, suffix)), "w"));
  // A replicated log's high watermark checkpoint may be above the new start (or below it): batches
  // appended after the reset must not be read as committed up to the old value after a crash.
  if (fs.existsSync(join(dir, HIGH_WATERMARK_CHECKPOINT)))
    writeFileAtomicSync(fs, join(dir, HIGH_WATERMARK_CHECKPOINT), Buffer.from(`0\n${offset}\n`), true);
  fsyncDirSync(fs, dir);
  fs.removeSync(join(dir, LOG_RESET_FILE));
  fsyncDirSync(fs, dir);
}

/**
 * The offset in a replicated log's `high-watermark-checkpoint`, or `undefined` when there is none or it is
 * not one (written atomically, it is never torn; a hand-edited one only lowers what consumers see until
 * the leader sets the high watermark again, so it is not worth refusing the log for).
 */
function readHighWatermarkCheckpoint(fs: FileSystem, dir: string): number | undefined {
  let text: string;
  try {
    text = fs.readFileSync(join(dir, HIGH_WATERMARK_CHECKPOINT)).toString("utf8");
  } catch (error) {
    if (errnoCode(error) === "ENOENT") return undefined;
    throw error;
  }
  const match = /^0\n(\d+)\n$/.exec(text);
  const offset = match ? Number(match[1]) : NaN;
  return Number.isSafeInteger(offset) ? offset : undefined;
}

function isEmptyFile(fs: FileSystem, path: string): boolean {
  const fd = fs.openSync(path, "r");
  try {
    return fs.fileSize(fd) === 0;
  } finally {
    fs.closeSync(fd);
  }
}

/** Whether `error` is the {@link LogStoreError} for an open that found no file descriptor. */
function isTooManyOpenFiles(error: unknown): boolean {
  return isLogStoreError(error) && error.code === "TOO_MANY_OPEN_FILES";
}

/** The `FENCED_LEADER_EPOCH` error for an append stamped with `epoch` below the partition's `latest`. */
function fencedEpoch(where: string, epoch: number, latest: number): LogStoreError {
  return new LogStoreError(
    "FENCED_LEADER_EPOCH",
    `${where}: leader epoch ${epoch} is fenced: the partition's latest epoch is ${latest}; nothing was stored`,
  );
}

function withLabel(error: unknown, label: string | undefined): unknown {
  if (label === undefined || !isLogStoreError(error) || error.code !== "CORRUPT_RECORD" || error.message.startsWith(label)) return error;
  return new LogStoreError("CORRUPT_RECORD", `${label}: ${error.message}`, { cause: error.cause });
}
