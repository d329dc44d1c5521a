// The storage the broker's core serves in cluster mode: the local LogStore, with the cluster's rules around
// it. Produce goes to the partition's leader only, is stamped with its leader epoch and answered once the
// ISR has it (acks=all); reads are served by any replica below its high watermark; topics are created in
// the cluster metadata first. The core's services are the same in both modes.
import type {
  AppendOptions,
  AppendResult,
  CreateTopicOptions,
  InitProducerIdResult,
  LogStore,
  PartitionDescription,
  ReadOptions,
  ReadResult,
  RecordInput,
  TopicChangeListener,
  TopicDescription,
  TopicPartitionOffset,
  WaitOptions,
} from "@minikafka/log-store";
import type { BrokerStore, ReplicationOptions } from "../core/storage.js";
import { miniKafkaErrorCode } from "../errors.js";
import type { ClusterNode } from "./cluster-node.js";

/** A {@link BrokerStore} over a cluster member's local store. */
export class ReplicatedStore implements BrokerStore {
  readonly #store: LogStore;
  readonly #node: ClusterNode;

  constructor(store: LogStore, node: ClusterNode) {
    this.#store = store;
    this.#node = node;
  }

  /** Topics are created in the cluster, with a replication factor. */
  readonly replicates = true;

  get metrics() {
    return this.#store.metrics;
  }

  /** Creates the topic in the cluster (replicas on the live brokers), then answers its local description. */
  async createTopic(name: string, options: CreateTopicOptions & ReplicationOptions): Promise<TopicDescription> {
    await this.#node.createTopic(name, {
      partitions: options.partitions,
      replicationFactor: options.replicationFactor,
      minInsyncReplicas: options.minInsyncReplicas,
      config: options.config as Record<string, number> | undefined,
    });
    return this.describeTopic(name);
  }

  listTopics(): string[] {
    return this.#store.listTopics();
  }

  /** The local description, with each partition's leader, epoch, replicas and ISR from the cluster metadata. */
  describeTopic(name: string): TopicDescription {
    const local = this.#store.describeTopic(name);
    const cluster = this.#node.topic(name);
    if (cluster === undefined) return local;
    // `replicated` is how every cluster topic is stored here, not a setting of the topic.
    const { replicated: _replicated, ...config } = local.config as typeof local.config & { replicated?: boolean };
    return {
      ...local,
      config,
      replicationFactor: cluster.replicationFactor,
      minInsyncReplicas: Number(cluster.config.minInsyncReplicas ?? 1),
      partitions: local.partitions.map((p) => {
        const c = cluster.partitions[p.partition];
        return c === undefined
          ? p
          : { ...p, leader: c.state.leader, leaderEpoch: c.state.leaderEpoch, replicas: [...c.replicas], isr: [...c.state.isr] };
      }),
    } as TopicDescription;
  }

  /** One partition's local description, with its leader, epoch, replicas and ISR (cheaper than the whole topic). */
  describePartition(name: string, partition: number): PartitionDescription {
    const local = this.#store.describePartition(name, partition);
    const c = this.#node.topic(name)?.partitions[partition];
    return c === undefined
      ? local
      : ({
          ...local,
          leader: c.state.leader,
          leaderEpoch: c.state.leaderEpoch,
          replicas: [...c.replicas],
          isr: [...c.state.isr],
        } as PartitionDescription);
  }

  /** Asks etcd about a topic this broker has not seen yet, taking it up if the cluster has it (see `ClusterNode.lookUpTopic`). */
  lookUpTopic(name: string): Promise<boolean> {
    return this.#node.lookUpTopic(name);
  }

  /** Grows the topic in the cluster (new partitions placed over the live brokers), then answers its description here. */
  async addPartitions(name: string, newCount: number): Promise<TopicDescription> {
    await this.#node.addPartitions(name, newCount);
    return this.describeTopic(name);
  }

  /** Deletes the topic in the cluster: every broker drops its replica (this one before answering). */
  deleteTopic(name: string): Promise<void> {
    return this.#node.deleteTopic(name);
  }

  /** On the leader only: stamped with its epoch, answered once the in-sync replicas all have it. */
  async append(topic: string, partition: number, records: readonly RecordInput[], options?: AppendOptions): Promise<AppendResult> {
    const leader = this.#node.leaderOf(topic, partition);
    leader.checkProduce();
    const result = await this.#store.append(topic, partition, records, { ...options, leaderEpoch: leader.leaderEpoch });
    await leader.committed(result.lastOffset + 1);
    return result;
  }

  /** A producer id unique in the cluster. */
  async initProducerId(): Promise<InitProducerIdResult> {
    return { producerId: await this.#node.allocateProducerId(), producerEpoch: 0 };
  }

  read(topic: string, partition: number, offset: number, options?: ReadOptions): Promise<ReadResult> {
    try {
      this.#node.checkReplica(topic, partition);
    } catch (error) {
      return Promise.reject(error);
    }
    const read = this.#store.read(topic, partition, offset, options);
    return this.#node.topic(topic) === undefined ? this.#afterLookUp(topic, read, () => this.read(topic, partition, offset, options)) : read;
  }

  waitForData(topic: string, partition: number, offset: number, options: WaitOptions): Promise<boolean> {
    try {
      this.#node.checkReplica(topic, partition);
    } catch (error) {
      return Promise.reject(error);
    }
    const wait = this.#store.waitForData(topic, partition, offset, options);
    return this.#node.topic(topic) === undefined ? this.#afterLookUp(topic, wait, () => this.waitForData(topic, partition, offset, options)) : wait;
  }

  /**
   * `attempt` of a topic the cluster view does not hold; when it fails with `UNKNOWN_TOPIC_OR_PARTITION`,
   * looks the topic up in etcd and, when the cluster has it, runs `again` (now with the topic taken up).
   */
  async #afterLookUp<T>(topic: string, attempt: Promise<T>, again: () => Promise<T>): Promise<T> {
    try {
      return await attempt;
    } catch (error) {
      if (miniKafkaErrorCode(error) !== "UNKNOWN_TOPIC_OR_PARTITION" || !(await this.#node.lookUpTopic(topic))) throw error;
      return again();
    }
  }

  commitOffsets(groupId: string, offsets: readonly TopicPartitionOffset[]): Promise<void> {
    return this.#store.commitOffsets(groupId, offsets);
  }

  committedOffsets(groupId: string): Promise<TopicPartitionOffset[]> {
    return this.#store.committedOffsets(groupId);
  }

  deleteGroup(groupId: string): Promise<void> {
    return this.#store.deleteGroup(groupId);
  }

  committedGroupIds(): Iterable<string> {
    return this.#store.committedGroupIds();
  }

  onTopicChange(listener: TopicChangeListener): () => void {
    return this.#store.onTopicChange(listener);
  }
}
