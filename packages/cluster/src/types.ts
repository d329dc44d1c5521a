/** A broker that holds a live lease in the cluster. */
export interface BrokerInfo {
  /** The broker's `cluster.nodeId`: a positive integer, unique in the cluster. */
  nodeId: number;
  /** Where clients and other brokers reach it (`cluster.advertisedUrl`). */
  advertisedUrl: string;
}

/**
 * Who leads a partition, as the controller (or the leader, for its ISR) last wrote it. Changed only by
 * compare-and-swap on its revision.
 */
export interface PartitionState {
  /** The leader's node id, or -1 while no in-sync replica is alive (the partition is offline). */
  leader: number;
  /** Bumped on every leader change; batches are stamped with it, and requests of older epochs are refused. */
  leaderEpoch: number;
  /** The in-sync replicas (node ids), the leader first when there is one. */
  isr: number[];
}

/** A partition's replicas and its current state, with the etcd revision to compare-and-swap against. */
export interface PartitionMetadata {
  partition: number;
  /** Node ids holding a replica, the preferred leader first. Fixed at creation. */
  replicas: number[];
  state: PartitionState;
  /** The etcd modification revision of `state`: pass it to {@link ClusterMetadata.updatePartitionState}. */
  revision: string;
}

/** A topic as the cluster metadata holds it. */
export interface TopicMetadata {
  name: string;
  /**
   * Which topic of that name this is (Kafka's topic id): the etcd creation revision of its key, a decimal
   * string. A topic deleted and created again under the same name has another, larger one.
   */
  topicId: string;
  replicationFactor: number;
  /** Topic configuration (retention, segment size, min in-sync replicas…), as given at creation. */
  config: Record<string, number>;
  partitions: PartitionMetadata[];
}
