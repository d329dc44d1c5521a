import type {
  Clock,
  CommitOffsetsOptions,
  ExpiredMember,
  GroupCoordinator,
  GroupDescription,
  GroupListing,
  HeartbeatOptions,
  HeartbeatResult,
  JoinOptions,
  JoinResult,
  MemberDescription,
} from "@minikafka/group-coordinator";
import { miniKafkaErrorCode } from "../errors.js";
import { partitionsOf, readFromCommitted, type CommittedRead, type CommittedReads, type Positions } from "./committed-reader.js";
import { groupLag, type PartitionLag } from "./group-lag.js";
import { waitForAny } from "./long-poll.js";
import type { ReadStore } from "./storage.js";
import type { TopicService } from "./topic-service.js";

/** What {@link GroupService} needs. */
/**
 * What the broker uses of a group coordinator: a `GroupCoordinator`, or in cluster mode one that routes each
 * group to the coordinator of its offsets partition.
 */
export type GroupCoordinatorApi = Pick<
  GroupCoordinator,
  | "join"
  | "heartbeat"
  | "leave"
  | "commitOffsets"
  | "deleteGroup"
  | "fetchOffsets"
  | "describeGroup"
  | "describeMember"
  | "listGroups"
  | "tick"
  | "onTopicChanged"
  | "close"
>;

export interface GroupServiceDeps {
  readonly coordinator: GroupCoordinatorApi;
  readonly store: ReadStore;
  readonly topics: Pick<TopicService, "describeIfExists" | "describePartitionIfExists">;
  /** The coordinator's clock: session expiry runs at most once per `tickIntervalMs` of it. */
  readonly clock: Clock;
  /** Silent members are evicted at most this often, in clock ms, when group calls are made. */
  readonly tickIntervalMs: number;
  /** Longest long-poll wait in ms; a larger `waitMs` is capped to it. */
  readonly maxWaitMs: number;
  /** Aborted when the broker shuts down: long polls return at once. */
  readonly shutdown: AbortSignal;
}

/** A group as described to clients: the coordinator's snapshot with `instanceId: null` for dynamic members, plus lag. */
export interface DescribedGroup extends Omit<GroupDescription, "members"> {
  members: Array<Omit<GroupDescription["members"][number], "instanceId"> & { instanceId: string | null }>;
  offsets: PartitionLag[];
}

/** Limits of a member fetch. */
export interface MemberFetchOptions {
  /** At most this many records in all (default 500), shared between the member's partitions. */
  maxRecords?: number | undefined;
  /** At most about this many bytes in all (default 1 MiB), shared between the member's partitions. */
  maxBytes?: number | undefined;
  /** Wait up to this long for a record when none is readable (capped to `maxWaitMs`; default 0). */
  waitMs?: number | undefined;
  /** Where to read each partition from instead of the committed offset (see {@link readFromCommitted}). */
  positions?: Positions | undefined;
  /** The caller went away: stop waiting. */
  signal?: AbortSignal | undefined;
}

/** One lag figure for `/metrics`. */
export interface GroupLagSample {
  group: string;
  topic: string;
  partition: number;
  lag: number;
}

const DEFAULT_MAX_RECORDS = 500;
const DEFAULT_MAX_BYTES = 1024 * 1024;

/**
 * Consumer groups, transport-neutral: membership (join, heartbeat, leave) through the coordinator with
 * session expiry on the way in, the member fetch (reads of the member's partitions from the group's
 * committed offsets, long poll), commits, listing, describing with lag, and deleting an empty group.
 */
export class GroupService {
  readonly #deps: GroupServiceDeps;
  #lastTick = -Infinity;
  readonly #expiredListeners: Array<(expired: readonly ExpiredMember[]) => void> = [];

  constructor(deps: GroupServiceDeps) {
    this.#deps = deps;
  }

  /**
   * Evicts silent members (`coordinator.tick()`) if the last pass is at least a tick interval old, or
   * always with `force`; tells the {@link GroupService.onExpired} listeners. Every group call runs it first.
   */
  expireSessions(force = false): void {
    const now = this.#deps.clock.now();
    if (!force && now - this.#lastTick < this.#deps.tickIntervalMs) return;
    this.#lastTick = now;
    const expired = this.#deps.coordinator.tick();
    if (expired.length > 0) for (const listener of this.#expiredListeners) listener(expired);
  }

  /** Calls `listener` with the members each eviction pass removed. */
  onExpired(listener: (expired: readonly ExpiredMember[]) => void): void {
    this.#expiredListeners.push(listener);
  }

  /** Joins `groupId` (see `GroupCoordinator.join`). */
  join(groupId: string, options: JoinOptions): JoinResult {
    this.expireSessions();
    return this.#deps.coordinator.join(groupId, options);
  }

  /** A member's heartbeat (see `GroupCoordinator.heartbeat`). */
  heartbeat(groupId: string, memberId: string, options: HeartbeatOptions): HeartbeatResult {
    this.expireSessions();
    return this.#deps.coordinator.heartbeat(groupId, memberId, options);
  }

  /** A member leaves (see `GroupCoordinator.leave`). */
  leave(groupId: string, memberId: string): void {
    this.expireSessions();
    this.#deps.coordinator.leave(groupId, memberId);
  }

  /** Commits a member's offsets durably (see `GroupCoordinator.commitOffsets`). */
  commitOffsets(groupId: string, options: CommitOffsetsOptions): Promise<void> {
    this.expireSessions();
    return this.#deps.coordinator.commitOffsets(groupId, options);
  }

  /** Every group the coordinator knows. */
  list(): GroupListing[] {
    this.expireSessions();
    return this.#deps.coordinator.listGroups();
  }

  /**
   * Deletes an empty group and its committed offsets (see `GroupCoordinator.deleteGroup`).
   * @throws CoordinatorError `NON_EMPTY_GROUP` while it has members, `GROUP_ID_NOT_FOUND` for a group
   *   neither the coordinator nor the store knows.
   */
  deleteGroup(groupId: string): Promise<void> {
    this.expireSessions();
    return this.#deps.coordinator.deleteGroup(groupId);
  }

  /**
   * The group with its members and, for every partition it committed or its members are assigned, the
   * committed offset, log start, high watermark and lag. A group with committed offsets but no members since
   * the broker started is described as `empty`.
   * @throws CoordinatorError `GROUP_ID_NOT_FOUND` for a group with neither members nor committed offsets.
   */
  async describe(groupId: string): Promise<DescribedGroup> {
    this.expireSessions();
    let description: GroupDescription;
    try {
      description = this.#deps.coordinator.describeGroup(groupId);
    } catch (error) {
      if (miniKafkaErrorCode(error) !== "GROUP_ID_NOT_FOUND") throw error;
      const offsets = await groupLag(this.#deps, groupId);
      if (offsets.length === 0) throw error;
      return { groupId, state: "empty", groupEpoch: 0, assignmentEpoch: 0, members: [], offsets };
    }
    const members = description.members.map((m) => ({ ...m, instanceId: m.instanceId ?? null }));
    const offsets = await groupLag(
      this.#deps,
      groupId,
      description.members.map((m) => m.targetAssignment),
    );
    return { ...description, members, offsets };
  }

  /** Every known group's lag per partition (for `/metrics`), with the group listing it came from. */
  async lag(): Promise<{ groups: GroupListing[]; lag: GroupLagSample[] }> {
    const groups = this.#deps.coordinator.listGroups();
    const lag: GroupLagSample[] = [];
    for (const { groupId } of groups) {
      for (const p of await groupLag(this.#deps, groupId)) lag.push({ group: groupId, topic: p.topic, partition: p.partition, lag: p.lag });
    }
    return { groups, lag };
  }

  /**
   * Records of the member's partitions, from the group's committed offsets (or `positions`), at most
   * `maxRecords` in all: the budget is shared between the partitions, so one busy partition cannot starve
   * the others. When nothing is readable, waits up to `waitMs` for a record on any of them, then serves
   * the assignment current at that time.
   * @throws CoordinatorError `GROUP_ID_NOT_FOUND`, `UNKNOWN_MEMBER_ID`; BrokerError `OFFSET_OUT_OF_RANGE`
   *   for a position past a high watermark.
   */
  async memberFetch(groupId: string, memberId: string, options: MemberFetchOptions = {}): Promise<CommittedRead[]> {
    this.expireSessions();
    const { coordinator, store } = this.#deps;
    const { maxRecords = DEFAULT_MAX_RECORDS, maxBytes = DEFAULT_MAX_BYTES, waitMs = 0, positions, signal } = options;
    const assigned = (): MemberDescription["assignment"] => coordinator.describeMember(groupId, memberId).assignment;
    const partitions = partitionsOf(assigned());
    const share = Math.max(1, partitions.length);
    const limits = { maxRecords: Math.ceil(maxRecords / share), maxBytes: Math.ceil(maxBytes / share) };
    let result: CommittedReads = await readFromCommitted(this.#deps, groupId, partitions, limits, positions);
    if (!result.reads.some((r) => r.records.length > 0)) {
      if (await waitForAny(store, result.waitTargets, Math.min(waitMs, this.#deps.maxWaitMs), [signal, this.#deps.shutdown])) {
        // The assignment may have changed while waiting: serve the current one.
        result = await readFromCommitted(this.#deps, groupId, partitionsOf(assigned()), limits, positions);
      }
    }
    // Per-partition limits are rounded up: cut what exceeds the total, in partition order.
    let remaining = maxRecords;
    const reads: CommittedRead[] = [];
    for (const read of result.reads) {
      if (remaining === 0) break;
      if (read.records.length > remaining) read.records = read.records.slice(0, remaining);
      remaining -= read.records.length;
      reads.push(read);
    }
    return reads;
  }
}
