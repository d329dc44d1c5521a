import type { Buffer } from "node:buffer";

/** Bytes, or a string stored as its UTF-8 bytes, or `null` (a tombstone value / no key). */
export type RecordData = Uint8Array | string | null;

/** Header values as given on append: bytes, a UTF-8 string, or `null`. */
export type RecordHeadersInput = Readonly<Record<string, Uint8Array | string | null>>;

/** Header values as stored and returned: always bytes (or `null`). */
export type RecordHeaders = Readonly<Record<string, Uint8Array | null>>;

/** A record to append. */
export interface RecordInput {
  /** Optional key; strings are stored as UTF-8. */
  key?: RecordData | undefined;
  /** The payload; strings are stored as UTF-8; `null` is allowed (a tombstone). */
  value: RecordData;
  /** Optional headers; names are strings, values bytes or UTF-8 strings. */
  headers?: RecordHeadersInput | undefined;
  /** Create time in ms since the epoch; defaults to the store's clock at append time. */
  timestamp?: number | undefined;
}

/** A record read back from the log. `key`, `value` and header values are bytes (views, not copies). */
export interface StoredRecord {
  /** The record's offset in its partition (0-based, dense). */
  offset: number;
  /** Create time in ms since the epoch. */
  timestamp: number;
  key: Uint8Array | null;
  value: Uint8Array | null;
  headers: RecordHeaders;
}

/** One partition's batch of a `LogStore.appendMany` call. */
export interface PartitionAppend {
  /** The partition of the call's topic. */
  readonly partition: number;
  /** Its records, appended as one batch (at least one). */
  readonly records: readonly RecordInput[];
}

/** Where an appended batch landed. */
export interface AppendResult {
  /** Offset of the first record of the batch. */
  baseOffset: number;
  /** Offset of the last record of the batch. */
  lastOffset: number;
  /**
   * Present (`true`) when an idempotent append was a retry of a batch already stored: nothing was appended
   * and the offsets are those of the original.
   */
  duplicate?: true;
}

/** The idempotent-producer fields of one append (Kafka's producerId / producerEpoch / baseSequence). */
export interface ProducerSequence {
  /** From `LogStore.initProducerId()` (or chosen by the caller of a standalone log): a non-negative safe integer. */
  producerId: number;
  /** 0..32767. An append with a higher epoch fences every lower one (they get `INVALID_PRODUCER_EPOCH`). */
  producerEpoch: number;
  /**
   * Sequence number of this batch's first record *in this partition*: 0 for a producer's first batch in an
   * epoch, then the previous batch's first sequence plus its record count. Counted per record, as in
   * Kafka, and wrapping from 2^31-1 to 0.
   */
  sequence: number;
}

/** Options of one append. */
export interface AppendOptions {
  /**
   * Makes the append idempotent (Kafka's rules): the fields are stored in the batch header, inside its
   * checksum, so they are committed with the data. A retry of one of the producer's last 5 batches (same
   * epoch, same sequence range) appends nothing and resolves with the original offsets and
   * `duplicate: true`; the next sequence appends; anything else is refused with
   * `OUT_OF_ORDER_SEQUENCE_NUMBER`, `INVALID_PRODUCER_EPOCH` or `UNKNOWN_PRODUCER_ID`.
   */
  producer?: ProducerSequence | undefined;
  /**
   * The leader epoch to stamp the batch with (Kafka's partitionLeaderEpoch; a replicated partition's
   * leader passes its epoch). Default: the partition's latest epoch (0 for a log that never had another).
   * A new, higher epoch is recorded in the partition's `leader-epoch-checkpoint` before the batch is
   * written; a lower one than the latest is refused with `FENCED_LEADER_EPOCH`.
   */
  leaderEpoch?: number | undefined;
}

/** What one `readBatches` (of a `PartitionLog` or a `LogStore`) returned. */
export interface BatchReadResult {
  /** Whole stored batches back to back, byte for byte as on disk (Kafka RecordBatch v2). */
  bytes: Buffer;
  /** Each batch in `bytes`, in order: its offsets and leader epoch. */
  batches: Array<{ baseOffset: number; lastOffset: number; leaderEpoch: number }>;
  /** One past the last offset returned: where the next read starts. */
  nextOffset: number;
  /**
   * The partition's high watermark when the read began (what a leader tells its followers). In a
   * replicated log the batches may go past it, up to the durable end; otherwise it is where they stop.
   */
  highWatermark: number;
  /** The first offset still stored. */
  logStartOffset: number;
}

/** Limits for one read. */
export interface ReadOptions {
  /** At most this many records (default 500). */
  maxRecords?: number | undefined;
  /**
   * At most about this many bytes of stored batches (default 1 MiB). At least one record is returned
   * when any is available, even if it is larger, so a consumer always makes progress.
   */
  maxBytes?: number | undefined;
  /**
   * Where this read's file reads go: called with the size of each read of the segment file, it returns a
   * buffer of at least that many bytes, not in use, for the read to fill, or `undefined` for a new one (the default).
   * The records' keys, values and headers are then views into the buffers it gave, and the caller owns
   * them: it must not reuse one while it still uses records read into it. The store keeps no view into
   * them after the read (what it keeps for the next read, it copies). For a reader that reuses a few large
   * buffers instead of allocating one per read: fresh multi-MiB buffers cost page faults, and their
   * external memory makes V8 collect garbage (full collections) every few tens of MiB read.
   */
  readBuffer?: ((size: number) => Buffer | undefined) | undefined;
}

/** What one read returned. */
export interface ReadResult {
  /** Records in offset order, all below `highWatermark`. */
  records: StoredRecord[];
  /** The offset to read next: one past the last record returned, or the requested offset if none. */
  nextOffset: number;
  /**
   * One past the last offset consumers may read at the time of the read: the durable end, or in a
   * replicated log ({@link LogConfig.replicated}) the high watermark set from outside.
   */
  highWatermark: number;
  /** The first offset still stored. */
  logStartOffset: number;
}

/** Options for {@link LogStore.waitForData} / {@link PartitionLog.waitForData}. */
export interface WaitOptions {
  /** Give up after this many ms and resolve `false`. */
  timeoutMs: number;
  /** Abort the wait: the promise rejects with the signal's reason. */
  signal?: AbortSignal | undefined;
  /**
   * Wait for data a follower may fetch ({@link LogConfig.replicated}: below `replicaEndOffset`, which
   * `readBatches` serves) instead of data consumers may read (below the high watermark). The same in a
   * log that is not replicated. Default `false`.
   */
  replica?: boolean | undefined;
}

/**
 * When appended bytes are forced to disk.
 * - `"always"` (default): an append resolves only after its bytes are fsynced; concurrent appends share
 *   one fsync (group commit).
 * - `"interval"`: appends resolve once written to the OS; an fsync runs at most every `fsyncIntervalMs`.
 * - `"never"`: the OS decides when to write (fastest; a machine crash may lose recent records).
 *
 * Under every policy, reads only return records that the policy has made durable: under `"interval"`
 * a record becomes readable after the next periodic fsync.
 */
export type FsyncPolicy = "always" | "interval" | "never";

/** Per-log settings (store-wide defaults, overridable per topic). */
export interface LogConfig {
  /**
   * Roll to a new segment file when the active one would exceed this many bytes (default 64 MiB). Batches
   * appended while a roll fsyncs the old segment also go into the new one, which can exceed it by that much.
   */
  segmentBytes?: number | undefined;
  /** Add a sparse index entry after about this many bytes of batches (default 4 KiB). */
  indexIntervalBytes?: number | undefined;
  /** Delete whole old segments whose newest record is older than this many ms (default: keep forever). */
  retentionMs?: number | undefined;
  /** Delete whole old segments while the partition is larger than this many bytes (default: no limit). */
  retentionBytes?: number | undefined;
  /**
   * Forget an idempotent producer's state after it has not appended to the partition for this many ms
   * (Kafka's `producer.id.expiration.ms`; default 1 day). Its next append must then start at sequence 0.
   */
  producerIdExpirationMs?: number | undefined;
  /**
   * Replicated mode (default `false`): the high watermark, below which consumers read and
   * `waitForData` wakes, is set from outside with `setHighWatermark` (by a leader, to the lowest log end of
   * its in-sync replicas; by a follower, to the leader's), never above the durable end, which keeps
   * advancing under the fsync policy (what `durableEndOffset` reports; `readBatches` serves followers up
   * to `replicaEndOffset`, which without the journal includes what is written but not yet durable). It is checkpointed to the partition's `high-watermark-checkpoint` periodically and on close,
   * and a restart starts from the checkpoint (the log start when there is none), never above the log end.
   * Without it the high watermark is the durable end, as in a single-node store.
   */
  replicated?: boolean | undefined;
}

/** Durability settings shared by every log of a store. */
export interface DurabilityOptions {
  /** When appends reach the disk (default `"always"`). */
  fsync?: FsyncPolicy | undefined;
  /** With `fsync: "interval"`, the longest time between fsyncs in ms (default 100). */
  fsyncIntervalMs?: number | undefined;
  /**
   * Time in ms since the epoch, for default timestamps and time-based retention (default: `Date.now()`).
   * Any `{ now() }`, the one clock shape of every minikafka package (e.g. `ManualClock` from
   * `@minikafka/group-coordinator`). Takes precedence over `now`.
   */
  clock?: Clock | undefined;
  /** @deprecated Use `clock` (`{ now: () => ms }`); still honoured when `clock` is not given. */
  now?: (() => number) | undefined;
  /**
   * Replicated logs ({@link LogConfig.replicated}): at most this many ms between a change of the high
   * watermark and its checkpoint on disk (Kafka's `replica.high.watermark.checkpoint.interval.ms`;
   * default 5000). Close always writes it.
   */
  highWatermarkCheckpointIntervalMs?: number | undefined;
}

/** A source of time in ms: structurally the same `Clock` as in `@minikafka/group-coordinator` and the client. */
export interface Clock {
  /** The current time in milliseconds since the epoch. */
  now(): number;
}

/** One partition's offsets and size. */
export interface PartitionDescription {
  partition: number;
  /** The first offset still stored (moves forward when retention deletes segments). */
  logStartOffset: number;
  /** One past the last offset written. */
  logEndOffset: number;
  /**
   * One past the last offset consumers may read: the durable end under the fsync policy, or in a
   * replicated log ({@link LogConfig.replicated}) the high watermark set from outside.
   */
  highWatermark: number;
  /** Bytes on disk in segment files. */
  sizeBytes: number;
}

/** A topic, as returned by `describeTopic`. */
export interface TopicDescription {
  name: string;
  /** Per-topic overrides of the store's log settings. */
  config: LogConfig;
  /** Creation time in ms since the epoch. */
  createdAt: number;
  partitions: PartitionDescription[];
}

/** A committed consumer-group offset: the *next* offset the group will read (Kafka's rule). */
export interface TopicPartitionOffset {
  topic: string;
  partition: number;
  offset: number;
}

/** Counters since the store was opened, for metrics and benchmarks. */
export interface LogStoreMetrics {
  /** Records appended. */
  appendedRecords: number;
  /** Batch bytes appended. */
  appendedBytes: number;
  /** Records returned by reads. */
  readRecords: number;
  /** fsync rounds of partition logs (one round may cover many appends). */
  fsyncs: number;
}
