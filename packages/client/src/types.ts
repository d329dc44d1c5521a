import type { GroupState, MemberState } from "@minikafka/protocol";

// Data shapes shared by the producer, consumer and admin. Offsets are numbers (safe integers: JSON has no
// bigint); a committed offset is the *next* offset to read, as in Kafka.

/** A partition of a topic. */
export interface TopicPartition {
  topic: string;
  partition: number;
}

/** A position in a partition (for commits and seeks: the next offset to read). */
export interface TopicPartitionOffset extends TopicPartition {
  offset: number;
}

/** Partitions of one topic, as assignments are written on the wire. */
export interface TopicPartitions {
  topic: string;
  partitions: number[];
}

/**
 * How the consumer hands out keys, values and header values: `"bytes"` as `Uint8Array` (default; any
 * data survives), `"text"` as strings (UTF-8 decoded by the broker; cheaper, for text data only).
 */
export type MessageFormat = "bytes" | "text";

/** The type of keys, values and header values for a {@link MessageFormat}. */
export type MessageData<F extends MessageFormat> = F extends "text" ? string : Uint8Array;

/**
 * One message to produce. Strings are sent as UTF-8; `Uint8Array`s as bytes (a request that contains any
 * bytes travels base64-encoded). `null` is a null key, value or header value (a tombstone value).
 */
export interface ProducerMessage {
  /** Key: decides the partition (murmur2, as Kafka's Java client and KafkaJS) unless `partition` is set. */
  key?: string | Uint8Array | null | undefined;
  /** Value (`null` for a tombstone). */
  value: string | Uint8Array | null;
  /** Headers: name → value. */
  headers?: Readonly<Record<string, string | Uint8Array | null>> | undefined;
  /** Explicit partition in `[0, partitionCount)`: wins over the key. */
  partition?: number | undefined;
  /** Create time in ms since the epoch (default: the broker's append time). */
  timestamp?: number | undefined;
}

/** What {@link Producer.send} takes: messages for one topic. */
export interface ProducerRecord {
  topic: string;
  messages: readonly ProducerMessage[];
}

/** Where one produced message was stored. */
export interface RecordMetadata {
  partition: number;
  offset: number;
}

/**
 * A consumed message. `T` is `Uint8Array` (message format `"bytes"`, the default) or `string` (`"text"`).
 * The `Uint8Array`s of one fetch are views of one buffer (one allocation per fetch, not per value): keep
 * a copy (`value.slice()`) of the few you hold on to for long.
 */
export interface KafkaMessage<T = Uint8Array> {
  /** Offset in its partition. */
  offset: number;
  /** Create time (or append time when the producer gave none), ms since the epoch. */
  timestamp: number;
  key: T | null;
  value: T | null;
  headers: Record<string, T | null>;
}

/** Client-wide retry policy for retriable failures (exponential backoff with jitter). */
export interface RetryOptions {
  /** How many times a failed request is retried (default 5; 0 disables retries). */
  retries?: number | undefined;
  /** Delay before the first retry in ms; doubles on each retry (default 300). */
  initialRetryTimeMs?: number | undefined;
  /** Longest delay between two retries in ms (default 30 000). */
  maxRetryTimeMs?: number | undefined;
}

/** One partition of a topic, as the broker describes it. */
export interface PartitionDescription {
  partition: number;
  /** First offset still stored (retention moves it forward). */
  logStartOffset: number;
  /** One past the last offset written. */
  logEndOffset: number;
  /** One past the last durable offset: consumers see offsets below it. */
  highWatermark: number;
  /** Bytes stored. */
  sizeBytes: number;
  /** Cluster mode: the leader's node id (-1 while no in-sync replica is alive). */
  leader?: number | undefined;
  /** Cluster mode: bumped on every leader change. */
  leaderEpoch?: number | undefined;
  /** Cluster mode: node ids holding a replica, preferred leader first. */
  replicas?: number[] | undefined;
  /** Cluster mode: the in-sync replicas' node ids. */
  isr?: number[] | undefined;
}

/** Per-topic log settings (overrides of the broker's defaults). */
export interface TopicConfig {
  segmentBytes?: number | undefined;
  indexIntervalBytes?: number | undefined;
  retentionMs?: number | undefined;
  retentionBytes?: number | undefined;
}

/** A topic, as the broker describes it. */
export interface TopicDescription {
  name: string;
  config: TopicConfig;
  /** ms since the epoch. */
  createdAt: number;
  partitions: PartitionDescription[];
  /** Cluster mode: copies of each partition. */
  replicationFactor?: number | undefined;
  /** Cluster mode: the fewest in-sync replicas a produce is accepted with. */
  minInsyncReplicas?: number | undefined;
}

/** A member of a consumer group, as the broker describes it. */
export interface GroupMemberDescription {
  memberId: string;
  instanceId: string | null;
  memberEpoch: number;
  topics: string[];
  /** Partitions the member may process. */
  assignment: TopicPartitions[];
  /** Partitions taken from it that it has not let go of yet. */
  revokingPartitions: TopicPartitions[];
  /** Partitions it will get once their previous owner lets go. */
  pendingPartitions: TopicPartitions[];
  targetAssignment: TopicPartitions[];
  lastHeartbeatMs: number;
  /** `stable` | `reconciling` | `unrevoked-partitions` | `unreleased-partitions`. */
  state: MemberState;
}

/** A group's position and lag in one partition. */
export interface PartitionLag extends TopicPartition {
  /** Next offset the group will read, or `null` when it has committed nothing here. */
  committedOffset: number | null;
  /** First offset still stored: where the group reads from when it has committed nothing. */
  logStartOffset: number;
  highWatermark: number;
  /** `highWatermark − committedOffset` (from `logStartOffset` when nothing is committed). */
  lag: number;
}

/** A consumer group, as the broker describes it. */
export interface GroupDescription {
  groupId: string;
  /**
   * The coordinator's `empty` | `assigning` | `reconciling` | `stable`, or `dead` for a group the broker
   * does not know (no members since it started and no committed offsets), as in KafkaJS.
   */
  state: GroupState | "dead";
  groupEpoch: number;
  assignmentEpoch: number;
  members: GroupMemberDescription[];
  /** Committed offsets and lag of every partition the group has committed or is assigned. */
  offsets: PartitionLag[];
}

/** A consumer group in a listing. */
export interface GroupOverview {
  groupId: string;
  /** `empty` | `assigning` | `reconciling` | `stable`. */
  state: GroupState;
  groupEpoch: number;
  memberCount: number;
}
