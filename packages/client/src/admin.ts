import { ClientError, isClientError, type ClientErrorCode } from "./errors.js";
import type { BrokerRouter } from "./broker-router.js";
import { segment, type Requester } from "./http.js";
import { flatten, partitionKey } from "./partition-key.js";
import type { GroupDescription, GroupOverview, TopicConfig, TopicDescription, TopicPartitionOffset } from "./types.js";
import type { WireGroupDescription, WireGroupListing, WireJoinResult } from "./wire.js";

/** One topic to create. */
export interface TopicSpec {
  topic: string;
  /** Number of partitions (default 1). */
  numPartitions?: number | undefined;
  /**
   * Copies of each partition, on distinct brokers (cluster mode; default 1, at most the live brokers). A
   * single-node broker refuses more than 1 with `INVALID_REPLICATION_FACTOR`.
   */
  replicationFactor?: number | undefined;
  /**
   * The fewest in-sync replicas a produce is accepted with (Kafka's `min.insync.replicas`; default 1, at most
   * `replicationFactor`); with fewer, sends fail with the retriable `NOT_ENOUGH_REPLICAS`.
   */
  minInsyncReplicas?: number | undefined;
  /** Overrides of the broker's log settings for this topic. */
  config?: TopicConfig | undefined;
}

/** A group's position in one partition, as {@link Admin.fetchOffsets} reports it. */
export interface PartitionOffsetLag {
  partition: number;
  /** The next offset the group will read, or `null` when it has committed nothing for this partition. */
  offset: number | null;
  highWatermark: number;
  /** Records the group has yet to read: `highWatermark − offset` (from the log start when nothing is committed). */
  lag: number;
}

/**
 * What happened to one group of {@link Admin.deleteGroups}: `errorCode: "NONE"` when it was deleted
 * (KafkaJS's shape), else the code and the error, e.g. `NON_EMPTY_GROUP` while it has members or
 * `GROUP_ID_NOT_FOUND` for a group the broker does not know.
 */
export type DeleteGroupResult =
  { groupId: string; errorCode: "NONE"; error?: undefined } | { groupId: string; errorCode: ClientErrorCode; error: ClientError };

/** The group's offsets in one topic. */
export interface TopicOffsets {
  topic: string;
  partitions: PartitionOffsetLag[];
}

/**
 * Topic and consumer-group administration, shaped after KafkaJS's admin client. Create it with
 * {@link Client.admin}. Every method is one or a few requests; nothing runs in the background.
 */
export class Admin {
  readonly #http: Requester;
  readonly #router: BrokerRouter;

  /** @internal Use {@link Client.admin}. */
  constructor(router: BrokerRouter) {
    this.#http = router.home;
    this.#router = router;
  }

  /**
   * Optional (KafkaJS habit): checks that the broker is up and ready.
   * @throws ClientError when the broker cannot be reached or is not ready.
   */
  async connect(): Promise<void> {
    await this.#http.request("GET", "readyz", { retry: "idempotent" });
  }

  /** Nothing to release (KafkaJS habit). */
  async disconnect(): Promise<void> {}

  /**
   * Creates topics. Resolves `true` when every topic was created, `false` when some already existed
   * (as KafkaJS does); those are left as they are.
   * @throws ClientError `INVALID_TOPIC_NAME`, `INVALID_PARTITIONS`, `INVALID_REQUEST` for a bad config,
   *   `INVALID_REPLICATION_FACTOR` for more replicas than live brokers (or than 1 on a single node).
   */
  async createTopics(options: { topics: readonly TopicSpec[] }): Promise<boolean> {
    const created = await Promise.all(
      options.topics.map(async ({ topic, numPartitions = 1, replicationFactor, minInsyncReplicas, config }) => {
        // Only the fields given: a broker older than cluster mode refuses unknown ones.
        const json: Record<string, unknown> = { name: topic, partitions: numPartitions };
        if (replicationFactor !== undefined) json.replicationFactor = replicationFactor;
        if (minInsyncReplicas !== undefined) json.minInsyncReplicas = minInsyncReplicas;
        if (config !== undefined) json.config = config;
        try {
          await this.#http.request("POST", "v1/topics", {
            json,
            retry: "broker-retriable",
          });
          return true;
        } catch (error) {
          if (isClientError(error, "TOPIC_ALREADY_EXISTS")) return false;
          throw error;
        }
      }),
    );
    return created.every(Boolean);
  }

  /** Names of all topics, sorted. */
  async listTopics(): Promise<string[]> {
    const { topics } = await this.#http.request<{ topics: TopicDescription[] }>("GET", "v1/topics", { retry: "idempotent" });
    return topics.map((t) => t.name).sort();
  }

  /**
   * Describes topics (all of them without `topics`): partitions with `logStartOffset`, `highWatermark`, …
   * @throws ClientError `UNKNOWN_TOPIC_OR_PARTITION` for a named topic that does not exist.
   */
  async describeTopics(options: { topics?: readonly string[] | undefined } = {}): Promise<TopicDescription[]> {
    if (options.topics === undefined) {
      return (await this.#http.request<{ topics: TopicDescription[] }>("GET", "v1/topics", { retry: "idempotent" })).topics;
    }
    return Promise.all(options.topics.map((topic) => this.#describeTopic(topic)));
  }

  /**
   * Grows topics to `count` partitions each (partitions are never removed). Keys hash to new partitions
   * from then on, as in Kafka.
   * @throws ClientError `INVALID_PARTITIONS` when `count` is not larger, `UNKNOWN_TOPIC_OR_PARTITION`.
   */
  async createPartitions(options: { topicPartitions: ReadonlyArray<{ topic: string; count: number }> }): Promise<void> {
    await Promise.all(
      options.topicPartitions.map(({ topic, count }) =>
        this.#http.request("POST", `v1/topics/${segment(topic)}/partitions`, { json: { count }, retry: "broker-retriable" }),
      ),
    );
  }

  /**
   * Deletes topics with their records and committed offsets.
   * @throws ClientError `UNKNOWN_TOPIC_OR_PARTITION` for a topic that does not exist.
   */
  async deleteTopics(options: { topics: readonly string[] }): Promise<void> {
    await Promise.all(options.topics.map((topic) => this.#http.request("DELETE", `v1/topics/${segment(topic)}`, { retry: "broker-retriable" })));
  }

  /**
   * Consumer groups the broker knows since it started, sorted by id. In a cluster, where each broker knows
   * the groups it coordinates, those of every live broker (from metadata read again for the call).
   * @throws ClientError the first failure of a broker's listing (a broker down until its lease expires).
   */
  async listGroups(): Promise<{ groups: GroupOverview[] }> {
    // In a cluster each broker lists the groups it coordinates (as Kafka's ListGroups): ask them all.
    const brokers = await this.#router.brokers();
    const listings = await Promise.all(
      brokers.map((broker) =>
        broker.request<{ groups: WireGroupListing[] }>("GET", "v1/groups", { retry: "idempotent" }).catch((error: unknown) => {
          this.#router.afterFailure(error);
          throw error;
        }),
      ),
    );
    if (listings.length === 1) return { groups: listings[0]!.groups };
    // A group whose coordinator just moved may be listed by both: once, as the first broker lists it.
    const groups = new Map<string, GroupOverview>();
    for (const { groups: listed } of listings) for (const g of listed) if (!groups.has(g.groupId)) groups.set(g.groupId, g);
    return { groups: [...groups.values()].sort((a, b) => (a.groupId < b.groupId ? -1 : a.groupId > b.groupId ? 1 : 0)) };
  }

  /**
   * Describes consumer groups: members, assignments, committed offsets and lag. A group the broker does
   * not know (no members since it started and no committed offsets) is described with state `"dead"`, as
   * in KafkaJS.
   */
  async describeGroups(groupIds: readonly string[]): Promise<{ groups: GroupDescription[] }> {
    const groups = await Promise.all(groupIds.map(async (groupId) => (await this.#describeGroup(groupId)) ?? deadGroup(groupId)));
    return { groups };
  }

  /**
   * Deletes consumer groups with their committed offsets, as KafkaJS's `deleteGroups` and Kafka's
   * `DeleteGroups` do: only a group without members can be deleted. One result per id, in the order given;
   * a group that could not be deleted is reported in its result (`NON_EMPTY_GROUP`, `GROUP_ID_NOT_FOUND`,
   * `INVALID_GROUP_ID`, a network error, …) rather than failing the others, so check every `errorCode`.
   *
   * ```ts
   * const results = await admin.deleteGroups(["billing", "audit"]);
   * for (const r of results) if (r.errorCode !== "NONE") console.error(`${r.groupId}: ${r.error.message}`);
   * ```
   */
  async deleteGroups(groupIds: readonly string[]): Promise<DeleteGroupResult[]> {
    return Promise.all(
      groupIds.map(async (groupId): Promise<DeleteGroupResult> => {
        try {
          await this.#router.group(groupId).request("DELETE", `v1/groups/${segment(groupId)}`, { retry: "broker-retriable" });
          return { groupId, errorCode: "NONE" };
        } catch (error) {
          if (!isClientError(error)) throw error;
          return { groupId, errorCode: error.code, error };
        }
      }),
    );
  }

  /**
   * A group's committed offsets with lag. With `topics`, every partition of those topics is listed
   * (`offset: null` where nothing is committed); without, the partitions the group has committed or is
   * assigned.
   * @throws ClientError `UNKNOWN_TOPIC_OR_PARTITION` for a named topic that does not exist.
   */
  async fetchOffsets(options: { groupId: string; topics?: readonly string[] | undefined }): Promise<TopicOffsets[]> {
    const description = await this.#describeGroup(options.groupId);
    const known = new Map((description?.offsets ?? []).map((o) => [partitionKey(o.topic, o.partition), o]));
    const topicNames = options.topics ?? [...new Set((description?.offsets ?? []).map((o) => o.topic))].sort();
    return Promise.all(
      topicNames.map(async (topic) => {
        const partitions: PartitionOffsetLag[] = [];
        if (options.topics === undefined) {
          for (const o of description!.offsets) {
            if (o.topic === topic) partitions.push({ partition: o.partition, offset: o.committedOffset, highWatermark: o.highWatermark, lag: o.lag });
          }
        } else {
          for (const p of (await this.#describeTopic(topic)).partitions) {
            const o = known.get(partitionKey(topic, p.partition));
            partitions.push(
              o === undefined
                ? { partition: p.partition, offset: null, highWatermark: p.highWatermark, lag: Math.max(0, p.highWatermark - p.logStartOffset) }
                : { partition: p.partition, offset: o.committedOffset, highWatermark: o.highWatermark, lag: o.lag },
            );
          }
        }
        return { topic, partitions };
      }),
    );
  }

  /**
   * Moves a group's committed offsets in every partition of `topic` to the log start (`earliest: true`)
   * or to the end (default). Only for a group without members, as in Kafka and KafkaJS.
   * @throws ClientError `NON_EMPTY_GROUP` when the group has members, `UNKNOWN_TOPIC_OR_PARTITION`.
   */
  async resetOffsets(options: { groupId: string; topic: string; earliest?: boolean | undefined }): Promise<void> {
    const { groupId, topic, earliest = false } = options;
    const description = await this.#describeTopic(topic);
    const offsets = description.partitions.map((p) => ({ topic, partition: p.partition, offset: earliest ? p.logStartOffset : p.highWatermark }));
    await this.#alterOffsets(groupId, topic, offsets);
  }

  /**
   * Sets a group's committed offsets (the next offsets to read) in partitions of `topic`. Only for a group
   * without members, as in Kafka and KafkaJS.
   * @throws ClientError `NON_EMPTY_GROUP` when the group has members, `UNKNOWN_TOPIC_OR_PARTITION`,
   *   `OFFSET_OUT_OF_RANGE`.
   */
  async setOffsets(options: { groupId: string; topic: string; partitions: ReadonlyArray<{ partition: number; offset: number }> }): Promise<void> {
    const { groupId, topic, partitions } = options;
    await this.#describeTopic(topic);
    await this.#alterOffsets(
      groupId,
      topic,
      partitions.map(({ partition, offset }) => ({ topic, partition, offset })),
    );
  }

  async #describeTopic(topic: string): Promise<TopicDescription> {
    return this.#http.request<TopicDescription>("GET", `v1/topics/${segment(topic)}`, { retry: "idempotent" });
  }

  async #describeGroup(groupId: string): Promise<WireGroupDescription | undefined> {
    try {
      return await this.#router.group(groupId).request<WireGroupDescription>("GET", `v1/groups/${segment(groupId)}`, { retry: "idempotent" });
    } catch (error) {
      if (isClientError(error, "GROUP_ID_NOT_FOUND")) return undefined;
      throw error;
    }
  }

  /**
   * The broker accepts commits only from a member that owns the partitions (zombie fencing). An empty
   * group gives its only member every partition at once, so: join as a short-lived member, commit, leave.
   */
  async #alterOffsets(groupId: string, topic: string, offsets: TopicPartitionOffset[]): Promise<void> {
    if (offsets.length === 0) return;
    const group = `v1/groups/${segment(groupId)}`;
    const coordinator = this.#router.group(groupId);
    const nonEmpty = () => new ClientError("NON_EMPTY_GROUP", `group ${groupId} has active members: stop its consumers before changing its offsets`);
    if (((await this.#describeGroup(groupId))?.members.length ?? 0) > 0) throw nonEmpty();
    const joined = await coordinator.request<WireJoinResult>("POST", `${group}/members`, { json: { topics: [topic] }, retry: "broker-retriable" });
    try {
      const owned = new Set(flatten(joined.assignment).map((tp) => partitionKey(tp.topic, tp.partition)));
      if (offsets.some((o) => !owned.has(partitionKey(o.topic, o.partition)))) throw nonEmpty(); // someone joined meanwhile
      await coordinator.request("POST", `${group}/offsets`, {
        json: { memberId: joined.memberId, memberEpoch: joined.memberEpoch, offsets },
        retry: "idempotent",
      });
    } finally {
      await coordinator.request("DELETE", `${group}/members/${segment(joined.memberId)}`, { retry: "idempotent" }).catch(() => {});
    }
  }
}

function deadGroup(groupId: string): GroupDescription {
  return { groupId, state: "dead", groupEpoch: 0, assignmentEpoch: 0, members: [], offsets: [] };
}
