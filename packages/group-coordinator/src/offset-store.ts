/** One committed offset: the *next* offset the group will read from `topic`/`partition` (Kafka's rule). */
export interface TopicPartitionOffset {
  topic: string;
  partition: number;
  offset: number;
}

/**
 * Where committed offsets live. `@minikafka/log-store`'s `LogStore` satisfies this interface (durably);
 * {@link InMemoryOffsetStore} is for tests and for brokers without durability.
 */
export interface OffsetStore {
  /** Stores `offsets` for `groupId`, all or nothing (atomic per call). Later commits overwrite earlier ones. */
  commitOffsets(groupId: string, offsets: ReadonlyArray<TopicPartitionOffset>): Promise<void>;
  /** Everything committed for `groupId` (an empty array for a group that never committed). */
  committedOffsets(groupId: string): Promise<ReadonlyArray<TopicPartitionOffset>>;
  /**
   * Optional: forgets everything committed for `groupId` (nothing to forget is not an error). Called when
   * the coordinator forgets an empty group (retention, or an admin's `deleteGroup`). Must take effect in
   * call order with the same group's `commitOffsets` calls: a commit made after the delete is kept. A store
   * without it keeps the offsets of forgotten groups.
   */
  deleteGroup?(groupId: string): Promise<void>;
  /**
   * Optional: the id of every group that has committed offsets. Read once, when the coordinator is
   * created, so that groups committed before a restart are listed and expire like the others (their
   * retention starts then). Without it, they are known only once a member joins them again.
   */
  committedGroupIds?(): Iterable<string>;
}

/**
 * An {@link OffsetStore} in memory: lost when the process exits. Commits and deletes are applied synchronously at
 * call time (so the caller may reuse its array at once) and are trivially atomic. Results are sorted by
 * topic, then partition.
 */
export class InMemoryOffsetStore implements OffsetStore {
  readonly #groups = new Map<string, Map<string, Map<number, number>>>();

  /** Stores `offsets` for `groupId`; resolves once stored. */
  commitOffsets(groupId: string, offsets: ReadonlyArray<TopicPartitionOffset>): Promise<void> {
    let topics = this.#groups.get(groupId);
    if (topics === undefined) {
      topics = new Map();
      this.#groups.set(groupId, topics);
    }
    for (const { topic, partition, offset } of offsets) {
      let partitions = topics.get(topic);
      if (partitions === undefined) {
        partitions = new Map();
        topics.set(topic, partitions);
      }
      partitions.set(partition, offset);
    }
    return Promise.resolve();
  }

  /** Forgets everything committed for `groupId`; resolves once done. */
  deleteGroup(groupId: string): Promise<void> {
    this.#groups.delete(groupId);
    return Promise.resolve();
  }

  /** The ids of the groups that have committed offsets, sorted. */
  committedGroupIds(): string[] {
    return [...this.#groups.keys()].sort();
  }

  /** Everything committed for `groupId`, sorted by topic then partition; fresh objects each call. */
  committedOffsets(groupId: string): Promise<ReadonlyArray<TopicPartitionOffset>> {
    const out: TopicPartitionOffset[] = [];
    const topics = this.#groups.get(groupId);
    if (topics !== undefined) {
      for (const topic of [...topics.keys()].sort()) {
        const partitions = topics.get(topic)!;
        for (const partition of [...partitions.keys()].sort((a, b) => a - b)) {
          out.push({ topic, partition, offset: partitions.get(partition)! });
        }
      }
    }
    return Promise.resolve(out);
  }
}
