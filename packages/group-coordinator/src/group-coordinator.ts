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
/** Default shortest session timeout a member may ask for (ms), Kafka's `group.min.session.timeout.ms`. */
export const DEFAULT_MIN_SESSION_TIMEOUT_MS = 6_000;
/** Default longest session timeout a member may ask for (ms), Kafka's `group.max.session.timeout.ms`. */
export const DEFAULT_MAX_SESSION_TIMEOUT_MS = 1_800_000;
/** Default retention of an empty group's committed offsets: 7 days (Kafka's `offsets.retention.minutes`). */
export const DEFAULT_OFFSETS_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;

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
  /**
   * Interval (ms) members are told to heartbeat at; must be below the session timeout. Default 5 000. A
   * member with a shorter session timeout of its own is told a third of it instead.
   */
  readonly heartbeatIntervalMs?: number;
  /**
   * The shortest session timeout (ms) a member may ask for in its join (Kafka's
   * `group.min.session.timeout.ms`). Default 6 000, or `sessionTimeoutMs` if that is shorter.
   */
  readonly minSessionTimeoutMs?: number;
  /**
   * The longest session timeout (ms) a member may ask for in its join (Kafka's
   * `group.max.session.timeout.ms`). Default 1 800 000, or `sessionTimeoutMs` if that is longer.
   */
  readonly maxSessionTimeoutMs?: number;
  /** Computes target assignments. Default {@link uniformStickyAssignor}. */
  readonly assignor?: Assignor;
  /** Generates member ids (unique within a group). Default `crypto.randomUUID()`. */
  readonly generateMemberId?: () => string;
  /**
   * How long an empty group and its committed offsets are kept, in ms from when its last member left
   * (Kafka's `offsets.retention.minutes`). Then {@link GroupCoordinator.tick} forgets the group and deletes
   * its offsets from the store. An empty group that never committed is forgotten at once. Default 7 days.
   */
  readonly offsetsRetentionMs?: number;
  /**
   * Restart safety. After a broker restart, members of the previous coordinator may still be processing
   * partitions that this one knows nothing about. No partition of `topics` (pass every topic that existed
   * at start) is handed to anyone until more than `durationMs` (default: `sessionTimeoutMs`) after this
   * coordinator was created. By then each such member has either heartbeated (and been told to rejoin) or
   * gone a session timeout without a successful heartbeat, after which a consumer must have stopped on its
   * own. If the previous coordinator ran with a longer session timeout, pass that as `durationMs`.
   */
  readonly restartHold?: { readonly topics: Iterable<string>; readonly durationMs?: number | undefined } | undefined;
  /**
   * Called when deleting the offsets of a group that retention forgot fails in the store. The group is kept
   * (still empty, still expired) and the delete is tried again at the next {@link GroupCoordinator.tick}.
   */
  readonly onRetentionError?: (groupId: string, error: unknown) => void;
  /**
   * Told of every membership change as it happens (for logs and metrics): joins, leaves, evictions,
   * fencings and each rebalance (group epoch bump). Called synchronously inside the call that caused it;
   * it must not call back into the coordinator. A throwing listener is ignored.
   */
  readonly onEvent?: ((event: GroupEvent) => void) | undefined;
}

/**
 * A membership change, as told to {@link GroupCoordinatorOptions.onEvent}.
 *
 * - `member-joined`: a member joined (`replacedMemberId`: the static member with the same `instanceId` it took over from).
 * - `member-left`: a member left on its own.
 * - `member-expired`: a member was evicted after `sessionTimeoutMs` without a heartbeat.
 * - `member-fenced`: a heartbeat was refused with `FENCED_MEMBER_EPOCH` (the member was removed) or
 *   `FENCED_INSTANCE_ID` (another member took over its static instance id).
 * - `rebalance`: the group's epoch went up (membership, subscriptions or partition counts changed);
 *   `memberCount` is the membership after the change.
 */
export type GroupEvent =
  | {
      readonly type: "member-joined";
      readonly groupId: string;
      readonly memberId: string;
      readonly memberEpoch: number;
      readonly instanceId: string | undefined;
      readonly topics: readonly string[];
      readonly replacedMemberId: string | undefined;
    }
  | { readonly type: "member-left"; readonly groupId: string; readonly memberId: string }
  | { readonly type: "member-expired"; readonly groupId: string; readonly memberId: string; readonly instanceId: string | undefined }
  | {
      readonly type: "member-fenced";
      readonly groupId: string;
      readonly memberId: string;
      readonly code: "FENCED_MEMBER_EPOCH" | "FENCED_INSTANCE_ID";
      readonly memberEpoch: number;
    }
  | { readonly type: "rebalance"; readonly groupId: string; readonly groupEpoch: number; readonly memberCount: number };

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
  /**
   * This member's session timeout (ms): it is evicted after this long without a heartbeat. Default: the
   * coordinator's `sessionTimeoutMs`. Outside `minSessionTimeoutMs`..`maxSessionTimeoutMs` the join fails
   * with `INVALID_SESSION_TIMEOUT`.
   */
  readonly sessionTimeoutMs?: number | undefined;
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
 * periodically (e.g. every second) to evict silent members and forget expired empty groups. Committed
 * offsets go to the injected store. Group state lives in memory: after a restart members get
 * `GROUP_ID_NOT_FOUND` or `UNKNOWN_MEMBER_ID` and rejoin, committed offsets survive in the store, and
 * `restartHold` keeps two processes from owning one partition across the restart. Not thread-safe across
 * workers; one coordinator per broker.
 */
export class GroupCoordinator {
  /** The session timeout in force (ms). */
  readonly sessionTimeoutMs: number;
  /** The heartbeat interval handed to members (ms). */
  readonly heartbeatIntervalMs: number;
  /** The shortest session timeout a member may ask for (ms). */
  readonly minSessionTimeoutMs: number;
  /** The longest session timeout a member may ask for (ms). */
  readonly maxSessionTimeoutMs: number;
  /** How long an empty group's offsets are kept (ms). */
  readonly offsetsRetentionMs: number;
  /**
   * Clock time (ms) the restart hold lasts until: partitions of the held topics are handed out once the
   * clock is past it. Undefined without a hold.
   */
  readonly restartHoldUntilMs: number | undefined;
  /** Topics under the restart hold, until it ends. */
  #held: Set<string> | undefined;
  readonly #onRetentionError: ((groupId: string, error: unknown) => void) | undefined;
  readonly #onEvent: ((event: GroupEvent) => void) | undefined;
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
   * Groups the store lists (`committedGroupIds`) are known from the start, as empty groups whose retention
   * starts now.
   *
   * @throws CoordinatorError `INVALID_CONFIG` if a dependency is missing or a duration is not a positive
   *   integer (the hold's may be 0), or if `heartbeatIntervalMs` is not below `sessionTimeoutMs`;
   *   `UNKNOWN_SERVER_ERROR` if the store's `committedGroupIds` throws.
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
    for (const name of ["deleteGroup", "committedGroupIds"] as const) {
      if (o.offsetStore![name] !== undefined && typeof o.offsetStore![name] !== "function") config(`offsetStore.${name} must be a method`);
    }
    if (o.onRetentionError !== undefined && typeof o.onRetentionError !== "function") config("onRetentionError must be a function");
    if (o.onEvent !== undefined && typeof o.onEvent !== "function") config("onEvent must be a function");
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
    this.minSessionTimeoutMs = duration(
      "minSessionTimeoutMs",
      o.minSessionTimeoutMs,
      Math.min(DEFAULT_MIN_SESSION_TIMEOUT_MS, this.sessionTimeoutMs),
    );
    this.maxSessionTimeoutMs = duration(
      "maxSessionTimeoutMs",
      o.maxSessionTimeoutMs,
      Math.max(DEFAULT_MAX_SESSION_TIMEOUT_MS, this.sessionTimeoutMs),
    );
    if (!(this.minSessionTimeoutMs <= this.sessionTimeoutMs && this.sessionTimeoutMs <= this.maxSessionTimeoutMs)) {
      config(
        `sessionTimeoutMs ${this.sessionTimeoutMs} must be within minSessionTimeoutMs ${this.minSessionTimeoutMs} and maxSessionTimeoutMs ${this.maxSessionTimeoutMs}`,
      );
    }
    this.offsetsRetentionMs = duration("offsetsRetentionMs", o.offsetsRetentionMs, DEFAULT_OFFSETS_RETENTION_MS);
    let held: Set<string> | undefined;
    let holdMs = 0;
    if (o.restartHold !== undefined) {
      const topics: unknown = o.restartHold?.topics;
      if (typeof (topics as Iterable<string> | undefined)?.[Symbol.iterator] !== "function")
        config("restartHold.topics must be an iterable of topic names");
      held = new Set();
      for (const topic of topics as Iterable<unknown>) held.add(checkName("held topic", topic, "INVALID_CONFIG"));
      holdMs = o.restartHold.durationMs ?? this.sessionTimeoutMs;
      if (!Number.isSafeInteger(holdMs) || holdMs < 0) config(`restartHold.durationMs must be a non-negative integer (ms), got ${String(holdMs)}`);
    }
    this.#clock = o.clock!;
    this.#store = o.offsetStore!;
    this.#partitionCount = o.partitionCount!;
    this.#generateMemberId = o.generateMemberId ?? randomMemberId;
    this.#onRetentionError = o.onRetentionError;
    this.#onEvent = o.onEvent;
    const now = this.#clock.now();
    if (held !== undefined && held.size > 0 && holdMs > 0) {
      this.#held = held;
      this.restartHoldUntilMs = now + holdMs;
    } else {
      this.restartHoldUntilMs = undefined;
    }
    const assignor = o.assignor ?? uniformStickyAssignor;
    this.#context = {
      assignor,
      heartbeatIntervalMs: this.heartbeatIntervalMs,
      topicCount: (topic) => this.#topicCounts.get(topic),
      isHeld: (topic) => this.#isHeld(topic),
    };
    let stored: Iterable<string> | undefined;
    try {
      stored = this.#store.committedGroupIds?.();
    } catch (e) {
      throw new CoordinatorError("UNKNOWN_SERVER_ERROR", "offset store failed to list its groups", { cause: e });
    }
    for (const groupId of stored ?? []) {
      const group = new ConsumerGroup(checkGroupId(groupId), this.#context);
      group.hasOffsets = true;
      group.emptySinceMs = now;
      this.#groups.set(groupId, group);
    }
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
    const sessionTimeoutMs = this.#sessionTimeout(options.sessionTimeoutMs);
    for (const topic of topics) this.#refreshTopic(topic);
    let group = this.#groups.get(groupId);
    if (group === undefined) {
      group = new ConsumerGroup(groupId, this.#context);
      this.#groups.set(groupId, group);
    }
    const now = this.#clock.now();
    const epoch = group.groupEpoch;
    const replaced =
      instanceId === undefined || this.#onEvent === undefined
        ? undefined
        : group.describe().members.find((m) => m.instanceId === instanceId)?.memberId;
    try {
      const result = group.join(this.#newMemberId(group), topics, instanceId, now, sessionTimeoutMs);
      this.#emit({
        type: "member-joined",
        groupId,
        memberId: result.memberId,
        memberEpoch: result.memberEpoch,
        instanceId,
        topics,
        replacedMemberId: replaced,
      });
      return result;
    } finally {
      this.#settle(group, now);
      this.#rebalanced(group, epoch);
    }
  }

  /** A join's session timeout, checked against the bounds (the coordinator's own when not asked for). */
  #sessionTimeout(asked: unknown): number {
    if (asked === undefined) return this.sessionTimeoutMs;
    if (typeof asked !== "number" || !Number.isSafeInteger(asked)) {
      throw new CoordinatorError("INVALID_REQUEST", `sessionTimeoutMs must be an integer (ms), got ${String(asked)}`);
    }
    if (asked < this.minSessionTimeoutMs || asked > this.maxSessionTimeoutMs) {
      throw new CoordinatorError(
        "INVALID_SESSION_TIMEOUT",
        `session timeout ${asked} ms is outside the broker's bounds, ${this.minSessionTimeoutMs} to ${this.maxSessionTimeoutMs} ms`,
      );
    }
    return asked;
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
    const now = this.#clock.now();
    const epoch = group.groupEpoch;
    try {
      return group.heartbeat(memberId, memberEpoch, owned, now);
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (error instanceof CoordinatorError && (code === "FENCED_MEMBER_EPOCH" || code === "FENCED_INSTANCE_ID")) {
        this.#emit({ type: "member-fenced", groupId, memberId, code, memberEpoch });
      }
      throw error;
    } finally {
      // A fenced member is removed: the group may be empty now.
      if (group.memberCount === 0) this.#settle(group, now);
      this.#rebalanced(group, epoch);
    }
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
    const epoch = group.groupEpoch;
    group.leave(checkMemberId(memberId));
    this.#emit({ type: "member-left", groupId, memberId });
    this.#settle(group, this.#clock.now());
    this.#rebalanced(group, epoch);
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
    // From now on the store may hold offsets of this group: retention must delete them when it forgets it.
    group.hasOffsets = true;
    await this.#track(this.#store.commitOffsets(groupId, offsets));
  }

  /**
   * Deletes an empty group (an admin's call): forgets it and deletes its committed offsets from the store
   * (if the store has `deleteGroup`). Also works for a group known only to the store (committed before a
   * restart, by a store that cannot list its groups).
   *
   * @throws CoordinatorError `NON_EMPTY_GROUP` while the group has members; `GROUP_ID_NOT_FOUND` if the
   *   group is unknown and has no committed offsets; `INVALID_GROUP_ID`; `COORDINATOR_NOT_AVAILABLE`.
   *   Errors of the offset store propagate as they are (the group is then kept).
   */
  async deleteGroup(groupId: string): Promise<void> {
    this.#open();
    checkGroupId(groupId);
    const group = this.#groups.get(groupId);
    if (group !== undefined) {
      if (group.memberCount > 0) {
        throw new CoordinatorError(
          "NON_EMPTY_GROUP",
          `group ${groupId} has ${group.memberCount} member${group.memberCount === 1 ? "" : "s"}; only an empty group can be deleted`,
        );
      }
      await this.#forget(group, true);
      return;
    }
    if ((await this.#store.committedOffsets(groupId)).length === 0) {
      throw new CoordinatorError("GROUP_ID_NOT_FOUND", `group ${groupId} does not exist`);
    }
    const ghost = new ConsumerGroup(groupId, this.#context);
    ghost.hasOffsets = true;
    await this.#forget(ghost, false);
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
   * Every group the coordinator knows, sorted by id: groups with members, and empty groups whose offsets
   * have not expired yet (including those the store listed at start). An empty group that never
   * committed is forgotten as soon as it is empty.
   * @throws CoordinatorError `COORDINATOR_NOT_AVAILABLE`.
   */
  listGroups(): GroupListing[] {
    this.#open();
    return [...this.#groups.keys()].sort().map((id) => this.#groups.get(id)!.listing());
  }

  /**
   * Evicts every member whose last join or heartbeat is more than `sessionTimeoutMs` before `clock.now()`;
   * their partitions become assignable. Then forgets every group that has been empty for at least
   * `offsetsRetentionMs`, and deletes its offsets from the store (in the background; `close()` waits for
   * it; a failed delete is reported to `onRetentionError` and tried again at the next tick). Returns the
   * evicted members. Call it periodically.
   * @throws CoordinatorError `COORDINATOR_NOT_AVAILABLE`.
   */
  tick(): ExpiredMember[] {
    this.#open();
    const now = this.#clock.now();
    const expired: ExpiredMember[] = [];
    const retired: ConsumerGroup[] = [];
    for (const group of this.#groups.values()) {
      const epoch = group.groupEpoch;
      const gone = group.expire(now);
      for (const m of gone) {
        expired.push({ groupId: group.groupId, memberId: m.memberId, instanceId: m.instanceId });
        this.#emit({ type: "member-expired", groupId: group.groupId, memberId: m.memberId, instanceId: m.instanceId });
      }
      if (gone.length > 0) this.#settle(group, now);
      this.#rebalanced(group, epoch);
      if (group.memberCount === 0 && group.emptySinceMs !== undefined && now - group.emptySinceMs >= this.offsetsRetentionMs) {
        retired.push(group);
      }
    }
    for (const group of retired) {
      if (this.#groups.get(group.groupId) !== group) continue;
      this.#forget(group, true).catch((error: unknown) => {
        try {
          this.#onRetentionError?.(group.groupId, error);
        } catch {
          // A failing error listener must not turn into an unhandled rejection.
        }
      });
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

  /** Counts `pending` as in flight until it settles (`close()` waits for it). */
  async #track<T>(pending: Promise<T>): Promise<T> {
    this.#inflight.add(pending);
    try {
      return await pending;
    } finally {
      this.#inflight.delete(pending);
    }
  }

  #isHeld(topic: string): boolean {
    const held = this.#held;
    if (held === undefined || !held.has(topic)) return false;
    if (this.#clock.now() > this.restartHoldUntilMs!) {
      this.#held = undefined; // the hold is over for good
      return false;
    }
    return true;
  }

  /**
   * After a membership change: a group with members is not expiring; an empty group without offsets is
   * forgotten at once; an empty group with offsets starts its retention (if it has not already).
   */
  #settle(group: ConsumerGroup, now: number): void {
    if (group.memberCount > 0) {
      group.emptySinceMs = undefined;
    } else if (!group.hasOffsets) {
      if (this.#groups.get(group.groupId) === group) this.#groups.delete(group.groupId);
    } else {
      group.emptySinceMs ??= now;
    }
  }

  /**
   * Forgets an empty group at once and deletes its offsets from the store. If the delete fails, the
   * offsets are still there: with `restore`, the group is put back (unless it was re-created meanwhile,
   * which then counts as having offsets), and the store's error is rethrown.
   */
  #forget(group: ConsumerGroup, restore: boolean): Promise<void> {
    const { groupId } = group;
    if (this.#groups.get(groupId) === group) this.#groups.delete(groupId);
    if (!group.hasOffsets || this.#store.deleteGroup === undefined) return Promise.resolve();
    let pending: Promise<void>;
    try {
      pending = Promise.resolve(this.#store.deleteGroup(groupId));
    } catch (error) {
      pending = Promise.reject(error);
    }
    return this.#track(
      pending.catch((error: unknown) => {
        const current = this.#groups.get(groupId);
        if (current !== undefined) current.hasOffsets = true;
        else if (restore) this.#groups.set(groupId, group);
        throw error;
      }),
    );
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
    // A topic that does not exist has no partition anyone could still be processing: no hold. (Created
    // again later, it is a new topic.)
    if (count === undefined) this.#held?.delete(topic);
    if (count === this.#topicCounts.get(topic)) return;
    if (count === undefined) this.#topicCounts.delete(topic);
    else this.#topicCounts.set(topic, count);
    for (const group of this.#groups.values()) {
      if (!group.isSubscribed(topic)) continue;
      const epoch = group.groupEpoch;
      group.topicChanged(topic, count);
      this.#rebalanced(group, epoch);
    }
  }

  /** Tells the listener, if any; a listener's error must not undo or fail the change it reports. */
  #emit(event: GroupEvent): void {
    if (this.#onEvent === undefined) return;
    try {
      this.#onEvent(event);
    } catch {
      // Ignored, as documented.
    }
  }

  #rebalanced(group: ConsumerGroup, epochBefore: number): void {
    if (group.groupEpoch !== epochBefore) {
      this.#emit({ type: "rebalance", groupId: group.groupId, groupEpoch: group.groupEpoch, memberCount: group.memberCount });
    }
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
