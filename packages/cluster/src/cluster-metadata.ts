import { Etcd3, type IKeyValue, type Lease, type Watcher } from "etcd3";
import { assignReplicas } from "./assignment.js";
import { ClusterError } from "./errors.js";
import type { BrokerInfo, PartitionState, TopicMetadata } from "./types.js";

/** Options for {@link ClusterMetadata.open}. */
export interface ClusterMetadataOptions {
  /** etcd client URLs, e.g. `["http://127.0.0.1:2379"]`. */
  etcd: readonly string[];
  /** This broker's node id: a positive integer, unique in the cluster. */
  nodeId: number;
  /** Where clients and other brokers reach this broker. */
  advertisedUrl: string;
  /** Names the cluster: keys live under `/minikafka/<cluster>/` (default `"default"`). */
  cluster?: string | undefined;
  /**
   * TTL of this broker's etcd lease, in seconds (default 6). The controller takes a broker's leadership away
   * once its lease expires; the broker itself stops acknowledging at {@link ClusterMetadata.leaseValidUntil}.
   */
  leaseTtlSeconds?: number | undefined;
}

/** What {@link ClusterMetadata.watch} reports. Payloads are re-read with the getters. */
export type ClusterEvent =
  | { type: "broker-up" | "broker-down"; nodeId: number }
  | { type: "controller"; nodeId: number | undefined }
  | { type: "topic-created"; topic: string }
  /** The topic's key was rewritten: it has more partitions ({@link ClusterMetadata.addPartitions}). */
  | { type: "topic-changed"; topic: string }
  /** `revision`: the etcd revision of the deletion (a topic whose `topicId` is below it is gone). */
  | { type: "topic-deleted"; topic: string; revision: string }
  | { type: "partition-state"; topic: string; partition: number; state: PartitionState; revision: string };

const DEFAULT_TTL_SECONDS = 6;
const CLUSTER_NAME = /^[a-zA-Z0-9._-]{1,64}$/;
/** Partitions whose states one creation transaction writes (etcd's default limit is 128 operations). */
const MAX_TXN_OPS = 120;

interface ControllerRecord {
  nodeId: number;
}

const unavailable = (error: unknown, what: string) =>
  new ClusterError("CLUSTER_UNAVAILABLE", `${what}: ${(error as Error).message}`, { cause: error });

/**
 * A broker's view of the cluster metadata in etcd, under `/minikafka/<cluster>/`:
 *
 * ```
 * brokers/<nodeId>      {nodeId, advertisedUrl}        bound to the broker's lease: gone when it dies
 * controller            {nodeId}                       bound to the controller's lease (see Controller)
 * topics/<topic>        {name, replicationFactor, config, replicas: [[node ids]]}
 * state/<topic>/<p>     {leader, leaderEpoch, isr}     changed only by compare-and-swap on its revision
 * producer-ids          next free idempotent-producer id   advanced by compare-and-swap (allocateProducerIds)
 * ```
 *
 * Opening registers the broker (a lease kept alive in the background); `close()` revokes the lease, so the
 * broker leaves at once, whereas a crash leaves it registered until the lease TTL runs out.
 */
export class ClusterMetadata {
  /** This broker's node id. */
  readonly nodeId: number;
  /** This broker's advertised URL. */
  readonly advertisedUrl: string;
  /** The lease TTL in ms. */
  readonly leaseTtlMs: number;
  readonly #client: Etcd3;
  readonly #lease: Lease;
  readonly #prefix: string;
  #leaseId = "";
  /** When the last keepalive that succeeded was sent: the lease is valid for a TTL after that. */
  #lastKeepaliveSent = 0;
  #keepaliveFired = 0;
  #leaseLost = false;
  #closed = false;
  readonly #watchers = new Set<Watcher>();
  readonly #lostListeners = new Set<() => void>();

  private constructor(options: ClusterMetadataOptions, client: Etcd3) {
    this.nodeId = options.nodeId;
    this.advertisedUrl = options.advertisedUrl;
    this.leaseTtlMs = (options.leaseTtlSeconds ?? DEFAULT_TTL_SECONDS) * 1000;
    this.#client = client;
    this.#prefix = `/minikafka/${options.cluster ?? "default"}/`;
    this.#lease = client.lease(options.leaseTtlSeconds ?? DEFAULT_TTL_SECONDS, { autoKeepAlive: true });
    this.#lease.on("keepaliveFired", () => (this.#keepaliveFired = Date.now()));
    this.#lease.on("keepaliveSucceeded", () => (this.#lastKeepaliveSent = this.#keepaliveFired));
    this.#lease.on("lost", () => {
      this.#leaseLost = true;
      for (const listener of this.#lostListeners) listener();
    });
  }

  /**
   * Connects to etcd and registers this broker under its lease.
   * @throws ClusterError `INVALID_CONFIG` for bad options; `CLUSTER_UNAVAILABLE` if etcd cannot be reached, or
   *   when another live broker holds the same node id.
   */
  static async open(options: ClusterMetadataOptions): Promise<ClusterMetadata> {
    const { etcd, nodeId, advertisedUrl, cluster = "default", leaseTtlSeconds = DEFAULT_TTL_SECONDS } = options;
    const config = (message: string) => new ClusterError("INVALID_CONFIG", message);
    if (!Array.isArray(etcd) || etcd.length === 0 || !etcd.every((e) => typeof e === "string" && /^https?:\/\/./.test(e))) {
      throw config(`cluster.etcd must be a non-empty list of http(s) URLs, got ${JSON.stringify(etcd)}`);
    }
    if (!Number.isSafeInteger(nodeId) || nodeId < 1 || nodeId > 2 ** 31 - 1)
      throw config(`cluster.nodeId must be a positive 32-bit integer, got ${nodeId}`);
    if (typeof advertisedUrl !== "string" || !/^https?:\/\/[^/]+/.test(advertisedUrl)) {
      throw config(`cluster.advertisedUrl must be an http(s) URL, got ${JSON.stringify(advertisedUrl)}`);
    }
    if (typeof cluster !== "string" || !CLUSTER_NAME.test(cluster))
      throw config(`cluster name must match ${CLUSTER_NAME}, got ${JSON.stringify(cluster)}`);
    if (!Number.isSafeInteger(leaseTtlSeconds) || leaseTtlSeconds < 1 || leaseTtlSeconds > 3600) {
      throw config(`cluster.leaseTtlSeconds must be an integer from 1 to 3600, got ${leaseTtlSeconds}`);
    }
    const client = new Etcd3({ hosts: [...etcd], dialTimeout: 3000 });
    const metadata = new ClusterMetadata(options, client);
    try {
      await metadata.#register();
    } catch (error) {
      await metadata.close().catch(() => undefined);
      throw error;
    }
    return metadata;
  }

  async #register(): Promise<void> {
    const sent = Date.now();
    try {
      this.#leaseId = await this.#lease.grant();
    } catch (error) {
      throw unavailable(error, `cannot reach etcd to register broker ${this.nodeId}`);
    }
    this.#lastKeepaliveSent = sent;
    const key = this.#key(`brokers/${this.nodeId}`);
    const info: BrokerInfo = { nodeId: this.nodeId, advertisedUrl: this.advertisedUrl };
    const txn = await this.#client
      .if(key, "Create", "==", 0)
      .then(this.#client.put(key).value(JSON.stringify(info)).lease(this.#leaseId))
      .commit()
      .catch((error: unknown) => {
        throw unavailable(error, `cannot register broker ${this.nodeId}`);
      });
    if (!txn.succeeded) {
      throw new ClusterError(
        "CLUSTER_UNAVAILABLE",
        `node id ${this.nodeId} is already registered by a live broker (another broker with the same cluster.nodeId?)`,
      );
    }
  }

  /** etcd key of `path` in this cluster. */
  #key(path: string): string {
    return this.#prefix + path;
  }

  /** The etcd lease this broker's keys are bound to (the controller key uses it too). */
  get leaseId(): string {
    return this.#leaseId;
  }

  /**
   * Until when (ms since the epoch) this broker's lease is certainly still valid: the send time of the last
   * keepalive etcd answered, plus the TTL. A leader must stop acknowledging before this: after it, the
   * controller may already have elected another leader.
   */
  leaseValidUntil(): number {
    return this.#leaseLost || this.#closed ? 0 : this.#lastKeepaliveSent + this.leaseTtlMs;
  }

  /** Calls `listener` once etcd says this broker's lease is gone (expired or revoked by someone else). */
  onLeaseLost(listener: () => void): () => void {
    this.#lostListeners.add(listener);
    return () => this.#lostListeners.delete(listener);
  }

  /** The brokers with a live lease, by node id. */
  async liveBrokers(): Promise<BrokerInfo[]> {
    const values = await this.#client
      .getAll()
      .prefix(this.#key("brokers/"))
      .strings()
      .catch((error: unknown) => {
        throw unavailable(error, "cannot list brokers");
      });
    return Object.values(values)
      .map((v) => JSON.parse(v) as BrokerInfo)
      .sort((a, b) => a.nodeId - b.nodeId);
  }

  /** The current controller's node id, if there is one. */
  async controller(): Promise<number | undefined> {
    const value = await this.#client
      .get(this.#key("controller"))
      .string()
      .catch((error: unknown) => {
        throw unavailable(error, "cannot read the controller");
      });
    return value === null ? undefined : (JSON.parse(value) as ControllerRecord).nodeId;
  }

  /**
   * Tries to become the controller: writes the controller key under this broker's lease if nobody holds it.
   * @returns the key's creation revision when this broker is (now) the controller, else `undefined`.
   * @internal used by {@link Controller}.
   */
  async claimController(): Promise<string | undefined> {
    const key = this.#key("controller");
    const record: ControllerRecord = { nodeId: this.nodeId };
    const txn = await this.#client
      .if(key, "Create", "==", 0)
      .then(this.#client.put(key).value(JSON.stringify(record)).lease(this.#leaseId))
      .else(this.#client.get(key))
      .commit();
    if (txn.succeeded) return txn.header.revision;
    const kv = txn.responses[0]?.response_range?.kvs[0];
    if (kv && (JSON.parse(kv.value.toString()) as ControllerRecord).nodeId === this.nodeId && kv.lease === this.#leaseId) return kv.create_revision;
    return undefined;
  }

  /**
   * Creates a topic: assigns replicas over the live brokers and writes the topic and the initial state of each
   * partition (leader: the first replica, epoch 0, ISR: all replicas) in one transaction, only if the topic
   * does not exist. Topics of more than ~100 partitions are written in several transactions, the topic key last
   * (a topic is visible only once complete).
   * @throws ClusterError `TOPIC_ALREADY_EXISTS`, `INVALID_PARTITIONS`, `INVALID_REPLICATION_FACTOR`, `CLUSTER_UNAVAILABLE`.
   */
  async createTopic(
    name: string,
    options: { partitions: number; replicationFactor?: number | undefined; config?: Record<string, number> | undefined },
  ): Promise<TopicMetadata> {
    const live = (await this.liveBrokers()).map((b) => b.nodeId);
    const replicationFactor = options.replicationFactor ?? 1;
    const replicas = assignReplicas(options.partitions, replicationFactor, live, hashName(name));
    const topicKey = this.#key(`topics/${name}`);
    const topic = { name, replicationFactor, config: options.config ?? {}, replicas };
    const states = replicas.map((r): PartitionState => ({ leader: r[0]!, leaderEpoch: 0, isr: [...r] }));
    const stateOps = states.map((s, p) => this.#client.put(this.#key(`state/${name}/${p}`)).value(JSON.stringify(s)));
    try {
      // States beyond one transaction first (harmless leftovers if the topic key then fails), then the rest with the topic key.
      const head = stateOps.length > MAX_TXN_OPS ? stateOps.length - MAX_TXN_OPS : 0;
      for (let from = 0; from < head; from += MAX_TXN_OPS) {
        const chunk = stateOps.slice(from, Math.min(head, from + MAX_TXN_OPS));
        const txn = await this.#client
          .if(topicKey, "Create", "==", 0)
          .then(...chunk)
          .commit();
        if (!txn.succeeded) throw new ClusterError("TOPIC_ALREADY_EXISTS", `topic ${name} already exists`);
      }
      const txn = await this.#client
        .if(topicKey, "Create", "==", 0)
        .then(this.#client.put(topicKey).value(JSON.stringify(topic)), ...stateOps.slice(head))
        .commit();
      if (!txn.succeeded) throw new ClusterError("TOPIC_ALREADY_EXISTS", `topic ${name} already exists`);
    } catch (error) {
      if (error instanceof ClusterError) throw error;
      throw unavailable(error, `cannot create topic ${name}`);
    }
    return (await this.topic(name))!;
  }

  /** A topic with the current state of each partition, or `undefined` if it does not exist. */
  async topic(name: string): Promise<TopicMetadata | undefined> {
    try {
      const topicKv = (await this.#client.get(this.#key(`topics/${name}`)).exec()).kvs[0];
      if (topicKv === undefined) return undefined;
      const stored = JSON.parse(topicKv.value.toString()) as Omit<TopicMetadata, "partitions" | "topicId"> & { replicas: number[][] };
      const range = await this.#client
        .getAll()
        .prefix(this.#key(`state/${name}/`))
        .exec();
      const states = new Map<number, IKeyValue>();
      for (const kv of range.kvs) states.set(Number(kv.key.toString().slice(this.#key(`state/${name}/`).length)), kv);
      return {
        name: stored.name,
        topicId: topicKv.create_revision,
        replicationFactor: stored.replicationFactor,
        config: stored.config,
        partitions: stored.replicas.map((replicas, partition) => {
          const kv = states.get(partition);
          const state: PartitionState = kv ? (JSON.parse(kv.value.toString()) as PartitionState) : { leader: -1, leaderEpoch: 0, isr: [] };
          return { partition, replicas, state, revision: kv?.mod_revision ?? "0" };
        }),
      };
    } catch (error) {
      throw unavailable(error, `cannot read topic ${name}`);
    }
  }

  /**
   * Deletes a topic — its key and every partition's state, in one transaction — if it is still the topic
   * `topicId` names (compare-and-swap on the key's creation revision: a topic re-created meanwhile under the
   * same name is left alone). Later compare-and-swaps on its partition states (the controller's, a
   * leader's ISR change) fail, so nothing writes them back. Brokers see a `topic-deleted` event.
   * @returns the etcd revision of the deletion, or `undefined` when no topic `topicId` exists any more.
   * @throws ClusterError `CLUSTER_UNAVAILABLE`.
   */
  async deleteTopic(name: string, topicId: string): Promise<string | undefined> {
    const topicKey = this.#key(`topics/${name}`);
    try {
      const txn = await this.#client
        .if(topicKey, "Create", "==", topicId)
        .then(this.#client.delete().key(topicKey), this.#client.delete().prefix(this.#key(`state/${name}/`)))
        .commit();
      return txn.succeeded ? txn.header.revision : undefined;
    } catch (error) {
      throw unavailable(error, `cannot delete topic ${name}`);
    }
  }

  /**
   * Grows a topic to `count` partitions: the new ones are placed as {@link assignReplicas} would have placed
   * them at creation, over the brokers live now, each led by its first replica at epoch 0 with all its
   * replicas in sync. The topic key is rewritten by compare-and-swap on its modification revision (a
   * concurrent growth or deletion makes this one fail), states of new partitions first (harmless leftovers:
   * a state beyond the topic's partition list is never read). Brokers see a `topic-changed` event.
   * @throws ClusterError `UNKNOWN_TOPIC_OR_PARTITION` (no such topic, or it changed meanwhile: read it again),
   *   `INVALID_PARTITIONS` (not more than now), `INVALID_REPLICATION_FACTOR` (fewer live brokers than its
   *   replication factor), `CLUSTER_UNAVAILABLE`.
   */
  async addPartitions(name: string, count: number): Promise<TopicMetadata> {
    const topicKey = this.#key(`topics/${name}`);
    let kv: IKeyValue | undefined;
    try {
      kv = (await this.#client.get(topicKey).exec()).kvs[0];
    } catch (error) {
      throw unavailable(error, `cannot read topic ${name}`);
    }
    if (kv === undefined) throw new ClusterError("UNKNOWN_TOPIC_OR_PARTITION", `topic ${name} does not exist`);
    const stored = JSON.parse(kv.value.toString()) as { replicationFactor: number; replicas: number[][] };
    const current = stored.replicas.length;
    if (!Number.isSafeInteger(count) || count <= current) {
      throw new ClusterError("INVALID_PARTITIONS", `topic ${name} has ${current} partitions; it can only grow, got ${count}`);
    }
    const live = (await this.liveBrokers()).map((b) => b.nodeId);
    const added = assignReplicas(count, stored.replicationFactor, live, hashName(name)).slice(current);
    const stateOps = added.map((r, i) =>
      this.#client
        .put(this.#key(`state/${name}/${current + i}`))
        .value(JSON.stringify({ leader: r[0]!, leaderEpoch: 0, isr: [...r] } satisfies PartitionState)),
    );
    const next = { ...stored, replicas: [...stored.replicas, ...added] };
    try {
      const head = stateOps.length > MAX_TXN_OPS ? stateOps.length - MAX_TXN_OPS : 0;
      for (let from = 0; from < head; from += MAX_TXN_OPS) {
        const txn = await this.#client
          .if(topicKey, "Mod", "==", kv.mod_revision)
          .then(...stateOps.slice(from, Math.min(head, from + MAX_TXN_OPS)))
          .commit();
        if (!txn.succeeded) throw new ClusterError("UNKNOWN_TOPIC_OR_PARTITION", `topic ${name} changed meanwhile: try again`);
      }
      const txn = await this.#client
        .if(topicKey, "Mod", "==", kv.mod_revision)
        .then(this.#client.put(topicKey).value(JSON.stringify(next)), ...stateOps.slice(head))
        .commit();
      if (!txn.succeeded) throw new ClusterError("UNKNOWN_TOPIC_OR_PARTITION", `topic ${name} changed meanwhile: try again`);
    } catch (error) {
      if (error instanceof ClusterError) throw error;
      throw unavailable(error, `cannot grow topic ${name}`);
    }
    const grown = await this.topic(name);
    if (grown === undefined) throw new ClusterError("UNKNOWN_TOPIC_OR_PARTITION", `topic ${name} was deleted meanwhile`);
    return grown;
  }

  /** The names of every topic, sorted. */
  async topicNames(): Promise<string[]> {
    const prefix = this.#key("topics/");
    const keys = await this.#client
      .getAll()
      .prefix(prefix)
      .keys()
      .catch((error: unknown) => {
        throw unavailable(error, "cannot list topics");
      });
    return keys.map((k) => k.slice(prefix.length)).sort();
  }

  /**
   * Replaces a partition's state if it is still at `revision` (compare-and-swap) and, with `fence`, only while
   * that etcd key still has that creation revision (the controller fences its writes with its own key).
   * @returns the new revision, or `undefined` when the state (or the fence) changed meanwhile: re-read and decide again.
   * @throws ClusterError `CLUSTER_UNAVAILABLE`.
   * Used by the {@link Controller} for leader changes and by partition leaders for ISR changes.
   */
  async updatePartitionState(
    topic: string,
    partition: number,
    revision: string,
    next: PartitionState,
    fence?: { key: "controller"; createRevision: string },
  ): Promise<string | undefined> {
    const key = this.#key(`state/${topic}/${partition}`);
    let txn = this.#client.if(key, "Mod", "==", revision);
    if (fence) txn = txn.and(this.#key(fence.key), "Create", "==", fence.createRevision);
    try {
      const result = await txn.then(this.#client.put(key).value(JSON.stringify(next))).commit();
      return result.succeeded ? result.header.revision : undefined;
    } catch (error) {
      throw unavailable(error, `cannot update ${topic}/${partition}`);
    }
  }

  /**
   * Reserves `count` idempotent-producer ids no other broker of the cluster ever gets (Kafka's producer id
   * blocks): a counter in etcd, `producer-ids`, advanced by compare-and-swap. Ids of a block a broker did
   * not use are never handed out again.
   * @returns the first id of the block: the ids are `[first, first + count)`.
   * @throws ClusterError `INVALID_CONFIG` for a bad count, `CLUSTER_UNAVAILABLE`.
   */
  async allocateProducerIds(count: number): Promise<number> {
    if (!Number.isSafeInteger(count) || count < 1 || count > 1_000_000)
      throw new ClusterError("INVALID_CONFIG", `a producer id block must hold 1 to 1000000 ids, got ${count}`);
    const key = this.#key("producer-ids");
    try {
      for (;;) {
        const kv = (await this.#client.get(key).exec()).kvs[0];
        const next = kv === undefined ? 0 : Number(kv.value.toString());
        const end = next + count;
        if (!Number.isSafeInteger(end)) throw new ClusterError("CLUSTER_UNAVAILABLE", "producer ids are exhausted");
        const guard = kv === undefined ? this.#client.if(key, "Create", "==", 0) : this.#client.if(key, "Mod", "==", kv.mod_revision);
        const txn = await guard.then(this.#client.put(key).value(String(end))).commit();
        if (txn.succeeded) return next;
        // Another broker took a block meanwhile: read again.
      }
    } catch (error) {
      if (error instanceof ClusterError) throw error;
      throw unavailable(error, "cannot reserve producer ids");
    }
  }

  /**
   * Watches the cluster: brokers coming and going, the controller, topics and partition states. Resolves once
   * the watch is established (events after that are reported).
   * @returns a function that stops watching.
   */
  async watch(listener: (event: ClusterEvent) => void): Promise<() => Promise<void>> {
    const watcher = await this.#client
      .watch()
      .prefix(this.#prefix)
      .create()
      .catch((error: unknown) => {
        throw unavailable(error, "cannot watch the cluster");
      });
    this.#watchers.add(watcher);
    const path = (kv: IKeyValue) => kv.key.toString().slice(this.#prefix.length).split("/");
    watcher.on("put", (kv) => {
      const [kind, a, b] = path(kv);
      if (kind === "brokers" && kv.version === "1") listener({ type: "broker-up", nodeId: Number(a) });
      else if (kind === "controller") listener({ type: "controller", nodeId: (JSON.parse(kv.value.toString()) as ControllerRecord).nodeId });
      else if (kind === "topics") listener({ type: kv.version === "1" ? "topic-created" : "topic-changed", topic: a! });
      else if (kind === "state") {
        listener({
          type: "partition-state",
          topic: a!,
          partition: Number(b),
          state: JSON.parse(kv.value.toString()) as PartitionState,
          revision: kv.mod_revision,
        });
      }
    });
    watcher.on("delete", (kv) => {
      const [kind, a] = path(kv);
      if (kind === "brokers") listener({ type: "broker-down", nodeId: Number(a) });
      else if (kind === "controller") listener({ type: "controller", nodeId: undefined });
      else if (kind === "topics") listener({ type: "topic-deleted", topic: a!, revision: kv.mod_revision });
    });
    return async () => {
      this.#watchers.delete(watcher);
      await watcher.cancel();
    };
  }

  /**
   * Leaves the cluster: stops watching and revokes the lease (this broker's registration, and the controller
   * key if it holds it, disappear at once). Idempotent.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.allSettled([...this.#watchers].map((w) => w.cancel()));
    if (this.#leaseId !== "" && !this.#leaseLost) await this.#lease.revoke().catch(() => undefined);
    this.#client.close();
  }

  /**
   * Stops keeping the lease alive and disconnects without revoking it, as a crash would: the registration
   * stays until the TTL runs out. For tests of failover.
   * @internal
   */
  crash(): void {
    this.#closed = true;
    this.#lease.release();
    for (const w of this.#watchers) void w.cancel().catch(() => undefined);
    this.#client.close();
  }
}

/** A stable start index for a topic's assignment, so that topics do not all lead on the same broker. */
function hashName(name: string): number {
  let h = 0;
  for (let i = 0; i < name.length; i++) h = (Math.imul(h, 31) + name.charCodeAt(i)) | 0;
  return Math.abs(h);
}
