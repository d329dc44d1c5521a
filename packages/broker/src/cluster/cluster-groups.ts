// Consumer groups in cluster mode (Kafka's group coordinator placement): the internal topic
// `__consumer_offsets` has OFFSETS_PARTITIONS replicated partitions; a group belongs to partition
// `javaHash(groupId) mod OFFSETS_PARTITIONS`, and its coordinator is that partition's leader. Every commit
// (and group deletion) is a record of that partition, acknowledged once its ISR has it; a broker that
// becomes the partition's leader rebuilds the groups' offsets from the committed records, then serves them
// with a GroupCoordinator of its own that hands no partition out for a session timeout (members of the
// previous coordinator may still be processing: the broker's restart rule, applied to a coordinator move).
import {
  GroupCoordinator,
  type Clock,
  type GroupCoordinatorOptions,
  type GroupListing,
  type OffsetStore,
  type TopicPartitionOffset,
} from "@minikafka/group-coordinator";
import type { LogStore } from "@minikafka/log-store";
import { BrokerError } from "../errors.js";
import type { GroupCoordinatorApi } from "../core/group-service.js";
import type { ClusterNode } from "./cluster-node.js";
import { OFFSETS_TOPIC, offsetsPartitionOf } from "./group-offsets-topic.js";

/** One record of `__consumer_offsets`: key = group id, value = JSON `{ offsets }`, or null (group deleted). */
interface OffsetsRecord {
  offsets: TopicPartitionOffset[];
}

/** The committed offsets of the groups of one offsets partition, kept in memory and written to it. */
class PartitionOffsets implements OffsetStore {
  readonly #groups = new Map<string, Map<string, TopicPartitionOffset>>();
  readonly #append: (groupId: string, value: string | null) => Promise<void>;
  readonly #partitionCount: (topic: string) => number | undefined;

  constructor(append: (groupId: string, value: string | null) => Promise<void>, partitionCount: (topic: string) => number | undefined) {
    this.#append = append;
    this.#partitionCount = partitionCount;
  }

  /** Applies one committed record (at load). */
  apply(groupId: string, value: string | null): void {
    if (value === null) {
      this.#groups.delete(groupId);
      return;
    }
    const { offsets } = JSON.parse(value) as OffsetsRecord;
    let group = this.#groups.get(groupId);
    if (group === undefined) this.#groups.set(groupId, (group = new Map()));
    for (const o of offsets) group.set(`${o.topic}\u0000${o.partition}`, { topic: o.topic, partition: o.partition, offset: o.offset });
  }

  async commitOffsets(groupId: string, offsets: ReadonlyArray<TopicPartitionOffset>): Promise<void> {
    const checked: TopicPartitionOffset[] = [];
    for (const { topic, partition, offset } of offsets) {
      const count = this.#partitionCount(topic);
      if (count === undefined || !Number.isSafeInteger(partition) || partition < 0 || partition >= count) {
        throw new BrokerError("UNKNOWN_TOPIC_OR_PARTITION", `cannot commit an offset for ${topic}/${partition}: no such partition`);
      }
      if (!Number.isSafeInteger(offset) || offset < 0)
        throw new BrokerError("OFFSET_OUT_OF_RANGE", `offset ${offset} of ${topic}/${partition} must be a non-negative integer`);
      checked.push({ topic, partition, offset });
    }
    // Durable on the ISR before it is applied (and answered): a new coordinator finds it.
    await this.#append(groupId, JSON.stringify({ offsets: checked } satisfies OffsetsRecord));
    this.apply(groupId, JSON.stringify({ offsets: checked }));
  }

  async committedOffsets(groupId: string): Promise<TopicPartitionOffset[]> {
    return [...(this.#groups.get(groupId)?.values() ?? [])].map((o) => ({ ...o }));
  }

  async deleteGroup(groupId: string): Promise<void> {
    if (!this.#groups.has(groupId)) return;
    await this.#append(groupId, null);
    this.#groups.delete(groupId);
  }

  committedGroupIds(): Iterable<string> {
    return [...this.#groups.keys()];
  }
}

/** Settings of the coordinators created per offsets partition. */
export type ClusterGroupsOptions = Omit<GroupCoordinatorOptions, "offsetStore" | "restartHold" | "clock"> & {
  clock: Clock;
  /** Topics whose partitions a new coordinator holds back (every topic now). */
  topics: () => Iterable<string>;
  /** Where a failed load of an offsets partition is reported (the partition serves no group until it leads again). */
  onLoadError: (partition: number, error: unknown) => void;
};

const utf8 = new TextDecoder();

type Slot = { state: "loading" } | { state: "ready"; coordinator: GroupCoordinator };

/**
 * The group coordinator of a cluster member: one {@link GroupCoordinator} per offsets partition this broker
 * leads, each group's calls routed to its partition's. Calls for a group led elsewhere answer
 * `NOT_COORDINATOR` naming its coordinator.
 */
export class ClusterGroups implements GroupCoordinatorApi {
  readonly #node: ClusterNode;
  readonly #internal: LogStore;
  readonly #options: ClusterGroupsOptions;
  readonly #slots = new Map<number, Slot>();
  /** Bumped per leadership, so that a load overtaken by a resignation is dropped. */
  readonly #generation = new Map<number, number>();
  #closed = false;

  constructor(node: ClusterNode, internal: LogStore, options: ClusterGroupsOptions) {
    this.#node = node;
    this.#internal = internal;
    this.#options = options;
    node.onInternalRole((topic, partition, leading) => {
      if (topic !== OFFSETS_TOPIC) return;
      if (leading) this.#lead(partition);
      else this.#resign(partition);
    });
  }

  #lead(partition: number): void {
    const generation = (this.#generation.get(partition) ?? 0) + 1;
    this.#generation.set(partition, generation);
    this.#slots.set(partition, { state: "loading" });
    void this.#load(partition, generation).catch((error: unknown) => {
      this.#options.onLoadError(partition, error);
      if (this.#generation.get(partition) === generation) this.#slots.delete(partition);
    });
  }

  async #load(partition: number, generation: number): Promise<void> {
    const leader = this.#node.leaderOf(OFFSETS_TOPIC, partition);
    // Only committed records count: wait until the high watermark covers what this log held when it took over.
    await this.#node.committedUpToLeadershipStart(OFFSETS_TOPIC, partition);
    const offsets = new PartitionOffsets(
      (groupId, value) => this.#node.appendInternal(OFFSETS_TOPIC, partition, [{ key: groupId, value }]),
      this.#options.partitionCount,
    );
    const name = OFFSETS_TOPIC.slice(2);
    for (let offset = 0; ;) {
      const read = await this.#internal.read(name, partition, offset, { maxRecords: 10_000, maxBytes: 8 * 1024 * 1024 });
      for (const r of read.records) {
        if (r.key !== null) offsets.apply(utf8.decode(r.key), r.value === null ? null : utf8.decode(r.value));
      }
      if (read.records.length === 0 || read.nextOffset >= read.highWatermark) break;
      offset = read.nextOffset;
    }
    if (this.#generation.get(partition) !== generation || this.#closed || leader.signal.aborted) return;
    const { topics, onLoadError: _onLoadError, ...options } = this.#options;
    const coordinator = new GroupCoordinator({
      ...options,
      offsetStore: offsets,
      // Leadership moved here (epoch > 0): the previous coordinator's members may still be processing
      // until their session times out, so nothing is handed out before. The first leader has no predecessor.
      restartHold: leader.leaderEpoch > 0 ? { topics: topics() } : undefined,
    });
    this.#slots.set(partition, { state: "ready", coordinator });
  }

  #resign(partition: number): void {
    this.#generation.set(partition, (this.#generation.get(partition) ?? 0) + 1);
    const slot = this.#slots.get(partition);
    this.#slots.delete(partition);
    if (slot?.state === "ready") void slot.coordinator.close();
  }

  /**
   * The coordinator of `groupId`'s partition.
   * @throws BrokerError `NOT_COORDINATOR` (another broker coordinates it), CoordinatorError
   *   `COORDINATOR_NOT_AVAILABLE` (still loading, or the offsets topic is being created)
   */
  #for(groupId: string): GroupCoordinator {
    if (typeof groupId !== "string") throw new BrokerError("INVALID_GROUP_ID", "group id must be a string");
    const partition = offsetsPartitionOf(groupId);
    const slot = this.#slots.get(partition);
    if (slot?.state === "ready") return slot.coordinator;
    if (slot?.state === "loading") {
      throw new BrokerError(
        "COORDINATOR_NOT_AVAILABLE",
        `this broker is loading the offsets of group ${groupId} (partition ${partition}): try again shortly`,
      );
    }
    const coordinator = this.#node.coordinatorOf(groupId);
    if (coordinator === undefined) {
      void this.#node.ensureOffsetsTopic();
      throw new BrokerError(
        "COORDINATOR_NOT_AVAILABLE",
        `group ${groupId} has no coordinator yet (the offsets topic is being created or is offline): try again shortly`,
      );
    }
    throw new BrokerError(
      "NOT_COORDINATOR",
      `this broker (node ${this.#node.nodeId}) does not coordinate group ${groupId}: node ${coordinator.nodeId} (${coordinator.url}) does`,
    );
  }

  join: GroupCoordinator["join"] = (groupId, options) => this.#for(groupId).join(groupId, options);
  heartbeat: GroupCoordinator["heartbeat"] = (groupId, memberId, options) => this.#for(groupId).heartbeat(groupId, memberId, options);
  leave: GroupCoordinator["leave"] = (groupId, memberId) => this.#for(groupId).leave(groupId, memberId);
  commitOffsets: GroupCoordinator["commitOffsets"] = async (groupId, options) => this.#for(groupId).commitOffsets(groupId, options);
  deleteGroup: GroupCoordinator["deleteGroup"] = async (groupId) => this.#for(groupId).deleteGroup(groupId);
  fetchOffsets: GroupCoordinator["fetchOffsets"] = async (groupId, topics) => this.#for(groupId).fetchOffsets(groupId, topics);
  describeGroup: GroupCoordinator["describeGroup"] = (groupId) => this.#for(groupId).describeGroup(groupId);
  describeMember: GroupCoordinator["describeMember"] = (groupId, memberId) => this.#for(groupId).describeMember(groupId, memberId);

  /** The groups this broker coordinates. */
  listGroups(): GroupListing[] {
    return this.#ready()
      .flatMap((c) => c.listGroups())
      .sort((a, b) => (a.groupId < b.groupId ? -1 : 1));
  }

  tick(): ReturnType<GroupCoordinator["tick"]> {
    return this.#ready().flatMap((c) => c.tick());
  }

  onTopicChanged(topic: string): void {
    for (const c of this.#ready()) c.onTopicChanged(topic);
  }

  async close(): Promise<void> {
    this.#closed = true;
    const all = this.#ready();
    this.#slots.clear();
    await Promise.all(all.map((c) => c.close()));
  }

  #ready(): GroupCoordinator[] {
    const out: GroupCoordinator[] = [];
    for (const slot of this.#slots.values()) if (slot.state === "ready") out.push(slot.coordinator);
    return out;
  }
}
