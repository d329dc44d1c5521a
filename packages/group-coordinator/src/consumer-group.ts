import type { Assignment, Assignor, AssignorMember } from "./assignors/types.js";
import { CoordinatorError } from "./errors.js";
import { Member, type MemberDescription } from "./member.js";
import { EMPTY_ASSIGNMENT, PartitionSet } from "./partition-set.js";

/**
 * A group's state.
 *
 * - `empty`: no members.
 * - `assigning`: membership, subscriptions or partition counts changed; the target assignment will be
 *   recomputed at the next join or heartbeat.
 * - `reconciling`: some member has not reached the target yet (revocations or hand-overs in progress).
 * - `stable`: every member is at the group epoch and owns exactly its target.
 */
export type GroupState = "empty" | "assigning" | "reconciling" | "stable";

/** What a heartbeat returns to the member. */
export interface HeartbeatResult {
  /** The member's epoch: send it with the next heartbeat and with offset commits. */
  readonly memberEpoch: number;
  /**
   * The partitions the member may process from now on. Partitions it was processing that are missing here
   * are being revoked: finish (commit) them, then send a heartbeat whose `ownedPartitions` omits them.
   */
  readonly assignment: Assignment;
  /** Heartbeat again within this many milliseconds (well inside the session timeout). */
  readonly heartbeatIntervalMs: number;
  /** Partitions the member must give up and still reports owning (empty when nothing is being revoked). */
  readonly revokingPartitions: Assignment;
  /** Partitions the member will receive once their previous owners release them. */
  readonly pendingPartitions: Assignment;
}

/** What a join returns: the new member's id and its first heartbeat response. */
export interface JoinResult extends HeartbeatResult {
  /** The member's id, for every later call. */
  readonly memberId: string;
}

/** A snapshot of a group, as returned by `describeGroup`. */
export interface GroupDescription {
  readonly groupId: string;
  /** Bumped on every change of membership, subscriptions or partition counts. */
  readonly groupEpoch: number;
  /** The group epoch the target assignment was computed for (below `groupEpoch` while `assigning`). */
  readonly assignmentEpoch: number;
  readonly state: GroupState;
  /** Members in join order. */
  readonly members: ReadonlyArray<MemberDescription>;
}

/** One line of `listGroups`. */
export interface GroupListing {
  readonly groupId: string;
  readonly state: GroupState;
  readonly groupEpoch: number;
  readonly memberCount: number;
}

/** What a group needs from its coordinator. Internal. */
export interface GroupContext {
  readonly assignor: Assignor;
  readonly heartbeatIntervalMs: number;
  /** The coordinator's current view of a topic's partition count (undefined: the topic does not exist). */
  topicCount(topic: string): number | undefined;
  /** True while the topic's partitions may not be handed to anyone (the restart hold). */
  isHeld(topic: string): boolean;
}

type OwnedLookup = (topic: string, partition: number) => boolean;
const OWNS_NOTHING: OwnedLookup = () => false;

/**
 * One consumer group: members, the target assignment, and who owns which partition. Internal; the
 * {@link GroupCoordinator} validates arguments and calls in.
 *
 * Invariant: `#owners` maps every partition to at most one member, and a member's `assigned ∪ revoking` is
 * exactly the set of partitions `#owners` maps to it. A partition enters a member's `assigned` only while
 * `#owners` has no entry for it, and its entry is cleared only by a heartbeat of the owner that does not
 * list it, by the owner leaving, expiring or being fenced, or by the partition ceasing to exist.
 */
export class ConsumerGroup {
  readonly groupId: string;
  groupEpoch = 0;
  targetEpoch = 0;
  /**
   * Retention: true if the offset store may hold offsets of this group (a commit was accepted, or the store
   * listed the group at start). An empty group without offsets is forgotten at once.
   */
  hasOffsets = false;
  /** Retention: clock time (ms) the group became empty; undefined while it has members. */
  emptySinceMs: number | undefined = undefined;
  /** Bumped by every accepted commit: a delete of the stored offsets knows whether a commit followed it. */
  commitSeq = 0;
  readonly #members = new Map<string, Member>();
  readonly #ctx: GroupContext;
  readonly #instances = new Map<string, Member>();
  /** Member ids replaced by a newer member with the same instance id → that instance id. */
  readonly #replaced = new Map<string, string>();
  /** Instance id → the member id it most recently replaced (to bound `#replaced`). */
  readonly #lastReplaced = new Map<string, string>();
  /** Topic → number of members subscribed to it. */
  readonly #subscriptions = new Map<string, number>();
  /** Topic → partition → the member that owns it (may process it). */
  readonly #owners = new Map<string, Array<Member | undefined>>();
  /** Topic → partition → the member it goes to in the target assignment. */
  #targetOwners = new Map<string, Array<Member | undefined>>();

  constructor(groupId: string, ctx: GroupContext) {
    this.groupId = groupId;
    this.#ctx = ctx;
  }

  get memberCount(): number {
    return this.#members.size;
  }

  isSubscribed(topic: string): boolean {
    return this.#subscriptions.has(topic);
  }

  /** True if `memberId` is or was recently used in this group (a generated id must not collide with it). */
  knowsMemberId(memberId: string): boolean {
    return this.#members.has(memberId) || this.#replaced.has(memberId);
  }

  join(memberId: string, topics: readonly string[], instanceId: string | undefined, nowMs: number, sessionTimeoutMs: number): JoinResult {
    const member = new Member(memberId, instanceId, topics, nowMs, sessionTimeoutMs);
    const previous = instanceId === undefined ? undefined : this.#instances.get(instanceId);
    if (previous !== undefined) {
      this.#replace(previous, member);
    } else {
      this.#members.set(memberId, member);
      this.#subscribe(topics, 1);
      if (instanceId !== undefined) this.#instances.set(instanceId, member);
      this.groupEpoch++;
    }
    try {
      this.#refreshTarget();
    } catch (e) {
      this.#remove(member);
      throw e;
    }
    // A joining process owns nothing yet, whatever a previous incarnation owned.
    this.#reconcile(member, OWNS_NOTHING);
    return { memberId, ...this.#response(member) };
  }

  heartbeat(memberId: string, memberEpoch: number, owned: Assignment, nowMs: number): HeartbeatResult {
    const member = this.#require(memberId);
    if (memberEpoch !== member.memberEpoch) {
      // One epoch back is fine if the member owns nothing it should not: the response that advanced its
      // epoch was lost (Kafka's rule). Anything else means the member's view cannot be trusted.
      const lostResponse =
        memberEpoch === member.previousMemberEpoch && owned.every(({ topic, partitions }) => partitions.every((p) => member.holds(topic, p)));
      if (!lostResponse) {
        this.#remove(member);
        const current = member.memberEpoch;
        throw new CoordinatorError(
          "FENCED_MEMBER_EPOCH",
          memberEpoch < current
            ? `member ${memberId} epoch ${memberEpoch} is stale, current is ${current}; it was removed from group ${this.groupId} and must rejoin`
            : `member ${memberId} epoch ${memberEpoch} is ahead of current ${current}; it was removed from group ${this.groupId} and must rejoin`,
        );
      }
    }
    member.lastHeartbeatMs = nowMs;
    this.#refreshTarget();
    if (member.memberEpoch !== this.groupEpoch || !member.isReconciled()) {
      let ownedSet: PartitionSet | undefined;
      this.#reconcile(member, (topic, p) => (ownedSet ??= PartitionSet.from(owned)).has(topic, p));
    }
    return this.#response(member);
  }

  leave(memberId: string): void {
    this.#remove(this.#require(memberId));
  }

  /** Removes members silent for more than their session timeout at `nowMs`; returns them. */
  expire(nowMs: number): Member[] {
    const expired: Member[] = [];
    for (const member of this.#members.values()) {
      if (nowMs - member.lastHeartbeatMs > member.sessionTimeoutMs) expired.push(member);
    }
    for (const member of expired) this.#remove(member);
    return expired;
  }

  /**
   * The coordinator's partition count for `topic` changed to `count` (undefined: deleted). Partitions that
   * no longer exist leave every member at once: nobody can read them, so no revocation handshake.
   */
  topicChanged(topic: string, count: number | undefined): void {
    const limit = count ?? 0;
    for (const member of this.#members.values()) {
      for (const set of [member.assigned, member.revoking, member.target]) {
        const partitions = set.partitionsOf(topic);
        if (partitions === undefined) continue;
        for (const p of [...partitions]) if (p >= limit) set.delete(topic, p);
      }
    }
    for (const index of [this.#owners, this.#targetOwners]) {
      const owners = index.get(topic);
      if (owners !== undefined && owners.length > limit) owners.length = limit;
    }
    this.groupEpoch++;
  }

  /**
   * Zombie fencing for offset commits: the member must exist, carry its current epoch, and own every
   * partition (assigned or still being revoked: a member commits what it finished before letting go).
   */
  checkCommit(memberId: string, memberEpoch: number, offsets: ReadonlyArray<{ topic: string; partition: number }>): void {
    const member = this.#require(memberId);
    if (memberEpoch < member.memberEpoch) {
      throw new CoordinatorError(
        "STALE_MEMBER_EPOCH",
        `member ${memberId} epoch ${memberEpoch} is stale, current is ${member.memberEpoch}; heartbeat, then commit again`,
      );
    }
    if (memberEpoch > member.memberEpoch) {
      throw new CoordinatorError("FENCED_MEMBER_EPOCH", `member ${memberId} epoch ${memberEpoch} is ahead of current ${member.memberEpoch}`);
    }
    for (const { topic, partition } of offsets) {
      if (!member.holds(topic, partition)) {
        throw new CoordinatorError(
          "UNASSIGNED_PARTITION",
          `partition ${topic}-${partition} is not owned by member ${memberId} of group ${this.groupId}`,
        );
      }
    }
  }

  /** A pure read: never runs the assignor (a pending recomputation shows as state `assigning`). */
  describe(): GroupDescription {
    return {
      groupId: this.groupId,
      groupEpoch: this.groupEpoch,
      assignmentEpoch: this.targetEpoch,
      state: this.state(),
      members: [...this.#members.values()].map((m) => m.describe(this.groupEpoch)),
    };
  }

  describeMember(memberId: string): MemberDescription {
    return this.#require(memberId).describe(this.groupEpoch);
  }

  listing(): GroupListing {
    return { groupId: this.groupId, state: this.state(), groupEpoch: this.groupEpoch, memberCount: this.#members.size };
  }

  state(): GroupState {
    if (this.#members.size === 0) return "empty";
    if (this.targetEpoch !== this.groupEpoch) return "assigning";
    for (const m of this.#members.values()) {
      if (m.memberEpoch !== this.groupEpoch || !m.isReconciled()) return "reconciling";
    }
    return "stable";
  }

  #require(memberId: string): Member {
    const member = this.#members.get(memberId);
    if (member !== undefined) return member;
    const instanceId = this.#replaced.get(memberId);
    if (instanceId !== undefined) {
      const current = this.#instances.get(instanceId)?.memberId ?? "none";
      throw new CoordinatorError(
        "FENCED_INSTANCE_ID",
        `member ${memberId} of group ${this.groupId} was replaced by member ${current} with instance id ${instanceId}`,
      );
    }
    throw new CoordinatorError("UNKNOWN_MEMBER_ID", `member ${memberId} is not in group ${this.groupId}`);
  }

  /**
   * Moves `member` toward its target, given what it reports owning:
   * - a held partition outside its target is released at once if not reported owned (the member is not
   *   processing it), else it is revoked: kept until a heartbeat stops listing it;
   * - a partition being revoked that is back in the target is simply kept;
   * - only when nothing is left to revoke does the member take the free partitions of its target (except
   *   those of topics under the restart hold) and advance to the group epoch (revoke before assign).
   */
  #reconcile(member: Member, owns: OwnedLookup): void {
    const target = member.target;
    for (const [topic, p] of member.assigned.entries()) {
      if (target.has(topic, p)) continue;
      member.assigned.delete(topic, p);
      if (owns(topic, p)) member.revoking.add(topic, p);
      else this.#release(member, topic, p);
    }
    if (member.revoking.size > 0) {
      for (const [topic, p] of member.revoking.entries()) {
        if (target.has(topic, p)) {
          member.revoking.delete(topic, p);
          member.assigned.add(topic, p);
        } else if (!owns(topic, p)) {
          member.revoking.delete(topic, p);
          this.#release(member, topic, p);
        }
      }
      if (member.revoking.size > 0) return;
    }
    if (member.assigned.size < target.size) {
      target.forEach((topic, p) => {
        if (!member.assigned.has(topic, p) && this.#owners.get(topic)?.[p] === undefined && !this.#ctx.isHeld(topic)) {
          this.#setOwner(topic, p, member);
          member.assigned.add(topic, p);
        }
      });
    }
    if (member.memberEpoch !== this.groupEpoch) {
      member.previousMemberEpoch = member.memberEpoch;
      member.memberEpoch = this.groupEpoch;
    }
  }

  /**
   * `member` no longer owns the partition. If its target owner has already reconciled to the current
   * epoch, hand it over now (it is delivered with that member's next response); otherwise that member
   * takes it when it reconciles.
   */
  #release(member: Member, topic: string, p: number): void {
    const owners = this.#owners.get(topic);
    if (owners === undefined || owners[p] !== member) return;
    owners[p] = undefined;
    if (this.targetEpoch !== this.groupEpoch) return;
    const next = this.#targetOwners.get(topic)?.[p];
    if (next !== undefined && next !== member && next.memberEpoch === this.groupEpoch && next.revoking.size === 0 && !this.#ctx.isHeld(topic)) {
      owners[p] = next;
      next.assigned.add(topic, p);
    }
  }

  #setOwner(topic: string, p: number, member: Member): void {
    let owners = this.#owners.get(topic);
    if (owners === undefined) {
      owners = [];
      this.#owners.set(topic, owners);
    }
    owners[p] = member;
  }

  /** Removes a member (leave, expiry, fencing): everything it owned is free at once. */
  #remove(member: Member): void {
    if (this.#members.get(member.memberId) !== member) return;
    this.groupEpoch++;
    this.#members.delete(member.memberId);
    this.#subscribe(member.topics, -1);
    const instanceId = member.instanceId;
    if (instanceId !== undefined && this.#instances.get(instanceId) === member) {
      this.#instances.delete(instanceId);
      const replaced = this.#lastReplaced.get(instanceId);
      if (replaced !== undefined) {
        this.#replaced.delete(replaced);
        this.#lastReplaced.delete(instanceId);
      }
    }
    for (const [topic, p] of member.assigned.entries()) this.#release(member, topic, p);
    for (const [topic, p] of member.revoking.entries()) this.#release(member, topic, p);
    member.target.forEach((topic, p) => {
      const owners = this.#targetOwners.get(topic);
      if (owners !== undefined && owners[p] === member) owners[p] = undefined;
    });
  }

  /**
   * A static member restarted: `next` takes the place of `previous` (same instance id). The previous
   * process is gone, so what it owned is free; its share of the target passes to `next` unchanged, so
   * nobody else moves (the group epoch is bumped only if the subscription changed).
   */
  #replace(previous: Member, next: Member): void {
    const instanceId = next.instanceId!;
    this.#members.delete(previous.memberId);
    this.#members.set(next.memberId, next);
    this.#instances.set(instanceId, next);
    const older = this.#lastReplaced.get(instanceId);
    if (older !== undefined) this.#replaced.delete(older);
    this.#replaced.set(previous.memberId, instanceId);
    this.#lastReplaced.set(instanceId, previous.memberId);
    this.#subscribe(previous.topics, -1);
    this.#subscribe(next.topics, 1);
    // Bump first, so that nothing below is handed over according to a target about to be recomputed.
    if (previous.topics.join("\u0000") !== next.topics.join("\u0000")) this.groupEpoch++;
    next.target = previous.target;
    next.target.forEach((topic, p) => {
      const owners = this.#targetOwners.get(topic);
      if (owners !== undefined && owners[p] === previous) owners[p] = next;
    });
    for (const [topic, p] of previous.assigned.entries()) this.#release(previous, topic, p);
    for (const [topic, p] of previous.revoking.entries()) this.#release(previous, topic, p);
  }

  #subscribe(topics: readonly string[], delta: 1 | -1): void {
    for (const topic of topics) {
      const n = (this.#subscriptions.get(topic) ?? 0) + delta;
      if (n > 0) this.#subscriptions.set(topic, n);
      else this.#subscriptions.delete(topic);
    }
  }

  /** Recomputes the target assignment if the group epoch moved since it was last computed. */
  #refreshTarget(): void {
    if (this.targetEpoch === this.groupEpoch) return;
    const partitionCounts = new Map<string, number>();
    for (const topic of [...this.#subscriptions.keys()].sort()) {
      const count = this.#ctx.topicCount(topic);
      if (count !== undefined) partitionCounts.set(topic, count);
    }
    const members = [...this.#members.values()];
    const input: AssignorMember[] = members.map((m) => ({
      memberId: m.memberId,
      instanceId: m.instanceId,
      topics: m.topics,
      currentAssignment: m.target.toAssignment(),
    }));
    let result: ReadonlyMap<string, Assignment>;
    try {
      result = this.#ctx.assignor({ members: input, partitionCounts });
    } catch (e) {
      throw new CoordinatorError("UNKNOWN_SERVER_ERROR", `assignor failed for group ${this.groupId}: ${e instanceof Error ? e.message : String(e)}`, {
        cause: e,
      });
    }
    const targets = this.#checkTarget(result, partitionCounts);
    for (const m of members) m.target = targets.get(m) ?? new PartitionSet();
    this.targetEpoch = this.groupEpoch;
  }

  /** Validates an assignor's result and indexes it; the current target is untouched if it is invalid. */
  #checkTarget(result: ReadonlyMap<string, Assignment>, counts: ReadonlyMap<string, number>): Map<Member, PartitionSet> {
    const fail = (why: string): never => {
      throw new CoordinatorError("UNKNOWN_SERVER_ERROR", `assignor returned an invalid assignment for group ${this.groupId}: ${why}`);
    };
    if (result === null || typeof result !== "object" || typeof result.entries !== "function") fail("not a map");
    const targets = new Map<Member, PartitionSet>();
    const owners = new Map<string, Array<Member | undefined>>();
    for (const [memberId, assignment] of result.entries()) {
      const member = this.#members.get(memberId);
      if (member === undefined) fail(`unknown member ${String(memberId)}`);
      if (!Array.isArray(assignment)) fail(`assignment of member ${memberId} is not an array`);
      const set = targets.get(member!) ?? new PartitionSet();
      targets.set(member!, set);
      for (const entry of assignment) {
        const topic: unknown = entry?.topic;
        const partitions: unknown = entry?.partitions;
        if (typeof topic !== "string" || !Array.isArray(partitions)) fail(`malformed entry for member ${memberId}`);
        const t = topic as string;
        if (!member!.topics.includes(t)) fail(`member ${memberId} got topic ${t}, which it does not subscribe to`);
        const count = counts.get(t);
        if (count === undefined) fail(`member ${memberId} got topic ${t}, which does not exist`);
        let index = owners.get(t);
        if (index === undefined) {
          index = [];
          owners.set(t, index);
        }
        for (const p of partitions as unknown[]) {
          if (typeof p !== "number" || !Number.isInteger(p) || p < 0 || p >= count!) {
            fail(`partition ${t}-${String(p)} does not exist (${count} partitions)`);
          }
          const n = p as number;
          const other = index[n];
          if (other !== undefined && other !== member) {
            fail(`partition ${t}-${n} went to both ${other.memberId} and ${memberId}`);
          }
          index[n] = member;
          set.add(t, n);
        }
      }
    }
    this.#targetOwners = owners;
    return targets;
  }

  #response(member: Member): HeartbeatResult {
    return {
      memberEpoch: member.memberEpoch,
      assignment: member.assigned.toAssignment(),
      // Three heartbeats per session at least, for a member that asked for a short one.
      heartbeatIntervalMs: Math.min(this.#ctx.heartbeatIntervalMs, Math.max(1, Math.floor(member.sessionTimeoutMs / 3))),
      revokingPartitions: member.revoking.toAssignment(),
      pendingPartitions: member.isReconciled() ? EMPTY_ASSIGNMENT : member.target.minus(member.assigned),
    };
  }
}
