// What the broker needs of its storage, as a structural interface: `@minikafka/log-store`'s `LogStore`
// satisfies it as it is (as it satisfies the coordinator's `OffsetStore`), and so can anything else
// shaped like it. Only types are imported from log-store here.
import type {
  AppendOptions,
  AppendResult,
  InitProducerIdResult,
  CreateTopicOptions,
  LogStoreMetrics,
  PartitionAppend,
  PartitionDescription,
  ReadOptions,
  ReadResult,
  RecordInput,
  TopicChangeListener,
  TopicDescription,
  TopicPartitionOffset,
  WaitOptions,
} from "@minikafka/log-store";

/**
 * The storage a broker serves: topics of partition logs, with committed offsets of consumer groups.
 * `LogStore` from `@minikafka/log-store` satisfies it structurally (and is what `startBroker` uses); the
 * methods have `LogStore`'s meaning and errors. The broker owns none of it: it never closes the store.
 *
 * Topic changes reach the broker (its partition-count cache, the group coordinator) through
 * {@link BrokerStore.onTopicChange}, so a topic created, grown or deleted by anyone — the broker's routes
 * or an embedder calling the store directly — is seen by the coordinator.
 */
export interface BrokerStore {
  /**
   * True when the store replicates over a cluster (the broker's cluster mode): `createTopic` then takes
   * {@link ReplicationOptions} too. Absent or false: a single node, where only replication factor 1 exists.
   */
  readonly replicates?: boolean | undefined;
  /** Creates a topic with all its partitions, or nothing. */
  createTopic(name: string, options: CreateTopicOptions & ReplicationOptions): Promise<TopicDescription>;
  /** Names of all topics, sorted. Throws `STORE_CLOSED` once the store is closed (`/readyz` relies on it). */
  listTopics(): string[];
  /** A topic's partitions; throws `UNKNOWN_TOPIC_OR_PARTITION` for an unknown topic. */
  describeTopic(name: string): TopicDescription;
  /**
   * Optional: one partition of {@link BrokerStore.describeTopic} without the others; throws
   * `UNKNOWN_TOPIC_OR_PARTITION` for an unknown topic or partition. Without it, reads describe the topic.
   */
  describePartition?(name: string, partition: number): PartitionDescription;
  /**
   * Optional: asks the source of truth of a store that learns of topics later than they are created (the
   * cluster metadata in etcd, in cluster mode) about a topic it does not know yet, and takes the topic up
   * when that has it. Resolves true when the store knows the topic now. Without it, an unknown topic is
   * unknown.
   */
  lookUpTopic?(name: string): Promise<boolean>;
  /** Grows a topic to `newCount` partitions. */
  addPartitions(name: string, newCount: number): Promise<TopicDescription>;
  /** Deletes a topic, its data and every group's committed offsets for it. */
  deleteTopic(name: string): Promise<void>;
  /**
   * Appends `records` to one partition as one batch; resolves once durable. With `options.producer`, the
   * append is idempotent (Kafka's rules: a retry answers the original offsets with `duplicate: true`).
   */
  append(topic: string, partition: number, records: readonly RecordInput[], options?: AppendOptions): Promise<AppendResult>;
  /**
   * Optional (`LogStore.appendMany`): appends to several partitions of one topic in one call, each
   * partition's records as one batch; resolves with their offsets, in the order given, once all are durable
   * (not atomic: rejects with the first error).
   */
  appendMany?(topic: string, appends: readonly PartitionAppend[]): Promise<AppendResult[]>;
  /**
   * Optional (`LogStore.journaled`): appends go through a store-wide journal that coalesces small appends
   * itself. A produce spread over several partitions then uses {@link BrokerStore.appendMany} (without
   * it, the broker merges small appends per partition itself, which saves per-batch work the store would
   * do for each).
   */
  readonly journaled?: boolean | undefined;
  /** A fresh idempotent-producer id (epoch 0), never handed out before by this store (durable). */
  initProducerId(): Promise<InitProducerIdResult>;
  /** Reads durable records of one partition from `offset` on. */
  read(topic: string, partition: number, offset: number, options?: ReadOptions): Promise<ReadResult>;
  /** Resolves `true` once a record at `offset` or later is readable, `false` on timeout. */
  waitForData(topic: string, partition: number, offset: number, options: WaitOptions): Promise<boolean>;
  /** Durably records a group's committed offsets, all or none. */
  commitOffsets(groupId: string, offsets: readonly TopicPartitionOffset[]): Promise<void>;
  /** Everything the group has committed. */
  committedOffsets(groupId: string): Promise<TopicPartitionOffset[]>;
  /** Optional (the coordinator's `OffsetStore.deleteGroup`): forgets a group's committed offsets. */
  deleteGroup?(groupId: string): Promise<void>;
  /** Optional (the coordinator's `OffsetStore.committedGroupIds`): every group with committed offsets. */
  committedGroupIds?(): Iterable<string>;
  /**
   * Calls `listener` after every topic create, grow and delete, whoever makes it, once the store answers
   * for the new state; returns a function that removes the listener.
   */
  onTopicChange(listener: TopicChangeListener): () => void;
  /** Counters since the store was opened (for `/metrics`). */
  readonly metrics: Readonly<LogStoreMetrics>;
}

/** How many copies of a topic's partitions a cluster keeps, and how many must be in sync to accept a produce. */
export interface ReplicationOptions {
  /** Copies of each partition, on distinct brokers (default 1). */
  replicationFactor?: number | undefined;
  /** A produce to a partition with fewer in-sync replicas is refused (default 1, at most `replicationFactor`). */
  minInsyncReplicas?: number | undefined;
}

/** The part of {@link BrokerStore} that reads partitions and waits for new records. */
export type ReadStore = Pick<BrokerStore, "read" | "waitForData">;
