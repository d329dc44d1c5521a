const MARKER = Symbol.for("minikafka.error");

/**
 * The fixed set of {@link LogStoreError} codes. Kafka's names are used where Kafka has the concept.
 *
 * - `INVALID_TOPIC_NAME`: not `[a-zA-Z0-9._-]{1,249}`, `.`/`..`, reserved, or a case-only twin of an existing topic.
 * - `TOPIC_ALREADY_EXISTS`: `createTopic` for a name that exists.
 * - `UNKNOWN_TOPIC_OR_PARTITION`: the topic or partition does not exist (or was deleted meanwhile).
 * - `INVALID_PARTITIONS`: a partition count below 1, above the limit, or shrinking.
 * - `OFFSET_OUT_OF_RANGE`: a read or commit offset outside the partition's valid range.
 * - `INVALID_RECORD`: a record that cannot be stored (wrong types, empty batch, too large).
 * - `INVALID_REQUEST`: any other bad argument (options, limits).
 * - `INVALID_GROUP_ID`: a consumer group id that is empty, too long or contains control characters.
 * - `CORRUPT_RECORD`: stored data failed its checksum or structure check below the last durable point.
 * - `KAFKA_STORAGE_ERROR`: the filesystem failed (write, fsync, layout); the partition refuses further writes.
 * - `DISK_FULL`: the disk is full (`ENOSPC`); nothing of the failed call was stored, everything acknowledged
 *   before is intact, and the same call succeeds once space is freed (no reopen needed).
 * - `TOO_MANY_OPEN_FILES`: the process ran out of file descriptors (`EMFILE`/`ENFILE`) even after closing
 *   every idle one of the store's pool (`maxOpenFiles`); nothing of the failed call was changed, and it
 *   may succeed once descriptors are free (other sockets or files closed, or a higher `ulimit -n`).
 * - `TOPIC_LIMIT_REACHED`: creating the topics or partitions would exceed the store's `maxTopics` or
 *   `maxTotalPartitions`; nothing was created (not retriable as is: it succeeds once topics are deleted or
 *   the limit is raised).
 * - `DATA_DIR_LOCKED`: another process (or another store in this process) owns the data directory.
 * - `STORE_CLOSED`: the store or log was closed.
 * - `OUT_OF_ORDER_SEQUENCE_NUMBER` (Kafka 45): an idempotent append whose sequence is not the next one the
 *   partition expects from that producer (a gap or reordering), or a new epoch that does not start at 0.
 * - `INVALID_PRODUCER_EPOCH` (Kafka 47): an idempotent append with an older epoch than the partition has
 *   seen from that producer: the producer is fenced.
 * - `UNKNOWN_PRODUCER_ID` (Kafka 59): an idempotent append by a producer the partition has no state for
 *   (never seen, or expired), whose sequence does not start at 0.
 * - `FENCED_LEADER_EPOCH` (Kafka 74): an append stamped with a lower leader epoch than the partition's latest
 *   (a deposed leader, or a follower that did not truncate before following a new leader); nothing is stored.
 */
export type LogStoreErrorCode =
  | "INVALID_TOPIC_NAME"
  | "TOPIC_ALREADY_EXISTS"
  | "UNKNOWN_TOPIC_OR_PARTITION"
  | "INVALID_PARTITIONS"
  | "OFFSET_OUT_OF_RANGE"
  | "INVALID_RECORD"
  | "INVALID_REQUEST"
  | "INVALID_GROUP_ID"
  | "CORRUPT_RECORD"
  | "KAFKA_STORAGE_ERROR"
  | "DISK_FULL"
  | "TOO_MANY_OPEN_FILES"
  | "TOPIC_LIMIT_REACHED"
  | "DATA_DIR_LOCKED"
  | "STORE_CLOSED"
  | "OUT_OF_ORDER_SEQUENCE_NUMBER"
  | "INVALID_PRODUCER_EPOCH"
  | "UNKNOWN_PRODUCER_ID"
  | "FENCED_LEADER_EPOCH";

/** What a partition knows about a producer, attached to the producer errors (for the reply to the producer). */
export interface ProducerErrorDetails {
  producerId: number;
  /** The partition's current epoch for the producer (-1: none). */
  producerEpoch: number;
  /** The sequence the partition expects next in that epoch (0 for an unknown producer). */
  expectedSequence: number;
}

const RETRIABLE: ReadonlySet<LogStoreErrorCode> = new Set(["KAFKA_STORAGE_ERROR", "DISK_FULL", "TOO_MANY_OPEN_FILES"]);

/**
 * The one error class thrown by `@minikafka/log-store`. `code` says what went wrong, `retriable`
 * whether the same call may succeed later. Recognise it with {@link isLogStoreError}, which also works
 * when several copies of this package are installed (where `instanceof` fails).
 */
export class LogStoreError extends Error {
  /** What went wrong, from a fixed set. */
  readonly code: LogStoreErrorCode;
  /** Whether retrying the same call may succeed. */
  readonly retriable: boolean;
  /** Marker shared by all minikafka errors, so they are recognisable across duplicated installs. */
  readonly [MARKER] = "LogStoreError";
  /**
   * On `OUT_OF_ORDER_SEQUENCE_NUMBER`, `INVALID_PRODUCER_EPOCH` and `UNKNOWN_PRODUCER_ID`: the partition's
   * state for the producer (current epoch, expected sequence).
   */
  readonly producer?: ProducerErrorDetails;

  constructor(code: LogStoreErrorCode, message: string, options?: { cause?: unknown; producer?: ProducerErrorDetails }) {
    super(message, options);
    this.name = "LogStoreError";
    this.code = code;
    this.retriable = RETRIABLE.has(code);
    if (options?.producer) this.producer = options.producer;
  }
}

/** True when `error` is a {@link LogStoreError} from any copy of this package. */
export function isLogStoreError(error: unknown): error is LogStoreError {
  return typeof error === "object" && error !== null && (error as Record<symbol, unknown>)[MARKER] === "LogStoreError";
}
