import type { CreateTopicOptions, PartitionDescription, TopicChangeEvent, TopicDescription } from "@minikafka/log-store";
import { BrokerError, miniKafkaErrorCode } from "../errors.js";
import type { BrokerStore, ReplicationOptions } from "./storage.js";

const isUnknownTopic = (error: unknown) => miniKafkaErrorCode(error) === "UNKNOWN_TOPIC_OR_PARTITION";

/** The part of {@link BrokerStore} topic administration uses. */
export type TopicStore = Pick<
  BrokerStore,
  "createTopic" | "listTopics" | "describeTopic" | "describePartition" | "addPartitions" | "deleteTopic" | "replicates" | "lookUpTopic"
>;

/**
 * Topic administration, plus a cache of partition counts for the hot paths (produce asks for the count on
 * every request; `describeTopic` builds a description of every partition). The cache is kept exact by the
 * store's topic-change events ({@link TopicService.topicChanged}), so it holds whoever changes the store.
 */
export class TopicService {
  readonly #store: TopicStore;
  readonly #counts = new Map<string, number>();

  constructor(store: TopicStore) {
    this.#store = store;
  }

  /** Forgets what the cache holds for the event's topic. Wired to the store's `onTopicChange`. */
  topicChanged(event: TopicChangeEvent): void {
    this.#counts.delete(event.topic);
  }

  /** The topic's partition count, or `undefined` when it does not exist. */
  partitionCount(topic: string): number | undefined {
    const cached = this.#counts.get(topic);
    if (cached !== undefined) return cached;
    let count: number;
    try {
      count = this.#store.describeTopic(topic).partitions.length;
    } catch (error) {
      if (isUnknownTopic(error)) return undefined;
      throw error;
    }
    this.#counts.set(topic, count);
    return count;
  }

  /**
   * The topic's partition count.
   * @throws LogStoreError `UNKNOWN_TOPIC_OR_PARTITION` (from the store) when it does not exist.
   */
  requirePartitionCount(topic: string): number {
    return this.partitionCount(topic) ?? this.#store.describeTopic(topic).partitions.length;
  }

  /**
   * The topic's partition count, like {@link TopicService.requirePartitionCount}; a topic the store does
   * not know is looked up first where the store can (`BrokerStore.lookUpTopic`: in cluster mode, a topic
   * created through another broker that this one has not seen yet).
   * @throws LogStoreError `UNKNOWN_TOPIC_OR_PARTITION` when it does not exist.
   */
  async resolvePartitionCount(topic: string): Promise<number> {
    const count = this.partitionCount(topic);
    if (count !== undefined) return count;
    await this.#store.lookUpTopic?.(topic);
    return this.requirePartitionCount(topic);
  }

  /**
   * The topic's description, looking it up first where the store can (see
   * {@link TopicService.resolvePartitionCount}).
   * @throws LogStoreError `UNKNOWN_TOPIC_OR_PARTITION`
   */
  async resolve(topic: string): Promise<TopicDescription> {
    if (this.#store.lookUpTopic !== undefined && this.describeIfExists(topic) === undefined) await this.#store.lookUpTopic(topic);
    return this.#store.describeTopic(topic);
  }

  /** The topic's description, or `undefined` when it does not exist. */
  describeIfExists(topic: string): TopicDescription | undefined {
    try {
      return this.#store.describeTopic(topic);
    } catch (error) {
      if (isUnknownTopic(error)) return undefined;
      throw error;
    }
  }

  /**
   * One partition's offsets and size, or `undefined` when the topic or the partition does not exist: the
   * store's `describePartition` where it has one (O(1) in the topic's partitions), else from the topic's
   * description.
   */
  describePartitionIfExists(topic: string, partition: number): PartitionDescription | undefined {
    const store = this.#store;
    if (store.describePartition === undefined) return this.describeIfExists(topic)?.partitions[partition];
    try {
      return store.describePartition(topic, partition);
    } catch (error) {
      if (isUnknownTopic(error)) return undefined;
      throw error;
    }
  }

  /**
   * The topic's description.
   * @throws LogStoreError `UNKNOWN_TOPIC_OR_PARTITION`
   */
  describe(topic: string): TopicDescription {
    return this.#store.describeTopic(topic);
  }

  /** Every topic's description, sorted by name (a topic deleted meanwhile is skipped). */
  list(): TopicDescription[] {
    const described: TopicDescription[] = [];
    for (const name of this.#store.listTopics()) {
      const description = this.describeIfExists(name);
      if (description !== undefined) described.push(description);
    }
    return described;
  }

  /**
   * Creates a topic (see `LogStore.createTopic`); with replication options in cluster mode.
   * @throws BrokerError `INVALID_REPLICATION_FACTOR` for more than one copy on a single node, or a minimum
   *   ISR above the replication factor
   */
  async create(name: string, options: CreateTopicOptions & ReplicationOptions): Promise<TopicDescription> {
    const { replicationFactor, minInsyncReplicas, ...local } = options;
    if (this.#store.replicates === true) return this.#store.createTopic(name, options);
    if ((replicationFactor ?? 1) > 1 || (minInsyncReplicas ?? 1) > 1) {
      throw new BrokerError(
        "INVALID_REPLICATION_FACTOR",
        `a single-node broker keeps one copy of each partition: replicationFactor and minInsyncReplicas must be 1 (got ${replicationFactor ?? 1} and ${minInsyncReplicas ?? 1}); run a cluster for more`,
      );
    }
    return this.#store.createTopic(name, local);
  }

  /** Grows a topic to `count` partitions (see `LogStore.addPartitions`). */
  grow(name: string, count: number): Promise<TopicDescription> {
    return this.#store.addPartitions(name, count);
  }

  /** Deletes a topic with its data and committed offsets (see `LogStore.deleteTopic`). */
  delete(name: string): Promise<void> {
    return this.#store.deleteTopic(name);
  }

  /**
   * The topic's partition count, creating the topic with `partitions` partitions first if it does not
   * exist (a concurrent creation of the same topic is fine).
   */
  async ensure(name: string, partitions: number): Promise<number> {
    const count = this.partitionCount(name);
    if (count !== undefined) return count;
    try {
      await this.create(name, { partitions });
    } catch (error) {
      if (miniKafkaErrorCode(error) !== "TOPIC_ALREADY_EXISTS") throw error;
    }
    // Created meanwhile, perhaps through another broker of a cluster: one this broker may not have seen yet.
    return this.resolvePartitionCount(name);
  }
}
