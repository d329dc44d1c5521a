import type { Assignment, Assignor } from "./assignors/types.js";
import { uniformStickyAssignor } from "./assignors/uniform-sticky.js";
import type { Clock } from "./clock.js";
import {
  ConsumerGroup,
  type GroupContext,
  type GroupDescription,
  type GroupListing,
  type HeartbeatResult,
  type JoinResult,
} from "./consumer-group.js";
import { CoordinatorError } from "./errors.js";
import type { MemberDescription } from "./member.js";
import type { OffsetStore, TopicPartitionOffset } from "./offset-store.js";
import { checkGroupId, checkMemberEpoch, checkMemberId, checkName, checkOwnedPartitions, checkTopics, isPartition } from "./validate.js";

/** Default session timeout: 45 s (Kafka's `group.consumer.session.timeout.ms`). */
export const DEFAULT_SESSION_TIMEOUT_MS = 45_000;
/** Default heartbeat interval: 5 s (Kafka's `group.consumer.heartbeat.interval.ms`). */
export const DEFAULT_HEARTBEAT_INTERVAL_MS = 5_000;

/** How to build a {@link GroupCoordinator}. */
export interface GroupCoordinatorOptions {
  /** Source of time (ms). Use `systemClock` in production, a `ManualClock` in tests. */
  readonly clock: Clock;
  /** Where committed offsets go (log-store's `LogStore`, or an `InMemoryOffsetStore`). */
  readonly offsetStore: OffsetStore;
  /**
   * The number of partitions of `topic`, or undefined if it does not exist. Read when a member subscribes
   * to the topic, by {@link GroupCoordinator.onTopicChanged}, and to validate offset commits.
   */
  readonly partitionCount: (topic: string) => number | undefined;
  /** A member silent for longer than this (ms) is evicted by {@link GroupCoordinator.tick}. Default 45 000. */
  readonly sessionTimeoutMs?: number;
  /** Interval (ms) members are told to heartbeat at; must be below the session timeout. Default 5 000. */
  readonly heartbeatIntervalMs?: number;
  /** Computes target assignments. Default {@link uniformStickyAssignor}. */
  readonly assignor?: Assignor;
  /** Generates member ids (unique within a group). Default `crypto.randomUUID()`. */
  readonly generateMemberId?: () => string;
}

/** How a member joins: what it subscribes to, and optionally a static instance id. */
export interface JoinOptions {
  /** Topics to consume (at least one). Topics that do not exist yet are allowed: they yield nothing until they appear. */
  readonly topics: ReadonlyArray<string>;
  /**
   * Static membership: a stable id for this consumer process (e.g. the host name). A join with the
   * instance id of a current member replaces that member (same partitions, no rebalance); the old member
   * id is fenced with `FENCED_INSTANCE_ID`. Two live processes must never share an instance id.
   */
  readonly instanceId?: string | undefined;
}

/** A heartbeat's content. */
export interface HeartbeatOptions {
  /** The epoch from the member's last response. */
  readonly memberEpoch: number;
  /**
   * The partitions the member is processing right now (all of them, including those it was asked to give
   * up and has not finished with). A partition is released by a heartbeat that no longer lists it, so a
   * member sends one heartbeat at a time, each with its current set.
   */
  readonly ownedPartitions: Assignment;
}

/** An offset commit. */
export interface CommitOffsetsOptions {
  /** The committing member. */
  readonly memberId: string;
  /** The member's current epoch. */
  readonly memberEpoch: number;
  /** For each partition, the next offset to read (Kafka's rule): non-negative safe integers. */
  readonly offsets: ReadonlyArray<TopicPartitionOffset>;
}

/** A member evicted by {@link GroupCoordinator.tick}. */
export interface ExpiredMember {
  readonly groupId: string;
  readonly memberId: string;
  readonly instanceId: string | undefined;
}

/**
 * Consumer-group coordination, KIP-848 style: the coordinator computes each group's target assignment,
 * members converge to it through heartbeats, and a partition moves to a new member only after its previous
 * owner has released it (a heartbeat no longer listing it) or is gone (left, expired, fenced, replaced).
 *
 * Pure logic: no timers, no I/O of its own. Time comes from the injected clock; call {@link tick}
 * periodically (e.g. every second) to evict silent members. Committed offsets go to the injected store.
 * Group state lives in memory: after a restart members get `GROUP_ID_NOT_FOUND` and rejoin; committed
 * offsets survive in the store. Not thread-safe across workers; one coordinator per broker.
 */
export class GroupCoordinator {
  /** The session timeout in force (ms). */
  readonly sessionTimeoutMs: number;
  /** The heartbeat interval handed to members (ms). */
  readonly heartbeatIntervalMs: number;
  readonly #clock: Clock;
  readonly #store: OffsetStore;
  readonly #partitionCount: (topic: string) => number | undefined;
  readonly #generateMemberId: () => string;
  readonly #groups = new Map<string, ConsumerGroup>();
  readonly #topicCounts = new Map<string, number>();
  readonly #context: GroupContext;
  readonly #inflight = new Set<Promise<unknown>>();
  #closed = false;

  /**
   * @throws CoordinatorError `INVALID_CONFIG` if a dependency is missing or a duration is not a positive
   *   integer, or if `heartbeatIntervalMs` is not below `sessionTimeoutMs`.
   */
  constructor(options: GroupCoordinatorOptions) {
    const o = (options ?? {}) as Partial<GroupCoordinatorOptions>;
    const config = (why: string): never => {
      throw new CoordinatorError("INVALID_CONFIG", why);
    };
    if (typeof o.clock?.now !== "function") config("clock must have a now() method");
    if (typeof o.offsetStore?.commitOffsets !== "function" || typeof o.offsetStore.committedOffsets !== "function") {
      config("offsetStore must have commitOffsets() and committedOffsets() methods");
    }
    if (typeof o.partitionCount !== "function") config("partitionCount must be a function");
    if (o.assignor !== undefined && typeof o.assignor !== "function") config("assignor must be a function");
    if (o.generateMemberId !== undefined && typeof o.generateMemberId !== "function") {
      config("generateMemberId must be a function");
    }
    const duration = (name: string, value: number | undefined, fallback: number): number => {
      const v = value ?? fallback;
      if (!Number.isSafeInteger(v) || v <= 0) config(`${name} must be a positive integer (ms), got ${String(v)}`);
      return v;
    };
    this.sessionTimeoutMs = duration("sessionTimeoutMs", o.sessionTimeoutMs, DEFAULT_SESSION_TIMEOUT_MS);
    this.heartbeatIntervalMs = duration("heartbeatIntervalMs", o.heartbeatIntervalMs, DEFAULT_HEARTBEAT_INTERVAL_MS);
    if (this.heartbeatIntervalMs >= this.sessionTimeoutMs) {
      config(`heartbeatIntervalMs ${this.heartbeatIntervalMs} must be below sessionTimeoutMs ${this.sessionTimeoutMs}`);
    }
    this.#clock = o.clock!;
    this.#store = o.offsetStore!;
    this.#partitionCount = o.partitionCount!;
    this.#generateMemberId = o.generateMemberId ?? randomMemberId;
    const assignor = o.assignor ?? uniformStickyAssignor;
    this.#context = {
      assignor,
      heartbeatIntervalMs: this.heartbeatIntervalMs,
      topicCount: (topic) => this.#topicCounts.get(topic),
    };
  }

  /**
   * Adds a member to `groupId` (created on first join) and returns its id, epoch and first assignment
   * (the free partitions of its target; the rest follow in heartbeat responses as their owners release them).
   * A join with the `instanceId` of a current member replaces that member, keeping its partitions.
   *
   * @throws CoordinatorError `INVALID_GROUP_ID`; `INVALID_REQUEST` (no topics, bad names);
   *   `UNKNOWN_SERVER_ERROR` (the assignor failed: the join is undone); `COORDINATOR_NOT_AVAILABLE` (closed).
   */
  join(groupId: string, options: JoinOptions): JoinResult {
    this.#open();
    checkGroupId(groupId);
    const topics = checkTopics(options?.topics);
    const instanceId = options.instanceId === undefined ? undefined : checkName("instance id", options.instanceId);
    for (const topic of topics) this.#refreshTopic(topic);
    let group = this.#groups.get(groupId);
    if (group === undefined) {
      group = new ConsumerGroup(groupId, this.#context);
      this.#groups.set(groupId, group);
    }
    return group.join(this.#newMemberId(group), topics, instanceId, this.#clock.now());
  }

  /**
   * Records that the member is alive, acknowledges the revocations it completed (partitions it no longer
   * lists in `ownedPartitions`) and returns its current assignment and epoch.
   *
   * @throws CoordinatorError `GROUP_ID_NOT_FOUND` / `UNKNOWN_MEMBER_ID` (rejoin); `FENCED_INSTANCE_ID`
   *   (replaced by a newer member with the same instance id: stop); `FENCED_MEMBER_EPOCH` (the epoch is
   *   neither current nor the previous one with a consistent owned set: the member is removed and must
   *   drop its partitions and rejoin); `INVALID_GROUP_ID`, `INVALID_REQUEST`; `UNKNOWN_SERVER_ERROR`
   *   (assignor failure); `COORDINATOR_NOT_AVAILABLE`.
   */
  heartbeat(groupId: string, memberId: string, options: HeartbeatOptions): HeartbeatResult {
    this.#open();
    const group = this.#group(groupId);
    checkMemberId(memberId);
    const memberEpoch = checkMemberEpoch(options?.memberEpoch);
    const owned = checkOwnedPartitions(options.ownedPartitions);
    return group.heartbeat(memberId, memberEpoch, owned, this.#clock.now());
  }

  /**
   * Removes the member at once: its partitions become assignable immediately (the member must have stopped
   * processing them). For a static member this gives up its reservation too; a static member that means
   * to come back should simply stop heartbeating instead.
   *
   * @throws CoordinatorError `GROUP_ID_NOT_FOUND`, `UNKNOWN_MEMBER_ID`, `FENCED_INSTANCE_ID`,
   *   `INVALID_GROUP_ID`, `INVALID_REQUEST`, `COORDINATOR_NOT_AVAILABLE`.
   */
  leave(groupId: string, memberId: string): void {
    this.#open();
    const group = this.#group(groupId);
    group.leave(checkMemberId(memberId));
  }

  /**
   * Commits offsets for partitions the member owns (assigned, or being revoked and not yet released).
   * Everything is validated synchronously at call time; nothing is stored if anything is invalid, and the
   * store applies the commit atomically. Errors are reported as a rejected promise.
   *
   * @throws CoordinatorError `INVALID_REQUEST` (malformed, duplicate partitions, offsets that are not
   *   non-negative safe integers); `UNKNOWN_TOPIC_OR_PARTITION`; `GROUP_ID_NOT_FOUND`; `UNKNOWN_MEMBER_ID`;
   *   `FENCED_INSTANCE_ID`; `STALE_MEMBER_EPOCH` (older epoch: heartbeat, then retry); `FENCED_MEMBER_EPOCH`
   *   (epoch ahead of the member's); `UNASSIGNED_PARTITION`; `INVALID_GROUP_ID`; `COORDINATOR_NOT_AVAILABLE`.
   *   Errors of the offset store propagate as they are.
   */
  async commitOffsets(groupId: string, options: CommitOffsetsOptions): Promise<void> {
    this.#open();
    const group = this.#group(groupId);
    const memberId = checkMemberId(options?.memberId);
    const memberEpoch = checkMemberEpoch(options.memberEpoch);
    const offsets = this.#checkOffsets(options.offsets);
    group.checkCommit(memberId, memberEpoch, offsets);
    const pending = this.#store.commitOffsets(groupId, offsets);
    this.#inflight.add(pending);
    try {
      await pending;
    } finally {
      this.#inflight.delete(pending);
    }
  }

  /**
   * The group's committed offsets (next offset to read per partition), sorted by topic then partition,
   * optionally only for `topics`. Works for any valid group id, including groups this coordinator has not
   * seen since a restart.
   *
   * @throws CoordinatorError `INVALID_GROUP_ID`, `INVALID_REQUEST`, `COORDINATOR_NOT_AVAILABLE`. Errors of
   *   the offset store propagate as they are.
   */
  async fetchOffsets(groupId: string, topics?: ReadonlyArray<string>): Promise<TopicPartitionOffset[]> {
    this.#open();
    checkGroupId(groupId);
    const only = topics === undefined ? undefined : new Set(topics.length === 0 ? [] : checkTopics(topics));
    const committed = await this.#store.committedOffsets(groupId);
    return committed
      .filter((o) => only === undefined || only.has(o.topic))
      .map(({ topic, partition, offset }) => ({ topic, partition, offset }))
      .sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition));
  }

  /**
   * A snapshot of the group: epochs, state, and every member's assignment, revocations in progress,
   * pending partitions and target. O(partitions). A pure read: it never runs the assignor, so right after a
   * change (state `assigning`) targets are those of `assignmentEpoch`.
   *
   * @throws CoordinatorError `GROUP_ID_NOT_FOUND`, `INVALID_GROUP_ID`, `COORDINATOR_NOT_AVAILABLE`.
   */
  describeGroup(groupId: string): GroupDescription {
    this.#open();
    return this.#group(groupId).describe();
  }

  /**
   * A snapshot of one member (cheaper than {@link describeGroup}): e.g. which partitions a broker may serve it.
   *
   * @throws CoordinatorError `GROUP_ID_NOT_FOUND`, `UNKNOWN_MEMBER_ID`, `FENCED_INSTANCE_ID`,
   *   `INVALID_GROUP_ID`, `INVALID_REQUEST`, `COORDINATOR_NOT_AVAILABLE`.
   */
  describeMember(groupId: string, memberId: string): MemberDescription {
    this.#open();
    return this.#group(groupId).describeMember(checkMemberId(memberId));
  }

  /**
   * Every group known since start (empty ones included), sorted by id.
   * @throws CoordinatorError `COORDINATOR_NOT_AVAILABLE`.
   */
  listGroups(): GroupListing[] {
    this.#open();
    return [...this.#groups.keys()].sort().map((id) => this.#groups.get(id)!.listing());
  }

  /**
   * Evicts every member whose last join or heartbeat is more than `sessionTimeoutMs` before `clock.now()`;
   * their partitions become assignable. Returns the evicted members. Call it periodically.
   * @throws CoordinatorError `COORDINATOR_NOT_AVAILABLE`.
   */
  tick(): ExpiredMember[] {
    this.#open();
    const now = this.#clock.now();
    const expired: ExpiredMember[] = [];
    for (const group of this.#groups.values()) {
      for (const m of group.expire(now, this.sessionTimeoutMs)) {
        expired.push({ groupId: group.groupId, memberId: m.memberId, instanceId: m.instanceId });
      }
    }
    return expired;
  }

  /**
   * Tells the coordinator that `topic` was created, grew, or was deleted: it re-reads `partitionCount(topic)`.
   * New partitions are assigned; partitions that no longer exist are dropped from every assignment at once
   * (no revocation handshake: nobody can read them). Committed offsets are left to the store.
   *
   * @throws CoordinatorError `INVALID_REQUEST` (bad name); `UNKNOWN_SERVER_ERROR` (`partitionCount`
   *   misbehaved); `COORDINATOR_NOT_AVAILABLE`.
   */
  onTopicChanged(topic: string): void {
    this.#open();
    this.#refreshTopic(checkName("topic", topic));
  }

  /**
   * Closes the coordinator: later calls throw `COORDINATOR_NOT_AVAILABLE`; resolves once commits already
   * handed to the offset store have settled (so the store can be closed next). Idempotent.
   */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.allSettled([...this.#inflight]);
  }

  /** Same as {@link close}, for `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #open(): void {
    if (this.#closed) throw new CoordinatorError("COORDINATOR_NOT_AVAILABLE", "group coordinator is closed");
  }

  #group(groupId: string): ConsumerGroup {
    checkGroupId(groupId);
    const group = this.#groups.get(groupId);
    if (group === undefined) throw new CoordinatorError("GROUP_ID_NOT_FOUND", `group ${groupId} does not exist`);
    return group;
  }

  #newMemberId(group: ConsumerGroup): string {
    for (let attempt = 0; attempt < 3; attempt++) {
      const id: unknown = this.#generateMemberId();
      if (typeof id === "string" && id.length > 0 && !group.knowsMemberId(id)) return id;
    }
    throw new CoordinatorError("UNKNOWN_SERVER_ERROR", `member id generator gave no fresh id for group ${group.groupId}`);
  }

  /** Re-reads a topic's partition count and applies a change to every group subscribed to it. */
  #refreshTopic(topic: string): void {
    const count = this.#readPartitionCount(topic);
    if (count === this.#topicCounts.get(topic)) return;
    if (count === undefined) this.#topicCounts.delete(topic);
    else this.#topicCounts.set(topic, count);
    for (const group of this.#groups.values()) if (group.isSubscribed(topic)) group.topicChanged(topic, count);
  }

  #readPartitionCount(topic: string): number | undefined {
    let count: unknown;
    try {
      count = this.#partitionCount(topic);
    } catch (e) {
      throw new CoordinatorError("UNKNOWN_SERVER_ERROR", `partitionCount failed for topic ${topic}`, { cause: e });
    }
    if (count === undefined) return undefined;
    if (typeof count !== "number" || !Number.isSafeInteger(count) || count < 0) {
      throw new CoordinatorError("UNKNOWN_SERVER_ERROR", `partitionCount returned ${String(count)} for topic ${topic}`);
    }
    return count;
  }

  #checkOffsets(offsets: unknown): TopicPartitionOffset[] {
    if (!Array.isArray(offsets)) throw new CoordinatorError("INVALID_REQUEST", "offsets must be an array");
    const seen = new Set<string>();
    const out: TopicPartitionOffset[] = [];
    for (const entry of offsets as unknown[]) {
      const { topic, partition, offset } = (entry ?? {}) as { topic?: unknown; partition?: unknown; offset?: unknown };
      checkName("topic", topic);
      const t = topic as string;
      if (!isPartition(partition)) {
        throw new CoordinatorError("INVALID_REQUEST", `partition ${String(partition)} of topic ${t} is not a partition number`);
      }
      if (typeof offset !== "number" || !Number.isSafeInteger(offset) || offset < 0) {
        throw new CoordinatorError("INVALID_REQUEST", `offset ${String(offset)} for ${t}-${partition} is not a non-negative safe integer`);
      }
      const key = `${partition}:${t}`;
      if (seen.has(key)) throw new CoordinatorError("INVALID_REQUEST", `partition ${t}-${partition} appears twice in one commit`);
      seen.add(key);
      const count = this.#readPartitionCount(t);
      if (count === undefined) throw new CoordinatorError("UNKNOWN_TOPIC_OR_PARTITION", `topic ${t} does not exist`);
      if (partition >= count) {
        throw new CoordinatorError("UNKNOWN_TOPIC_OR_PARTITION", `partition ${t}-${partition} does not exist (${count} partitions)`);
      }
      out.push({ topic: t, partition, offset });
    }
    return out;
  }
}

let fallbackCounter = 0;

/** A random UUID where `crypto.randomUUID` exists (Node 20, Deno, Bun, secure browser contexts), else a unique-enough id. */
function randomMemberId(): string {
  const c = (globalThis as { crypto?: { randomUUID?: () => string } }).crypto;
  if (typeof c?.randomUUID === "function") return c.randomUUID();
  fallbackCounter++;
  return `member-${Date.now().toString(36)}-${fallbackCounter.toString(36)}-${Math.random().toString(36).slice(2)}`;
}
