// A broker's membership of a cluster: its registration and controller (from @minikafka/cluster, loaded only
// in cluster mode), a cache of the metadata kept by an etcd watch, and the replica role of each partition:
// a PartitionLeader where the metadata names this broker the leader, a ReplicaFetcher where it follows.
import type { ClusterEvent, ClusterMetadata, Controller, TopicMetadata } from "@minikafka/cluster";
import type { LogStore } from "@minikafka/log-store";
import type { ClusterMetadataResult, EpochEndResult } from "@minikafka/protocol";
import type { BrokerLogger } from "../core/broker-core.js";
import { BrokerError, miniKafkaErrorCode } from "../errors.js";
import type { StructuredLogger } from "../structured-logger.js";
import { OFFSETS_PARTITIONS, OFFSETS_TOPIC, offsetsPartitionOf } from "./group-offsets-topic.js";
import { PartitionLeader } from "./partition-leader.js";
import { ReplicaFetcher } from "./replica-fetcher.js";
import { TopicIds } from "./topic-ids.js";

/** `startBroker({ cluster })` and the config file's `cluster` object. */
export interface ClusterOptions {
  /** This broker's id: a positive integer, unique in the cluster. */
  nodeId: number;
  /** etcd client URLs. */
  etcd: readonly string[];
  /**
   * Where clients and the other brokers reach this broker, e.g. `http://10.0.0.1:8001` (default: the URL
   * it listens on, which only fits a broker listening on a concrete address).
   */
  advertisedUrl?: string | undefined;
  /** Names the cluster in etcd (keys under `/minikafka/<name>/`; default `"default"`). */
  name?: string | undefined;
  /**
   * TTL of this broker's etcd lease in seconds (default 6): a broker that stops renewing it loses its
   * leaderships this long after its last renewal. The broker stops acknowledging before that.
   */
  leaseTtlSeconds?: number | undefined;
  /** A follower that has not caught up with its leader for this long leaves the ISR, in ms (default 10 000). */
  replicaLagTimeMs?: number | undefined;
  /** A produce (acks=all) not replicated to the ISR within this is answered `NOT_ENOUGH_REPLICAS_AFTER_APPEND`, in ms (default 30 000). */
  ackTimeoutMs?: number | undefined;
  /** How long a leader holds a follower's fetch that has nothing new, in ms (default 500). */
  replicaFetchWaitMs?: number | undefined;
}

/** What the `cluster` part of a topic creation carries. */
export interface ReplicatedTopicOptions {
  partitions: number;
  replicationFactor?: number | undefined;
  minInsyncReplicas?: number | undefined;
  config?: Record<string, number | boolean> | undefined;
}

/** What a leader answers a follower's fetch with. */
export type ReplicaFetchAnswer =
  | { kind: "batches"; bytes: Buffer; highWatermark: number; logStartOffset: number }
  | { kind: "out-of-range"; logStartOffset: number; logEndOffset: number };

const DEFAULT_REPLICA_LAG_MS = 10_000;
const DEFAULT_ACK_TIMEOUT_MS = 30_000;
const DEFAULT_FETCH_WAIT_MS = 500;
const PRODUCER_ID_BLOCK = 1000;
/** Local log settings a cluster topic's config may carry (the rest of it is the cluster's). */
const LOG_CONFIG_KEYS = ["segmentBytes", "indexIntervalBytes", "retentionMs", "retentionBytes"] as const;

const partitionKey = (topic: string, partition: number) => `${topic}\u0000${partition}`;
/** Cluster topics of the brokers themselves (`__consumer_offsets`): kept apart from users' topics. */
export const isInternalTopic = (name: string): boolean => name.startsWith("__");

/**
 * The cluster side of a broker. Every broker holds every topic of the cluster in its store (replicated
 * logs, `replicated: true`); a partition it is no replica of stays empty and is never served.
 */
export class ClusterNode {
  readonly nodeId: number;
  readonly clusterId: string;
  readonly #store: LogStore;
  /** The store of the cluster's internal topics (`__*`: the group offsets), `<dataDir>/__cluster`. */
  readonly #internal: LogStore | undefined;
  readonly #options: ClusterOptions;
  readonly #logger: BrokerLogger;
  readonly #log: StructuredLogger | undefined;
  readonly #lagMs: number;
  readonly #ackTimeoutMs: number;
  readonly #fetchWaitMs: number;
  readonly #leaseMarginMs: number;
  #metadata: ClusterMetadata | undefined;
  #advertisedUrl = "";
  #controller: Controller | undefined;
  #stopWatching: (() => Promise<void>) | undefined;
  readonly #topics = new Map<string, TopicMetadata>();
  readonly #brokers = new Map<number, string>();
  #controllerId: number | undefined;
  readonly #leaders = new Map<string, PartitionLeader>();
  readonly #fetchers = new Map<string, ReplicaFetcher>();
  /** What a follower was last told the high watermark is, by partition and follower. */
  readonly #hwSent = new Map<string, number>();
  #queue: Promise<void> = Promise.resolve();
  #producerIds: { next: number; end: number } = { next: 0, end: 0 };
  #closed = false;
  #creatingOffsets: Promise<void> | undefined;
  /** Topics being looked up in etcd because a request named one this broker has not seen yet. */
  readonly #lookUps = new Map<string, Promise<boolean>>();
  /** While set, watch events wait here instead of being applied (see {@link ClusterNode.delayWatch}). */
  #delayedEvents: ClusterEvent[] | undefined;
  readonly #internalRoles = new Set<(topic: string, partition: number, leading: boolean) => void>();
  /** The cluster topic id of each local replica (`cluster-topics.json` beside the topics). */
  readonly #topicIds: TopicIds;

  /**
   * Nothing happens until {@link ClusterNode.join}: until then this broker leads nothing and serves no replica.
   * `topicIdsFile`: where the topic ids of the local replicas are kept (`startBroker`: `<dataDir>/cluster-topics.json`);
   * without it they are known only while the node runs.
   */
  constructor(store: LogStore, options: ClusterOptions, logger: BrokerLogger, log?: StructuredLogger, internal?: LogStore, topicIdsFile?: string) {
    this.nodeId = options.nodeId;
    this.clusterId = options.name ?? "default";
    this.#store = store;
    this.#internal = internal;
    this.#options = options;
    this.#logger = logger;
    this.#log = log;
    this.#lagMs = options.replicaLagTimeMs ?? DEFAULT_REPLICA_LAG_MS;
    this.#ackTimeoutMs = options.ackTimeoutMs ?? DEFAULT_ACK_TIMEOUT_MS;
    this.#fetchWaitMs = options.replicaFetchWaitMs ?? DEFAULT_FETCH_WAIT_MS;
    const ttlMs = (options.leaseTtlSeconds ?? 6) * 1000;
    this.#leaseMarginMs = Math.min(1000, Math.floor(ttlMs / 4));
    this.#topicIds = new TopicIds(topicIdsFile, this.clusterId);
  }

  /** True once {@link ClusterNode.join} succeeded (and until close). */
  get joined(): boolean {
    return this.#metadata !== undefined && !this.#closed;
  }

  /**
   * Joins the cluster: registers in etcd under `advertisedUrl` (the broker's own URL unless
   * `options.advertisedUrl` says otherwise), loads the metadata (creating the local replicas of every
   * topic), takes up each partition's role, and runs for controller.
   * @throws ClusterError `INVALID_CONFIG`, `CLUSTER_UNAVAILABLE` (etcd unreachable, or the node id is taken)
   */
  async join(advertisedUrl: string): Promise<void> {
    this.#advertisedUrl = this.#options.advertisedUrl ?? advertisedUrl;
    // Right after a crash, the previous run's registration lives until its lease expires: wait that out
    // (a supervisor restarts at once) instead of failing; a live broker with the same id still fails.
    const deadline = Date.now() + (this.#options.leaseTtlSeconds ?? 6) * 1000 + 2_000;
    for (;;) {
      try {
        await this.#join();
        return;
      } catch (error) {
        const taken = error instanceof Error && /already registered by a live broker/.test(error.message);
        if (!taken || Date.now() > deadline) throw error;
        this.#log?.log("info", "cluster.waiting", `node id ${this.nodeId} is still registered (a previous run's lease?): waiting for it to expire`);
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    }
  }

  async #join(): Promise<void> {
    // Loaded here, not at the top: a single-node broker never loads etcd's client.
    const cluster = await import("@minikafka/cluster");
    const o = this.#options;
    const metadata = await cluster.ClusterMetadata.open({
      etcd: o.etcd,
      nodeId: o.nodeId,
      advertisedUrl: this.#advertisedUrl,
      cluster: o.name,
      leaseTtlSeconds: o.leaseTtlSeconds,
    });
    this.#metadata = metadata;
    try {
      metadata.onLeaseLost(() => this.#enqueue(() => this.#rejoin("its etcd lease was lost")));
      this.#stopWatching = await metadata.watch((event) => {
        if (this.#delayedEvents !== undefined) this.#delayedEvents.push(event);
        // (A failed change is logged by the queue; the watch has nobody to report it to.)
        else this.#enqueue(() => this.#onEvent(event)).catch(() => undefined);
      });
      await this.#enqueue(() => this.#reload());
      this.#controller = new cluster.Controller(metadata, {
        onChange: (c) =>
          this.#log?.log("info", "cluster.partition.changed", `controller: ${c.topic}/${c.partition} led by ${c.leader} (epoch ${c.leaderEpoch})`, {
            ...c,
            isr: c.isr.join(","),
          }),
        onError: (error) => this.#logger.error("minikafka broker: controller error", error),
      });
      await this.#controller.start();
    } catch (error) {
      this.#metadata = undefined;
      await metadata.close().catch(() => undefined);
      throw error;
    }
  }

  /** The metadata client while joined. @throws BrokerError `BROKER_NOT_AVAILABLE` before the join (and while rejoining) */
  get #meta(): ClusterMetadata {
    if (this.#metadata === undefined) throw new BrokerError("BROKER_NOT_AVAILABLE", `broker ${this.nodeId} has not joined the cluster yet`);
    return this.#metadata;
  }

  /** Runs `task` after every metadata change queued before it (role changes happen one at a time, in order). */
  #enqueue(task: () => Promise<void>): Promise<void> {
    const run = this.#queue.then(async () => {
      if (this.#closed) return;
      await task();
    });
    this.#queue = run.catch((error: unknown) => this.#logger.error("minikafka broker: cluster metadata change failed", error));
    return run;
  }

  /** Reads the whole metadata again and takes up every role. */
  async #reload(): Promise<void> {
    await this.#refreshBrokers();
    this.#controllerId = await this.#meta.controller();
    const names = await this.#meta.topicNames();
    // Replicas of topics deleted while this broker was away (or not listening) go.
    for (const name of this.#topicIds.topics()) if (!names.includes(name)) await this.#dropTopic(name, `topic ${name} was deleted`);
    for (const name of names) {
      const topic = await this.#meta.topic(name);
      if (topic !== undefined) await this.#topicSeen(topic);
    }
  }

  async #refreshBrokers(): Promise<void> {
    const live = await this.#meta.liveBrokers();
    this.#brokers.clear();
    for (const b of live) this.#brokers.set(b.nodeId, b.advertisedUrl);
  }

  async #onEvent(event: ClusterEvent): Promise<void> {
    switch (event.type) {
      case "broker-up":
      case "broker-down":
        await this.#refreshBrokers();
        return;
      case "controller":
        this.#controllerId = event.nodeId;
        return;
      case "topic-created":
      case "topic-changed": {
        const topic = await this.#meta.topic(event.topic);
        if (topic !== undefined) await this.#topicSeen(topic);
        return;
      }
      case "topic-deleted":
        // Only the topic of that name the deletion was about: one created again since (and looked up
        // before this event came) has a larger id, and stays.
        if (BigInt(this.#topics.get(event.topic)?.topicId ?? this.#topicIds.get(event.topic) ?? "0") < BigInt(event.revision)) {
          await this.#dropTopic(event.topic, `topic ${event.topic} was deleted`);
        }
        return;
      case "partition-state": {
        const topic = this.#topics.get(event.topic);
        if (topic === undefined) return; // its topic-created event (or the reload) brings it whole
        const p = topic.partitions[event.partition];
        if (p === undefined || BigInt(event.revision) <= BigInt(p.revision)) return;
        p.state = event.state;
        p.revision = event.revision;
        await this.#applyRole(topic, event.partition);
        return;
      }
    }
  }

  /** A topic as read from etcd: its local replica exists, and each partition's role follows its state. */
  async #topicSeen(topic: TopicMetadata): Promise<void> {
    let known = this.#topics.get(topic.name);
    if (known !== undefined && known.topicId !== topic.topicId) {
      // An earlier read of a topic since deleted and created again: the one with the larger id is the live one.
      if (BigInt(known.topicId) > BigInt(topic.topicId)) return;
      await this.#dropTopic(topic.name, `topic ${topic.name} was deleted and created again`);
      known = undefined;
    }
    if (known !== undefined) {
      // Keep the newer state of each partition (events may have overtaken the read).
      for (const p of topic.partitions) {
        const mine = known.partitions[p.partition];
        if (mine !== undefined && BigInt(mine.revision) > BigInt(p.revision)) topic.partitions[p.partition] = mine;
      }
    }
    // The local replicas and roles first: the metadata this broker answers never names a topic it cannot serve yet.
    await this.#ensureLocal(topic);
    for (const p of topic.partitions) await this.#applyRole(topic, p.partition);
    this.#topics.set(topic.name, topic);
  }

  /**
   * Where a cluster topic lives here: user topics in the broker's store under their own name, internal
   * ones (`__name`) in the internal store as `name` (log-store reserves `__` names, and users never reach
   * that store through `/v1`).
   */
  #local(topic: string): { store: LogStore; name: string } {
    if (!isInternalTopic(topic)) return { store: this.#store, name: topic };
    if (this.#internal === undefined) throw new BrokerError("INVALID_REQUEST", `this broker keeps no internal topics (${topic})`);
    return { store: this.#internal, name: topic.slice(2) };
  }

  async #ensureLocal(topic: TopicMetadata): Promise<void> {
    const config: Record<string, number | boolean> = { replicated: true };
    for (const key of LOG_CONFIG_KEYS) if (topic.config[key] !== undefined) config[key] = topic.config[key];
    const { store, name } = this.#local(topic.name);
    const recorded = this.#topicIds.get(topic.name);
    let stale = false;
    try {
      const local = store.describeTopic(name);
      if (local.config.replicated !== true) {
        throw new BrokerError(
          "INVALID_REQUEST",
          `topic ${topic.name} exists in this broker's data directory as a single-node topic, but the cluster has a topic of that name: move the data directory aside`,
        );
      }
      // A replica without a recorded id predates topic ids (and topic deletion): it is of this topic.
      if (recorded === undefined || recorded === topic.topicId) {
        // The topic grew (in the cluster, before or while this broker was away): its new partitions, empty.
        if (local.partitions.length < topic.partitions.length) await store.addPartitions(name, topic.partitions.length);
        this.#topicIds.set(topic.name, topic.topicId);
        return;
      }
      stale = true;
    } catch (error) {
      if (miniKafkaErrorCode(error) !== "UNKNOWN_TOPIC_OR_PARTITION") throw error;
    }
    if (stale) {
      // Of a topic of the same name deleted while this broker was away: none of its records are this topic's.
      this.#log?.log("info", "cluster.topic.stale", `dropping the replica of an earlier topic ${topic.name} (id ${recorded}, now ${topic.topicId})`, {
        topic: topic.name,
      });
      await this.#dropTopic(topic.name, `topic ${topic.name} was created again`);
    }
    try {
      await store.createTopic(name, { partitions: topic.partitions.length, config });
    } catch (error) {
      if (miniKafkaErrorCode(error) !== "TOPIC_ALREADY_EXISTS") throw error;
    }
    this.#topicIds.set(topic.name, topic.topicId);
  }

  /**
   * A topic is gone (deleted in the cluster, or this replica is of an earlier topic of its name): this broker
   * stops leading and following its partitions (in-flight produces are answered `NOT_LEADER_OR_FOLLOWER`, the
   * fetchers stop before the log goes), forgets it, and deletes its local replica.
   */
  async #dropTopic(topic: string, reason: string): Promise<void> {
    for (const [key, leader] of this.#leaders) {
      if (leader.topic !== topic) continue;
      leader.resign(reason);
      this.#leaders.delete(key);
      this.#resigned(topic, leader.partition);
    }
    const prefix = partitionKey(topic, 0).slice(0, -1);
    for (const key of [...this.#fetchers.keys()]) if (key.startsWith(prefix)) await this.#stopFetcher(key);
    for (const key of [...this.#hwSent.keys()]) if (key.startsWith(prefix)) this.#hwSent.delete(key);
    this.#topics.delete(topic);
    const { store, name } = this.#local(topic);
    try {
      await store.deleteTopic(name);
    } catch (error) {
      if (miniKafkaErrorCode(error) !== "UNKNOWN_TOPIC_OR_PARTITION") throw error;
    }
    this.#topicIds.delete(topic);
    this.#log?.log("info", "cluster.topic.dropped", `dropped the local replica of ${topic}: ${reason}`, { topic });
  }

  /** Takes up the role the partition's state gives this broker: leader, follower, or none. */
  async #applyRole(topic: TopicMetadata, partition: number): Promise<void> {
    const p = topic.partitions[partition]!;
    const key = partitionKey(topic.name, partition);
    const { leader, leaderEpoch, isr } = p.state;
    const current = this.#leaders.get(key);
    if (leader === this.nodeId) {
      if (current !== undefined && current.leaderEpoch === leaderEpoch) {
        current.isrChanged(isr);
        return;
      }
      if (current !== undefined) {
        current.resign(`epoch ${leaderEpoch} began`);
        this.#resigned(topic.name, partition);
      }
      await this.#stopFetcher(key);
      const local = this.#local(topic.name);
      const describe = local.store.describePartition(local.name, partition);
      const logEnd = await local.store.durableEndOffset(local.name, partition);
      this.#leaders.set(
        key,
        new PartitionLeader(
          {
            topic: topic.name,
            partition,
            nodeId: this.nodeId,
            leaderEpoch,
            replicas: p.replicas,
            isr,
            highWatermark: describe.highWatermark,
            logEndOffset: logEnd,
            minInsyncReplicas: Number(topic.config.minInsyncReplicas ?? 1),
            replicaLagTimeMs: this.#lagMs,
            ackTimeoutMs: this.#ackTimeoutMs,
          },
          {
            setHighWatermark: (offset) => local.store.setHighWatermark(local.name, partition, offset),
            proposeIsr: (next) => this.#proposeIsr(topic.name, partition, leaderEpoch, next),
            leaseValid: () => (this.#metadata?.leaseValidUntil() ?? 0) - this.#leaseMarginMs > Date.now(),
            now: () => Date.now(),
            onError: (error) => this.#logger.error(`minikafka broker: leader of ${topic.name}/${partition}`, error),
          },
        ),
      );
      if (isInternalTopic(topic.name)) for (const listener of this.#internalRoles) listener(topic.name, partition, true);
      this.#log?.log("info", "cluster.leader", `leading ${topic.name}/${partition} in epoch ${leaderEpoch}`, {
        topic: topic.name,
        partition,
        leaderEpoch,
        isr: isr.join(","),
      });
      return;
    }
    if (current !== undefined) {
      current.resign(leader < 0 ? "the partition is offline" : `node ${leader} leads it in epoch ${leaderEpoch}`);
      this.#leaders.delete(key);
      this.#resigned(topic.name, partition);
    }
    const fetcher = this.#fetchers.get(key);
    if (leader >= 0 && p.replicas.includes(this.nodeId)) {
      if (fetcher !== undefined && fetcher.leaderId === leader && fetcher.leaderEpoch === leaderEpoch) return;
      await this.#stopFetcher(key);
      this.#fetchers.set(
        key,
        new ReplicaFetcher({
          topic: topic.name,
          topicId: topic.topicId,
          partition,
          nodeId: this.nodeId,
          leaderId: leader,
          leaderEpoch,
          leaderUrl: () => this.#brokers.get(leader),
          store: this.#local(topic.name).store,
          localTopic: this.#local(topic.name).name,
          waitMs: this.#fetchWaitMs,
          onError: (error) => this.#log?.log("debug", "cluster.fetch.error", `fetch of ${topic.name}/${partition}: ${String(error)}`),
        }),
      );
      return;
    }
    await this.#stopFetcher(key);
  }

  #resigned(topic: string, partition: number): void {
    if (isInternalTopic(topic)) for (const listener of this.#internalRoles) listener(topic, partition, false);
  }

  async #stopFetcher(key: string): Promise<void> {
    const fetcher = this.#fetchers.get(key);
    if (fetcher === undefined) return;
    this.#fetchers.delete(key);
    await fetcher.stop();
  }

  async #proposeIsr(topic: string, partition: number, leaderEpoch: number, isr: readonly number[]): Promise<boolean> {
    const p = this.#topics.get(topic)?.partitions[partition];
    if (p === undefined || p.state.leader !== this.nodeId || p.state.leaderEpoch !== leaderEpoch) return false;
    const next = { leader: this.nodeId, leaderEpoch, isr: [...isr] };
    const revision = await this.#meta.updatePartitionState(topic, partition, p.revision, next);
    if (revision === undefined) return false;
    if (BigInt(revision) > BigInt(p.revision)) {
      p.state = next;
      p.revision = revision;
    }
    this.#log?.log("info", "cluster.isr.changed", `${topic}/${partition}: in-sync replicas now ${isr.join(", ")}`, {
      topic,
      partition,
      isr: isr.join(","),
    });
    return true;
  }

  /** Lost the lease: lead nothing, follow nothing, and register again under a new lease. */
  async #rejoin(reason: string): Promise<void> {
    this.#log?.log("warn", "cluster.rejoin", `leaving every role and registering again: ${reason}`, { reason });
    for (const [key, leader] of this.#leaders) {
      leader.resign(reason);
      this.#leaders.delete(key);
      this.#resigned(leader.topic, leader.partition);
    }
    for (const key of [...this.#fetchers.keys()]) await this.#stopFetcher(key);
    await this.#controller?.stop().catch(() => undefined);
    await this.#stopWatching?.().catch(() => undefined);
    const old = this.#metadata;
    this.#metadata = undefined;
    await old?.close().catch(() => undefined);
    this.#topics.clear();
    // #join queues its reload: it runs after this task, not inside it (the queue would wait for itself).
    void this.#rejoinLoop();
  }

  async #rejoinLoop(): Promise<void> {
    for (let backoff = 200; !this.#closed; backoff = Math.min(5_000, backoff * 2)) {
      try {
        await this.#join();
        this.#log?.log("info", "cluster.rejoined", `registered again as node ${this.nodeId}`);
        return;
      } catch (error) {
        this.#logger.error("minikafka broker: cannot rejoin the cluster", error);
        await new Promise((resolve) => setTimeout(resolve, backoff));
      }
    }
  }

  /** The cluster metadata for `GET /v1/metadata`. */
  describeCluster(): ClusterMetadataResult {
    return {
      clusterId: this.clusterId,
      nodeId: this.nodeId,
      controller: this.#controllerId ?? null,
      brokers: [...this.#brokers].sort(([a], [b]) => a - b).map(([nodeId, url]) => ({ nodeId, url })),
      topics: [...this.#topics.values()]
        .filter((t) => !isInternalTopic(t.name))
        .sort((a, b) => (a.name < b.name ? -1 : 1))
        .map((t) => ({
          name: t.name,
          replicationFactor: t.replicationFactor,
          minInsyncReplicas: Number(t.config.minInsyncReplicas ?? 1),
          partitions: t.partitions.map((p) => ({ partition: p.partition, replicas: [...p.replicas], ...p.state, isr: [...p.state.isr] })),
        })),
    };
  }

  /**
   * Calls `listener` when this broker starts (`leading` true) and stops leading a partition of an internal
   * topic, in order, from the metadata task (it must not block).
   */
  onInternalRole(listener: (topic: string, partition: number, leading: boolean) => void): void {
    this.#internalRoles.add(listener);
  }

  /**
   * Appends records to a partition of an internal topic this broker leads, answered once its ISR has them.
   * @throws BrokerError `NOT_LEADER_OR_FOLLOWER`, `NOT_ENOUGH_REPLICAS`, `NOT_ENOUGH_REPLICAS_AFTER_APPEND`
   */
  async appendInternal(topic: string, partition: number, records: ReadonlyArray<{ key: string; value: string | null }>): Promise<void> {
    const leader = this.leaderOf(topic, partition);
    leader.checkProduce();
    const { store, name } = this.#local(topic);
    const result = await store.append(name, partition, records, { leaderEpoch: leader.leaderEpoch });
    await leader.committed(result.lastOffset + 1);
  }

  /**
   * Resolves once the high watermark of a partition this broker leads covers the log it had when it became
   * leader (so that what it reads below the high watermark is everything committed before).
   */
  async committedUpToLeadershipStart(topic: string, partition: number): Promise<void> {
    const leader = this.leaderOf(topic, partition);
    while (leader.highWatermark < leader.epochStartOffset && !leader.signal.aborted) {
      await leader.highWatermarkAbove(leader.highWatermark, leader.signal);
    }
    if (leader.signal.aborted) {
      throw new BrokerError("NOT_LEADER_OR_FOLLOWER", `this broker stopped leading ${topic}/${partition} before it had loaded it`);
    }
  }

  /** The broker that coordinates `groupId` (the leader of its offsets partition), if it has one. */
  coordinatorOf(groupId: string): { nodeId: number; url: string } | undefined {
    const p = this.#topics.get(OFFSETS_TOPIC)?.partitions[offsetsPartitionOf(groupId)];
    if (p === undefined || p.state.leader < 0) return undefined;
    const url = this.#brokers.get(p.state.leader);
    return url === undefined ? undefined : { nodeId: p.state.leader, url };
  }

  /**
   * Creates the offsets topic if the cluster has none yet (its replication factor: 3, or the live brokers
   * if fewer). Concurrent creations by several brokers are fine.
   */
  ensureOffsetsTopic(): Promise<void> {
    if (this.#topics.has(OFFSETS_TOPIC) || this.#metadata === undefined) return Promise.resolve();
    this.#creatingOffsets ??= this.createTopic(OFFSETS_TOPIC, {
      partitions: OFFSETS_PARTITIONS,
      replicationFactor: Math.min(3, Math.max(1, this.#brokers.size)),
    })
      .catch((error: unknown) => {
        if (miniKafkaErrorCode(error) !== "TOPIC_ALREADY_EXISTS") this.#logger.error("minikafka broker: cannot create the offsets topic", error);
      })
      .finally(() => (this.#creatingOffsets = undefined));
    return this.#creatingOffsets;
  }

  /** The cluster's view of a topic, if it has one. */
  topic(name: string): TopicMetadata | undefined {
    return this.#topics.get(name);
  }

  /**
   * For a request naming a topic this broker has not seen (yet): asks etcd, and when the cluster has the
   * topic, takes it up as its watch event would (local replica, roles) before answering. A topic created a
   * moment ago through another broker is then served at once instead of being answered 404 because this
   * broker's watch has not delivered it yet. Concurrent look-ups of one topic share one etcd read; a topic
   * etcd does not have costs one read per request (and is answered `false`, as when etcd cannot be reached).
   * @returns true when this broker knows the topic now
   */
  lookUpTopic(name: string): Promise<boolean> {
    if (this.#topics.has(name)) return Promise.resolve(true);
    if (this.#metadata === undefined || this.#closed) return Promise.resolve(false);
    let pending = this.#lookUps.get(name);
    if (pending === undefined) {
      pending = this.#lookUp(name).finally(() => this.#lookUps.delete(name));
      this.#lookUps.set(name, pending);
    }
    return pending;
  }

  async #lookUp(name: string): Promise<boolean> {
    try {
      // Outside the metadata queue first: a topic etcd does not have never waits for role changes.
      if ((await this.#meta.topic(name)) === undefined) return false;
      // Read again inside the queue: a deletion seen meanwhile must not be undone by the earlier read (its
      // event is queued after this task if it comes later).
      await this.#enqueue(async () => {
        if (this.#topics.has(name)) return;
        const topic = await this.#meta.topic(name);
        if (topic !== undefined) await this.#topicSeen(topic);
      });
    } catch (error) {
      this.#log?.log("debug", "cluster.lookup.error", `cannot look up topic ${name}: ${String(error)}`, { topic: name });
    }
    return this.#topics.has(name);
  }

  /**
   * Holds back the watch's events (they are applied, in order, when the returned function is called), as a
   * watch lagging behind etcd would. For tests of what a broker does before it has seen a change.
   * @internal
   */
  delayWatch(): () => void {
    this.#delayedEvents ??= [];
    return () => {
      const events = this.#delayedEvents ?? [];
      this.#delayedEvents = undefined;
      for (const event of events) this.#enqueue(() => this.#onEvent(event)).catch(() => undefined);
    };
  }

  /**
   * The leader state of a partition this broker leads.
   * @throws BrokerError `NOT_LEADER_OR_FOLLOWER` naming the leader when another broker leads it
   */
  leaderOf(topic: string, partition: number): PartitionLeader {
    const leader = this.#leaders.get(partitionKey(topic, partition));
    if (leader !== undefined) return leader;
    const state = this.#topics.get(topic)?.partitions[partition]?.state;
    const who =
      state === undefined
        ? "this broker has not seen it in the cluster metadata yet"
        : state.leader < 0
          ? "it is offline (no in-sync replica is alive)"
          : `node ${state.leader}${this.#brokers.has(state.leader) ? ` (${this.#brokers.get(state.leader)})` : ""} leads it`;
    throw new BrokerError("NOT_LEADER_OR_FOLLOWER", `this broker (node ${this.nodeId}) does not lead ${topic}/${partition}: ${who}`);
  }

  /**
   * Checks that this broker holds a replica of the partition (reads are served by any replica, below its
   * high watermark).
   * @throws BrokerError `NOT_LEADER_OR_FOLLOWER` otherwise
   */
  checkReplica(topic: string, partition: number): void {
    const p = this.#topics.get(topic)?.partitions[partition];
    if (p !== undefined && !p.replicas.includes(this.nodeId)) {
      throw new BrokerError(
        "NOT_LEADER_OR_FOLLOWER",
        `this broker (node ${this.nodeId}) holds no replica of ${topic}/${partition} (replicas ${p.replicas.join(", ")})`,
      );
    }
  }

  /**
   * Creates a topic in the cluster (replicas assigned over the live brokers) and its local replica here.
   * @throws ClusterError `TOPIC_ALREADY_EXISTS`, `INVALID_REPLICATION_FACTOR`, `CLUSTER_UNAVAILABLE`
   */
  async createTopic(name: string, options: ReplicatedTopicOptions): Promise<void> {
    const rf = options.replicationFactor ?? 1;
    const minIsr = options.minInsyncReplicas ?? 1;
    if (minIsr > rf) {
      throw new BrokerError("INVALID_REPLICATION_FACTOR", `minInsyncReplicas (${minIsr}) must not exceed the replication factor (${rf})`);
    }
    const config: Record<string, number> = { minInsyncReplicas: minIsr };
    for (const key of LOG_CONFIG_KEYS) {
      const value = options.config?.[key];
      if (typeof value === "number") config[key] = value;
    }
    const topic = await this.#meta.createTopic(name, { partitions: options.partitions, replicationFactor: rf, config });
    await this.#enqueue(() => this.#topicSeen(topic));
  }

  /**
   * Deletes a topic from the cluster: a compare-and-swap in etcd removes its key and partition states if it is
   * still the topic this broker read (not one created again meanwhile); every broker then drops its replica
   * as its watch tells it (this one before answering).
   * @throws BrokerError `UNKNOWN_TOPIC_OR_PARTITION` when the cluster has no such topic (or it was deleted
   *   meanwhile); ClusterError `CLUSTER_UNAVAILABLE`
   */
  async deleteTopic(name: string): Promise<void> {
    const topic = isInternalTopic(name) ? undefined : await this.#meta.topic(name);
    if (topic === undefined) throw new BrokerError("UNKNOWN_TOPIC_OR_PARTITION", `topic ${name} does not exist in the cluster`);
    const revision = await this.#meta.deleteTopic(name, topic.topicId);
    if (revision === undefined) throw new BrokerError("UNKNOWN_TOPIC_OR_PARTITION", `topic ${name} was deleted meanwhile`);
    await this.#enqueue(async () => {
      const id = this.#topics.get(name)?.topicId ?? this.#topicIds.get(name);
      if (id !== undefined && BigInt(id) < BigInt(revision)) await this.#dropTopic(name, `topic ${name} was deleted`);
    });
  }

  /**
   * Grows a topic in the cluster to `count` partitions (see `ClusterMetadata.addPartitions`) and takes up
   * this broker's roles of the new ones before answering; the others as their watch tells them.
   * @throws BrokerError `UNKNOWN_TOPIC_OR_PARTITION`, `INVALID_REQUEST` (an internal topic); ClusterError
   *   `INVALID_PARTITIONS`, `INVALID_REPLICATION_FACTOR`, `UNKNOWN_TOPIC_OR_PARTITION` (changed meanwhile),
   *   `CLUSTER_UNAVAILABLE`
   */
  async addPartitions(name: string, count: number): Promise<void> {
    if (isInternalTopic(name)) throw new BrokerError("INVALID_REQUEST", `the cluster's internal topic ${name} cannot grow`);
    const grown = await this.#meta.addPartitions(name, count);
    await this.#enqueue(async () => {
      // Read again in the queue: a deletion (or another growth) seen meanwhile wins over this answer.
      const topic = await this.#meta.topic(name);
      if (topic !== undefined && topic.topicId === grown.topicId) await this.#topicSeen(topic);
    });
  }

  /** A fresh idempotent-producer id, unique in the cluster (from blocks reserved in etcd). */
  async allocateProducerId(): Promise<number> {
    if (this.#producerIds.next >= this.#producerIds.end) {
      const first = await this.#meta.allocateProducerIds(PRODUCER_ID_BLOCK);
      if (this.#producerIds.next >= this.#producerIds.end) this.#producerIds = { next: first, end: first + PRODUCER_ID_BLOCK };
    }
    return this.#producerIds.next++;
  }

  /**
   * Serves a follower's fetch: records its log end, then answers the batches from `offset` on, holding the
   * request up to `waitMs` while there are none and the high watermark has not moved.
   * @throws BrokerError `NOT_LEADER_OR_FOLLOWER` (not the leader in that epoch), `INVALID_REQUEST`
   */
  async serveFetch(
    topic: string,
    partition: number,
    q: {
      offset: number;
      leaderEpoch: number;
      replicaId: number;
      maxBytes?: number | undefined;
      waitMs?: number | undefined;
      topicId?: string | undefined;
    },
    signal: AbortSignal,
  ): Promise<ReplicaFetchAnswer> {
    const leader = this.#leaderInEpoch(topic, partition, q.leaderEpoch, q.topicId);
    const { store, name } = this.#local(topic);
    const logEnd = await store.replicaEndOffset(name, partition);
    const { logStartOffset } = store.describePartition(name, partition);
    if (q.offset < logStartOffset || q.offset > logEnd) return { kind: "out-of-range", logStartOffset, logEndOffset: logEnd };
    leader.followerFetched(q.replicaId, q.offset);
    const sentKey = `${partitionKey(topic, partition)}\u0000${q.replicaId}`;
    let read = await store.readBatches(name, partition, q.offset, { maxBytes: q.maxBytes });
    const waitMs = Math.min(q.waitMs ?? 0, 30_000);
    if (read.batches.length === 0 && waitMs > 0 && !signal.aborted) {
      const stop = new AbortController();
      const onAbort = () => stop.abort();
      signal.addEventListener("abort", onAbort, { once: true });
      leader.signal.addEventListener("abort", onAbort, { once: true });
      try {
        await Promise.race([
          store.waitForData(name, partition, q.offset, { timeoutMs: waitMs, replica: true, signal: stop.signal }).catch(() => false),
          leader.highWatermarkAbove(this.#hwSent.get(sentKey) ?? -1, stop.signal),
        ]);
      } finally {
        stop.abort();
        signal.removeEventListener("abort", onAbort);
        leader.signal.removeEventListener("abort", onAbort);
      }
      if (!signal.aborted && !leader.signal.aborted) read = await store.readBatches(name, partition, q.offset, { maxBytes: q.maxBytes });
    }
    const highWatermark = leader.highWatermark;
    this.#hwSent.set(sentKey, highWatermark);
    return { kind: "batches", bytes: read.bytes, highWatermark, logStartOffset: read.logStartOffset };
  }

  /**
   * Where this leader's history of `leaderEpoch` ends (OffsetForLeaderEpoch), for a follower of
   * `currentLeaderEpoch`.
   * @throws BrokerError `NOT_LEADER_OR_FOLLOWER`
   */
  async epochEnd(topic: string, partition: number, leaderEpoch: number, currentLeaderEpoch: number, topicId?: string): Promise<EpochEndResult> {
    this.#leaderInEpoch(topic, partition, currentLeaderEpoch, topicId);
    const { store, name } = this.#local(topic);
    return store.endOffsetForEpoch(name, partition, leaderEpoch);
  }

  #leaderInEpoch(topic: string, partition: number, epoch: number, topicId: string | undefined): PartitionLeader {
    const leader = this.leaderOf(topic, partition);
    const ours = this.#topics.get(topic)?.topicId;
    if (topicId !== undefined && ours !== topicId) {
      // Epochs start at 0 again in a topic created again under the same name: the id tells them apart.
      throw new BrokerError(
        "NOT_LEADER_OR_FOLLOWER",
        `this broker leads topic ${topic} of id ${ours}, not ${topicId} (deleted and created again?): refresh the metadata`,
      );
    }
    if (leader.leaderEpoch !== epoch) {
      throw new BrokerError(
        "NOT_LEADER_OR_FOLLOWER",
        `this broker leads ${topic}/${partition} in epoch ${leader.leaderEpoch}, not ${epoch}: refresh the metadata`,
      );
    }
    return leader;
  }

  /** Leaves the cluster: resigns every leadership, stops the fetchers and the controller, revokes the lease. */
  async close(): Promise<void> {
    if (this.#closed) return;
    await this.#enqueue(async () => {
      for (const leader of this.#leaders.values()) {
        leader.resign("the broker is shutting down");
        this.#resigned(leader.topic, leader.partition);
      }
      this.#leaders.clear();
      for (const key of [...this.#fetchers.keys()]) await this.#stopFetcher(key);
    });
    this.#closed = true;
    await this.#queue;
    await this.#controller?.stop().catch(() => undefined);
    await this.#stopWatching?.().catch(() => undefined);
    await this.#metadata?.close();
  }
}
