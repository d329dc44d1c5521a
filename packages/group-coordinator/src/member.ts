import type { Assignment } from "./assignors/types.js";
import { PartitionSet } from "./partition-set.js";

/**
 * Where a member stands in reconciling with the group's target assignment.
 *
 * - `stable`: at the group epoch, owns exactly its target.
 * - `reconciling`: behind the group epoch; its next heartbeat moves it on.
 * - `unrevoked-partitions`: was asked to give partitions up and still reports owning some of them; its
 *   epoch stays behind until it lets go.
 * - `unreleased-partitions`: at the group epoch, but some target partitions are still owned by members
 *   that have not released them yet (or are held after a restart); they are handed over as soon as they
 *   are free.
 */
export type MemberState = "stable" | "reconciling" | "unrevoked-partitions" | "unreleased-partitions";

/** A snapshot of one member, as returned by `describeGroup` and `describeMember`. */
export interface MemberDescription {
  readonly memberId: string;
  readonly instanceId: string | undefined;
  /** The epoch the member last received (advances once it owns nothing outside its target). */
  readonly memberEpoch: number;
  /** Subscribed topics, sorted. */
  readonly topics: readonly string[];
  /** Partitions the member may process now (as of its next heartbeat response). */
  readonly assignment: Assignment;
  /** Partitions the member was asked to give up and still reports owning. */
  readonly revokingPartitions: Assignment;
  /** Target partitions not yet handed over (their previous owner has not released them yet). */
  readonly pendingPartitions: Assignment;
  /** The member's share of the group's target assignment. */
  readonly targetAssignment: Assignment;
  /** Clock time (ms) of the member's last join or heartbeat. */
  readonly lastHeartbeatMs: number;
  readonly state: MemberState;
}

/** One member's state inside a group. Internal. */
export class Member {
  readonly memberId: string;
  readonly instanceId: string | undefined;
  topics: readonly string[];
  memberEpoch = 0;
  /** The epoch before the last advance: a heartbeat with it is accepted once (its response may have been lost). */
  previousMemberEpoch = -1;
  lastHeartbeatMs: number;
  /** Evicted after this long without a heartbeat (ms): asked for in its join, or the coordinator's. */
  readonly sessionTimeoutMs: number;
  /** Partitions the member may process (handed out, or about to be at its next response). */
  readonly assigned = new PartitionSet();
  /** Partitions the member was asked to give up and still reported owning at its last heartbeat. */
  readonly revoking = new PartitionSet();
  /** This member's share of the group's target assignment. */
  target = new PartitionSet();

  constructor(memberId: string, instanceId: string | undefined, topics: readonly string[], nowMs: number, sessionTimeoutMs: number) {
    this.memberId = memberId;
    this.sessionTimeoutMs = sessionTimeoutMs;
    this.instanceId = instanceId;
    this.topics = topics;
    this.lastHeartbeatMs = nowMs;
  }

  /** True if the member owns (may process) the partition: assigned or still being revoked. */
  holds(topic: string, partition: number): boolean {
    return this.assigned.has(topic, partition) || this.revoking.has(topic, partition);
  }

  /** True when assigned equals target and nothing is being revoked (valid once the epoch is current). */
  isReconciled(): boolean {
    return this.revoking.size === 0 && this.assigned.size === this.target.size;
  }

  state(groupEpoch: number): MemberState {
    if (this.revoking.size > 0) return "unrevoked-partitions";
    if (this.memberEpoch < groupEpoch) return "reconciling";
    return this.assigned.size === this.target.size ? "stable" : "unreleased-partitions";
  }

  describe(groupEpoch: number): MemberDescription {
    return {
      memberId: this.memberId,
      instanceId: this.instanceId,
      memberEpoch: this.memberEpoch,
      topics: this.topics,
      assignment: this.assigned.toAssignment(),
      revokingPartitions: this.revoking.toAssignment(),
      pendingPartitions: this.target.minus(this.assigned),
      targetAssignment: this.target.toAssignment(),
      lastHeartbeatMs: this.lastHeartbeatMs,
      state: this.state(groupEpoch),
    };
  }
}
