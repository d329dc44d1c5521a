import type { CreateTopicOptions, LogStore, TopicDescription } from "@minikafka/log-store";
import { miniKafkaErrorCode } from "./errors.js";

const isUnknownTopic = (error: unknown) => miniKafkaErrorCode(error) === "UNKNOWN_TOPIC_OR_PARTITION";

/**
 * Topic administration through the broker, plus a cache of partition counts for the hot paths (produce
 * asks for the count on every request; `describeTopic` builds a description of every partition). Every
 * create, grow and delete goes through here, so the cache stays exact as long as the broker is the only
 * one administering the store, and listeners (the group coordinator) hear of every change.
 */
export class TopicIndex {
  readonly #store: LogStore;
  readonly #counts = new Map<string, number>();
  readonly #listeners: Array<(topic: string) => void> = [];

  constructor(store: LogStore) {
    this.#store = store;
  }

  /** Calls `listener(topic)` after every create, grow or delete. Listeners must not throw. */
  onChange(listener: (topic: string) => void): void {
    this.#listeners.push(listener);
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
   * The topic's partition count.
   * @throws LogStoreError `UNKNOWN_TOPIC_OR_PARTITION` (from the store) when it does not exist.
   */
  requirePartitionCount(topic: string): number {
    return this.partitionCount(topic) ?? this.#store.describeTopic(topic).partitions.length;
  }

  /** Creates a topic (see `LogStore.createTopic`). */
  async create(name: string, options: CreateTopicOptions): Promise<TopicDescription> {
    const description = await this.#store.createTopic(name, options);
    this.#changed(name);
    return description;
  }

  /** Grows a topic to `count` partitions (see `LogStore.addPartitions`). */
  async grow(name: string, count: number): Promise<TopicDescription> {
    const description = await this.#store.addPartitions(name, count);
    this.#changed(name);
    return description;
  }

  /** Deletes a topic with its data and committed offsets (see `LogStore.deleteTopic`). */
  async delete(name: string): Promise<void> {
    try {
      await this.#store.deleteTopic(name);
    } finally {
      // Even a failed delete may have removed the topic from the store (it is gone before the files are).
      this.#changed(name);
    }
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
    return this.requirePartitionCount(name);
  }

  #changed(topic: string): void {
    this.#counts.delete(topic);
    for (const listener of this.#listeners) listener(topic);
  }
}
